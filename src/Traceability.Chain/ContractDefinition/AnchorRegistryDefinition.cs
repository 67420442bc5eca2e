using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;

// AnchorRegistry (contracts/AnchorRegistry.sol) as Nethereum's typed messages: one class per function, output, event
// and custom error, each with its ABI in attributes. Keep in step with the contract: the unit tests compare every
// signature, selector and topic with the compiled artifact's ABI and with ethers' encodings.
namespace Traceability.Chain.ContractDefinition;

/// <summary>The deployment (constructor without arguments); the init code is set from the Hardhat artifact.</summary>
public sealed class AnchorRegistryDeployment : ContractDeploymentMessage
{
    // Nethereum's deployment handler creates messages through new(): the byte code is set afterwards.
    public AnchorRegistryDeployment() : base("") { }

    public AnchorRegistryDeployment(string byteCode) : base(byteCode) { }
}

/// <summary>anchor(uint256 sequence, bytes32 root, uint256 firstEventSequence, uint256 lastEventSequence).</summary>
[Function("anchor")]
public sealed class AnchorFunction : FunctionMessage
{
    [Parameter("uint256", "sequence", 1)] public BigInteger Sequence { get; set; }
    [Parameter("bytes32", "root", 2)] public byte[] Root { get; set; } = [];
    [Parameter("uint256", "firstEventSequence", 3)] public BigInteger FirstEventSequence { get; set; }
    [Parameter("uint256", "lastEventSequence", 4)] public BigInteger LastEventSequence { get; set; }
}

/// <summary>getAnchor(uint256 sequence) view returns (bytes32, uint256, uint256, uint256, address); reverts UnknownAnchor.</summary>
[Function("getAnchor", typeof(GetAnchorOutput))]
public sealed class GetAnchorFunction : FunctionMessage
{
    [Parameter("uint256", "sequence", 1)] public BigInteger Sequence { get; set; }
}

/// <summary>What getAnchor returns.</summary>
[FunctionOutput]
public sealed class GetAnchorOutput : IFunctionOutputDTO
{
    [Parameter("bytes32", "root", 1)] public byte[] Root { get; set; } = [];
    [Parameter("uint256", "firstEventSequence", 2)] public BigInteger FirstEventSequence { get; set; }
    [Parameter("uint256", "lastEventSequence", 3)] public BigInteger LastEventSequence { get; set; }
    [Parameter("uint256", "timestamp", 4)] public BigInteger Timestamp { get; set; }
    [Parameter("address", "submitter", 5)] public string Submitter { get; set; } = "";
}

/// <summary>anchorCount() view returns (uint256).</summary>
[Function("anchorCount", "uint256")]
public sealed class AnchorCountFunction : FunctionMessage;

/// <summary>verify(uint256 sequence, bytes32 leaf, bytes32[] proof) view returns (bool).</summary>
[Function("verify", "bool")]
public sealed class VerifyFunction : FunctionMessage
{
    [Parameter("uint256", "sequence", 1)] public BigInteger Sequence { get; set; }
    [Parameter("bytes32", "leaf", 2)] public byte[] Leaf { get; set; } = [];
    [Parameter("bytes32[]", "proof", 3)] public List<byte[]> Proof { get; set; } = [];
}

/// <summary>setAnchorer(address account, bool authorised); owner only.</summary>
[Function("setAnchorer")]
public sealed class SetAnchorerFunction : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
    [Parameter("bool", "authorised", 2)] public bool Authorised { get; set; }
}

/// <summary>isAnchorer(address) view returns (bool), the public mapping's getter.</summary>
[Function("isAnchorer", "bool")]
public sealed class IsAnchorerFunction : FunctionMessage
{
    [Parameter("address", "", 1)] public string Account { get; set; } = "";
}

/// <summary>owner() view returns (address), the immutable's getter.</summary>
[Function("owner", "address")]
public sealed class OwnerFunction : FunctionMessage;

/// <summary>Anchored(uint256 indexed sequence, bytes32 root, uint256 firstEventSequence, uint256 lastEventSequence, address indexed submitter).</summary>
[Event("Anchored")]
public sealed class AnchoredEventDTO : IEventDTO
{
    [Parameter("uint256", "sequence", 1, true)] public BigInteger Sequence { get; set; }
    [Parameter("bytes32", "root", 2, false)] public byte[] Root { get; set; } = [];
    [Parameter("uint256", "firstEventSequence", 3, false)] public BigInteger FirstEventSequence { get; set; }
    [Parameter("uint256", "lastEventSequence", 4, false)] public BigInteger LastEventSequence { get; set; }
    [Parameter("address", "submitter", 5, true)] public string Submitter { get; set; } = "";
}

