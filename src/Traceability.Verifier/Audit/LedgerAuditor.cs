using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nethereum.JsonRpc.Client;
using Nethereum.Web3;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Verifier.Audit;

public sealed record AuditOptions(Uri ApiUrl, string? ApiKey, ChainOptions Chain, int Concurrency = 8);

/// <summary>One mismatch: the anchor and, when it concerns one, the event (leaf) at fault.</summary>
public sealed record AuditFinding(ulong? Anchor, ulong? Event, string Check, string Reason)
{
    public override string ToString() =>
        (Anchor is { } a ? $"anchor {a}" : "ledger") + (Event is { } e ? $", event {e}" : "") + $": {Check}: {Reason}";
}

/// <summary>What an audit found. <see cref="Ok"/> when nothing was wrong and nothing stopped it.</summary>
public sealed class AuditReport
{
    public const int MaxFindingsKept = 100;

    private readonly List<AuditFinding> _findings = [];

    public int Anchors { get; internal set; }
    public int AnchorsOnChain { get; internal set; }
    public int PendingAnchors { get; internal set; }
    public ulong Events { get; internal set; }
    public long LeavesChecked { get; internal set; }
    public long EventsChecked { get; internal set; }
    public int Mismatches { get; private set; }
    public string? Contract { get; internal set; }
    public long? ChainId { get; internal set; }

    /// <summary>The first <see cref="MaxFindingsKept"/> mismatches, in ledger order.</summary>
    public IReadOnlyList<AuditFinding> Findings => _findings;

    /// <summary>Set when the audit could not go on (API or chain unreachable, contract missing).</summary>
    public string? Aborted { get; internal set; }

    public bool Ok => Mismatches == 0 && Aborted is null;

    internal void Add(AuditFinding finding)
    {
        Mismatches++;
        if (_findings.Count < MaxFindingsKept) _findings.Add(finding);
    }

    public string SummaryLine()
    {
        var counts = $"{Anchors} anchors ({AnchorsOnChain} on chain{(PendingAnchors > 0 ? $", {PendingAnchors} not yet" : "")}), "
                     + $"{Events} events, {LeavesChecked} leaves checked, {EventsChecked} events rehashed, {Mismatches} mismatches";
        var where = $"contract {Contract ?? "unknown"} on chain {(ChainId?.ToString(CultureInfo.InvariantCulture) ?? "unknown")}";
        if (Aborted is not null) return $"AUDIT FAILED: {Aborted} ({counts}; {where})";
        if (Mismatches > 0) return $"AUDIT FAILED: {Findings[0]} ({counts}; {where})";
        return $"AUDIT OK: {counts}; {where}";
    }

    public JsonObject ToJson() => new()
    {
        ["ok"] = Ok,
        ["aborted"] = Aborted,
        ["anchors"] = Anchors,
        ["anchorsOnChain"] = AnchorsOnChain,
        ["pendingAnchors"] = PendingAnchors,
        ["events"] = Events,
        ["leavesChecked"] = LeavesChecked,
        ["eventsChecked"] = EventsChecked,
        ["mismatches"] = Mismatches,
        ["contract"] = Contract,
        ["chainId"] = ChainId,
        ["findings"] = new JsonArray(Findings.Select(f => (JsonNode)new JsonObject
        {
            ["anchor"] = f.Anchor, ["event"] = f.Event, ["check"] = f.Check, ["reason"] = f.Reason,
        }).ToArray()),
    };
}

/// <summary>
/// Audits the whole ledger: every anchor the API lists, rebuilt from its leaves and compared with the chain; the
/// anchors' coverage of events 1..N; every event rehashed from its JSON and compared with its leaf. Trusts the chain
/// (and the contract address given), not the API. Keeps going after a mismatch, so that the report counts them all.
/// </summary>
public sealed class LedgerAuditor
{
    public const string Api = "api";
    public const string Coverage = "coverage";
    public const string Leaves = "leaves";
    public const string Event = "event";

    private readonly HttpClient _apiHttp;
    private readonly HttpClient _chainHttp;
    private readonly TextWriter? _progress;
    private long _eventsDone;

    /// <summary>One client for the API and the chain's JSON-RPC.</summary>
    public LedgerAuditor(HttpClient http, TextWriter? progress = null) : this(http, http, progress) { }

