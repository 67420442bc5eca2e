using System.Numerics;
using Traceability.Chain.Abi;

// AnchorRegistry (contracts/AnchorRegistry.sol) as typed messages, in the style of Nethereum's
// ContractDefinition: one record per function and event, each with its signature in one place
// (its static Definition); the encoding itself is in Abi/. Keep in step with the contract's ABI:
// the unit tests compare every selector and topic with ethers' Interface over the compiled artifact.
namespace Traceability.Chain.ContractDefinition;

/// <summary>A call of a contract function: which function and its arguments, in order.</summary>
public interface IFunctionMessage
{
    AbiFunction Function { get; }
    IReadOnlyList<object> Arguments { get; }
}

/// <summary>A call of a view function whose return data decodes to <typeparamref name="TOutput"/>.</summary>
public interface IFunctionMessage<out TOutput> : IFunctionMessage
{
    TOutput DecodeOutput(byte[] returnData);
}

public static class FunctionMessageExtensions
{
    /// <summary>The call data: selector || abi.encode(arguments).</summary>
    public static byte[] Encode(this IFunctionMessage message) => message.Function.EncodeCall(message.Arguments);
}

/// <summary>anchor(uint256 sequence, bytes32 root, uint256 firstEventSequence, uint256 lastEventSequence).</summary>
public sealed record AnchorFunction(BigInteger Sequence, byte[] Root, BigInteger FirstEventSequence, BigInteger LastEventSequence) : IFunctionMessage
{
    public static readonly AbiFunction Definition = new("anchor",
        [new("uint256", "sequence"), new("bytes32", "root"), new("uint256", "firstEventSequence"), new("uint256", "lastEventSequence")], []);

    AbiFunction IFunctionMessage.Function => Definition;
    IReadOnlyList<object> IFunctionMessage.Arguments => [Sequence, Root, FirstEventSequence, LastEventSequence];
}

/// <summary>getAnchor(uint256 sequence) view returns (bytes32 root, uint256 firstEventSequence, uint256 lastEventSequence, uint256 timestamp, address submitter).</summary>
public sealed record GetAnchorFunction(BigInteger Sequence) : IFunctionMessage<GetAnchorOutput>
{
    public static readonly AbiFunction Definition = new("getAnchor", [new("uint256", "sequence")],
        [new("bytes32", "root"), new("uint256", "firstEventSequence"), new("uint256", "lastEventSequence"), new("uint256", "timestamp"), new("address", "submitter")]);

    AbiFunction IFunctionMessage.Function => Definition;
    IReadOnlyList<object> IFunctionMessage.Arguments => [Sequence];

    public GetAnchorOutput DecodeOutput(byte[] returnData)
    {
        var v = Definition.DecodeOutput(returnData);
        return new GetAnchorOutput((byte[])v[0], (BigInteger)v[1], (BigInteger)v[2], (BigInteger)v[3], (string)v[4]);
    }
}

/// <summary>What getAnchor returns.</summary>
public sealed record GetAnchorOutput(byte[] Root, BigInteger FirstEventSequence, BigInteger LastEventSequence, BigInteger Timestamp, string Submitter);

/// <summary>anchorCount() view returns (uint256).</summary>
public sealed record AnchorCountFunction : IFunctionMessage<BigInteger>
{
    public static readonly AbiFunction Definition = new("anchorCount", [], [new("uint256", "")]);

    AbiFunction IFunctionMessage.Function => Definition;
    IReadOnlyList<object> IFunctionMessage.Arguments => [];

    public BigInteger DecodeOutput(byte[] returnData) => (BigInteger)Definition.DecodeOutput(returnData)[0];
}

/// <summary>verify(uint256 sequence, bytes32 leaf, bytes32[] proof) view returns (bool).</summary>
public sealed record VerifyFunction(BigInteger Sequence, byte[] Leaf, IReadOnlyList<byte[]> Proof) : IFunctionMessage<bool>
{
    public static readonly AbiFunction Definition = new("verify",
        [new("uint256", "sequence"), new("bytes32", "leaf"), new("bytes32[]", "proof")], [new("bool", "")]);

    AbiFunction IFunctionMessage.Function => Definition;
    IReadOnlyList<object> IFunctionMessage.Arguments => [Sequence, Leaf, Proof];

