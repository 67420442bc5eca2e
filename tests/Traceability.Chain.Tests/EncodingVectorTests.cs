using System.Numerics;
using System.Text.Json;
using Traceability.Ledger.Crypto;

namespace Traceability.Chain.Tests;

/// <summary>Keccak-256, RLP, addresses and EIP-55 against ethers 6 (vectors/chain-vectors.json).</summary>
public class EncodingVectorTests
{
    public static TheoryData<string> KeccakVectors => Vectors.Names("keccak");
    public static TheoryData<string> RlpVectors => Vectors.Names("rlp");
    public static TheoryData<string> AddressVectors => Vectors.Names("addresses");
    public static TheoryData<string> ChecksumVectors => Vectors.Names("checksums");
    public static TheoryData<string> CreateAddressVectors => Vectors.Names("createAddresses");

    [Theory]
    [MemberData(nameof(KeccakVectors))]
    public void Keccak256ReturnsEthersHashGivenInput(string name)
    {
        var v = Vectors.Get("keccak", name);
        Hex.Encode(Keccak256.Hash(v.Bytes("input"))).Should().Be(v.Str("expected"));
    }

    [Theory]
    [MemberData(nameof(RlpVectors))]
    public void RlpReturnsEthersEncodingGivenItem(string name)
    {
        var v = Vectors.Get("rlp", name);
        var encoded = v.Str("kind") == "integer"
            ? Rlp.EncodeInteger(v.Big("input"))
            : Encode(v.GetProperty("input"));
        Hex.Encode(encoded).Should().Be(v.Str("expected"));
    }

    [Theory]
    [MemberData(nameof(AddressVectors))]
    public void EthKeyReturnsEthersAddressAndPublicKeyGivenPrivateKey(string name)
    {
        var v = Vectors.Get("addresses", name);
        var key = EthKey.FromHex(v.Str("privateKey"));
        key.Address.Should().Be(v.Str("expected"));
        Hex.Encode(key.PublicKey).Should().Be(v.Str("publicKey"));
        key.PrivateKeyHex.Should().Be(v.Str("privateKey"));
    }

    [Theory]
    [MemberData(nameof(ChecksumVectors))]
    public void EthAddressReturnsEip55ChecksumGivenLowerCaseAddress(string name)
    {
        var v = Vectors.Get("checksums", name);
        EthAddress.Normalize(v.Str("input")).Should().Be(v.Str("expected"));
        EthAddress.Parse(v.Str("expected")).Should().Equal(Hex.Decode(v.Str("input")));
    }

    [Theory]
    [MemberData(nameof(CreateAddressVectors))]
    public void ContractAddressReturnsEthersCreateAddressGivenDeployerAndNonce(string name)
    {
        var v = Vectors.Get("createAddresses", name);
        EthAddress.ContractAddress(v.Str("from"), v.GetProperty("nonce").GetInt64()).Should().Be(v.Str("expected"));
    }

    [Fact]
    public void ParseRejectsAddressGivenWrongChecksum()
    {
        var act = () => EthAddress.Parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD");
        act.Should().Throw<FormatException>().WithMessage("*checksum*");
    }

    [Fact]
    public void GenerateReturnsDistinctUsableKeys()
    {
        var a = EthKey.Generate();
        var b = EthKey.Generate();
        a.Address.Should().NotBe(b.Address);
        EthKey.FromHex(a.PrivateKeyHex).Address.Should().Be(a.Address);
        a.ToString().Should().Be(a.Address, "ToString must never print the private key");
    }

    [Theory]
    [InlineData(0, "0x0")]
    [InlineData(1, "0x1")]
    [InlineData(31337, "0x7a69")]
    [InlineData(4096, "0x1000")]
    public void EncodeQuantityReturnsMinimalHexGivenValue(long value, string expected)
    {
        Hex.EncodeQuantity(value).Should().Be(expected);
        Hex.DecodeQuantity(expected).Should().Be(new BigInteger(value));
    }

    private static byte[] Encode(JsonElement item) => item.ValueKind == JsonValueKind.Array
        ? Rlp.EncodeList(item.EnumerateArray().Select(Encode).ToArray())
        : Rlp.EncodeBytes(Hex.Decode(item.GetString()!));
}
