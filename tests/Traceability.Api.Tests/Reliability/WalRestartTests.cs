using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Tests.Reliability;

/// <summary>
/// The WAL starts over while writes and reads go on without a pause: a PASSIVE checkpoint alone copies the log but
/// never shortens it while readers keep reading from it, and the log grew until a writer's own commit checkpointed it
/// (copying and syncing inside the commit). <see cref="SqliteCheckpointer"/> makes it start over once it holds
/// <see cref="SqliteCheckpointer.RestartFrames"/> pages. Real SQLite file, the service's connection settings, a writer
/// that takes the capture lock as captures do and a reader that never stops.
/// </summary>
public sealed class WalRestartTests : IDisposable
{
    private const int RestartFrames = 256; // 1 MiB of log
    private readonly string _dir = Directory.CreateTempSubdirectory("trace-wal-restart").FullName;

    [Fact]
    public async Task TheLogStartsOverUnderSteadyWritesAndReads()
    {
        var options = new TraceOptions { DataDir = _dir };
        var path = options.DatabasePathOrConnection;
        var writeLock = new CaptureWriteLock();
        var checkpointer = new SqliteCheckpointer(options, writeLock, NullLogger<SqliteCheckpointer>.Instance) { RestartFrames = RestartFrames };
        await using var writer = await OpenAsync(path);
        await ExecAsync(writer, "PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL);");

        using var stop = new CancellationTokenSource();
        await Task.Run(() => checkpointer.StartAsync(stop.Token)); // off the test's synchronization context, as in the service
        var reader = Task.Run(() => ReadUntilAsync(path, stop.Token));
        long largest = 0;
        try
        {
            for (var batch = 0; batch < 400; batch++) // 400 x 16 rows of 4 KiB: about 26 MiB of log written
            {
                using (await writeLock.AcquireAsync(CancellationToken.None))
                {
                    await using var tx = await writer.BeginTransactionAsync();
                    for (var i = 0; i < 16; i++)
                    {
                        await using var insert = writer.CreateCommand();
                        insert.CommandText = "INSERT INTO t (body) VALUES (randomblob(4000))";
                        await insert.ExecuteNonQueryAsync();
                    }
                    await tx.CommitAsync();
                }
                checkpointer.Appended(SqliteCheckpointer.EventsPerCheckpoint); // as a capture reports its events
                largest = Math.Max(largest, new FileInfo(path + "-wal").Length);
                await Task.Delay(1); // the next capture's parsing and hashing, outside the lock
            }
        }
        finally
        {
            await stop.CancelAsync();
            await checkpointer.StopAsync(CancellationToken.None);
            await reader;
        }

        checkpointer.Restarts.Should().BeGreaterThan(0);
        largest.Should().BeLessThan(16L * 1024 * 1024,
            $"the log starts over from about {RestartFrames} pages (1 MiB) on; without that it grows with everything written (26 MiB)");
        (await ScalarAsync(writer, "SELECT COUNT(*) FROM t")).Should().Be(400 * 16);
    }

    private static async Task ReadUntilAsync(string path, CancellationToken ct)
    {
        await using var conn = await OpenAsync(path);
        while (!ct.IsCancellationRequested)
        {
            await using var tx = conn.BeginTransaction(deferred: true); // a read: takes no write lock
            await ScalarAsync(conn, "SELECT MAX(id) FROM t", tx);
            await Task.Delay(1, CancellationToken.None); // holds its snapshot of the log for a moment, as a request does
            await tx.CommitAsync();
        }
    }

    private static async Task<SqliteConnection> OpenAsync(string path)
    {
        var conn = new SqliteConnection($"Data Source={path};Pooling=False");
        await conn.OpenAsync();
        await SqliteConnectionSettings.ApplyAsync(conn, CancellationToken.None);
        return conn;
    }

    private static async Task ExecAsync(SqliteConnection conn, string sql)
    {
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(SqliteConnection conn, string sql, SqliteTransaction? tx = null)
    {
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return await cmd.ExecuteScalarAsync() is long n ? n : 0;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
