namespace Traceability.Api.Infrastructure.Persistence;

/// <summary>
/// The SQLite file belongs to one service process: capture keeps what the ledger holds in memory
/// (<see cref="Features.Capture.EventHashIndex"/>), so a second process appending to the same file could store an event
/// twice. An exclusive lock on "&lt;database&gt;.lock", held for the life of the service, makes a second start fail with a
/// clear line instead. Several instances share a PostgreSQL database (TRACE_DB), never a SQLite file.
/// </summary>
public sealed class SqliteOwnership : IDisposable
{
    private readonly FileStream _lock;

    private SqliteOwnership(FileStream @lock) => _lock = @lock;

    public static SqliteOwnership Acquire(string databasePath)
    {
        var path = databasePath + ".lock";
        try
        {
            return new SqliteOwnership(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"{databasePath} is in use by another Traceability service process (it holds {path}). One process serves a SQLite " +
                "file; to run several instances, give them one PostgreSQL database (TRACE_DB).", e);
        }
    }

    public void Dispose() => _lock.Dispose();
}
