using System.Globalization;
using System.Net.Http.Headers;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Chain.Abi;

namespace Traceability.Chain;

/// <summary>
/// A small Ethereum JSON-RPC client over HTTP. Errors the node reports surface as <see cref="JsonRpcException"/>,
/// reverts of eth_call / eth_estimateGas / eth_sendRawTransaction as <see cref="ContractRevertedException"/>, and a
/// node that cannot be reached (or answers something other than JSON-RPC) as <see cref="ChainUnavailableException"/>.
/// Thread-safe; share one per RPC URL.
/// </summary>
public sealed class EthereumRpcClient
{
    /// <summary>Head room added to eth_estimateGas for the gas limit of transactions sent here (percent).</summary>
    public const int GasLimitHeadroomPercent = 20;

    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _http;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private long _nextId;

    public EthereumRpcClient(HttpClient http, Uri rpcUrl)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(rpcUrl);
        _http = http;
        RpcUrl = rpcUrl;
    }

    public Uri RpcUrl { get; }

    /// <summary>The URL without path, query or user info, for messages (RPC URLs often carry API keys).</summary>
    public string SafeEndpoint => $"{RpcUrl.Scheme}://{RpcUrl.Authority}";

    public async Task<long> GetChainIdAsync(CancellationToken ct) =>
        (long)Quantity(await RequestAsync("eth_chainId", [], ct).ConfigureAwait(false));

    public async Task<long> GetBlockNumberAsync(CancellationToken ct) =>
        (long)Quantity(await RequestAsync("eth_blockNumber", [], ct).ConfigureAwait(false));

    public async Task<BigInteger> GetBalanceAsync(string address, BlockTag block, CancellationToken ct) =>
        Quantity(await RequestAsync("eth_getBalance", [EthAddress.Normalize(address), block.Value], ct).ConfigureAwait(false));

    /// <summary>The deployed code at <paramref name="address"/>; empty when no contract is there.</summary>
    public async Task<byte[]> GetCodeAsync(string address, BlockTag block, CancellationToken ct) =>
        Data(await RequestAsync("eth_getCode", [EthAddress.Normalize(address), block.Value], ct).ConfigureAwait(false));

    /// <summary>
    /// eth_call; a revert throws <see cref="ContractRevertedException"/> decoded against <paramref name="knownErrors"/>
    /// (null: only Error(string) and Panic(uint256) are decoded, other errors are reported as Unknown with their data).
    /// </summary>
    public async Task<byte[]> CallAsync(CallRequest call, BlockTag block, IReadOnlyList<AbiError>? knownErrors, CancellationToken ct)
    {
        var result = await RequestAsync("eth_call", [CallObject(call), block.Value], ct, knownErrors ?? []).ConfigureAwait(false);
        return Data(result);
    }

    /// <summary>eth_estimateGas; a revert throws <see cref="ContractRevertedException"/> decoded against <paramref name="knownErrors"/>.</summary>
    public async Task<long> EstimateGasAsync(CallRequest call, IReadOnlyList<AbiError>? knownErrors, CancellationToken ct) =>
        (long)Quantity(await RequestAsync("eth_estimateGas", [CallObject(call)], ct, knownErrors ?? []).ConfigureAwait(false));

    /// <summary>The next nonce of <paramref name="address"/>; use <see cref="BlockTag.Pending"/> to count transactions in the pool.</summary>
    public async Task<long> GetTransactionCountAsync(string address, BlockTag block, CancellationToken ct) =>
        (long)Quantity(await RequestAsync("eth_getTransactionCount", [EthAddress.Normalize(address), block.Value], ct).ConfigureAwait(false));

    /// <summary>
    /// Submits a signed transaction; returns its hash. A node that executes on submission (Hardhat automine) may answer
    /// a reverting transaction with an error, thrown as <see cref="ContractRevertedException"/>: the transaction may still
    /// have been mined (and its nonce used).
    /// </summary>
    public async Task<string> SendRawTransactionAsync(byte[] rawTransaction, IReadOnlyList<AbiError>? knownErrors, CancellationToken ct)
    {
        var result = await RequestAsync("eth_sendRawTransaction", [Hex.Encode(rawTransaction)], ct, knownErrors ?? []).ConfigureAwait(false);
        return result.GetString() ?? throw NotJsonRpc("eth_sendRawTransaction", "a null transaction hash");
    }

    /// <summary>The receipt, or null while the transaction is not mined (or unknown).</summary>
    public async Task<TransactionReceipt?> GetTransactionReceiptAsync(string transactionHash, CancellationToken ct)
    {
        var result = await RequestAsync("eth_getTransactionReceipt", [transactionHash], ct).ConfigureAwait(false);
        return result.ValueKind == JsonValueKind.Null ? null : ParseReceipt(result);
    }

    public async Task<IReadOnlyList<LogEntry>> GetLogsAsync(LogFilter filter, CancellationToken ct)
    {
        var query = new JsonObject { ["fromBlock"] = filter.FromBlock.Value, ["toBlock"] = filter.ToBlock.Value };
        if (filter.Address is not null) query["address"] = EthAddress.Normalize(filter.Address);
        if (filter.Topics is not null) query["topics"] = new JsonArray(filter.Topics.Select(t => (JsonNode?)(t is null ? null : JsonValue.Create(t))).ToArray());
        var result = await RequestAsync("eth_getLogs", [query], ct).ConfigureAwait(false);
        return result.EnumerateArray().Select(ParseLog).ToList();
    }

    /// <summary>The block header (with transaction hashes), or null when the block does not exist yet.</summary>
    public async Task<BlockHeader?> GetBlockByNumberAsync(BlockTag block, CancellationToken ct)
    {
        var result = await RequestAsync("eth_getBlockByNumber", [block.Value, false], ct).ConfigureAwait(false);
        if (result.ValueKind == JsonValueKind.Null) return null;
        return new BlockHeader(
            (long)Quantity(result.GetProperty("number")),
            result.GetProperty("hash").GetString()!,
            result.GetProperty("parentHash").GetString()!,
            DateTimeOffset.FromUnixTimeSeconds((long)Quantity(result.GetProperty("timestamp"))),
            (long)Quantity(result.GetProperty("gasLimit")),
            (long)Quantity(result.GetProperty("gasUsed")),
            result.TryGetProperty("baseFeePerGas", out var baseFee) && baseFee.ValueKind == JsonValueKind.String ? Quantity(baseFee) : null,
            result.TryGetProperty("transactions", out var txs)
                ? txs.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String ? t.GetString()! : t.GetProperty("hash").GetString()!).ToList()
                : []);
    }

    public async Task<FeeHistory> GetFeeHistoryAsync(int blockCount, BlockTag newestBlock, IReadOnlyList<double> rewardPercentiles, CancellationToken ct)
    {
        var percentiles = new JsonArray(rewardPercentiles.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray());
        var result = await RequestAsync("eth_feeHistory", [Hex.EncodeQuantity(blockCount), newestBlock.Value, percentiles], ct).ConfigureAwait(false);
        var rewards = result.TryGetProperty("reward", out var reward) && reward.ValueKind == JsonValueKind.Array
            ? reward.EnumerateArray().Select(r => (IReadOnlyList<BigInteger>)r.EnumerateArray().Select(Quantity).ToList()).ToList()
            : [];
        return new FeeHistory(
            (long)Quantity(result.GetProperty("oldestBlock")),
            result.GetProperty("baseFeePerGas").EnumerateArray().Select(Quantity).ToList(),
            result.GetProperty("gasUsedRatio").EnumerateArray().Select(r => r.GetDouble()).ToList(),
            rewards);
    }

    public async Task<BigInteger> GetMaxPriorityFeePerGasAsync(CancellationToken ct) =>
        Quantity(await RequestAsync("eth_maxPriorityFeePerGas", [], ct).ConfigureAwait(false));

    public async Task<BigInteger> GetGasPriceAsync(CancellationToken ct) =>
        Quantity(await RequestAsync("eth_gasPrice", [], ct).ConfigureAwait(false));

    /// <summary>
    /// EIP-1559 fees as ethers computes them: maxFeePerGas = 2 × the next block's base fee + the priority fee;
    /// the priority fee from eth_maxPriorityFeePerGas, or eth_gasPrice minus the base fee where that method is missing.
    /// </summary>
    public async Task<Eip1559Fees> EstimateFeesAsync(CancellationToken ct)
    {
        var history = await GetFeeHistoryAsync(1, BlockTag.Latest, [], ct).ConfigureAwait(false);
        var baseFee = history.NextBaseFee;
        BigInteger priority;
        try
        {
            priority = await GetMaxPriorityFeePerGasAsync(ct).ConfigureAwait(false);
        }
        catch (JsonRpcException)
        {
            priority = BigInteger.Max(BigInteger.Zero, await GetGasPriceAsync(ct).ConfigureAwait(false) - baseFee);
        }
        return new Eip1559Fees(2 * baseFee + priority, priority);
    }

    /// <summary>
    /// Signs and sends an EIP-1559 transaction from <paramref name="from"/>: estimates gas first (so a revert throws
    /// <see cref="ContractRevertedException"/> and nothing is sent), takes the pending nonce, the chain id and the fees
    /// from the chain. <paramref name="to"/> null deploys <paramref name="data"/> as init code. Returns the transaction hash.
    /// Sends through one client are serialised so that they get consecutive nonces; other senders of the same key
    /// (another process) can still race for a nonce.
    /// </summary>
    public async Task<string> SendTransactionAsync(EthKey from, string? to, BigInteger value, byte[] data, CancellationToken ct, IReadOnlyList<AbiError>? knownErrors = null)
    {
        ArgumentNullException.ThrowIfNull(from);
        var estimate = await EstimateGasAsync(new CallRequest(to, data, from.Address, value), knownErrors, ct).ConfigureAwait(false);
        var gasLimit = estimate + estimate * GasLimitHeadroomPercent / 100;
        var chainId = await GetChainIdAsync(ct).ConfigureAwait(false);
        var fees = await EstimateFeesAsync(ct).ConfigureAwait(false);

        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var nonce = await GetTransactionCountAsync(from.Address, BlockTag.Pending, ct).ConfigureAwait(false);
            var transaction = new Eip1559Transaction(chainId, nonce, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit, to, value, data);
            var raw = transaction.Sign(from);
            return await SendRawTransactionAsync(raw, knownErrors, ct).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Polls for the receipt until it exists; <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task<TransactionReceipt> WaitForReceiptAsync(string transactionHash, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var delay = TimeSpan.FromMilliseconds(25);
        while (true)
        {
            var receipt = await GetTransactionReceiptAsync(transactionHash, ct).ConfigureAwait(false);
            if (receipt is not null) return receipt;
            var left = deadline - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"No receipt for transaction {transactionHash} after {timeout.TotalSeconds:0.#} s.");
            await Task.Delay(delay < left ? delay : left, ct).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
        }
    }

    /// <summary>
    /// Sends one JSON-RPC request and returns its result. <paramref name="parameters"/> are strings, numbers,
    /// booleans or <see cref="JsonNode"/>s. When <paramref name="knownErrors"/> is given, an error carrying
    /// revert data throws <see cref="ContractRevertedException"/>.
    /// </summary>
    public async Task<JsonElement> RequestAsync(string method, IReadOnlyList<object?> parameters, CancellationToken ct, IReadOnlyList<AbiError>? knownErrors = null)
    {
        var request = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = Interlocked.Increment(ref _nextId),
            ["method"] = method,
            ["params"] = new JsonArray(parameters.Select(ToNode).ToArray()),
        };
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(request.ToJsonString()));
        content.Headers.ContentType = JsonMediaType;

        string body;
        int status;
        try
        {
            using var response = await _http.PostAsync(RpcUrl, content, ct).ConfigureAwait(false);
            status = (int)response.StatusCode;
            body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ChainUnavailableException($"The chain at {SafeEndpoint} did not answer {method}: {e.Message}", e);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new ChainUnavailableException($"The chain at {SafeEndpoint} did not answer {method} in time.", e);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw NotJsonRpc(method, $"HTTP {status} with a body that is not JSON", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                throw RpcError(method, error, knownErrors);
            if (status is < 200 or >= 300) throw NotJsonRpc(method, $"HTTP {status}");
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("result", out var result))
                throw NotJsonRpc(method, "a JSON body without result or error");
            return result.Clone();
        }
    }

    private ChainUnavailableException NotJsonRpc(string method, string what, Exception? inner = null) =>
        inner is null
            ? new ChainUnavailableException($"The chain at {SafeEndpoint} answered {method} with {what}, not JSON-RPC.")
            : new ChainUnavailableException($"The chain at {SafeEndpoint} answered {method} with {what}, not JSON-RPC.", inner);

    private static Exception RpcError(string method, JsonElement error, IReadOnlyList<AbiError>? knownErrors)
    {
        var code = error.TryGetProperty("code", out var c) && c.TryGetInt32(out var n) ? n : 0;
        var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
        var data = error.TryGetProperty("data", out var d) ? d : default;
        var rpcException = new JsonRpcException(method, code, message, data.ValueKind == JsonValueKind.Undefined ? null : data.GetRawText());
        if (knownErrors is null) return rpcException;

        var revertData = RevertData(data);
        if (revertData is not null) return ContractRevertedException.FromRevertData(revertData, knownErrors, rpcException);
        if (message.Contains("reverted", StringComparison.OrdinalIgnoreCase))
            return ContractRevertedException.FromRevertData([], knownErrors, rpcException);
        return rpcException;
    }

    // geth and most nodes: "data": "0x..."; Hardhat: "data": { "message": ..., "data": "0x..." }.
    private static byte[]? RevertData(JsonElement data)
    {
        var hex = data.ValueKind switch
        {
            JsonValueKind.String => data.GetString(),
            JsonValueKind.Object when data.TryGetProperty("data", out var inner) && inner.ValueKind == JsonValueKind.String => inner.GetString(),
            _ => null,
        };
        if (hex is null || !hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) return null;
        try { return Hex.Decode(hex); }
        catch (FormatException) { return null; }
    }

    private static JsonObject CallObject(CallRequest call)
    {
        var json = new JsonObject();
        if (call.From is not null) json["from"] = EthAddress.Normalize(call.From);
        if (call.To is not null) json["to"] = EthAddress.Normalize(call.To);
        if (call.Gas is { } gas) json["gas"] = Hex.EncodeQuantity(gas);
        if (call.Value is { } value) json["value"] = Hex.EncodeQuantity(value);
        json["data"] = Hex.Encode(call.Data);
        return json;
    }

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode node => node,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double x => JsonValue.Create(x),
        _ => throw new ArgumentException($"Unsupported JSON-RPC parameter type {value.GetType().Name}."),
    };

    private static TransactionReceipt ParseReceipt(JsonElement r) => new(
        r.GetProperty("transactionHash").GetString()!,
        (long)Quantity(r.GetProperty("blockNumber")),
        r.GetProperty("blockHash").GetString()!,
        r.TryGetProperty("status", out var status) && Quantity(status) == BigInteger.One,
        (long)Quantity(r.GetProperty("gasUsed")),
        r.TryGetProperty("effectiveGasPrice", out var price) && price.ValueKind == JsonValueKind.String ? Quantity(price) : BigInteger.Zero,
        EthAddress.Normalize(r.GetProperty("from").GetString()!),
        OptionalAddress(r, "to"),
        OptionalAddress(r, "contractAddress"),
        r.GetProperty("logs").EnumerateArray().Select(ParseLog).ToList());

    private static LogEntry ParseLog(JsonElement l) => new(
        EthAddress.Normalize(l.GetProperty("address").GetString()!),
        l.GetProperty("topics").EnumerateArray().Select(t => t.GetString()!.ToLowerInvariant()).ToList(),
        Data(l.GetProperty("data")),
        (long)Quantity(l.GetProperty("blockNumber")),
        l.GetProperty("blockHash").GetString()!,
        l.GetProperty("transactionHash").GetString()!,
        (long)Quantity(l.GetProperty("logIndex")),
        l.TryGetProperty("removed", out var removed) && removed.ValueKind == JsonValueKind.True);

    private static string? OptionalAddress(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? EthAddress.Normalize(v.GetString()!) : null;

    private static BigInteger Quantity(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => Hex.DecodeQuantity(e.GetString()!),
        JsonValueKind.Number => BigInteger.Parse(e.GetRawText(), CultureInfo.InvariantCulture),
        _ => throw new FormatException($"Expected a quantity, got {e.ValueKind}."),
    };

    private static byte[] Data(JsonElement e) =>
        e.ValueKind == JsonValueKind.String ? Hex.Decode(e.GetString()!) : throw new FormatException($"Expected hex data, got {e.ValueKind}.");
}