    /// <summary>
    /// Separate clients for the API and the chain: e.g. an in-process test server's client for the API, which would
    /// route every request, the node's too, to the test server.
    /// </summary>
    public LedgerAuditor(HttpClient apiHttp, HttpClient chainHttp, TextWriter? progress = null)
    {
        _apiHttp = apiHttp;
        _chainHttp = chainHttp;
        _progress = progress is null ? null : TextWriter.Synchronized(progress);
    }

    public async Task<AuditReport> AuditAsync(AuditOptions options, CancellationToken ct = default)
    {
        var report = new AuditReport();
        var api = new TraceApiClient(_apiHttp, options.ApiUrl, options.ApiKey);
        var rpc = new HttpRpcClient(_chainHttp, options.Chain.RpcUrl);
        try
        {
            await RunAsync(api, rpc, options, report, ct).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            report.Aborted = $"api: {e.Message}";
        }
        catch (ChainUnavailableException e)
        {
            report.Aborted = $"chain unreachable: {e.Message}";
        }
        catch (RpcResponseException e)
        {
            report.Aborted = $"the node at {rpc.SafeEndpoint} answered with an error: {e.Message}";
        }

        return report;
    }

    private async Task RunAsync(TraceApiClient api, HttpRpcClient rpc, AuditOptions options, AuditReport report, CancellationToken ct)
    {
        var web3 = new Web3(rpc);
        report.ChainId = (long)(await web3.Eth.ChainId.SendRequestAsync().WaitAsync(ct).ConfigureAwait(false)).Value;
        var anchors = (await api.GetAllAnchorsAsync(ct).ConfigureAwait(false)).OrderBy(a => a.Sequence).ToList();
        report.Anchors = anchors.Count;

        var contract = options.Chain.Contract;
        if (contract is null)
        {
            // Without --contract, the API names the contract: printed, so that the auditor can compare it with the deployment record.
            var chain = await api.GetChainAsync(ct).ConfigureAwait(false);
            contract = chain["contract"]?.GetValueKind() == JsonValueKind.String ? (string?)chain["contract"] : anchors.FirstOrDefault()?.Contract;
            Progress($"no --contract given: auditing the contract the API names, {contract}");
        }

        if (contract is null) { report.Aborted = "contract: no --contract given and the API names none"; return; }
        try { contract = EthAddress.Normalize(contract); }
        catch (Exception e) when (e is FormatException or ArgumentException) { report.Aborted = $"contract: '{contract}' is not an address"; return; }
        report.Contract = contract;

        if (await web3.Eth.GetCode.SendRequestAsync(contract).WaitAsync(ct).ConfigureAwait(false) is null or "" or "0x")
        {
            report.Aborted = $"contract: no contract at {contract} on chain {report.ChainId}";
            return;
        }

        var registry = new AnchorRegistryClient(rpc, contract);
        var chainCount = (ulong)await registry.AnchorCountAsync(ct).ConfigureAwait(false);

        ulong expectedSequence = 1, nextEvent = 1;
        var pendingSeen = false;
        foreach (var anchor in anchors)
        {
            ct.ThrowIfCancellationRequested();
            if (anchor.Sequence != expectedSequence)
            {
                report.Add(new AuditFinding(anchor.Sequence, null, Coverage,
                    anchor.Sequence < expectedSequence ? $"anchor {anchor.Sequence} is listed twice" : $"anchors {expectedSequence}..{anchor.Sequence - 1} are missing from the API's list"));
            }
            expectedSequence = anchor.Sequence + 1;

            if (anchor.FirstEventSequence != nextEvent)
            {
                report.Add(new AuditFinding(anchor.Sequence, null, Coverage, anchor.FirstEventSequence > nextEvent
                    ? $"events {nextEvent}..{anchor.FirstEventSequence - 1} are in no anchor (gap)"
                    : $"anchor starts at event {anchor.FirstEventSequence}, but events up to {nextEvent - 1} are in earlier anchors (overlap)"));
            }
            if (anchor.LastEventSequence < anchor.FirstEventSequence || anchor.Count != anchor.LastEventSequence - anchor.FirstEventSequence + 1)
            {
                report.Add(new AuditFinding(anchor.Sequence, null, Coverage,
                    $"count {anchor.Count} does not match the range {anchor.FirstEventSequence}..{anchor.LastEventSequence}"));
            }
            nextEvent = Math.Max(nextEvent, anchor.LastEventSequence + 1);
            if (anchor.Contract is not null && !string.Equals(anchor.Contract, contract, StringComparison.OrdinalIgnoreCase))
            {
                report.Add(new AuditFinding(anchor.Sequence, null, Checks.Contract,
                    $"the API lists anchor {anchor.Sequence} on contract {anchor.Contract}, the audit reads {contract}"));
            }

            var onChain = await registry.GetAnchorAsync(anchor.Sequence, ct).ConfigureAwait(false);
            if (onChain is null)
            {
                if (anchor.Status == "confirmed")
                    report.Add(new AuditFinding(anchor.Sequence, null, Checks.AnchorOnChain, $"the API says confirmed, but the contract has no anchor {anchor.Sequence}"));
                else
                    report.PendingAnchors++;
                pendingSeen = true;
                continue;
            }

            if (pendingSeen)
                report.Add(new AuditFinding(anchor.Sequence, null, Coverage, "this anchor is on chain, but an earlier one is not"));
            report.AnchorsOnChain++;
            if (onChain.FirstEventSequence != anchor.FirstEventSequence || onChain.LastEventSequence != anchor.LastEventSequence)
            {
                report.Add(new AuditFinding(anchor.Sequence, null, Checks.Range,
                    $"the chain's range is {onChain.FirstEventSequence}..{onChain.LastEventSequence}, the API's {anchor.FirstEventSequence}..{anchor.LastEventSequence}"));
            }

            await AuditAnchorAsync(api, anchor, onChain, options.Concurrency, report, ct).ConfigureAwait(false);
            Progress($"anchor {anchor.Sequence}/{anchors.Count} (events {anchor.FirstEventSequence}..{anchor.LastEventSequence}): "
                     + $"{report.EventsChecked} events rehashed, {report.Mismatches} mismatches so far");
        }

        report.Events = nextEvent - 1;
        if (chainCount != (ulong)report.AnchorsOnChain)
        {
            report.Add(new AuditFinding(null, null, Coverage,
                $"the contract holds {chainCount} anchors, the API lists {report.AnchorsOnChain} of them as on chain ({anchors.Count} in all)"));
        }
    }

