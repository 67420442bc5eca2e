using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Observability;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Api.Features.Audit;

/// <summary>
/// The self-audit: the checks of <c>trace-verify --audit</c>, from inside, trusting neither the
/// events' stored hashes nor the stored anchors. Run by <see cref="Infrastructure.Jobs.AuditJob"/> and by
/// <c>POST /api/v1/audit/run</c>.
/// <list type="bullet">
/// <item>Every event is read in sequence order (streamed, per anchor) and rehashed from its JSON in parallel; the hash
/// is compared with the stored <c>event_hash</c>, and a sequence with no row is reported as missing.</item>
/// <item>Each anchor's root is rebuilt from the <i>recomputed</i> hashes and compared with <c>getAnchor</c> on the
/// chain (root and range), as is the stored anchor's root, range and contract.</item>
/// <item>Anchors must be numbered 1..N and cover the events with no gap or overlap; the chain's anchorCount must
/// match.</item>
/// </list>
/// Each run is recorded in <c>audit_runs</c> and its findings in <c>audit_findings</c> (the first
/// <see cref="MaxFindingsStored"/>; beyond that, whole anchors are marked instead of single events, so the trust
/// status stays conservative). Each finding raises a <c>tamper</c> alert, deduplicated per kind, anchor and event so
/// that re-runs finding the same mismatch do not raise it again.
/// </summary>
public sealed partial class AuditLedger(IServiceScopeFactory scopes, ChainConnection chain, TimeProvider time, TraceMetrics metrics, ILogger<AuditLedger> log)
{
    public const int MaxFindingsStored = 10_000;
    public const int MaxAlertsPerRun = 1_000;
    public const string TriggerSchedule = "schedule";
    public const string TriggerApi = "api";

    private const int Chunk = 4096;
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>A run and the findings stored for it.</summary>
    public sealed record RunResult(AuditRun Run, IReadOnlyList<AuditFinding> Findings);

