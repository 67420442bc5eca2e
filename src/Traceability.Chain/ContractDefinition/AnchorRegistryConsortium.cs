using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;

// AnchorRegistry's consortium functions (member addresses, witnesses, cosignatures) as Nethereum typed messages, beside
// the anchoring ones in AnchorRegistryDefinition.cs. Keep in step with the contract: the unit tests compare every
// signature, selector and topic with the compiled artifact's ABI.
namespace Traceability.Chain.ContractDefinition;

[Error("AddressRevoked")]
public sealed class AddressRevokedError : IAnchorRegistryError
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    [Parameter("uint256", "validUntilBlock", 2)] public BigInteger ValidUntilBlock { get; set; }
    public IReadOnlyList<object> Arguments => [Account, ValidUntilBlock];
}

[Error("AlreadyCosigned")]
public sealed class AlreadyCosignedError : IAnchorRegistryError
{
    [Parameter("uint256", "sequence", 1)] public BigInteger Sequence { get; set; }
    [Parameter("address", "witness", 2)] public string Witness { get; set; } = "";
    public IReadOnlyList<object> Arguments => [Sequence, Witness];
}

[Error("AlreadyRegistered")]
public sealed class AlreadyRegisteredError : IAnchorRegistryError
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    public IReadOnlyList<object> Arguments => [Account];
}

[Error("InvalidWitnessThreshold")]
public sealed class InvalidWitnessThresholdError : IAnchorRegistryError
{
    [Parameter("uint256", "threshold", 1)] public BigInteger Threshold { get; set; }
    [Parameter("uint256", "witnessCount", 2)] public BigInteger WitnessCount { get; set; }
    public IReadOnlyList<object> Arguments => [Threshold, WitnessCount];
}

[Error("NotRegistered")]
public sealed class NotRegisteredError : IAnchorRegistryError
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    public IReadOnlyList<object> Arguments => [Account];
}

[Error("NotWitness")]
public sealed class NotWitnessError : IAnchorRegistryError
{
    [Parameter("address", "caller", 1)] public string Caller { get; set; } = "";
    public IReadOnlyList<object> Arguments => [Caller];
}

[Error("RootMismatch")]
public sealed class RootMismatchError : IAnchorRegistryError
{
    [Parameter("uint256", "sequence", 1)] public BigInteger Sequence { get; set; }
    [Parameter("bytes32", "expected", 2)] public byte[] Expected { get; set; } = [];
    [Parameter("bytes32", "given", 3)] public byte[] Given { get; set; } = [];
    public IReadOnlyList<object> Arguments => [Sequence, Expected, Given];
}

[Error("TooManyWitnesses")]
public sealed class TooManyWitnessesError : IAnchorRegistryError
{
    [Parameter("uint256", "max", 1)] public BigInteger Max { get; set; }
    public IReadOnlyList<object> Arguments => [Max];
}

[Error("ZeroAddress")]
public sealed class ZeroAddressError : IAnchorRegistryError
{
    public IReadOnlyList<object> Arguments => [];
}

[Error("ZeroMemberId")]
public sealed class ZeroMemberIdError : IAnchorRegistryError
{
    public IReadOnlyList<object> Arguments => [];
}

/// <summary>Cosigned(uint256 indexed sequence, address indexed witness, bytes32 root).</summary>
[Event("Cosigned")]
public sealed class CosignedEventDTO : IEventDTO
{
    [Parameter("uint256", "sequence", 1, true)] public BigInteger Sequence { get; set; }
    [Parameter("address", "witness", 2, true)] public string Witness { get; set; } = "";
    [Parameter("bytes32", "root", 3, false)] public byte[] Root { get; set; } = [];
}

/// <summary>MemberRegistered(address indexed account, bytes32 indexed memberId).</summary>
[Event("MemberRegistered")]
public sealed class MemberRegisteredEventDTO : IEventDTO
{
    [Parameter("address", "account", 1, true)] public string Account { get; set; } = "";
    [Parameter("bytes32", "memberId", 2, true)] public byte[] MemberId { get; set; } = [];
}

/// <summary>MemberRevoked(address indexed account, bytes32 indexed memberId).</summary>
[Event("MemberRevoked")]
public sealed class MemberRevokedEventDTO : IEventDTO
{
    [Parameter("address", "account", 1, true)] public string Account { get; set; } = "";
    [Parameter("bytes32", "memberId", 2, true)] public byte[] MemberId { get; set; } = [];
}

/// <summary>WitnessChanged(address indexed account, bool isWitness).</summary>
[Event("WitnessChanged")]
public sealed class WitnessChangedEventDTO : IEventDTO
{
    [Parameter("address", "account", 1, true)] public string Account { get; set; } = "";
    [Parameter("bool", "isWitness", 2, false)] public bool IsWitness { get; set; }
}

/// <summary>WitnessThresholdChanged(uint256 previousThreshold, uint256 threshold).</summary>
[Event("WitnessThresholdChanged")]
public sealed class WitnessThresholdChangedEventDTO : IEventDTO
{
    [Parameter("uint256", "previousThreshold", 1, false)] public BigInteger PreviousThreshold { get; set; }
    [Parameter("uint256", "threshold", 2, false)] public BigInteger Threshold { get; set; }
}

