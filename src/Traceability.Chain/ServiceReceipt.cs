using System.Buffers.Binary;
using System.Numerics;
using Nethereum.ABI.EIP712;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Signer.EIP712;
using Traceability.Ledger.Crypto;
using Traceability.Ledger.Merkle;

namespace Traceability.Chain;

/// <summary>
/// The EIP-712 struct of one capture receipt:
/// <c>Receipt(bytes32 digest, uint256 sequence, uint64 recordTime, uint64 anchorDeadline)</c>, where digest is the
/// SHA-256 digest of the event's CBV 2.0 hash (the Merkle leaf's second value), recordTime and anchorDeadline are Unix
/// seconds. Its struct hash is a leaf of the receipts tree the service signs (<see cref="ServiceReceipts"/>).
/// </summary>
[Struct("Receipt")]
public sealed class ReceiptMessage
{
    [Parameter("bytes32", "digest", 1)] public byte[] Digest { get; set; } = [];
    [Parameter("uint256", "sequence", 2)] public BigInteger Sequence { get; set; }
    [Parameter("uint64", "recordTime", 3)] public ulong RecordTime { get; set; }
    [Parameter("uint64", "anchorDeadline", 4)] public ulong AnchorDeadline { get; set; }
}

/// <summary>
/// The service's signature over the receipts of one capture request, and the Merkle proof of each of them.
/// </summary>
/// <param name="root">the <c>receiptsRoot</c>: the StandardMerkleTree root over the receipts' struct hashes</param>
/// <param name="count">the <c>receiptCount</c></param>
/// <param name="signature">0x r,s,v of <c>Receipts(receiptsRoot, receiptCount)</c></param>
/// <param name="tree">the tree, for the proofs</param>
public sealed class SignedReceiptBatch(byte[] root, int count, string signature, StandardMerkleTree tree)
{
    public byte[] Root { get; } = root;
    public int Count { get; } = count;
    public string Signature { get; } = signature;

    /// <summary>The proof of receipt <paramref name="index"/> (its place in the list signed) as 0x hex words; empty for a one-receipt batch.</summary>
    public string[] ProofAt(int index)
    {
        Span<byte> nodes = stackalloc byte[MerkleProofVerifier.MaxProofLength * 32];
        Span<char> text = stackalloc char[2 + 64];
        text[0] = '0';
        text[1] = 'x';
        var length = tree.WriteProofAt(index, nodes);
        var proof = new string[length];
        for (var p = 0; p < length; p++)
        {
            Convert.TryToHexStringLower(nodes.Slice(p * 32, 32), text[2..], out _);
            proof[p] = new string(text);
        }
        return proof;
    }
}

/// <summary>
/// The service's promise on capture receipts, under the domain <c>{name: "Traceability", version: "1", chainId,
/// verifyingContract: the AnchorRegistry}</c>. One signature per capture request: leaf i of the receipts tree is the
/// EIP-712 struct hash of receipt i's <see cref="ReceiptMessage"/>, the tree is OpenZeppelin's StandardMerkleTree over
/// leaves <c>["bytes32"]</c> (<see cref="SignedEventsTree"/>, the tree members sign their events with), and the
/// anchoring key signs <c>Receipts(bytes32 receiptsRoot, uint256 receiptCount)</c>. Signatures are the 65-byte
/// r,s,v of <c>eth_signTypedData_v4</c>.
/// </summary>
public sealed class ServiceReceipts
{
    public const string DomainName = "Traceability";
    public const string DomainVersion = "1";

    private readonly long _chainId;
    private readonly string _verifyingContract;

    public ServiceReceipts(long chainId, string verifyingContract)
    {
        _chainId = chainId;
        _verifyingContract = EthAddress.Normalize(verifyingContract);
        DomainSeparator = ComputeDomainSeparator();
    }

    public static ReceiptMessage Message(byte[] digest, long sequence, DateTimeOffset recordTime, DateTimeOffset anchorDeadline) => new()
    {
        Digest = digest.Length == 32 ? digest : throw new ArgumentException($"A digest has 32 bytes, not {digest.Length}.", nameof(digest)),
        Sequence = sequence,
        RecordTime = checked((ulong)recordTime.ToUnixTimeSeconds()),
        AnchorDeadline = checked((ulong)anchorDeadline.ToUnixTimeSeconds()),
    };

    /// <summary>
    /// The EIP-712 struct hash of a receipt, <c>keccak256(typeHash ‖ digest ‖ sequence ‖ recordTime ‖ anchorDeadline)</c>:
    /// the value of its leaf in the receipts tree (ethers: <c>TypedDataEncoder.hashStruct("Receipt", types, receipt)</c>).
    /// </summary>
    public static byte[] StructHash(ReceiptMessage message)
    {
        Span<byte> words = stackalloc byte[5 * 32];
        words.Clear();
        ReceiptTypeHash.CopyTo(words);
        message.Digest.CopyTo(words[32..]);
        if (message.Sequence >= 0 && message.Sequence <= ulong.MaxValue)
            BinaryPrimitives.WriteUInt64BigEndian(words[88..96], (ulong)message.Sequence); // every sequence; no BigInteger bytes per receipt
        else
            Word(message.Sequence, words[64..96]);
        BinaryPrimitives.WriteUInt64BigEndian(words[120..128], message.RecordTime);
        BinaryPrimitives.WriteUInt64BigEndian(words[152..160], message.AnchorDeadline);
        return Keccak256.Hash(words);
    }

