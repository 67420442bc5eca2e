using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Traceability.Api.Infrastructure.Persistence;

/// <summary>
/// Serialises appends inside one process, so sequence numbers stay gap-free under concurrent captures. Captures take
/// turns in the order they asked; a short write that others wait for (a subscription's position) may go ahead of them.
/// On SQLite the lock also keeps the connection its holders append through (<see cref="ConnectionAsync"/>).
/// </summary>
public sealed class CaptureWriteLock : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _line = new(1, 1); // those in line reach the gate one at a time
    private SqliteConnection? _connection;

    /// <summary>
    /// The connection a holder of the lock appends through: on SQLite one connection, kept open by the lock, so that its
    /// page cache outlives a capture. SQLite drops a connection's whole page cache when another connection has committed
    /// since that connection's last transaction; with a pooled connection per capture (captures and the event-time
    /// projection taking turns), every capture read the index pages it writes into again, a read() call per page.
    /// On PostgreSQL, the request's own connection. Only the holder of the lock may use it.
    /// </summary>
    public async Task<DbConnection> ConnectionAsync(TraceDbContext db, CancellationToken ct)
    {
        // the kept connection first: asking the context for its provider sets the context up (about 20 µs a request)
        if (_connection is { State: System.Data.ConnectionState.Open } open) return open;
        if (db.Database.IsNpgsql()) return await Sql.OpenAsync(db, ct);
        _connection?.Dispose();
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(db.Database.GetConnectionString()) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(ct);
        await SqliteConnectionSettings.ApplyAsync(connection, ct);
        return _connection = connection;
    }

    public void Dispose() => _connection?.Dispose();

    /// <summary>The next turn after those who asked before.</summary>
    public async Task<IDisposable> AcquireAsync(CancellationToken ct)
    {
        await _line.WaitAsync(ct);
        try { await _gate.WaitAsync(ct); }
        finally { _line.Release(); }
        return new Releaser(_gate);
    }

    /// <summary>
    /// A turn ahead of the line: after the holder and at most the one waiter already at the gate. For writes of a few
    /// milliseconds that must not wait behind every queued capture (many 100-event documents in flight, each holding
    /// the lock for its whole transaction).
    /// </summary>
    public async Task<IDisposable> AcquireAheadAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        return new Releaser(_gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;
        public void Dispose() { if (Interlocked.Exchange(ref _released, 1) == 0) gate.Release(); }
    }
}
