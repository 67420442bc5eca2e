using System.Data.Common;
using System.Reflection;
using Microsoft.EntityFrameworkCore;

namespace Traceability.Api.Infrastructure.Persistence;

/// <summary>
/// Applies the versioned SQL scripts embedded under Migrations/{Sqlite|Postgres}/NNNN_name.sql, in order, each in
/// its own transaction together with its row in schema_migrations. EF Core's Design package is not available here,
/// so migrations are written by hand (docs/adr/0003-persistence.md).
/// </summary>
public static class SchemaMigrator
{
    public static async Task<int> MigrateAsync(TraceDbContext db, CancellationToken ct = default)
    {
        var provider = db.Database.IsNpgsql() ? "Postgres" : "Sqlite";
        var conn = db.Database.GetDbConnection();
        if (conn.State != System.Data.ConnectionState.Open) await db.Database.OpenConnectionAsync(ct); // through EF: SqliteConnectionSettings applies

        if (provider == "Sqlite")
        {
            // WAL lets readers work while the capture path writes (a property of the file: set once here). The
            // per-connection settings (synchronous=NORMAL, cache size) are in SqliteConnectionSettings.
            await ExecAsync(conn, null, "PRAGMA journal_mode=WAL;", ct);
        }

        await ExecAsync(conn, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)", ct);
        var applied = new HashSet<string>();
        await using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = "SELECT version FROM schema_migrations";
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) applied.Add(r.GetString(0));
        }

        var asm = Assembly.GetExecutingAssembly();
        var prefix = $"Traceability.Api.Infrastructure.Persistence.Migrations.{provider}.";
        var scripts = asm.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        var count = 0;
        foreach (var name in scripts)
        {
            var version = name[prefix.Length..^".sql".Length];
            if (applied.Contains(version)) continue;
            await using var stream = asm.GetManifestResourceStream(name)!;
            var sql = await new StreamReader(stream).ReadToEndAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            await ExecAsync(conn, tx, sql, ct);
            await using (var cmd = conn.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = "INSERT INTO schema_migrations (version, applied_at) VALUES (@v, @t)";
                Sql.AddParameter(cmd, "@v", version);
                Sql.AddParameter(cmd, "@t", DbTime.Format(DateTimeOffset.UtcNow));
                await cmd.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
            count++;
        }
        return count;
    }

    private static async Task ExecAsync(DbConnection conn, DbTransaction? tx, string sql, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