    public bool DecodeOutput(byte[] returnData) => (bool)Definition.DecodeOutput(returnData)[0];
}

/// <summary>setAnchorer(address account, bool authorised); owner only.</summary>
public sealed record SetAnchorerFunction(string Account, bool Authorised) : IFunctionMessage
{
    public static readonly AbiFunction Definition = new("setAnchorer", [new("address", "account"), new("bool", "authorised")], []);

    AbiFunction IFunctionMessage.Function => Definition;
    IReadOnlyList<object> IFunctionMessage.Arguments => [Account, Authorised];
}

/// <summary>isAnchorer(address) view returns (bool), the public mapping's getter.</summary>
public sealed record IsAnchorerFunction(string Account) : IFunctionMessage<bool>
{
    public static readonly AbiFunction Definition = new("isAnchorer", [new("address", "")], [new("bool", "")]);

    AbiFunction IFunctionMessage.Function => Definition;
    IReadOnlyList<object> IFunctionMessage.Arguments => [Account];

    public bool DecodeOutput(byte[] returnData) => (bool)Definition.DecodeOutput(returnData)[0];
}

/// <summary>owner() view returns (address), the immutable's getter.</summary>
public sealed record OwnerFunction : IFunctionMessage<string>
{
    public static readonly AbiFunction Definition = new("owner", [], [new("address", "")]);

    AbiFunction IFunctionMessage.Function => Definition;
    IReadOnlyList<object> IFunctionMessage.Arguments => [];

    public string DecodeOutput(byte[] returnData) => (string)Definition.DecodeOutput(returnData)[0];
}

/// <summary>Anchored(uint256 indexed sequence, bytes32 root, uint256 firstEventSequence, uint256 lastEventSequence, address indexed submitter).</summary>
public sealed record AnchoredEvent(BigInteger Sequence, byte[] Root, BigInteger FirstEventSequence, BigInteger LastEventSequence, string Submitter)
{
    public static readonly AbiEvent Definition = new("Anchored",
    [
        new("uint256", "sequence", Indexed: true), new("bytes32", "root"), new("uint256", "firstEventSequence"),
        new("uint256", "lastEventSequence"), new("address", "submitter", Indexed: true),
    ]);

    public static AnchoredEvent Decode(IReadOnlyList<string> topics, byte[] data)
    {
        var v = Definition.DecodeLog(topics, data);
        return new AnchoredEvent((BigInteger)v[0], (byte[])v[1], (BigInteger)v[2], (BigInteger)v[3], (string)v[4]);
    }
}

/// <summary>AnchorerChanged(address indexed account, bool authorised).</summary>
public sealed record AnchorerChangedEvent(string Account, bool Authorised)
{
    public static readonly AbiEvent Definition = new("AnchorerChanged", [new("address", "account", Indexed: true), new("bool", "authorised")]);

    public static AnchorerChangedEvent Decode(IReadOnlyList<string> topics, byte[] data)
    {
        var v = Definition.DecodeLog(topics, data);
        return new AnchorerChangedEvent((string)v[0], (bool)v[1]);
    }
}

/// <summary>The contract's custom errors, by which reverts are reported (<see cref="ContractRevertedException.ErrorName"/>).</summary>
public static class AnchorRegistryErrors
{
    public static readonly AbiError NotOwner = new("NotOwner", [new("address", "caller")]);
    public static readonly AbiError NotAuthorised = new("NotAuthorised", [new("address", "caller")]);
    public static readonly AbiError UnexpectedAnchorSequence = new("UnexpectedAnchorSequence", [new("uint256", "expected"), new("uint256", "actual")]);
    public static readonly AbiError NonContiguousEvents = new("NonContiguousEvents", [new("uint256", "expectedFirst"), new("uint256", "actualFirst")]);
    public static readonly AbiError InvalidEventRange = new("InvalidEventRange", [new("uint256", "firstEventSequence"), new("uint256", "lastEventSequence")]);
    public static readonly AbiError ZeroRoot = new("ZeroRoot", []);
    public static readonly AbiError UnknownAnchor = new("UnknownAnchor", [new("uint256", "sequence")]);

    public static readonly IReadOnlyList<AbiError> All =
        [NotOwner, NotAuthorised, UnexpectedAnchorSequence, NonContiguousEvents, InvalidEventRange, ZeroRoot, UnknownAnchor];
}