/// <summary>MAX_WITNESSES() view returns (uint256).</summary>
[Function("MAX_WITNESSES", "uint256")]
public sealed class MaxWitnessesFunction : FunctionMessage;

/// <summary>cosign(uint256 sequence, bytes32 root).</summary>
[Function("cosign")]
public sealed class CosignFunction : FunctionMessage
{
    [Parameter("uint256", "sequence", 1)] public BigInteger Sequence { get; set; }
    [Parameter("bytes32", "root", 2)] public byte[] Root { get; set; } = [];
}

/// <summary>cosignatureCount(uint256 sequence) view returns (uint256).</summary>
[Function("cosignatureCount", "uint256")]
public sealed class CosignatureCountFunction : FunctionMessage
{
    [Parameter("uint256", "sequence", 1)] public BigInteger Sequence { get; set; }
}

/// <summary>cosignersOf(uint256 sequence) view returns (address[]).</summary>
[Function("cosignersOf", "address[]")]
public sealed class CosignersOfFunction : FunctionMessage
{
    [Parameter("uint256", "sequence", 1)] public BigInteger Sequence { get; set; }
}

/// <summary>hasCosigned(uint256, address) view returns (bool).</summary>
[Function("hasCosigned", "bool")]
public sealed class HasCosignedFunction : FunctionMessage
{
    [Parameter("uint256", "", 1)] public BigInteger Sequence { get; set; }
    [Parameter("address", "", 2)] public string Witness { get; set; } = "";
}

/// <summary>isFinal(uint256 sequence) view returns (bool).</summary>
[Function("isFinal", "bool")]
public sealed class IsFinalFunction : FunctionMessage
{
    [Parameter("uint256", "sequence", 1)] public BigInteger Sequence { get; set; }
}

/// <summary>isWitness(address) view returns (bool).</summary>
[Function("isWitness", "bool")]
public sealed class IsWitnessFunction : FunctionMessage
{
    [Parameter("address", "", 1)] public string Account { get; set; } = "";
}

/// <summary>memberOf(address account) view returns (bytes32 memberId, uint256 validFromBlock, uint256 validUntilBlock).</summary>
[Function("memberOf", typeof(MemberOfOutput))]
public sealed class MemberOfFunction : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
}

/// <summary>What memberOf returns.</summary>
[FunctionOutput]
public sealed class MemberOfOutput : IFunctionOutputDTO
{
    [Parameter("bytes32", "memberId", 1)] public byte[] MemberId { get; set; } = [];
    [Parameter("uint256", "validFromBlock", 2)] public BigInteger ValidFromBlock { get; set; }
    [Parameter("uint256", "validUntilBlock", 3)] public BigInteger ValidUntilBlock { get; set; }
}

/// <summary>registerMember(address account, bytes32 memberId).</summary>
[Function("registerMember")]
public sealed class RegisterMemberFunction : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    [Parameter("bytes32", "memberId", 2)] public byte[] MemberId { get; set; } = [];
}

/// <summary>revokeMember(address account).</summary>
[Function("revokeMember")]
public sealed class RevokeMemberFunction : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
}

/// <summary>setWitness(address account, bool witness).</summary>
[Function("setWitness")]
public sealed class SetWitnessFunction : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    [Parameter("bool", "witness", 2)] public bool Witness { get; set; }
}

/// <summary>setWitnessThreshold(uint256 threshold).</summary>
[Function("setWitnessThreshold")]
public sealed class SetWitnessThresholdFunction : FunctionMessage
{
    [Parameter("uint256", "threshold", 1)] public BigInteger Threshold { get; set; }
}

/// <summary>wasMemberAt(address account, bytes32 memberId, uint256 blockNumber) view returns (bool).</summary>
[Function("wasMemberAt", "bool")]
public sealed class WasMemberAtFunction : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    [Parameter("bytes32", "memberId", 2)] public byte[] MemberId { get; set; } = [];
    [Parameter("uint256", "blockNumber", 3)] public BigInteger BlockNumber { get; set; }
}

/// <summary>wasMemberWhenAnchored(address account, bytes32 memberId, uint256 sequence) view returns (bool).</summary>
[Function("wasMemberWhenAnchored", "bool")]
public sealed class WasMemberWhenAnchoredFunction : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    [Parameter("bytes32", "memberId", 2)] public byte[] MemberId { get; set; } = [];
    [Parameter("uint256", "sequence", 3)] public BigInteger Sequence { get; set; }
}

/// <summary>witnessCount() view returns (uint256).</summary>
[Function("witnessCount", "uint256")]
public sealed class WitnessCountFunction : FunctionMessage;

/// <summary>witnessThreshold() view returns (uint256).</summary>
[Function("witnessThreshold", "uint256")]
public sealed class WitnessThresholdFunction : FunctionMessage;

/// <summary>The consortium functions' custom errors, part of <see cref="AnchorRegistryErrors.All"/>.</summary>
public static class ConsortiumErrors
{
    public static readonly IReadOnlyList<Type> All =
    [
        typeof(AddressRevokedError), typeof(AlreadyCosignedError), typeof(AlreadyRegisteredError), typeof(InvalidWitnessThresholdError), typeof(NotRegisteredError), typeof(NotWitnessError), typeof(RootMismatchError), typeof(TooManyWitnessesError), typeof(ZeroAddressError), typeof(ZeroMemberIdError),
    ];
}
