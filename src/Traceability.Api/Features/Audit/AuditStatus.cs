using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Audit;

/// <summary>The finding that makes an event untrusted, as shown next to the event, with the events it makes untrusted.</summary>
public sealed record AuditFindingRef(string Kind, long? AnchorSequence, long? EventSequence, string Detail, long FirstEventSequence, long LastEventSequence);

/// <summary>
/// An event's standing in the latest completed self-audit: <c>ok</c> (checked, nothing found), <c>failed</c> (a finding
/// covers it: its own, or its anchor's), <c>not_audited</c> (no run yet, or the event is newer than the run).
/// </summary>
public sealed record EventAudit(string Status, long? RunId, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AuditFindingRef? Finding)
{
    public const string Ok = "ok";
    public const string Failed = "failed";
    public const string NotAudited = "not_audited";

    [JsonIgnore] public bool IsTrusted => Status != Failed;

    /// <summary>True when the finding makes the whole anchor untrusted (its root, range, contract, leaves), not only some of its events.</summary>
    public bool FailsAnchor(Anchor anchor) =>
        Finding is { } f && f.AnchorSequence == anchor.Sequence && f.FirstEventSequence <= anchor.FirstEventSequence && f.LastEventSequence >= anchor.LastEventSequence;
}

/// <summary>
/// Whether events are trusted after the latest completed audit run (status ok or failed; a run that ended in error
/// changes nothing). A finding makes the events in its <c>first_event_sequence..last_event_sequence</c> untrusted: the
/// event itself for an event finding, the whole anchor for a finding on the anchor's root, range or contract.
/// Anything that shows "verified on chain" asks here first:
/// <code>
/// var failed = await auditStatus.FailedEventSequencesAsync(shown.Select(e => e.Sequence), ct);
/// var verified = shown.All(e => e.Anchored &amp;&amp; !failed.Contains(e.Sequence));
/// </code>
/// Scoped (it uses the request's DbContext); reads the database on each call, so every instance sharing a database sees
/// the same answer.
/// </summary>
public sealed class AuditStatus(TraceDbContext db)
{
    private AuditRun? _latest;
    private bool _loaded;

    /// <summary>The latest run that completed (ok or failed), or null when none has.</summary>
    public async Task<AuditRun?> LatestCompletedRunAsync(CancellationToken ct)
    {
        if (_loaded) return _latest;
        _latest = await db.AuditRuns.AsNoTracking()
            .Where(r => r.Status == AuditRunStatus.Ok || r.Status == AuditRunStatus.Failed)
            .OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct);
        _loaded = true;
        return _latest;
    }

    /// <summary>The event's standing in the latest completed run.</summary>
    public async Task<EventAudit> ForEventAsync(long sequence, CancellationToken ct) =>
        (await ForEventsAsync([sequence], ct))[sequence];

    /// <summary>Those of <paramref name="sequences"/> that the latest completed run found at fault.</summary>
    public async Task<IReadOnlySet<long>> FailedEventSequencesAsync(IEnumerable<long> sequences, CancellationToken ct) =>
        (await ForEventsAsync(sequences, ct)).Where(x => !x.Value.IsTrusted).Select(x => x.Key).ToHashSet();

    /// <summary>Each sequence's standing, in one query for the findings that touch their span.</summary>
    public async Task<IReadOnlyDictionary<long, EventAudit>> ForEventsAsync(IEnumerable<long> sequences, CancellationToken ct)
    {
        var wanted = sequences.Distinct().ToList();
        var result = new Dictionary<long, EventAudit>(wanted.Count);
        var run = await LatestCompletedRunAsync(ct);
        if (run is null)
        {
            foreach (var s in wanted) result[s] = new EventAudit(EventAudit.NotAudited, null, null);
            return result;
        }
        List<AuditFinding> findings = [];
        if (run.Status == AuditRunStatus.Failed && wanted.Count > 0)
        {
            long min = wanted.Min(), max = wanted.Max();
            findings = await db.AuditFindings.AsNoTracking()
                .Where(f => f.RunId == run.Id && f.FirstEventSequence != null && f.FirstEventSequence <= max && f.LastEventSequence >= min)
                // The widest findings first: an anchor-wide finding says more than an event finding inside the same anchor.
                .OrderByDescending(f => f.LastEventSequence - f.FirstEventSequence).ThenBy(f => f.Id)
                .ToListAsync(ct);
        }
        foreach (var s in wanted)
        {
            if (s > run.Events) { result[s] = new EventAudit(EventAudit.NotAudited, run.Id, null); continue; }
            var f = findings.FirstOrDefault(x => x.FirstEventSequence <= s && s <= x.LastEventSequence);
            result[s] = f is null
                ? new EventAudit(EventAudit.Ok, run.Id, null)
                : new EventAudit(EventAudit.Failed, run.Id, new AuditFindingRef(f.Kind, f.AnchorSequence, f.EventSequence, f.Detail, f.FirstEventSequence!.Value, f.LastEventSequence!.Value));
        }
        return result;
    }
}