    /// <summary>
    /// Signs the receipts of one capture request: the tree over their struct hashes in the order given, and one
    /// signature of its root and size. Throws <see cref="ArgumentException"/> for no receipt.
    /// </summary>
    public SignedReceiptBatch SignBatch(IReadOnlyList<ReceiptMessage> receipts, RecoverableSigner key)
    {
        ArgumentNullException.ThrowIfNull(receipts);
        if (receipts.Count == 0) throw new ArgumentException("There is no receipt to sign.", nameof(receipts));
        var leaves = new byte[receipts.Count][];
        for (var i = 0; i < leaves.Length; i++) leaves[i] = StructHash(receipts[i]);
        var tree = SignedEventsTree.Build(leaves);
        var root = tree.Root;
        return new SignedReceiptBatch(root, leaves.Length, Hex.Encode(key.Sign(ReceiptsDigest(root, leaves.Length))), tree);
    }

    /// <summary>The EIP-712 digest signed for a batch: <c>keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(Receipts(root, count)))</c>.</summary>
    public byte[] ReceiptsDigest(byte[] receiptsRoot, long receiptCount)
    {
        if (receiptsRoot is not { Length: 32 }) throw new ArgumentException("A receipts root has 32 bytes.", nameof(receiptsRoot));
        Span<byte> words = stackalloc byte[3 * 32];
        ReceiptsTypeHash.CopyTo(words);
        receiptsRoot.CopyTo(words[32..]);
        Word(receiptCount, words[64..]);
        Span<byte> envelope = stackalloc byte[2 + 32 + 32];
        envelope[0] = 0x19;
        envelope[1] = 0x01;
        DomainSeparator.CopyTo(envelope[2..]);
        Keccak256.Hash(words, envelope[34..]);
        return Keccak256.Hash(envelope);
    }

    /// <summary>
    /// Whether <paramref name="message"/> is leaf <c>receiptProof</c> leads from to <paramref name="receiptsRoot"/> in a tree
    /// of <paramref name="receiptCount"/> receipts; never throws (the inputs come from a receipt file).
    /// </summary>
    public static MerkleVerification VerifyInRoot(ReceiptMessage message, byte[] receiptsRoot, IReadOnlyList<byte[]> receiptProof, long receiptCount) =>
        SignedEventsTree.Verify(receiptsRoot, StructHash(message), receiptProof, receiptCount);

    /// <summary>
    /// The EIP-55 address that signed <c>Receipts(receiptsRoot, receiptCount)</c> (Nethereum's recovery);
    /// <see cref="FormatException"/> for a signature that is not 65 bytes of hex.
    /// </summary>
    public string RecoverBatch(byte[] receiptsRoot, long receiptCount, string signature)
    {
        if (!MemberSignatures.TryParseSignature(signature, out var rsv))
            throw new FormatException("a signature is 0x and 65 bytes (r, s, v) of hex, v 27 or 28");
        var ecdsa = Nethereum.Signer.EthECDSASignatureFactory.FromComponents(rsv[..32], rsv[32..64], rsv[64]);
        return EthAddress.Normalize(Nethereum.Signer.EthECKey.RecoverFromSignature(ecdsa, ReceiptsDigest(receiptsRoot, receiptCount)).GetPublicAddress());
    }

    /// <summary>
    /// The EIP-55 address that signed one receipt by itself, as receipts were signed before the per-request tree (one
    /// EIP-712 signature of <c>Receipt(...)</c> per event); kept so that those receipts stay checkable.
    /// <see cref="FormatException"/> for a signature that is not 65 bytes of hex.
    /// </summary>
    public string Recover(ReceiptMessage message, string signature)
    {
        var bytes = Hex.Decode(signature);
        if (bytes.Length != 65) throw new FormatException($"a signature has 65 bytes (r, s, v), not {bytes.Length}");
        return EthAddress.Normalize(new Eip712TypedDataSigner().RecoverFromSignatureV4(message, TypedData(), signature));
    }

    // Nethereum writes the message into the TypedData it recovers from: a new one per call.
    private TypedData<Domain> TypedData() => new()
    {
        Domain = new Domain { Name = DomainName, Version = DomainVersion, ChainId = _chainId, VerifyingContract = _verifyingContract },
        Types = MemberDescriptionFactory.GetTypesMemberDescription(typeof(Domain), typeof(ReceiptMessage)),
        PrimaryType = "Receipt",
    };

    private static readonly byte[] ReceiptTypeHash =
        Keccak256.Hash("Receipt(bytes32 digest,uint256 sequence,uint64 recordTime,uint64 anchorDeadline)"u8);

    private static readonly byte[] ReceiptsTypeHash = Keccak256.Hash("Receipts(bytes32 receiptsRoot,uint256 receiptCount)"u8);

    private byte[] DomainSeparator { get; }

    private byte[] ComputeDomainSeparator()
    {
        var words = new byte[5 * 32];
        Keccak256.Hash("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"u8).CopyTo(words, 0);
        Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(DomainName)).CopyTo(words, 32);
        Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(DomainVersion)).CopyTo(words, 64);
        Word(_chainId, words.AsSpan(96, 32));
        EthAddress.Parse(_verifyingContract).CopyTo(words, 128 + 12);
        return Keccak256.Hash(words);
    }

    /// <summary>A non-negative integer as a big-endian 32-byte ABI word.</summary>
    private static void Word(BigInteger value, Span<byte> word)
    {
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (value.Sign < 0 || bytes.Length > 32) throw new ArgumentOutOfRangeException(nameof(value), "not a uint256");
        word.Clear();
        bytes.CopyTo(word[(32 - bytes.Length)..]);
    }
}
