using Microsoft.EntityFrameworkCore;
using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Epcis;

/// <summary>
/// Keeps <c>event_times</c> (the event-time index of the EPCIS queries: one (event_time, sequence) row per event) in
/// step with the ledger, outside the capture's transaction (docs/adr/0019-event-time-index.md). Every
/// <see cref="PollInterval"/> it copies the events appended since <c>event_times_projected.projected_to</c>, sorted by
/// time, at most <see cref="BatchSize"/> per transaction, and moves projected_to on in the same transaction. An index
/// on events.event_time written by each capture cost a third of the capture rate (scripts/bench capture): a document's
/// events land all over such an index, and every page they touch is written again at each commit; a sorted batch of
/// many captures writes each page once. The queries read <c>event_times</c> up to projected_to and the events after it
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

    /// <summary>The events not yet in event_times, as a query reads them: every event after projected_to.</summary>
    public const string ProjectedTo = "(SELECT projected_to FROM event_times_projected)";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval);
        try
        {
            do
            {
                try
                {
                    while (await ProjectAsync(stoppingToken) == BatchSize) { } // a backlog: batch after batch
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

    /// <summary>Adds the next events (at most <see cref="BatchSize"/>) to event_times; how many it added.</summary>
    public async Task<int> ProjectAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
        var conn = await Sql.OpenAsync(db, ct);
        // Cheap when nothing is new: two lookups by primary key, no lock.
        var from = await Sql.LongAsync(conn, null, "SELECT projected_to FROM event_times_projected", ct);
        if (await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(sequence), 0) FROM events", ct) <= from) return 0;
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
