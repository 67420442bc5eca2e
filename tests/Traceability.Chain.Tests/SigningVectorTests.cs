namespace Traceability.Chain.Tests;

/// <summary>secp256k1 signatures (RFC 6979, low s, recovery id) and signed EIP-1559 transactions against ethers 6.</summary>
public class SigningVectorTests
{
    public static TheoryData<string> SignatureVectors => Vectors.Names("signatures");
    public static TheoryData<string> TransactionVectors => Vectors.Names("transactions");

    [Theory]
    [MemberData(nameof(SignatureVectors))]
    public void SignReturnsEthersSignatureGivenKeyAndDigest(string name)
    {
        var v = Vectors.Get("signatures", name);
        var key = EthKey.FromHex(v.Str("privateKey"));
        var signature = key.Sign(v.Bytes("digest"));

        Hex.Encode(signature.R).Should().Be(v.Str("r"));
        Hex.Encode(signature.S).Should().Be(v.Str("s"));
        signature.RecoveryId.Should().Be(v.GetProperty("yParity").GetInt32());
        EthKey.RecoverAddress(v.Bytes("digest"), signature).Should().Be(key.Address);
    }

    [Theory]
    [MemberData(nameof(TransactionVectors))]
    public void SignReturnsEthersSerializedTransactionGivenFields(string name)
    {
        var v = Vectors.Get("transactions", name);
        var key = EthKey.FromHex(v.Str("privateKey"));
        var to = v.GetProperty("to").GetString();
        var tx = new Eip1559Transaction(
            (long)v.Big("chainId"), v.GetProperty("nonce").GetInt64(), v.Big("maxPriorityFeePerGas"), v.Big("maxFeePerGas"),
            (long)v.Big("gasLimit"), to, v.Big("value"), v.Bytes("data"));

        Hex.Encode(tx.SigningHash()).Should().Be(v.Str("unsignedHash"));
        var raw = tx.Sign(key);
        Hex.Encode(raw).Should().Be(v.Str("expected"));
        Eip1559Transaction.HashOf(raw).Should().Be(v.Str("hash"));
        key.Address.Should().Be(v.Str("from"));
    }
}
