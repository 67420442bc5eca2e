using System.Globalization;
using System.Numerics;
using Traceability.Chain.Abi;

namespace Traceability.Chain;

/// <summary>
/// The chain could not be reached or did not answer as a JSON-RPC node: connection refused, DNS,
/// timeout, an HTTP error status without a JSON-RPC body, or a body that is not JSON-RPC. "Chain down".
/// </summary>
public sealed class ChainUnavailableException : Exception
{
    public ChainUnavailableException(string message) : base(message) { }
    public ChainUnavailableException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The node answered with a JSON-RPC error object (other than a contract revert, see <see cref="ContractRevertedException"/>).</summary>
public sealed class JsonRpcException : Exception
{
    public JsonRpcException(string method, int code, string message, string? dataJson)
        : base($"{method} failed with JSON-RPC error {code}: {message}")
    {
        Method = method;
        Code = code;
        RpcMessage = message;
        DataJson = dataJson;
    }

    public string Method { get; }
    public int Code { get; }

    /// <summary>The error object's message, as the node wrote it.</summary>
    public string RpcMessage { get; }

    /// <summary>The error object's data member as raw JSON, or null.</summary>
    public string? DataJson { get; }
}

/// <summary>
/// A call, a gas estimation or a transaction reverted. <see cref="ErrorName"/> is the custom error's name
/// (e.g. "UnexpectedAnchorSequence") with its decoded <see cref="Arguments"/> (uint as BigInteger, address
/// as checksummed string, bytes32 as byte[]); "Error" with the reason string for require/revert messages;
/// "Panic" with the code (BigInteger); <see cref="NoReason"/> when the revert carried no data; and
/// <see cref="UnknownError"/> when the selector is not among the errors known to the caller.
/// </summary>
public sealed class ContractRevertedException : Exception
{
    public const string NoReason = "Revert";
    public const string UnknownError = "Unknown";

    public ContractRevertedException(string errorName, IReadOnlyList<object> arguments, byte[] revertData, string? signature, Exception? inner = null)
        : base(Describe(errorName, arguments, revertData, signature), inner)
    {
        ErrorName = errorName;
        Arguments = arguments;
        RevertData = revertData;
        Signature = signature;
    }

    public string ErrorName { get; }
    public IReadOnlyList<object> Arguments { get; }

    /// <summary>The raw revert data: selector || abi-encoded arguments (empty for a bare revert).</summary>
    public byte[] RevertData { get; }

    /// <summary>The error's signature, e.g. "NotAuthorised(address)", or null when unknown.</summary>
    public string? Signature { get; }

    /// <summary>Decodes revert data against the caller's known errors and the built-in Error(string) and Panic(uint256).</summary>
    public static ContractRevertedException FromRevertData(byte[] revertData, IEnumerable<AbiError>? knownErrors, Exception? inner = null)
    {
        if (revertData.Length == 0) return new ContractRevertedException(NoReason, [], revertData, null, inner);
        foreach (var error in (knownErrors ?? []).Append(AbiError.ErrorString).Append(AbiError.Panic))
        {
            if (!error.Matches(revertData)) continue;
            try { return new ContractRevertedException(error.Name, error.Decode(revertData), revertData, error.Signature, inner); }
            catch (AbiDecodingException) { break; }
        }
        return new ContractRevertedException(UnknownError, [], revertData, null, inner);
    }

    private static string Describe(string name, IReadOnlyList<object> arguments, byte[] data, string? signature)
    {
        if (name == NoReason) return "The contract reverted without a reason.";
        if (signature is null) return $"The contract reverted with an unknown error (data {Hex.Encode(data)}).";
        return $"The contract reverted with {name}({string.Join(", ", arguments.Select(Format))}).";
    }

    private static string Format(object value) => value switch
    {
        byte[] bytes => Hex.Encode(bytes),
        BigInteger n => n.ToString(CultureInfo.InvariantCulture),
        string s => s,
        bool b => b ? "true" : "false",
        object[] items => "[" + string.Join(", ", items.Select(Format)) + "]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
