using System.Numerics;
using Nethereum.ABI.EIP712;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Signer;
using Nethereum.Signer.EIP712;

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

    /// <summary>0x r,s,v (65 bytes), as eth_signTypedData_v4 returns.</summary>
    public string Sign(ReceiptMessage message, EthECKey key) => new Eip712TypedDataSigner().SignTypedDataV4(message, TypedData(), key);

    /// <summary>The EIP-55 address that signed <paramref name="message"/>; <see cref="FormatException"/> for a signature that is not 65 bytes of hex.</summary>
    public string Recover(ReceiptMessage message, string signature)
    {
        var bytes = Hex.Decode(signature);
        if (bytes.Length != 65) throw new FormatException($"a signature has 65 bytes (r, s, v), not {bytes.Length}");
        return EthAddress.Normalize(new Eip712TypedDataSigner().RecoverFromSignatureV4(message, TypedData(), signature));
    }
}
