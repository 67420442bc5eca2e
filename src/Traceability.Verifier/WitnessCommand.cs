using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nethereum.JsonRpc.Client;
using Nethereum.Signer;
using Traceability.Chain;
using Traceability.Chain.ContractDefinition;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;
using Traceability.Verifier.Audit;

namespace Traceability.Verifier;

/// <summary>The witness's arguments: <c>witness --api URL --api-key KEY --rpc URL --key HEX [--contract ADDRESS] [--once] [--interval SECONDS]</c>.</summary>
public sealed record WitnessOptions(Uri Api, string? ApiKey, Uri Rpc, string Key, string? Contract, bool Once, TimeSpan Interval)
{
    public const string Usage = """
        usage: trace-verify witness --api URL --api-key KEY --rpc URL --key HEX [--contract ADDRESS] [--once] [--interval SECONDS]

        Witnesses every anchor this key has not cosigned yet: reads the anchor from the chain, checks that its events follow
        the previous anchor's, downloads its leaves from the API, rebuilds the Merkle root and, only when it equals the
        chain's, calls cosign(sequence, root) with this key (which must be a witness of the contract). Without --once it
        polls every --interval seconds (default 15) until stopped. --api-key defaults to $TRACE_API_KEY, --key to
        $TRACE_WITNESS_KEY, --rpc to $TRACE_CHAIN_RPC, --contract to the contract the API names.
        Exit status: 0 done (or stopped), 1 an anchor was refused (named with its leaf) or the witness could not work, 2 usage error.
        """;

    public static WitnessOptions Parse(IReadOnlyList<string> args)
    {
        string? api = null, apiKey = null, rpc = null, key = null, contract = null, interval = null;
        var once = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inline = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is var eq and > 0) { inline = arg[(eq + 1)..]; arg = arg[..eq]; }
            string Value() => inline ?? (i + 1 < args.Count ? args[++i] : throw new UsageException($"{arg} needs a value"));
            switch (arg)
            {
                case "--api": api = Value(); break;
                case "--api-key": apiKey = Value(); break;
                case "--rpc": rpc = Value(); break;
                case "--key": key = Value(); break;
                case "--contract": contract = Value(); break;
                case "--interval": interval = Value(); break;
                case "--once": once = true; break;
                default: throw new UsageException($"witness: unknown argument {arg}");
            }
        }

        apiKey ??= NonEmpty(Environment.GetEnvironmentVariable("TRACE_API_KEY"));
        key ??= NonEmpty(Environment.GetEnvironmentVariable("TRACE_WITNESS_KEY"));
        if (api is null || !Uri.TryCreate(api, UriKind.Absolute, out var apiUrl) || apiUrl.Scheme is not ("http" or "https"))
            throw new UsageException("witness needs --api URL (http or https)");
        var rpcUrl = ChainOptions.ResolveRpcUrl(rpc);
        if (rpcUrl.Scheme is not ("http" or "https")) throw new UsageException($"--rpc {rpc} is not an http(s) URL");
        if (key is null) throw new UsageException("witness needs --key HEX (or $TRACE_WITNESS_KEY): the witness's private key");
        var digits = key.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? key[2..] : key;
        if (digits.Length != 64 || !digits.All(char.IsAsciiHexDigit)) throw new UsageException("--key is not a private key (64 hex digits)");
        if (contract is not null)
        {
            try { contract = EthAddress.Normalize(contract); }
            catch (Exception e) when (e is FormatException or ArgumentException) { throw new UsageException($"--contract {contract} is not an address"); }
        }
        var seconds = 15;
        if (interval is not null && (!int.TryParse(interval, NumberStyles.None, CultureInfo.InvariantCulture, out seconds) || seconds is < 1 or > 86_400))
            throw new UsageException("--interval takes a number of seconds from 1 to 86400");
        return new WitnessOptions(apiUrl, apiKey, rpcUrl, key, contract, once, TimeSpan.FromSeconds(seconds));
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}

/// <summary>Why a witness did not cosign an anchor: the anchor and, when one is at fault, the leaf (its index and event).</summary>
public sealed record WitnessRefusal(ulong Anchor, int? LeafIndex, ulong? Event, string Reason)
{
    public override string ToString() =>
        $"anchor {Anchor}" + (LeafIndex is { } i ? $", leaf {i}" + (Event is { } e ? $" (event {e})" : "") : "") + $": {Reason}; not cosigned";
}

/// <summary>
/// <c>trace-verify witness</c>: a member's witness. Trusts the chain for what was anchored and the API for nothing: the
/// leaves must be exactly the anchor's event range, in order, and rebuild the root the chain holds. Then it cosigns with
/// the root it computed, so the contract itself refuses a root that differs (RootMismatch).
/// </summary>
public sealed class WitnessCommand(HttpClient apiHttp, HttpClient chainHttp, TextWriter output)
{
    private const int LocateConcurrency = 8;
    private static readonly TimeSpan ReceiptTimeout = TimeSpan.FromMinutes(2);