    /// <summary>Audits the whole ledger now (waiting for a run already under way to finish first).</summary>
    public async Task<RunResult> RunAsync(string trigger, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
            var run = new AuditRun { StartedAt = time.GetUtcNow(), Status = AuditRunStatus.Running, Trigger = trigger };
            db.AuditRuns.Add(run);
            await db.SaveChangesAsync(ct);
            log.LogInformation("Audit run {Run} started ({Trigger})", run.Id, trigger);

            var findings = new Findings(run.Id);
            Exception? failure = null;
            try
            {
                await AuditAsync(db, run, findings, ct);
            }
            catch (Exception e)
            {
                failure = e;
            }

            var stored = findings.ToStore();
            run.Mismatches = findings.Total;
            run.FinishedAt = time.GetUtcNow();
            run.Status = failure is not null ? AuditRunStatus.Error : findings.Total == 0 ? AuditRunStatus.Ok : AuditRunStatus.Failed;
            run.Summary = Summary(run, stored, failure);
            db.AuditFindings.AddRange(stored);
            await db.SaveChangesAsync(CancellationToken.None);
            metrics.AuditFindings(findings.Total);
            await RaiseAlertsAsync(db, run, stored, findings.Total, CancellationToken.None);
            if (failure is null) await RaiseLateAnchorAlertsAsync(scope.ServiceProvider, run);

            if (run.Status == AuditRunStatus.Ok) log.LogInformation("Audit run {Run}: {Summary}", run.Id, run.Summary);
            else if (run.Status == AuditRunStatus.Failed) log.LogCritical("Audit run {Run}: {Summary}", run.Id, run.Summary);
            else log.LogError(failure, "Audit run {Run}: {Summary}", run.Id, run.Summary);

            if (failure is OperationCanceledException && ct.IsCancellationRequested) throw failure;
            return new RunResult(run, stored);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The receipts whose anchoring deadline passed before their anchor (Consortium/LateAnchors): late-anchor alerts, not findings.</summary>
    private async Task RaiseLateAnchorAlertsAsync(IServiceProvider services, AuditRun run)
    {
        try { await services.GetRequiredService<Consortium.LateAnchors>().RaiseAsync(CancellationToken.None); }
        catch (Exception e) when (e is ChainUnavailableException or Nethereum.JsonRpc.Client.RpcResponseException or ContractRevertedException or InvalidOperationException)
        {
            log.LogError(e, "Audit run {Run}: the receipts' deadlines could not be checked", run.Id);
        }
    }

    private async Task AuditAsync(TraceDbContext db, AuditRun run, Findings findings, CancellationToken ct)
    {
        var registry = chain.Registry ?? throw new InvalidOperationException(
            chain.RpcUrl is null ? "no chain configured (TRACE_CHAIN_RPC)" : "no AnchorRegistry address (TRACE_CONTRACT)");
        var chainId = await chain.GetChainIdAsync(ct);
        var chainCount = (long)await registry.AnchorCountAsync(ct);
        var anchors = await db.Anchors.AsNoTracking().OrderBy(a => a.Sequence).ToListAsync(ct);
        run.Anchors = anchors.Count;
        run.Events = await db.Events.MaxAsync(e => (long?)e.Sequence, ct) ?? 0;

        var conn = await Sql.OpenAsync(db, ct);
        var progress = new Progress(run, anchors.Count, log);

        long expectedAnchor = 1, nextEvent = 1;
        foreach (var anchor in anchors)
        {
            ct.ThrowIfCancellationRequested();
            progress.Anchor = anchor.Sequence;
            var range = (First: anchor.FirstEventSequence, Last: anchor.LastEventSequence);
            if (anchor.Sequence != expectedAnchor)
                findings.Add(anchor.Sequence, null, AuditKinds.Coverage, anchor.Sequence < expectedAnchor
                    ? $"anchor {anchor.Sequence} is recorded twice"
                    : $"anchors {expectedAnchor}..{anchor.Sequence - 1} are missing from the database");
            expectedAnchor = anchor.Sequence + 1;

            if (anchor.FirstEventSequence > nextEvent)
            {
                findings.Add(anchor.Sequence, null, AuditKinds.Coverage, $"events {nextEvent}..{anchor.FirstEventSequence - 1} are in no anchor (gap)");
                await ScanAsync(conn, nextEvent, anchor.FirstEventSequence - 1, null, findings, progress, ct);
            }
            else if (anchor.FirstEventSequence < nextEvent)
            {
                findings.Add(anchor.Sequence, null, AuditKinds.Coverage,
                    $"anchor {anchor.Sequence} starts at event {anchor.FirstEventSequence}, but events up to {nextEvent - 1} are in earlier anchors (overlap)", range);
            }
            if (anchor.LastEventSequence < anchor.FirstEventSequence)
            {
                findings.Add(anchor.Sequence, null, AuditKinds.Coverage, $"anchor {anchor.Sequence} has the empty range {anchor.FirstEventSequence}..{anchor.LastEventSequence}");
                continue;
            }
            nextEvent = Math.Max(nextEvent, anchor.LastEventSequence + 1);

            if (!string.Equals(anchor.Contract, registry.ContractAddress, StringComparison.OrdinalIgnoreCase) || anchor.ChainId != chainId)
                findings.Add(anchor.Sequence, null, AuditKinds.Contract,
                    $"anchor {anchor.Sequence} is recorded on contract {anchor.Contract} on chain {anchor.ChainId}; the service anchors to {registry.ContractAddress} on chain {chainId}", range);

            var onChain = await registry.GetAnchorAsync(anchor.Sequence, ct);
            byte[] reference;
            string referenceName;
            if (onChain is null)
            {
                if (anchor.Status == AnchorStatus.Confirmed)
                    findings.Add(anchor.Sequence, null, AuditKinds.AnchorOnChain, $"anchor {anchor.Sequence} is recorded as confirmed, but the contract does not hold it", range);
                reference = Bytes(anchor.Root);
                referenceName = "the database's root (not on chain yet)";
            }
            else
            {
                run.AnchorsOnChain++;
                reference = onChain.Root;
                referenceName = "the chain holds";
                var taint = (First: Math.Min(range.First, (long)onChain.FirstEventSequence), Last: Math.Max(range.Last, (long)onChain.LastEventSequence));
                if (onChain.FirstEventSequence != anchor.FirstEventSequence || onChain.LastEventSequence != anchor.LastEventSequence)
                    findings.Add(anchor.Sequence, null, AuditKinds.Range,
                        $"the chain's range is {onChain.FirstEventSequence}..{onChain.LastEventSequence}, the database's {anchor.FirstEventSequence}..{anchor.LastEventSequence}", taint);
                if (!Bytes(anchor.Root).AsSpan().SequenceEqual(onChain.Root))
                    findings.Add(anchor.Sequence, null, AuditKinds.Root, $"the database holds root {anchor.Root}, the chain holds {Hex.Encode(onChain.Root)}", taint);
            }

            var scan = await ScanAsync(conn, range.First, range.Last, anchor.Sequence, findings, progress, ct);
            CompareRoot(anchor, range, scan, reference, referenceName, findings);
        }

        if (run.Events >= nextEvent) await ScanAsync(conn, nextEvent, run.Events, null, findings, progress, ct);
        await AuditSignaturesAsync(conn, run.Events, findings, ct);
        if (chainCount != run.AnchorsOnChain)
            findings.Add(null, null, AuditKinds.Coverage,
                $"the contract holds {chainCount} anchors, the database {run.AnchorsOnChain} of them ({anchors.Count} anchors in all)");
        run.EventsChecked = progress.Checked;
    }

    /// <summary>
    /// The root rebuilt from the recomputed hashes must be the reference (the chain's root). When it is not, and the
    /// only faults are events whose JSON no longer hashes to their stored hash, the root is rebuilt once more from the
    /// stored hashes: if that one matches, the anchored leaves are intact and only those events are untrusted (the
    /// finding names the first bad leaf); otherwise the whole anchor is.
    /// </summary>
    private static void CompareRoot(Anchor anchor, (long First, long Last) range, Scan scan, byte[] reference, string referenceName, Findings findings)
    {
        if (scan.Leaves.Count == 0)
        {
            findings.Add(anchor.Sequence, null, AuditKinds.Root, $"anchor {anchor.Sequence} has no events left to rebuild its root from", range);
            return;
        }
        var rebuilt = StandardMerkleTree.Build(scan.Leaves).Root;
        if (rebuilt.AsSpan().SequenceEqual(reference)) return;

        var detail = $"the events rebuild to root {Hex.Encode(rebuilt)}, {referenceName} {Hex.Encode(reference)}";
        if (scan.FirstMissing is null && scan.StoredDigests.Count > 0)
        {
            var stored = scan.Leaves.Select((l, i) => scan.StoredDigests.TryGetValue(i, out var d) ? new MerkleLeaf(l.Sequence, d) : l).ToList();
            if (StandardMerkleTree.Build(stored).Root.AsSpan().SequenceEqual(reference))
            {
                var first = (long)scan.Leaves[scan.StoredDigests.Keys.Min()].Sequence;
                findings.Add(anchor.Sequence, first, AuditKinds.Root,
                    $"{detail}; the stored hashes still rebuild it, so the anchored leaves are intact and the {scan.StoredDigests.Count} event(s) whose JSON changed are at fault, first bad leaf event {first}",
                    (first, first));
                return;
            }
        }
        var firstBad = scan.FirstMissing ?? scan.FirstBadEvent;
        findings.Add(anchor.Sequence, firstBad, AuditKinds.Root,
            detail + (firstBad is { } f ? $"; first bad leaf event {f}" : "; the leaves themselves differ from those anchored (events swapped, replaced or inserted)"), range);
    }

    private sealed class Scan
    {
        public List<MerkleLeaf> Leaves { get; } = [];
        /// <summary>Leaf index → the stored hash's digest, where it differs from the recomputed one.</summary>
        public Dictionary<int, byte[]> StoredDigests { get; } = [];
        public long? FirstMissing { get; set; }
        public long? FirstBadEvent { get; set; }
    }

    private sealed class Row(long sequence, string storedHash, string json)
    {
        public long Sequence { get; } = sequence;
        public string StoredHash { get; } = storedHash;
        public string Json { get; } = json;
        public string? Computed { get; set; }
        public string? Problem { get; set; }
    }

    /// <summary>Streams events first..last in sequence order, rehashing each chunk in parallel while the next one is read.</summary>
    private static async Task<Scan> ScanAsync(DbConnection conn, long first, long last, long? anchorSequence, Findings findings, Progress progress, CancellationToken ct)
    {
        var scan = new Scan();
        var expected = first;

        void Consume(List<Row> rows)
        {
            foreach (var row in rows)
            {
                if (row.Sequence != expected)
                {
                    scan.FirstMissing ??= expected;
                    findings.Add(anchorSequence, expected, AuditKinds.EventMissing, Missing(expected, row.Sequence - 1), (expected, row.Sequence - 1));
                }
                expected = row.Sequence + 1;

                byte[] storedDigest;
                try { storedDigest = EventHash.Digest(row.StoredHash); }
                catch (Exception e) when (e is FormatException or ArgumentException) { storedDigest = new byte[32]; }

                var digest = storedDigest;
                if (row.Computed is null)
                {
                    findings.Add(anchorSequence, row.Sequence, AuditKinds.EventHash, $"event {row.Sequence} cannot be hashed: {row.Problem}", (row.Sequence, row.Sequence));
                }
                else if (!string.Equals(row.Computed, row.StoredHash, StringComparison.Ordinal))
                {
                    findings.Add(anchorSequence, row.Sequence, AuditKinds.EventHash,
                        $"event {row.Sequence} hashes to {row.Computed}, its stored hash is {row.StoredHash}", (row.Sequence, row.Sequence));
                    digest = EventHash.Digest(row.Computed);
                    scan.StoredDigests[scan.Leaves.Count] = storedDigest;
                }
                else
                {
                    digest = EventHash.Digest(row.Computed);
                }
                if (row.Computed is null || !string.Equals(row.Computed, row.StoredHash, StringComparison.Ordinal)) scan.FirstBadEvent ??= row.Sequence;
                scan.Leaves.Add(new MerkleLeaf((ulong)row.Sequence, digest));
            }
            progress.Done(rows.Count);
        }

        await using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = "SELECT sequence, event_hash, json FROM events WHERE sequence >= @first AND sequence <= @last ORDER BY sequence";
            Sql.AddParameter(cmd, "@first", first);
            Sql.AddParameter(cmd, "@last", last);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            Task<List<Row>>? inFlight = null;
            var batch = new List<Row>(Chunk);
            while (await reader.ReadAsync(ct))
            {
                batch.Add(new Row(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
                if (batch.Count < Chunk) continue;
                if (inFlight is not null) Consume(await inFlight);
                var full = batch;
                inFlight = Task.Run(() => Rehash(full, ct), ct);
                batch = new List<Row>(Chunk);
            }
            if (inFlight is not null) Consume(await inFlight);
            if (batch.Count > 0) Consume(Rehash(batch, ct));
        }

        if (expected <= last)
        {
            scan.FirstMissing ??= expected;
            findings.Add(anchorSequence, expected, AuditKinds.EventMissing, Missing(expected, last), (expected, last));
        }
        return scan;
    }

    private static List<Row> Rehash(List<Row> rows, CancellationToken ct)
    {
        Parallel.For(0, rows.Count, new ParallelOptions { CancellationToken = ct }, i =>
        {
            var row = rows[i];
            try { row.Computed = EventHash.Compute(EpcisParser.ParseEventJson(row.Json)); }
            catch (Exception e) when (e is EpcisFormatException or FormatException or ArgumentException or InvalidOperationException or System.Text.Json.JsonException)
            {
                row.Problem = e.Message;
            }
        });
        return rows;
    }

    private static string Missing(long from, long to) => from == to ? $"event {from} is missing from the database" : $"events {from}..{to} are missing from the database";

    private async Task RaiseAlertsAsync(TraceDbContext db, AuditRun run, IReadOnlyList<AuditFinding> stored, long total, CancellationToken ct)
    {
        foreach (var f in stored.Take(MaxAlertsPerRun))
        {
            string? epc = null;
            if (f.EventSequence is { } seq)
                epc = await db.EventEpcs.AsNoTracking().Where(x => x.Sequence == seq).OrderBy(x => x.Role).Select(x => x.Epc).FirstOrDefaultAsync(ct);
            var gtin = epc is null ? null : GtinInLink().Match(epc) is { Success: true } m ? m.Groups[1].Value : null;
            var detail = new { runId = run.Id, kind = f.Kind, anchorSequence = f.AnchorSequence, eventSequence = f.EventSequence, message = f.Detail };
            var key = $"tamper:{f.Kind}:{f.AnchorSequence?.ToString(CultureInfo.InvariantCulture) ?? "-"}:{f.EventSequence?.ToString(CultureInfo.InvariantCulture) ?? "-"}";
            await AlertWriter.RaiseAsync(db, AlertTypes.Tamper, epc, gtin, null, detail, run.FinishedAt ?? time.GetUtcNow(), key, ct);
        }
        if (total > Math.Min(stored.Count, MaxAlertsPerRun))
        {
            var detail = new { runId = run.Id, kind = "more", message = $"{total - Math.Min(stored.Count, MaxAlertsPerRun)} more mismatches in audit run {run.Id}; see GET /api/v1/audit/latest" };
            await AlertWriter.RaiseAsync(db, AlertTypes.Tamper, null, null, null, detail, run.FinishedAt ?? time.GetUtcNow(), $"tamper:run:{run.Id}:more", ct);
        }
    }

    private string Summary(AuditRun run, IReadOnlyList<AuditFinding> stored, Exception? failure)
    {
        var counts = $"{run.Anchors} anchors ({run.AnchorsOnChain} on chain), {run.Events} events, {run.EventsChecked} events rehashed, {run.Mismatches} mismatches";
        var where = $"contract {chain.Contract ?? "none"} on chain {chain.KnownChainId?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}";
        if (failure is not null) return $"AUDIT ERROR: {Describe(failure)} ({counts}; {where})";
        if (stored.Count > 0) return $"AUDIT FAILED: {Describe(stored[0])} ({counts}; {where})";
        return $"AUDIT OK: {counts}; {where}";
    }

    public static string Describe(AuditFinding f) =>
        (f.AnchorSequence is { } a ? $"anchor {a}" : "ledger") + (f.EventSequence is { } e ? $", event {e}" : "") + $": {f.Kind}: {f.Detail}";

    private static string Describe(Exception e) => e switch
    {
        ChainUnavailableException or HttpRequestException => $"chain unavailable: {e.Message}",
        OperationCanceledException => "the run was cancelled",
        _ => e.Message,
    };


    private static byte[] Bytes(string hex)
    {
        try { return Convert.FromHexString(hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex); }
        catch (FormatException) { return []; }
    }

    [GeneratedRegex(@"/01/([0-9]{14})")]
    private static partial Regex GtinInLink();

    /// <summary>The findings of one run, in ledger order; past <see cref="MaxFindingsStored"/>, event findings fold into their anchor.</summary>
    private sealed class Findings(long runId)
    {
        private readonly List<AuditFinding> _kept = [];
        private readonly Dictionary<long, (long First, long Last, long Count)> _overflow = [];

        public long Total { get; private set; }

        public void Add(long? anchor, long? @event, string kind, string detail, (long First, long Last)? taints = null)
        {
            Total++;
            if (_kept.Count < MaxFindingsStored)
            {
                _kept.Add(new AuditFinding
                {
                    RunId = runId, AnchorSequence = anchor, EventSequence = @event, Kind = kind, Detail = detail,
                    FirstEventSequence = taints?.First, LastEventSequence = taints?.Last,
                });
                return;
            }
            // Too many to keep one by one: remember the span they fall in, per anchor (0 for events in no anchor).
            if (taints is not { } t) return;
            var key = anchor ?? 0;
            _overflow[key] = _overflow.TryGetValue(key, out var o) ? (Math.Min(o.First, t.First), Math.Max(o.Last, t.Last), o.Count + 1) : (t.First, t.Last, 1);
        }

        public List<AuditFinding> ToStore()
        {
            var all = new List<AuditFinding>(_kept);
            foreach (var (anchor, o) in _overflow.OrderBy(x => x.Key))
            {
                all.Add(new AuditFinding
                {
                    RunId = runId, AnchorSequence = anchor == 0 ? null : anchor, Kind = AuditKinds.EventHash,
                    Detail = $"{o.Count} more mismatches in events {o.First}..{o.Last} (not stored one by one): all of those events are untrusted",
                    FirstEventSequence = o.First, LastEventSequence = o.Last,
                });
            }
            return all;
        }
    }

    private sealed class Progress(AuditRun run, int anchors, ILogger log)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _next = ProgressEvery;

        public long Anchor { get; set; }
        public long Checked { get; private set; }

        public void Done(int count)
        {
            Checked += count;
            if (_clock.Elapsed < _next) return;
            _next = _clock.Elapsed + ProgressEvery;
            log.LogInformation("Audit run {Run}: {Checked}/{Events} events rehashed ({Rate:F0}/s), anchor {Anchor} of {Anchors}",
                run.Id, Checked, run.Events, Checked / _clock.Elapsed.TotalSeconds, Anchor, anchors);
        }
    }
}

/// <summary>Audit the whole ledger now; <see cref="Trigger"/> is recorded with the run (api or schedule).</summary>
public sealed record RunAudit(string Trigger) : Mediator.ICommand<AuditLedger.RunResult>
{
    /// <summary>The auditor is a singleton (one run at a time per process); the scoped handler only hands it the run.</summary>
    public sealed class Handler(AuditLedger auditor) : Mediator.ICommandHandler<RunAudit, AuditLedger.RunResult>
    {
        public async ValueTask<AuditLedger.RunResult> Handle(RunAudit command, CancellationToken ct) => await auditor.RunAsync(command.Trigger, ct);
    }
}
