using Microsoft.Data.Sqlite;
using Traceability.Api.Infrastructure.Configuration;

namespace Traceability.Api.Infrastructure.Persistence;

/// <summary>
/// Copies SQLite's write-ahead log into the database file in the background, on its own connection, so that no capture
/// waits for it. A capture reports how many events it appended; after <see cref="EventsPerCheckpoint"/> of them, or
/// <see cref="MaxLag"/> after the first capture since the last checkpoint, whichever comes first, a PASSIVE checkpoint
/// runs (it never blocks a writer, and copies each changed page once however many captures changed it since the last
/// checkpoint). So the WAL holds at most about a second of captures that are not yet in the database file.
/// <para>
/// A PASSIVE checkpoint does not shorten the WAL: the log starts again from its beginning only when a writer begins
/// after everything in it was copied and no reader still reads from it, which under steady captures and reads hardly
/// ever happens. The log then grew until the committing capture reached <c>wal_autocheckpoint</c> and checkpointed it
/// itself, copying and syncing both files inside its commit, and again at every commit while readers kept the log from
/// starting over (single-code scans: groups whose commit took 40 to 140 ms, about every second). So once the WAL holds
/// <see cref="RestartFrames"/> pages, this service takes the capture lock (ahead of the queued captures), runs a
/// RESTART checkpoint, which copies the little the PASSIVE pass left and waits up to <see cref="RestartWait"/> for the
/// readers still reading from the log, and lets the next capture start the log over. <c>wal_autocheckpoint</c>
/// (<see cref="SqliteConnectionSettings"/>) stays above that as a backstop, for a checkpointer that stopped.
/// </para>
/// <para>
/// Measured (scripts/bench capture, 1,000-event documents): a checkpoint after every document, run by the capture itself
/// after releasing the capture lock, took about 37 ms of the document's 98 ms (one sender).
/// </para>
/// Nothing to do with PostgreSQL.
/// </summary>
public sealed class SqliteCheckpointer(TraceOptions options, CaptureWriteLock writeLock, ILogger<SqliteCheckpointer> log) : BackgroundService
{
    public const int EventsPerCheckpoint = 5_000;
    public static readonly TimeSpan MaxLag = TimeSpan.FromSeconds(1);

    /// <summary>WAL pages (4 KiB) from which the log is made to start over: 64 MiB (the tests set fewer).</summary>
    public int RestartFrames { get; init; } = 16_384;

    /// <summary>How long a RESTART checkpoint waits, holding the capture lock, for the readers still reading the log.</summary>
    public static readonly TimeSpan RestartWait = TimeSpan.FromMilliseconds(50);

    private readonly SemaphoreSlim _due = new(0, 1);
    private int _pending;

    /// <summary>Called after a capture with the number of events in its document (events captured before count too: a rough measure of the WAL written).</summary>
    public void Appended(int events)
    {
        if (events <= 0 || options.UsesPostgres) return;
        var pending = Interlocked.Add(ref _pending, events);
        if (pending >= EventsPerCheckpoint || pending == events) Signal(); // the first since a checkpoint starts the clock
    }

    /// <summary>Checkpoints run so far (for the tests and the logs).</summary>
    public int Checkpoints { get; private set; }

    /// <summary>Times the WAL was made to start over (RESTART checkpoints that found no reader left in the log).</summary>
    public int Restarts { get; private set; }

    private void Signal()
    {
        try { _due.Release(); }
        catch (SemaphoreFullException) { } // already signalled
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.UsesPostgres) return;
        await using var conn = new SqliteConnection($"Data Source={options.DatabasePathOrConnection};Pooling=False;Default Timeout=30");
        try
        {
            await conn.OpenAsync(stoppingToken);
            await SqliteConnectionSettings.ApplyAsync(conn, stoppingToken);
            await using (var timeout = conn.CreateCommand())
            {
                timeout.CommandText = $"PRAGMA busy_timeout={(int)RestartWait.TotalMilliseconds}";
                await timeout.ExecuteNonQueryAsync(stoppingToken);
            }
            while (!stoppingToken.IsCancellationRequested)
            {
                await _due.WaitAsync(stoppingToken);
                // Wait for the threshold, or for the lag to pass.
                while (Volatile.Read(ref _pending) < EventsPerCheckpoint && await _due.WaitAsync(MaxLag, stoppingToken)) { }
                if (Interlocked.Exchange(ref _pending, 0) == 0) continue;
                var (_, frames) = await CheckpointAsync(conn, "PASSIVE", stoppingToken);
                Checkpoints++;
                if (frames < RestartFrames) continue;
                using (await writeLock.AcquireAheadAsync(stoppingToken))
                {
                    var (busy, _) = await CheckpointAsync(conn, "RESTART", stoppingToken);
                    if (!busy) Restarts++;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (SqliteException e)
        {
            // The connections' wal_autocheckpoint still keeps the log bounded; capture is not affected.
            log.LogWarning(e, "Background WAL checkpoints stopped: {Message}", e.Message);
        }
    }

    /// <summary>One checkpoint: whether it could not finish (readers or a writer in the way), and the pages in the WAL.</summary>
    private static async Task<(bool Busy, long Frames)> CheckpointAsync(SqliteConnection conn, string mode, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"PRAGMA wal_checkpoint({mode})";
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? (r.GetInt64(0) != 0, r.GetInt64(1)) : (false, 0);
    }
}
