using System.Text.Json;
using Nethereum.Signer;

namespace Traceability.Chain.Tests;

/// <summary>MemberSignatures against what ethers signs (vectors/make-signature-vectors.js).</summary>
public sealed class MemberSignaturesTests
{
    private static readonly JsonElement V = Load();

    private static JsonElement Load()
    {
        using var d = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "vectors", "signature-vectors.json")));
        return d.RootElement.Clone();
    }

    public static TheoryData<int> EventsSignedCases() => new(Enumerable.Range(0, V.GetProperty("eventsSigned").GetArrayLength()));

    [Theory]
    [MemberData(nameof(EventsSignedCases))]
    public void EventsSignedSignsAsEthersAndRecoversTheSigner(int index)
    {
        var c = V.GetProperty("eventsSigned")[index];
        var (chainId, contract, root, count) = (c.GetProperty("chainId").GetInt64(), c.GetProperty("contract").GetString()!,
            Hex.Decode(c.GetProperty("eventsRoot").GetString()!), c.GetProperty("eventCount").GetInt64());
        var key = new EthECKey(V.GetProperty("key").GetString()!);

        MemberSignatures.SignEventsSigned(key, chainId, contract, root, count).Should().Be(c.GetProperty("signature").GetString());
        MemberSignatures.TryParseSignature(c.GetProperty("signature").GetString(), out var signature).Should().BeTrue();
        MemberSignatures.RecoverEventsSigned(signature, chainId, contract, root, count).Should().Be(V.GetProperty("address").GetString());

        // Any other chain, contract, root or count recovers some other address.
        MemberSignatures.RecoverEventsSigned(signature, chainId + 1, contract, root, count).Should().NotBe(V.GetProperty("address").GetString());
        MemberSignatures.RecoverEventsSigned(signature, chainId, "0x0000000000000000000000000000000000000001", root, count).Should().NotBe(V.GetProperty("address").GetString());
        MemberSignatures.RecoverEventsSigned(signature, chainId, contract, root, count + 1).Should().NotBe(V.GetProperty("address").GetString());
        var otherRoot = (byte[])root.Clone();
        otherRoot[0] ^= 1;
        MemberSignatures.RecoverEventsSigned(signature, chainId, contract, otherRoot, count).Should().NotBe(V.GetProperty("address").GetString());
    }

    [Fact]
    public void AddressClaimIsAPersonalSignatureOfTheTextAndTheMemberIdIsEthersBytes32String()
    {
        var claim = V.GetProperty("addressClaim");
        var address = V.GetProperty("address").GetString()!;
        var text = MemberSignatures.AddressClaim(claim.GetProperty("memberId").GetString()!, address);
        text.Should().Be(claim.GetProperty("text").GetString());
        MemberSignatures.SignPersonal(text, new EthECKey(V.GetProperty("key").GetString()!)).Should().Be(claim.GetProperty("signature").GetString());
        MemberSignatures.TryParseSignature(claim.GetProperty("signature").GetString(), out var signature).Should().BeTrue();
        MemberSignatures.RecoverPersonal(text, signature).Should().Be(address);
        MemberSignatures.RecoverPersonal(text + ".", signature).Should().NotBe(address);

        var bytes32 = MemberSignatures.MemberIdBytes32(claim.GetProperty("memberId").GetString()!);
        Hex.Encode(bytes32).Should().Be(claim.GetProperty("memberIdBytes32").GetString());
        MemberSignatures.MemberIdOf(bytes32).Should().Be(claim.GetProperty("memberId").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0x1234")]
    [InlineData("a0a21618bb7091264eb60f3d0f618d693eb02dcaca1f8d1b8a1499da544f4bd834550434ed9d696f6d76e75638a97d2fd7e025dc8931af0085b604fb8e8fc0c11b00")] // no 0x
    [InlineData("0xzza21618bb7091264eb60f3d0f618d693eb02dcaca1f8d1b8a1499da544f4bd834550434ed9d696f6d76e75638a97d2fd7e025dc8931af0085b604fb8e8fc0c11b")] // not hex
    [InlineData("0xa0a21618bb7091264eb60f3d0f618d693eb02dcaca1f8d1b8a1499da544f4bd834550434ed9d696f6d76e75638a97d2fd7e025dc8931af0085b604fb8e8fc0c11d")] // v = 29
    public void ASignatureThatIsNot65BytesWithV27Or28IsRefused(string? text) =>
        MemberSignatures.TryParseSignature(text, out _).Should().BeFalse();

    [Theory]
    [InlineData("")]
    [InlineData("m_0123456789abcdef0123456789abcdef")]
    public void AMemberIdThatDoesNotFitBytes32IsRefused(string id) =>
        FluentActions.Invoking(() => MemberSignatures.MemberIdBytes32(id)).Should().Throw<ArgumentException>();
}
