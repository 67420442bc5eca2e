using System.Numerics;
using Nethereum.ABI.EIP712;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Signer;
using Nethereum.Signer.EIP712;
using Traceability.Ledger.Crypto;

namespace Traceability.Chain;

/// <summary>
/// The EIP-712 message of a signed capture receipt:
/// <c>Receipt(bytes32 digest, uint256 sequence, uint64 recordTime, uint64 anchorDeadline)</c>, where digest is the
/// SHA-256 digest of the event's CBV 2.0 hash (the Merkle leaf's second value), recordTime and anchorDeadline are Unix
/// seconds. Signed by the service's anchoring key, it is the service's promise to anchor the event by the deadline.
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
/// Signs and recovers receipt signatures under the domain <c>{name: "Traceability", version: "1", chainId,
/// verifyingContract: the AnchorRegistry}</c>. The signature is the 65-byte r,s,v of <c>eth_signTypedData_v4</c>.
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
    }

    // Nethereum writes the message into the TypedData it signs: a new one per call (types included), so concurrent
    // captures never share one.
    private TypedData<Domain> TypedData() => new()
    {
        Domain = new Domain { Name = DomainName, Version = DomainVersion, ChainId = _chainId, VerifyingContract = _verifyingContract },
        Types = MemberDescriptionFactory.GetTypesMemberDescription(typeof(Domain), typeof(ReceiptMessage)),
        PrimaryType = "Receipt",
    };

    public static ReceiptMessage Message(byte[] digest, long sequence, DateTimeOffset recordTime, DateTimeOffset anchorDeadline) => new()
    {
        Digest = digest.Length == 32 ? digest : throw new ArgumentException($"A digest has 32 bytes, not {digest.Length}.", nameof(digest)),
        Sequence = sequence,
        RecordTime = checked((ulong)recordTime.ToUnixTimeSeconds()),
        AnchorDeadline = checked((ulong)anchorDeadline.ToUnixTimeSeconds()),
    };

    /// <summary>
    /// 0x r,s,v (65 bytes), as eth_signTypedData_v4 returns. The EIP-712 digest is computed here (domain separator and
    /// type hash once, one Keccak of five words per receipt): Nethereum's typed-data signer, which the unit tests keep
    /// as the reference, spends milliseconds per receipt on reflection, and capture signs every receipt.
    /// </summary>
    public string Sign(ReceiptMessage message, EthECKey key)
    {
        Span<byte> words = stackalloc byte[5 * 32];
        words.Clear();
        ReceiptTypeHash.CopyTo(words);
        message.Digest.CopyTo(words[32..]);
        Word(message.Sequence, words[64..96]);
        Word(message.RecordTime, words[96..128]);
        Word(message.AnchorDeadline, words[128..]);
        Span<byte> envelope = stackalloc byte[2 + 32 + 32];
        envelope[0] = 0x19;
        envelope[1] = 0x01;
        DomainSeparator.CopyTo(envelope[2..]);
        Keccak256.Hash(words, envelope[34..]);
        var signature = key.SignAndCalculateV(Keccak256.Hash(envelope));
        var rsv = new byte[65];
        signature.R.CopyTo(rsv.AsSpan(32 - signature.R.Length));
        signature.S.CopyTo(rsv.AsSpan(64 - signature.S.Length));
        rsv[64] = signature.V[0];
        return Hex.Encode(rsv);
    }

    private static readonly byte[] ReceiptTypeHash =
        Keccak256.Hash("Receipt(bytes32 digest,uint256 sequence,uint64 recordTime,uint64 anchorDeadline)"u8);

    private byte[] DomainSeparator => _domainSeparator ??= ComputeDomainSeparator();
    private byte[]? _domainSeparator;

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

    /// <summary>The EIP-55 address that signed <paramref name="message"/>; <see cref="FormatException"/> for a signature that is not 65 bytes of hex.</summary>
    public string Recover(ReceiptMessage message, string signature)
    {
        var bytes = Hex.Decode(signature);
        if (bytes.Length != 65) throw new FormatException($"a signature has 65 bytes (r, s, v), not {bytes.Length}");
        return EthAddress.Normalize(new Eip712TypedDataSigner().RecoverFromSignatureV4(message, TypedData(), signature));
    }
}
