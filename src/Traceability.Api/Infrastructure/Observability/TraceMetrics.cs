using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Infrastructure.Observability;

/// <summary>
/// The service's own metrics (meter "Traceability"), served in Prometheus text at GET /metrics. Features record into
/// the counters and histograms; the anchoring backlog and the anchors by status are read from the database when
/// scraped (a few indexed lookups, shared by the gauges of one scrape: kept a second, or until this instance captures
/// or runs the anchoring), so they are true for every instance sharing it.
/// </summary>
public sealed class TraceMetrics
{
    public const string MeterName = "Traceability";
    private static readonly TimeSpan SnapshotAge = TimeSpan.FromSeconds(1);

    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly Counter<long> _captured;
    private readonly Histogram<double> _captureDuration;
    private readonly Histogram<long> _anchorGas;
    private readonly Counter<long> _chainErrors;
    private readonly Counter<long> _auditFindings;
    private readonly Lock _lock = new();
    private (DateTimeOffset At, Backlog Value)? _snapshot;

    /// <summary>Events not yet in a confirmed anchor, the record time of the oldest, and the anchors by status.</summary>
    private sealed record Backlog(long Pending, DateTimeOffset? OldestRecordTime, IReadOnlyDictionary<AnchorStatus, long> Anchors);

    public TraceMetrics(IMeterFactory meters, IServiceScopeFactory scopes, TimeProvider time)
    {
        _scopes = scopes;
        _time = time;
        var meter = meters.Create(MeterName);
        _captured = meter.CreateCounter<long>("trace.events.captured", "{event}", "Events appended to the ledger (a repeated capture of a known event is not counted)");
        _captureDuration = meter.CreateHistogram("trace.capture.duration", "s", "Time to validate and store one accepted capture document (its parsed events to the commit)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _anchorGas = meter.CreateHistogram("trace.anchor.gas_used", "{gas}", "Gas used by each confirmed anchor's transaction (from its receipt)",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [25_000, 50_000, 75_000, 100_000, 150_000, 200_000, 300_000, 500_000, 1_000_000] });
        _chainErrors = meter.CreateCounter<long>("trace.chain.errors", "{error}", "Chain calls of the anchoring that failed, by kind: unavailable, refused (the contract reverted), reverted (a mined transaction), mismatch (the chain holds another anchor)");
        _auditFindings = meter.CreateCounter<long>("trace.audit.findings", "{finding}", "Mismatches found by self-audit runs");
        meter.CreateObservableGauge("trace.anchor.pending_events", () => Read().Pending, "{event}", "Events not yet in a confirmed anchor");
        meter.CreateObservableGauge("trace.anchor.oldest_pending_age", () =>
            Read() is { OldestRecordTime: { } oldest } ? Math.Max(0, (_time.GetUtcNow() - oldest).TotalSeconds) : 0, "s",
            "Age of the oldest event not yet in a confirmed anchor (0 when none waits)");
        meter.CreateObservableGauge("trace.sqlite.memory", SqliteConnectionSettings.MemoryUsed, "By",
            "Memory SQLite holds in this process (page caches, schemas, statements); bounded by TRACE_SQLITE_MEMORY_MIB (0 on PostgreSQL)");
        meter.CreateObservableGauge("trace.anchors", () => Read().Anchors.Select(a =>
            new Measurement<long>(a.Value, new KeyValuePair<string, object?>("status", a.Key.ToString().ToLowerInvariant()))), "{anchor}", "Anchors by status");
    }

    public void EventsCaptured(int count, TimeSpan elapsed)
    {
        if (count > 0)
        {
            _captured.Add(count);
            Invalidate();
        }
        _captureDuration.Record(elapsed.TotalSeconds);
    }

    public void AnchorConfirmed(long gasUsed) => _anchorGas.Record(gasUsed);

    public void ChainError(string kind) => _chainErrors.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void AuditFindings(long count)
    {
        if (count > 0) _auditFindings.Add(count);
    }

    /// <summary>The backlog changed here: the next scrape reads it again.</summary>
    public void Invalidate()
    {
        lock (_lock) _snapshot = null;
    }

    private Backlog Read()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (_snapshot is { } s && now - s.At < SnapshotAge) return s.Value;
            var value = Query();
            _snapshot = (now, value);
            return value;
        }
    }

    private Backlog Query()
    {
        using var scope = _scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
        var lastEvent = db.Events.Max(e => (long?)e.Sequence) ?? 0;
        var lastConfirmed = db.Anchors.Where(a => a.Status == AnchorStatus.Confirmed).Max(a => (long?)a.LastEventSequence) ?? 0;
        var pending = Math.Max(0, lastEvent - lastConfirmed);
        DateTimeOffset? oldest = pending == 0 ? null
            : db.Events.Where(e => e.Sequence == lastConfirmed + 1).Select(e => (DateTimeOffset?)e.RecordTime).FirstOrDefault();
        var counts = db.Anchors.GroupBy(a => a.Status).Select(g => new { g.Key, Count = g.LongCount() }).ToDictionary(g => g.Key, g => g.Count);
        return new Backlog(pending, oldest, Enum.GetValues<AnchorStatus>().ToDictionary(s => s, s => counts.GetValueOrDefault(s)));
    }
}