    private async Task AuditAnchorAsync(TraceApiClient api, ApiAnchor anchor, AnchorRecord onChain, int concurrency, AuditReport report, CancellationToken ct)
    {
        var leavesJson = await api.GetLeavesAsync(anchor.Sequence, ct).ConfigureAwait(false);
        var leaves = ReadLeaves(leavesJson, out var problem);
        if (leaves is null)
        {
            report.Add(new AuditFinding(anchor.Sequence, null, Leaves, problem!));
            return;
        }

        if ((ulong)leaves.Count != anchor.LastEventSequence - anchor.FirstEventSequence + 1)
        {
            // Name the first bad leaf: the first position whose event is not the next one of the range.
            var at = 0;
            while (at < leaves.Count && leaves[at].Sequence == anchor.FirstEventSequence + (ulong)at) at++;
            var firstBad = anchor.FirstEventSequence + (ulong)at;
            report.Add(new AuditFinding(anchor.Sequence, firstBad <= anchor.LastEventSequence ? firstBad : null, Leaves,
                $"{leaves.Count} leaves for the events {anchor.FirstEventSequence}..{anchor.LastEventSequence}"
                + (firstBad <= anchor.LastEventSequence ? $"; event {firstBad} is the first without its leaf" : "")));
        }
        for (var i = 0; i < leaves.Count; i++)
        {
            if (leaves[i].Sequence != anchor.FirstEventSequence + (ulong)i)
            {
                report.Add(new AuditFinding(anchor.Sequence, leaves[i].Sequence, Leaves,
                    $"leaf {i} is event {leaves[i].Sequence}, expected event {anchor.FirstEventSequence + (ulong)i} (leaves must be the range in order)"));
                break;
            }
        }

        if (leaves.Count == 0)
        {
            report.Add(new AuditFinding(anchor.Sequence, null, Leaves, "the anchor has no leaves"));
            return;
        }

        byte[] rebuilt;
        try { rebuilt = StandardMerkleTree.Build(leaves).Root; }
        catch (ArgumentException e)
        {
            report.Add(new AuditFinding(anchor.Sequence, null, Leaves, $"no tree can be built from the leaves: {e.Message}"));
            return;
        }

        report.LeavesChecked += leaves.Count;
        if (!rebuilt.AsSpan().SequenceEqual(onChain.Root))
        {
            report.Add(new AuditFinding(anchor.Sequence, null, Checks.Root,
                $"the leaves rebuild to root {Hex.Encode(rebuilt)}, the chain holds {Hex.Encode(onChain.Root)}"));
        }
        if (!string.Equals(anchor.Root, Hex.Encode(onChain.Root), StringComparison.OrdinalIgnoreCase))
        {
            report.Add(new AuditFinding(anchor.Sequence, null, Checks.Root, $"the API lists root {anchor.Root ?? "none"}, the chain holds {Hex.Encode(onChain.Root)}"));
        }

        var problems = new string?[leaves.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, leaves.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, concurrency), CancellationToken = ct },
            async (i, token) =>
            {
                problems[i] = CheckEvent(await api.GetEventAsync(leaves[i].Sequence, token).ConfigureAwait(false), leaves[i]);
                var done = Interlocked.Increment(ref _eventsDone);
                if (done % 1000 == 0) Progress($"{done} events rehashed");
            }).ConfigureAwait(false);

        report.EventsChecked += leaves.Count;
        for (var i = 0; i < leaves.Count; i++)
            if (problems[i] is { } p) report.Add(new AuditFinding(anchor.Sequence, leaves[i].Sequence, Event, p));
    }

    /// <summary>Recomputes the event's hash from its JSON; null when it matches the record and the leaf.</summary>
    private static string? CheckEvent(JsonObject record, MerkleLeaf leaf)
    {
        if (record["sequence"] is not JsonValue s || !s.TryGetValue<ulong>(out var sequence) || sequence != leaf.Sequence)
            return $"the API's event record has sequence {record["sequence"]?.ToJsonString() ?? "none"}, not {leaf.Sequence}";
        if (record["event"] is not JsonObject ev) return "the API's event record has no 'event' object";

        string computed;
        try { computed = EventHash.Compute(EpcisParser.ParseEventJson(ev.ToJsonString())); }
        catch (Exception e) when (e is EpcisFormatException or FormatException or ArgumentException or InvalidOperationException)
        {
            return $"the event cannot be hashed: {e.Message}";
        }

        var stated = record["eventHash"]?.GetValueKind() == JsonValueKind.String ? (string?)record["eventHash"] : null;
        if (!string.Equals(computed, stated, StringComparison.Ordinal))
            return $"the event hashes to {computed}, the API says {stated ?? "nothing"}";
        if (!EventHash.Digest(computed).AsSpan().SequenceEqual(leaf.Digest))
            return $"the event hashes to {computed}, but its leaf holds digest {Hex.Encode(leaf.Digest)}";
        return null;
    }

    internal static List<MerkleLeaf>? ReadLeaves(JsonObject json, out string? problem)
    {
        problem = null;
        if (json["encoding"] is not JsonArray enc || enc.Count != 2 || (string?)enc[0] != "uint256" || (string?)enc[1] != "bytes32")
        {
            problem = "the leaves' encoding is not [\"uint256\",\"bytes32\"]";
            return null;
        }
        if (json["values"] is not JsonArray values) { problem = "the answer has no 'values' array"; return null; }

        var leaves = new List<MerkleLeaf>(values.Count);
        foreach (var value in values)
        {
            if (value is JsonArray { Count: 2 } pair
                && pair[0] is JsonValue sv && sv.TryGetValue<string>(out var seqText)
                && ulong.TryParse(seqText, NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
                && pair[1] is JsonValue dv && dv.TryGetValue<string>(out var digestText)
                && digestText.Length == 66 && digestText.StartsWith("0x", StringComparison.Ordinal))
            {
                try
                {
                    leaves.Add(new MerkleLeaf(seq, Convert.FromHexString(digestText.AsSpan(2))));
                    continue;
                }
                catch (FormatException) { /* reported below */ }
            }
            problem = $"leaf {leaves.Count} is not [\"<sequence>\", \"0x<32-byte digest>\"]: {value?.ToJsonString()}";
            return null;
        }
        return leaves;
    }

    private void Progress(string line) => _progress?.WriteLine(line);
}
