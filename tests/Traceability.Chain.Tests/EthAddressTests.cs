namespace Traceability.Chain.Tests;

/// <summary>The address rule (any case, or mixed case with a correct EIP-55 checksum) against ethers' getAddress.</summary>
public class EthAddressTests
{
    public static TheoryData<string> ChecksumVectors => Vectors.Names("checksums");

    [Theory]
    [MemberData(nameof(ChecksumVectors))]
    public void NormalizeReturnsEthersChecksumGivenAnySpelling(string name)
    {
        var v = Vectors.Get("checksums", name);
        var expected = v.Str("expected");

        EthAddress.Normalize(v.Str("input")).Should().Be(expected);
        EthAddress.Normalize(expected).Should().Be(expected);
        EthAddress.Normalize("0x" + expected[2..].ToUpperInvariant()).Should().Be(expected);
        EthAddress.Parse(expected).Should().Equal(Hex.Decode(v.Str("input")));
    }

    [Theory]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "checksum")] // one letter's case flipped
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", "40 hex digits")]
    [InlineData("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00", "40 hex digits")]
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", "")]
    public void ParseThrowsFormatExceptionGivenBadAddress(string address, string mentions)
    {
        var act = () => EthAddress.Parse(address);
        act.Should().Throw<FormatException>().WithMessage($"*{mentions}*");
    }
}
