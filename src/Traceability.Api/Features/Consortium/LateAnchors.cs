using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Consortium;

/// <summary>A run of events whose signed receipts' deadlines passed before their anchor's block (or with no anchor yet).</summary>
public sealed record BrokenPromise(long FirstEvent, long LastEvent, long Events, DateTimeOffset FirstDeadline, long? Anchor, DateTimeOffset? AnchoredAt);

/// <summary>
/// Part of the self-audit: finds the receipts whose promise was broken (see <see cref="AnchorPromises"/>) and raises a
/// <c>late-anchor</c> alert for each run of them: per anchor, its events whose deadline is earlier than the timestamp of
/// the block that wrote it (read from the contract); and the events not on chain whose deadline has passed. An alert
/// is raised once per run, keyed by its first event, so a late run that is anchored later (late) is not raised twice.
/// </summary>
public sealed class LateAnchors(TraceDbContext db, ChainConnection chain, AnchorPromises promises, TimeProvider time, ILogger<LateAnchors> log)
{
    public async Task<IReadOnlyList<BrokenPromise>> FindAsync(CancellationToken ct)
    {
        var registry = chain.Registry ?? throw new InvalidOperationException(chain.ConfigurationProblem ?? "no chain configured");
        var conn = await Sql.OpenAsync(db, ct);
        var found = new List<BrokenPromise>();
        var anchors = await db.Anchors.AsNoTracking().Where(a => a.Status != AnchorStatus.Failed).OrderBy(a => a.Sequence).ToListAsync(ct);
        long onChainUpTo = 0;
        foreach (var anchor in anchors)
        {
            var onChain = await registry.GetAnchorAsync(anchor.Sequence, ct);
            if (onChain is null || (long)onChain.FirstEventSequence != anchor.FirstEventSequence) break; // not (or not this one) on chain: the rest are pending
            onChainUpTo = (long)onChain.LastEventSequence;
            if (await LateAsync(conn, anchor.FirstEventSequence, anchor.LastEventSequence, onChain.Timestamp, ct) is { } late)
                found.Add(late with { Anchor = anchor.Sequence, AnchoredAt = onChain.Timestamp });
        }
        var last = await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(sequence), 0) FROM events", ct);
        if (last > onChainUpTo && await LateAsync(conn, onChainUpTo + 1, last, time.GetUtcNow(), ct) is { } pending) found.Add(pending);
        return found;
    }

    /// <summary>Finds the broken promises and raises their alerts; returns how many runs were found and how many alerts were new.</summary>
    public async Task<(int Found, int Raised)> RaiseAsync(CancellationToken ct)
    {
        var found = await FindAsync(ct);
        var raised = 0;
        foreach (var b in found)
        {
            var detail = new
            {
                firstEvent = b.FirstEvent, lastEvent = b.LastEvent, events = b.Events, deadline = b.FirstDeadline, anchor = b.Anchor, anchoredAt = b.AnchoredAt,
                reason = b.Anchor is { } a
                    ? $"events {b.FirstEvent}..{b.LastEvent} were promised to be anchored by their receipts' deadlines (the first {b.FirstDeadline:u}), but anchor {a}'s block is from {b.AnchoredAt:u}"
                    : $"events {b.FirstEvent}..{b.LastEvent} were promised to be anchored by their receipts' deadlines (the first {b.FirstDeadline:u}) and are not on chain",
            };
            if (await AlertWriter.RaiseAsync(db, AlertTypes.LateAnchor, null, null, null, detail, time.GetUtcNow(), $"late-anchor:{b.FirstEvent}", ct)) raised++;
        }
        if (found.Count > 0) log.LogWarning("Self-audit: {Runs} run(s) of receipts whose anchoring promise was broken ({New} new late-anchor alert(s))", found.Count, raised);
        return (found.Count, raised);
    }

    /// <summary>The events first..last whose deadline (record time + the delay in force for them) is before <paramref name="at"/>.</summary>
    private async Task<BrokenPromise?> LateAsync(System.Data.Common.DbConnection conn, long first, long last, DateTimeOffset at, CancellationToken ct)
    {
        BrokenPromise? run = null;
        var policies = promises.Policies;
        for (var i = 0; i < policies.Count; i++)
        {
            // the first policy also covers the events from before it was recorded
            var from = Math.Max(first, i == 0 ? 1 : policies[i].FromSequence);
            var to = Math.Min(last, i + 1 < policies.Count ? policies[i + 1].FromSequence - 1 : long.MaxValue);
            if (from > to) continue;
            var delay = policies[i].MaxDelay;
            // record_time is ISO 8601 UTC text with milliseconds, so text order is time order; deadlines are whole seconds as signed
            var rows = await Sql.ListAsync(conn, null,
                "SELECT MIN(sequence), MAX(sequence), COUNT(*), MIN(record_time) FROM events WHERE sequence BETWEEN @f AND @t AND record_time < @cutoff",
                r => r.IsDBNull(0) ? null : new BrokenPromise(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), DbTime.Parse(r.GetString(3)) + delay, null, null),
                ct, ("@f", from), ("@t", to), ("@cutoff", DbTime.Format(DateTimeOffset.FromUnixTimeSeconds((at - delay).ToUnixTimeSeconds()))));
            if (rows[0] is not { } r) continue;
            run = run is null ? r : run with { LastEvent = r.LastEvent, Events = run.Events + r.Events };
        }
        return run;
    }
}