/// <summary>AnchorerChanged(address indexed account, bool authorised).</summary>
[Event("AnchorerChanged")]
public sealed class AnchorerChangedEventDTO : IEventDTO
{
    [Parameter("address", "account", 1, true)] public string Account { get; set; } = "";
    [Parameter("bool", "authorised", 2, false)] public bool Authorised { get; set; }
}

/// <summary>A custom error of the contract, with its decoded arguments in declaration order.</summary>
public interface IAnchorRegistryError
{
    IReadOnlyList<object> Arguments { get; }
}

[Error("NotOwner")]
public sealed class NotOwnerError : IAnchorRegistryError
{
    [Parameter("address", "caller", 1)] public string Caller { get; set; } = "";
    public IReadOnlyList<object> Arguments => [Caller];
}

[Error("NotAuthorised")]
public sealed class NotAuthorisedError : IAnchorRegistryError
{
    [Parameter("address", "caller", 1)] public string Caller { get; set; } = "";
    public IReadOnlyList<object> Arguments => [Caller];
}

[Error("UnexpectedAnchorSequence")]
public sealed class UnexpectedAnchorSequenceError : IAnchorRegistryError
{
    [Parameter("uint256", "expected", 1)] public BigInteger Expected { get; set; }
    [Parameter("uint256", "actual", 2)] public BigInteger Actual { get; set; }
    public IReadOnlyList<object> Arguments => [Expected, Actual];
}

[Error("NonContiguousEvents")]
public sealed class NonContiguousEventsError : IAnchorRegistryError
{
    [Parameter("uint256", "expectedFirst", 1)] public BigInteger ExpectedFirst { get; set; }
    [Parameter("uint256", "actualFirst", 2)] public BigInteger ActualFirst { get; set; }
    public IReadOnlyList<object> Arguments => [ExpectedFirst, ActualFirst];
}

[Error("InvalidEventRange")]
public sealed class InvalidEventRangeError : IAnchorRegistryError
{
    [Parameter("uint256", "firstEventSequence", 1)] public BigInteger FirstEventSequence { get; set; }
    [Parameter("uint256", "lastEventSequence", 2)] public BigInteger LastEventSequence { get; set; }
    public IReadOnlyList<object> Arguments => [FirstEventSequence, LastEventSequence];
}

[Error("ZeroRoot")]
public sealed class ZeroRootError : IAnchorRegistryError
{
    public IReadOnlyList<object> Arguments => [];
}

[Error("UnknownAnchor")]
public sealed class UnknownAnchorError : IAnchorRegistryError
{
    [Parameter("uint256", "sequence", 1)] public BigInteger Sequence { get; set; }
    public IReadOnlyList<object> Arguments => [Sequence];
}

/// <summary>Solidity's built-in Panic(uint256) (assert, overflow, ...); not declared by the contract, decoded all the same.</summary>
[Error("Panic")]
public sealed class PanicError : IAnchorRegistryError
{
    [Parameter("uint256", "code", 1)] public BigInteger Code { get; set; }
    public IReadOnlyList<object> Arguments => [Code];
}

/// <summary>The contract's custom errors, by which reverts are reported (<see cref="ContractRevertedException.ErrorName"/>).</summary>
public static class AnchorRegistryErrors
{
    public static readonly IReadOnlyList<Type> All =
    [
        typeof(NotOwnerError), typeof(NotAuthorisedError), typeof(UnexpectedAnchorSequenceError), typeof(NonContiguousEventsError),
        typeof(InvalidEventRangeError), typeof(ZeroRootError), typeof(UnknownAnchorError), .. ConsortiumErrors.All,
    ];

    /// <summary>The contract's errors and Solidity's Panic, the errors a revert is decoded against.</summary>
    internal static readonly IReadOnlyList<Type> Decodable = [.. All, typeof(PanicError)];

    /// <summary>The error's name as the contract declares it, e.g. "UnknownAnchor".</summary>
    public static string NameOf<TError>() where TError : IAnchorRegistryError => ABITypedRegistry.GetError<TError>().Name;
}