    private ulong _next = 1; // anchors below this one are cosigned by this key (checked on chain)

    public async Task<int> RunAsync(WitnessOptions options, CancellationToken ct)
    {
        var api = new TraceApiClient(apiHttp, options.Api, options.ApiKey);
        var rpc = new HttpRpcClient(chainHttp, options.Rpc);
        var key = new EthECKey(options.Key);
        var me = EthAddress.Normalize(key.GetPublicAddress());
        AnchorRegistryClient registry;
        try
        {
            var contract = options.Contract ?? await ContractFromApiAsync(api, ct);
            registry = new AnchorRegistryClient(rpc, contract, key);
            if (!await registry.IsWitnessAsync(me, ct))
            {
                output.WriteLine($"WITNESS FAILED: {me} is not a witness of {contract} (the admin adds it with POST /api/v1/consortium/witnesses)");
                return 1;
            }
            output.WriteLine($"witness {me} on contract {contract} ({rpc.SafeEndpoint}), API {options.Api.GetLeftPart(UriPartial.Authority)}");
        }
        catch (Exception e) when (IsTransient(e))
        {
            output.WriteLine($"WITNESS FAILED: {Describe(e)}");
            return 1;
        }

        int cosigned = 0, already = 0;
        while (true)
        {
            try
            {
                var refusal = await PassAsync(api, registry, me, ct, () => cosigned++, () => already++);
                if (refusal is not null)
                {
                    output.WriteLine($"WITNESS REFUSED: {refusal}");
                    return 1;
                }
                if (options.Once)
                {
                    output.WriteLine($"WITNESS OK: {cosigned} anchors cosigned now, {already} cosigned before, by {me} on {registry.ContractAddress}");
                    return 0;
                }
            }
            catch (Exception e) when (IsTransient(e))
            {
                output.WriteLine($"{(options.Once ? "WITNESS FAILED" : "witness: will retry")}: {Describe(e)}");
                if (options.Once) return 1;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return 0;
            }

            try { await Task.Delay(options.Interval, ct); }
            catch (OperationCanceledException) { return 0; }
        }
    }

    /// <summary>Checks and cosigns each anchor from the first this key has not cosigned; the first refusal stops the pass.</summary>
    private async Task<WitnessRefusal?> PassAsync(TraceApiClient api, AnchorRegistryClient registry, string me, CancellationToken ct, Action onCosigned, Action onAlready)
    {
        var count = (ulong)await registry.AnchorCountAsync(ct);
        for (var sequence = _next; sequence <= count; sequence++)
        {
            if (await registry.HasCosignedAsync(sequence, me, ct)) { _next = sequence + 1; continue; }

            var (root, refusal) = await CheckAnchorAsync(api, registry, sequence, ct);
            if (refusal is not null) return refusal;
            try
            {
                var tx = await registry.CosignAsync(sequence, root!, ct);
                var receipt = await registry.WaitForReceiptAsync(tx, ReceiptTimeout, ct);
                if (!receipt.Succeeded) return new WitnessRefusal(sequence, null, null, $"the cosign transaction {tx} reverted");
                output.WriteLine($"COSIGNED anchor {sequence} (root {Hex.Encode(root!)}) in transaction {tx}, block {receipt.BlockNumber}, gas {receipt.GasUsed}");
                onCosigned();
            }
            catch (ContractRevertedException e) when (e.ErrorName == AnchorRegistryErrors.NameOf<AlreadyCosignedError>())
            {
                onAlready(); // another process with this key got there first
            }
            catch (ContractRevertedException e)
            {
                return new WitnessRefusal(sequence, null, null, $"the contract refused the cosignature: {e.Message}");
            }
            _next = sequence + 1;
        }
        return null;
    }

