using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace Traceability.Api.Infrastructure.Persistence;

/// <summary>
/// The one ADO.NET helper: plain commands over the context's connection for the capture path (on its transaction) and
/// for the queries that read or write many rows at once (a lot of 100,000 units), where EF Core materialisation costs
/// several times more (docs/adr/0006-sqlite-capture-write-path.md, docs/adr/0008-data-access.md). Everything else
/// goes through EF Core.
/// </summary>
public static class Sql
{
    /// <summary>
    /// The context's connection, opened through EF Core when closed, so that SqliteConnectionSettings applies its
    /// pragmas to it (a connection opened with DbConnection.OpenAsync would miss them).
    /// </summary>
    public static async Task<DbConnection> OpenAsync(TraceDbContext db, CancellationToken ct)
    {
        var conn = db.Database.GetDbConnection();
        if (conn.State != System.Data.ConnectionState.Open) await db.Database.OpenConnectionAsync(ct);
        return conn;
    }

    public static DbCommand Command(DbConnection conn, DbTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters) AddParameter(cmd, name, value);
        return cmd;
    }

    public static async Task<List<T>> ListAsync<T>(DbConnection conn, DbTransaction? tx, string sql, Func<DbDataReader, T> map, CancellationToken ct,
        params (string Name, object? Value)[] parameters)
    {
        await using var cmd = Command(conn, tx, sql, parameters);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<T>();
        while (await r.ReadAsync(ct)) list.Add(map(r));
        return list;
    }

    /// <summary>The first column of the first row, as an integer.</summary>
    public static async Task<long> LongAsync(DbConnection conn, DbTransaction? tx, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var cmd = Command(conn, tx, sql, parameters);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<int> ExecAsync(DbConnection conn, DbTransaction? tx, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var cmd = Command(conn, tx, sql, parameters);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Runs <paramref name="sqlWithIn"/> (which holds the token <c>{in}</c>, as in <c>x IN ({in})</c>) for the keys: on
    /// SQLite in one statement with the keys as one JSON array parameter (<c>json_each</c>; SQLite looks each one up in
    /// the index), elsewhere in chunks of 500 bound parameters. Nothing is run for no keys.
    /// </summary>
    public static async Task<List<T>> ListInAsync<TKey, T>(DbConnection conn, DbTransaction? tx, string sqlWithIn, IEnumerable<TKey> keys, Func<DbDataReader, T> map,
        CancellationToken ct, params (string Name, object? Value)[] parameters) where TKey : notnull
    {
        var list = new List<T>();
        var distinct = keys.Distinct().ToArray();
        if (distinct.Length == 0) return list;
        if (conn is Microsoft.Data.Sqlite.SqliteConnection)
        {
            await using var cmd = Command(conn, tx, sqlWithIn.Replace("{in}", "SELECT value FROM json_each(@in_keys)", StringComparison.Ordinal), parameters);
            AddParameter(cmd, "@in_keys", System.Text.Json.JsonSerializer.Serialize(distinct));
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) list.Add(map(r));
            return list;
        }
        foreach (var chunk in distinct.Chunk(500))
        {
            var names = chunk.Select((_, i) => "@k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            await using var cmd = Command(conn, tx, sqlWithIn.Replace("{in}", string.Join(",", names), StringComparison.Ordinal), parameters);
            for (var i = 0; i < chunk.Length; i++) AddParameter(cmd, names[i], chunk[i]);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) list.Add(map(r));
        }
        return list;
    }

    /// <summary>Adds a parameter by name; null as DBNull.</summary>
    public static void AddParameter(DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
    }

    public static string? Str(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static long? Long(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
}
