using System.Globalization;
using System.Numerics;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.JsonRpc.Client;
using Traceability.Chain.ContractDefinition;

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

/// <summary>
/// A call, a gas estimation or a transaction reverted. <see cref="ErrorName"/> is the custom error's name
/// (e.g. "UnexpectedAnchorSequence") with its decoded <see cref="Arguments"/> (uint as BigInteger, address
/// as checksummed string), decoded by Nethereum against <see cref="AnchorRegistryErrors.All"/>; "Error" with the
/// reason string for require/revert messages; "Panic" with its code; <see cref="NoReason"/> when the revert carried no data; and
/// <see cref="UnknownError"/> when the selector is not one of the contract's errors.
/// </summary>
public sealed class ContractRevertedException : Exception
{
    public const string NoReason = "Revert";
    public const string UnknownError = "Unknown";
    public const string ErrorString = "Error";

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

    /// <summary>
    /// The revert Nethereum raised, named: a custom error of the contract (checked with
    /// <see cref="SmartContractCustomErrorRevertException.IsCustomErrorFor(Type)"/> and decoded with its DecodeError),
    /// a require/revert reason string, or a JSON-RPC error carrying revert data. Null when <paramref name="e"/> is no revert.
    /// </summary>
    public static ContractRevertedException? From(Exception e) => e switch
    {
        SmartContractCustomErrorRevertException custom => FromCustomError(custom.ExceptionEncodedData, custom),
        SmartContractRevertException reason => new ContractRevertedException(ErrorString, [reason.RevertMessage],
            HexOrEmpty(reason.EncodedData), "Error(string)", reason),
        RpcResponseException rpc when rpc.RpcError?.GetDataAsString() is { } data && data.IsHex() => FromCustomError(data, rpc),
        RpcResponseException rpc when rpc.RpcError?.Message?.Contains("reverted", StringComparison.OrdinalIgnoreCase) == true =>
            new ContractRevertedException(NoReason, [], [], null, rpc),
        _ => null,
    };

    private static ContractRevertedException FromCustomError(string? encodedData, Exception inner)
    {
        var data = HexOrEmpty(encodedData);
        if (data.Length == 0) return new ContractRevertedException(NoReason, [], data, null, inner);
        var revert = inner as SmartContractCustomErrorRevertException ?? new SmartContractCustomErrorRevertException(encodedData);
        foreach (var type in AnchorRegistryErrors.Decodable)
        {
            if (!revert.IsCustomErrorFor(type)) continue;
            var error = ABITypedRegistry.GetError(type);
            var decoded = (IAnchorRegistryError)encodedData!.DecodeExceptionEncodedData(type);
            return new ContractRevertedException(error.Name, decoded.Arguments, data, error.Signature, inner);
        }
        return new ContractRevertedException(UnknownError, [], data, null, inner);
    }

    private static byte[] HexOrEmpty(string? hex) => string.IsNullOrEmpty(hex) || !hex.IsHex() ? [] : hex.HexToByteArray();

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
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
