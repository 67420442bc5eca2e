using System.Globalization;
using System.Numerics;

namespace Traceability.Chain;

/// <summary>A block parameter: a number or one of the tags latest, pending, earliest, safe, finalized.</summary>
public readonly record struct BlockTag(string Value)
{
    public static readonly BlockTag Latest = new("latest");
    public static readonly BlockTag Pending = new("pending");
    public static readonly BlockTag Earliest = new("earliest");
    public static readonly BlockTag Safe = new("safe");
    public static readonly BlockTag Finalized = new("finalized");

    public static BlockTag Number(long number) => new(Hex.EncodeQuantity(number));

    public static implicit operator BlockTag(long number) => Number(number);

    public override string ToString() => Value;
}

/// <summary>The transaction fields of eth_call and eth_estimateGas. <see cref="To"/> null estimates a deployment.</summary>
public sealed record CallRequest(string? To, byte[] Data, string? From = null, BigInteger? Value = null, long? Gas = null);

/// <summary>An eth_getLogs filter. Topics: one entry per position, null for any.</summary>
public sealed record LogFilter(BlockTag FromBlock, BlockTag ToBlock, string? Address = null, IReadOnlyList<string?>? Topics = null);

/// <summary>A log entry of a receipt or of eth_getLogs.</summary>
public sealed record LogEntry(
    string Address,
    IReadOnlyList<string> Topics,
    byte[] Data,
    long BlockNumber,
    string BlockHash,
    string TransactionHash,
    long LogIndex,
    bool Removed);

/// <summary>A mined transaction's receipt. <see cref="Succeeded"/> is status 1; a reverted transaction is mined with status 0.</summary>
public sealed record TransactionReceipt(
    string TransactionHash,
    long BlockNumber,
    string BlockHash,
    bool Succeeded,
    long GasUsed,
    BigInteger EffectiveGasPrice,
    string From,
    string? To,
    string? ContractAddress,
    IReadOnlyList<LogEntry> Logs);

/// <summary>A block header as eth_getBlockByNumber returns it (transaction hashes only).</summary>
public sealed record BlockHeader(
    long Number,
    string Hash,
    string ParentHash,
    DateTimeOffset Timestamp,
    long GasLimit,
    long GasUsed,
    BigInteger? BaseFeePerGas,
    IReadOnlyList<string> TransactionHashes);

/// <summary>eth_feeHistory: base fees for the blocks and the next one, gas used ratios, and reward percentiles.</summary>
public sealed record FeeHistory(long OldestBlock, IReadOnlyList<BigInteger> BaseFeePerGas, IReadOnlyList<double> GasUsedRatio, IReadOnlyList<IReadOnlyList<BigInteger>> Reward)
{
    /// <summary>The base fee of the block after the newest one of the history.</summary>
    public BigInteger NextBaseFee => BaseFeePerGas.Count > 0 ? BaseFeePerGas[^1] : BigInteger.Zero;
}

/// <summary>The two EIP-1559 fee fields of a transaction, in wei per gas.</summary>
public sealed record Eip1559Fees(BigInteger MaxFeePerGas, BigInteger MaxPriorityFeePerGas)
{
    public override string ToString() =>
        $"maxFeePerGas {MaxFeePerGas.ToString(CultureInfo.InvariantCulture)}, maxPriorityFeePerGas {MaxPriorityFeePerGas.ToString(CultureInfo.InvariantCulture)}";
}
