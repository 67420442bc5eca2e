using Microsoft.EntityFrameworkCore;
using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Epcis;

/// <summary>
/// Keeps <c>event_times</c> (the event-time index of the EPCIS queries: one (event_time, sequence) row per event) in
/// step with the ledger, outside the capture's transaction (docs/adr/0019-event-time-index.md). Every
/// <see cref="PollInterval"/> it looks at how many events were appended since <c>event_times_projected.projected_to</c>;
/// once they are <see cref="MinBatch"/> or more, or the first of them has waited <see cref="MaxLag"/>, it copies them
/// sorted by time, at most <see cref="BatchSize"/> per transaction, and moves projected_to on in the same transaction.
/// An index on events.event_time written by each capture cost a third of the capture rate (scripts/bench capture): a
/// document's events land all over such an index when their times are not the latest, and every page they touch is
/// written again at each commit; a sorted batch of many captures writes each page once, so the larger the batch the
/// fewer pages per event. A capture whose events come after the index's end adds them itself (<see cref="EventTimeStep"/>);
/// this service copies the rest. The queries read <c>event_times</c> up to projected_to and the events after it
/// (<see cref="QueryEpcisEvents"/>), so they answer the same whatever the lag.
/// <para>
/// It writes under the capture lock (and, on PostgreSQL, the capture's advisory lock), so it never waits on a capture's
/// transaction nor makes one wait more than one batch. Several instances on one PostgreSQL database take turns.
/// </para>
/// </summary>
public sealed class EventTimeIndex(IServiceScopeFactory scopes, CaptureWriteLock writeLock, ILogger<EventTimeIndex> log) : BackgroundService
{
    public const int BatchSize = 50_000;
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>A backlog this large is projected at once, however recent.</summary>
    public const int MinBatch = 20_000;

    /// <summary>Events waiting for the index are projected at the latest this long after the first poll that saw them.</summary>
    public static readonly TimeSpan MaxLag = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether to project now: a batch of interleaved times touches about as many index pages whatever its size (up to
    /// the index's own size), so waiting for a larger batch divides the pages written per event, bounded by how long
    /// the queries read the unprojected tail from <c>events</c>.
    /// </summary>
    public static bool Due(long pending, TimeSpan waited) => pending > 0 && (pending >= MinBatch || waited >= MaxLag);

    /// <summary>
    /// Whether a capture adds its own events to event_times (<see cref="EventTimeStep"/>): only when the index holds
    /// every event before them (<paramref name="projectedTo"/> is the sequence before <paramref name="firstSequence"/>)
    /// and the earliest of their times (text as stored, so ordinal order is time order) is not before the index's last
    /// (<paramref name="lastIndexed"/>, null for an empty index): then every row goes at the end of the index. Otherwise
    /// they wait for the background batch.
    /// </summary>
    public static bool AppendsInCapture(long projectedTo, long firstSequence, string? lastIndexed, string earliestInCapture) =>
        projectedTo == firstSequence - 1 && (lastIndexed is null || string.CompareOrdinal(earliestInCapture, lastIndexed) >= 0);

    /// <summary>The events not yet in event_times, as a query reads them: every event after projected_to.</summary>
    public const string ProjectedTo = "(SELECT projected_to FROM event_times_projected)";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval);
        var waiting = new System.Diagnostics.Stopwatch(); // since the first poll that saw events not yet projected
        try
        {
            do
            {
                try
                {
                    var pending = await PendingAsync(stoppingToken);
                    if (pending == 0) waiting.Reset();
                    else if (!waiting.IsRunning) waiting.Start();
                    if (!Due(pending, waiting.Elapsed)) continue;
                    while (await ProjectNowAsync(stoppingToken) == BatchSize) { } // a backlog: batch after batch
                    waiting.Reset();
                }
                catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
                {
                    // The queries stay right (they read the events after projected_to); only slower until the next run.
                    log.LogWarning(e, "The event-time index could not be brought up to date: {Message}", e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>How many events are not yet in event_times (two lookups by primary key, no lock).</summary>
    public async Task<long> PendingAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var conn = await Sql.OpenAsync(scope.ServiceProvider.GetRequiredService<TraceDbContext>(), ct);
        var from = await Sql.LongAsync(conn, null, "SELECT projected_to FROM event_times_projected", ct);
        return Math.Max(0, await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(sequence), 0) FROM events", ct) - from);
    }

    /// <summary>Adds the next events (at most <see cref="BatchSize"/>) to event_times; how many it added.</summary>
    public async Task<int> ProjectAsync(CancellationToken ct) =>
        await PendingAsync(ct) == 0 ? 0 : await ProjectNowAsync(ct); // cheap when nothing is new

    /// <summary>One batch under the capture lock, for a caller that knows events are pending.</summary>
    private async Task<int> ProjectNowAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
        // through the captures' connection: a commit of another connection would empty its page cache
        using (await writeLock.AcquireAsync(ct)) return await ProjectBatchAsync(await writeLock.ConnectionAsync(db, ct), db.Database.IsNpgsql(), ct);
    }

    /// <summary>
    /// One batch in its own transaction, on an open connection (the caller holds the capture lock of its process, or
    /// is the only user of the file, as the benchmarks are); how many events it added.
    /// </summary>
    public static async Task<int> ProjectBatchAsync(System.Data.Common.DbConnection conn, bool postgres, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (postgres) await Sql.ExecAsync(conn, tx, "SELECT pg_advisory_xact_lock(7245001)", ct); // the capture's lock: no append in flight
        var from = await Sql.LongAsync(conn, tx, "SELECT projected_to FROM event_times_projected", ct); // another instance may have moved it
        var last = await Sql.LongAsync(conn, tx, "SELECT COALESCE(MAX(sequence), 0) FROM events", ct);
        var to = Math.Min(last, from + BatchSize);
        if (to <= from) return 0;
        var added = await Sql.ExecAsync(conn, tx,
            "INSERT INTO event_times (event_time, sequence) SELECT event_time, sequence FROM events WHERE sequence > @f AND sequence <= @t ORDER BY event_time, sequence",
            ct, ("@f", from), ("@t", to));
        await Sql.ExecAsync(conn, tx, "UPDATE event_times_projected SET projected_to = @t", ct, ("@t", to));
        await tx.CommitAsync(ct);
        return added;
    }
}
