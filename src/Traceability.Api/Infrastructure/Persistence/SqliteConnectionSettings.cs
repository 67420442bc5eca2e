using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using SQLitePCL;

namespace Traceability.Api.Infrastructure.Persistence;

/// <summary>
/// The per-connection SQLite settings, applied each time EF Core opens a connection (the WAL journal mode itself is
/// a property of the file, set once by <see cref="SchemaMigrator"/>):
/// <list type="bullet">
/// <item><c>synchronous=NORMAL</c>: with WAL, a commit appends to the WAL without an fsync; the WAL is fsynced at each
/// checkpoint. The database cannot be corrupted by a crash; an application crash loses nothing; a power cut or OS
/// crash may lose the transactions committed since the last checkpoint (about the last second, or the last 5,000
/// events). That is the SQLite documentation's recommended setting for WAL, and the trade made here for capture
/// throughput (an fsync per capture bounded single-event captures to the disk's fsync rate). Deployments that need every receipt to survive a
/// power cut use PostgreSQL (synchronous_commit=on).</item>
/// <item><c>cache_size=-32768</c>: a 32 MiB page cache per connection instead of 2 MiB, so that the indexes capture
/// writes into stay in memory on a large ledger.</item>
/// <item><c>temp_store=MEMORY</c>, and no memory map (SQLite's default <c>mmap_size=0</c>). A 256 MiB map per
/// connection once measured +7% events/s, but with the later read paths it costs more than it gives: every read
/// after another connection's commit unmaps and re-faults the file (a single order scan paid that about ten times), and
/// each pooled connection maps the database again, so the process's resident memory grew with the database (about
/// 15 KB per event in a 30-minute soak). Back to back on a quiet machine without the map: 19,030 against 17,361
/// events/s with 1,000-event documents (13,710 against 12,797 per API CPU-second) and 951 against 780 single-event
/// requests/s.</item>
/// <item><c>wal_autocheckpoint=65536</c>: a backstop only. The WAL is copied into the database file by
/// <see cref="SqliteCheckpointer"/> in the background, which also makes it start over once it holds 64 MiB; should that
/// service stop, the committing capture checkpoints once the WAL reaches 256 MiB (inside the capture lock, and syncing
/// the database file even at synchronous=NORMAL). The default, every 1,000 pages, checkpointed about every second
/// 1,000-event document, under the lock.</item>
/// </list>
/// </summary>
internal sealed class SqliteConnectionSettings : DbConnectionInterceptor
{
    public static readonly SqliteConnectionSettings Instance = new();

    public const string Pragmas = "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=65536;";

    // The physical connections (SQLite handles) that have the settings: a pooled connection keeps them, so they are run
    // once per physical connection rather than at every logical open (every request).
    private static readonly ConditionalWeakTable<sqlite3, object> Applied = new();

    /// <summary>
    /// Bounds SQLite's page caches across every connection of the process (SQLite's soft heap limit): without it each
    /// pooled connection fills its own 32 MiB cache as reads touch the file, so the process's memory grows with the
    /// database up to the number of connections ever open at once times 32 MiB (in a soak, 3 MiB after a minute, 30 MiB
    /// after ten and still rising). Past the bound a connection recycles its own least recently used pages.
    /// </summary>
    public static void LimitMemory(long bytes)
    {
        Batteries_V2.Init();
        raw.sqlite3_soft_heap_limit64(bytes);
        _limited = true;
    }

    private static volatile bool _limited;

    /// <summary>The bytes SQLite has allocated in this process (its page caches, schemas and prepared statements).</summary>
    public static long MemoryUsed() => _limited ? raw.sqlite3_memory_used() : 0;

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (connection is not SqliteConnection { Handle: { } handle } || Applied.TryGetValue(handle, out _)) return;
        using var cmd = connection.CreateCommand();
        cmd.CommandText = Pragmas;
        cmd.ExecuteNonQuery();
        Applied.AddOrUpdate(handle, Applied);
    }

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default) =>
        ApplyAsync(connection, cancellationToken);

    /// <summary>Applies the settings to an open connection, once per physical connection (also one EF Core did not open).</summary>
    public static async Task ApplyAsync(DbConnection connection, CancellationToken ct)
    {
        if (connection is not SqliteConnection { Handle: { } handle } || Applied.TryGetValue(handle, out _)) return;
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = Pragmas;
        await cmd.ExecuteNonQueryAsync(ct);
        Applied.AddOrUpdate(handle, Applied);
    }
}