    /// <summary>The root rebuilt from the API's leaves when it is the chain's, else why not.</summary>
    private async Task<(byte[]? Root, WitnessRefusal? Refusal)> CheckAnchorAsync(TraceApiClient api, AnchorRegistryClient registry, ulong sequence, CancellationToken ct)
    {
        var anchor = await registry.GetAnchorAsync(sequence, ct) ?? throw new InvalidOperationException($"anchor {sequence} vanished from the contract");
        var (first, last) = ((ulong)anchor.FirstEventSequence, (ulong)anchor.LastEventSequence);
        var expectedFirst = sequence == 1 ? 1UL : (ulong)((await registry.GetAnchorAsync(sequence - 1, ct))?.LastEventSequence ?? 0) + 1;
        if (first != expectedFirst || last < first)
            return (null, new WitnessRefusal(sequence, null, null,
                $"its events {first}..{last} do not follow anchor {sequence - 1}'s (the next event is {expectedFirst})"));

        JsonObject json;
        try { json = await api.GetLeavesAsync(sequence, ct); }
        catch (ApiException e) when (e.Status is not null)
        {
            return (null, new WitnessRefusal(sequence, null, null, $"its leaves cannot be read: {e.Message}"));
        }

        var leaves = LedgerAuditor.ReadLeaves(json, out var problem);
        if (leaves is null) return (null, new WitnessRefusal(sequence, LeafIndexOf(problem), null, $"the API's leaves are malformed: {problem}"));
        for (var i = 0; i < leaves.Count; i++)
        {
            if (leaves[i].Sequence != first + (ulong)i)
                return (null, new WitnessRefusal(sequence, i, leaves[i].Sequence,
                    $"the leaf is event {leaves[i].Sequence}, but the anchor's leaf {i} must be event {first + (ulong)i} (the chain says events {first}..{last})"));
        }
        var expected = last - first + 1;
        if ((ulong)leaves.Count != expected)
        {
            var missing = first + (ulong)leaves.Count;
            return (null, new WitnessRefusal(sequence, leaves.Count, missing <= last ? missing : null,
                $"the API gave {leaves.Count} leaves for the {expected} events {first}..{last}"));
        }

        var root = StandardMerkleTree.Build(leaves).Root;
        if (root.AsSpan().SequenceEqual(anchor.Root)) return (root, null);
        return (null, await LocateAsync(api, sequence, leaves, root, anchor.Root, ct));
    }

    /// <summary>
    /// The leaves rebuild another root: find the leaf at fault by comparing each with the event the API serves under its
    /// sequence (its stated hash and, when shown in full, the hash recomputed from its JSON). Events this member may not
    /// see cannot be compared; the refusal then names the anchor only.
    /// </summary>
    private static async Task<WitnessRefusal> LocateAsync(TraceApiClient api, ulong sequence, List<MerkleLeaf> leaves, byte[] rebuilt, byte[] onChain, CancellationToken ct)
    {
        var roots = $"the leaves rebuild root {Hex.Encode(rebuilt)}, the chain holds {Hex.Encode(onChain)}";
        var faults = new string?[leaves.Count];
        var hidden = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, leaves.Count), new ParallelOptions { MaxDegreeOfParallelism = LocateConcurrency, CancellationToken = ct },
            async (i, token) =>
            {
                try { faults[i] = Compare(await api.GetEventAsync(leaves[i].Sequence, token), leaves[i]); }
                catch (ApiException e) when (e.Status is not null) { Interlocked.Increment(ref hidden); }
            });
        var at = Array.FindIndex(faults, f => f is not null);
        return at >= 0
            ? new WitnessRefusal(sequence, at, leaves[at].Sequence, $"{faults[at]}; {roots}")
            : new WitnessRefusal(sequence, null, null, $"{roots}; no single leaf could be singled out ({hidden} of its {leaves.Count} events are not shown to this member)");
    }

    private static string? Compare(JsonObject record, MerkleLeaf leaf)
    {
        var stated = record["eventHash"]?.GetValueKind() == JsonValueKind.String ? (string?)record["eventHash"] : null;
        if (stated is null) return null;
        byte[] digest;
        try { digest = EventHash.Digest(stated); }
        catch (FormatException) { return $"the API's event {leaf.Sequence} has no valid hash ({stated})"; }
        if (!digest.AsSpan().SequenceEqual(leaf.Digest))
            return $"the leaf's digest is {Hex.Encode(leaf.Digest)}, but event {leaf.Sequence}'s hash is {stated}";
        if ((string?)record["view"] == "full" && record["event"] is JsonObject ev)
        {
            try
            {
                var computed = EventHash.Compute(EpcisParser.ParseEventJson(ev.ToJsonString()));
                if (computed != stated) return $"event {leaf.Sequence} hashes to {computed}, the API says {stated}";
            }
            catch (Exception e) when (e is EpcisFormatException or FormatException or ArgumentException or InvalidOperationException)
            {
                return $"event {leaf.Sequence} cannot be hashed: {e.Message}";
            }
        }
        return null;
    }

    private static int? LeafIndexOf(string? problem) =>
        problem is not null && problem.StartsWith("leaf ", StringComparison.Ordinal)
        && int.TryParse(problem.AsSpan(5, problem.IndexOf(' ', 5) - 5), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : null;

    private static async Task<string> ContractFromApiAsync(TraceApiClient api, CancellationToken ct)
    {
        var chain = await api.GetChainAsync(ct);
        var named = chain["contract"]?.GetValueKind() == JsonValueKind.String ? (string?)chain["contract"] : null;
        return named is null ? throw new ApiException("GET /api/v1/chain names no contract; give --contract") : EthAddress.Normalize(named);
    }

    private static bool IsTransient(Exception e) => e is ApiException or ChainUnavailableException or RpcResponseException or TimeoutException or InvalidOperationException;

    private static string Describe(Exception e) => e switch
    {
        ChainUnavailableException => $"chain unreachable: {e.Message}",
        RpcResponseException => $"the node answered with an error: {e.Message}",
        _ => e.Message,
    };
}
