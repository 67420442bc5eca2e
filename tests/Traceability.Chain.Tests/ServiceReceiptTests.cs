using System.Text.Json;
using Nethereum.Signer;
using Traceability.Chain;
using Traceability.Ledger.Merkle;
using Xunit;

namespace Traceability.Chain.Tests;

/// <summary>
/// ServiceReceipts against ethers and @openzeppelin/merkle-tree (vectors/make-receipt-vectors.js): the struct hashes,
/// the receipts tree and its proofs, the signature of Receipts(receiptsRoot, receiptCount); and RecoverableSigner
/// (NBitcoin.Secp256k1) against Nethereum's signer.
/// </summary>
public class ServiceReceiptTests
{
    private static readonly JsonElement V = Load();

    private static JsonElement Load()
    {
        using var d = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "vectors", "receipt-vectors.json")));
        return d.RootElement.Clone();
    }

    private static string Key => V.GetProperty("key").GetString()!;
    private static string Address => V.GetProperty("address").GetString()!;

    public static TheoryData<int> Batches() => new(Enumerable.Range(0, V.GetProperty("batches").GetArrayLength()));

    private static (ServiceReceipts Receipts, ReceiptMessage[] Messages, JsonElement Batch) Batch(int index)
    {
        var b = V.GetProperty("batches")[index];
        var messages = b.GetProperty("receipts").EnumerateArray().Select(r => ServiceReceipts.Message(
            Hex.Decode(r.GetProperty("digest").GetString()!), r.GetProperty("sequence").GetInt64(),
            DateTimeOffset.FromUnixTimeSeconds(r.GetProperty("recordTime").GetInt64()),
            DateTimeOffset.FromUnixTimeSeconds(r.GetProperty("anchorDeadline").GetInt64()))).ToArray();
        return (new ServiceReceipts(b.GetProperty("chainId").GetInt64(), b.GetProperty("contract").GetString()!), messages, b);
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void SignsABatchAsEthersSignTypedDataOverTheOpenZeppelinTreeOfTheStructHashes(int index)
    {
        var (receipts, messages, b) = Batch(index);
        using var key = new RecoverableSigner(new EthECKey(Key));
        var batch = receipts.SignBatch(messages, key);

        Hex.Encode(batch.Root).Should().Be(b.GetProperty("receiptsRoot").GetString());
        batch.Count.Should().Be(b.GetProperty("receiptCount").GetInt32());
        Hex.Encode(receipts.ReceiptsDigest(batch.Root, batch.Count)).Should().Be(b.GetProperty("digest").GetString());
        batch.Signature.Should().Be(b.GetProperty("signature").GetString());
        var expected = b.GetProperty("receipts").EnumerateArray().ToArray();
        for (var i = 0; i < messages.Length; i++)
        {
            Hex.Encode(ServiceReceipts.StructHash(messages[i])).Should().Be(expected[i].GetProperty("structHash").GetString());
            batch.ProofAt(i).Should().Equal(expected[i].GetProperty("proof").EnumerateArray().Select(p => p.GetString()));
        }
        if (messages.Length == 1) batch.ProofAt(0).Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(Batches))]
    public void EachReceiptIsInTheRootByItsProofAndTheSignatureRecoversToTheSigner(int index)
    {
        var (receipts, messages, b) = Batch(index);
        var root = Hex.Decode(b.GetProperty("receiptsRoot").GetString()!);
        var count = b.GetProperty("receiptCount").GetInt64();
        var expected = b.GetProperty("receipts").EnumerateArray().ToArray();
        for (var i = 0; i < messages.Length; i++)
        {
            var proof = expected[i].GetProperty("proof").EnumerateArray().Select(p => Hex.Decode(p.GetString()!)).ToList();
            ServiceReceipts.VerifyInRoot(messages[i], root, proof, count).IsValid.Should().BeTrue();

            // Any field changed after signing takes the receipt out of the root.
            var later = ServiceReceipts.Message(messages[i].Digest, (long)messages[i].Sequence, DateTimeOffset.FromUnixTimeSeconds((long)messages[i].RecordTime),
                DateTimeOffset.FromUnixTimeSeconds((long)messages[i].AnchorDeadline + 1));
            ServiceReceipts.VerifyInRoot(later, root, proof, count).Error.Should().Be(MerkleVerificationError.RootMismatch);
            var another = ServiceReceipts.Message(messages[i].Digest, (long)messages[i].Sequence + 1, DateTimeOffset.FromUnixTimeSeconds((long)messages[i].RecordTime),
                DateTimeOffset.FromUnixTimeSeconds((long)messages[i].AnchorDeadline));
            ServiceReceipts.VerifyInRoot(another, root, proof, count).IsValid.Should().BeFalse();
        }

        var signature = b.GetProperty("signature").GetString()!;
        receipts.RecoverBatch(root, count, signature).Should().Be(Address);
        receipts.RecoverBatch(root, count + 1, signature).Should().NotBe(Address);
        var otherRoot = (byte[])root.Clone();
        otherRoot[31] ^= 1;
        receipts.RecoverBatch(otherRoot, count, signature).Should().NotBe(Address);
        new ServiceReceipts(b.GetProperty("chainId").GetInt64() + 1, b.GetProperty("contract").GetString()!).RecoverBatch(root, count, signature).Should().NotBe(Address);
    }

    [Theory]
    [InlineData("0x1234")]
    [InlineData("not hex")]
    public void RefusesABatchSignatureThatIsNot65Bytes(string signature)
    {
        var act = () => new ServiceReceipts(31337, Contract).RecoverBatch(new byte[32], 1, signature);
        act.Should().Throw<FormatException>();
    }

    [Fact]
    public void NoReceiptIsNoBatch()
    {
        using var key = new RecoverableSigner(new EthECKey(Key));
        var act = () => new ServiceReceipts(31337, Contract).SignBatch([], key);
        act.Should().Throw<ArgumentException>();
    }

    // ---- receipts signed by themselves, as the service signed them before one signature covered a request -----------

    // Expected values from ethers 6 (node_modules), Hardhat's account 1:
    //   new ethers.Wallet(Key).signTypedData({name:"Traceability",version:"1",chainId:31337,verifyingContract:Contract},
    //     {Receipt:[{name:"digest",type:"bytes32"},{name:"sequence",type:"uint256"},{name:"recordTime",type:"uint64"},{name:"anchorDeadline",type:"uint64"}]},
    //     {digest:"0x"+"ab".repeat(32),sequence:42,recordTime:1764576000,anchorDeadline:1764576600})
    private const string Contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    private const string EthersSignature =
        "0x7c4068e321bcf33f9db25b24969618336336bf83d540218e606d03da5e7237453149ef1f17d7238806b9647a000b135e27352a18a2097dde58d28304e35482151b";

    private static ReceiptMessage Message(long sequence = 42) => ServiceReceipts.Message(
        Enumerable.Repeat((byte)0xab, 32).ToArray(), sequence, DateTimeOffset.FromUnixTimeSeconds(1764576000), DateTimeOffset.FromUnixTimeSeconds(1764576600));

    [Fact]
    public void RecoversTheSignerOfAReceiptSignedByItself()
    {
        new ServiceReceipts(31337, Contract).Recover(Message(), EthersSignature).Should().Be(Address);
    }

    [Theory]
    [InlineData(31337, Contract, 43)]   // another sequence
    [InlineData(1, Contract, 42)]       // another chain
    [InlineData(31337, "0x0000000000000000000000000000000000000001", 42)] // another contract
    public void RecoversAnotherAddressWhenAnythingSignedDiffers(long chainId, string contract, long sequence)
    {
        new ServiceReceipts(chainId, contract).Recover(Message(sequence), EthersSignature).Should().NotBe(Address);
    }

    [Fact]
    public void RefusesASignatureThatIsNot65Bytes()
    {
        var act = () => new ServiceReceipts(31337, Contract).Recover(Message(), "0x1234");
        act.Should().Throw<FormatException>();
    }

    // ---- the signer -------------------------------------------------------------------------------------------------

    public static TheoryData<string> Keys() => new()
    {
        Key,
        "0x00" + "7f".PadRight(62, '3'),   // a leading zero byte: Nethereum hands the key over as 31 bytes
        "0x0000c3" + new string('5', 58),
        "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", // the group order - 1, the largest key
    };

    [Theory]
    [MemberData(nameof(Keys))]
    public void RecoverableSignerGivesNethereumsRSAndVForRandomHashes(string privateKey)
    {
        var nethereum = new EthECKey(privateKey);
        using var signer = new RecoverableSigner(nethereum);
        signer.Address.Should().Be(EthAddress.Normalize(nethereum.GetPublicAddress()));
        var random = new Random(20261201); // the same hashes for every key, every run
        var hash = new byte[32];
        for (var i = 0; i < 100; i++)
        {
            random.NextBytes(hash);
            var expected = nethereum.SignAndCalculateV(hash);
            var rsv = signer.Sign(hash);
            rsv.Should().HaveCount(65);
            rsv.AsSpan(0, 32).ToArray().Should().Equal(Word(expected.R), $"r of hash {i}");
            rsv.AsSpan(32, 32).ToArray().Should().Equal(Word(expected.S), $"s of hash {i}");
            rsv[64].Should().Be(expected.V[0], $"v of hash {i}");
            EthECKey.RecoverFromSignature(EthECDSASignatureFactory.FromComponents(rsv[..32], rsv[32..64], rsv[64]), hash)
                .GetPublicAddress().Should().Be(nethereum.GetPublicAddress());
        }
    }

    [Fact]
    public void RecoverableSignerRefusesAHashThatIsNot32Bytes()
    {
        using var signer = new RecoverableSigner(new EthECKey(Key));
        FluentActions.Invoking(() => signer.Sign(new byte[31])).Should().Throw<ArgumentException>();
    }

    private static byte[] Word(byte[] value)
    {
        var word = new byte[32];
        value.AsSpan(Math.Max(0, value.Length - 32)).CopyTo(word.AsSpan(32 - Math.Min(32, value.Length)));
        return word;
    }
}
