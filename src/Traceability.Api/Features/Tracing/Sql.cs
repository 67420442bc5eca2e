using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Tracing;

/// <summary>
/// Plain ADO.NET over the context's connection, for the tracing queries that read or write many rows at once (a lot of
/// 100,000 units); EF Core materialisation costs several times more there.
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
        foreach (var (name, value) in parameters) SchemaMigrator.AddParameter(cmd, name, value);
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
            SchemaMigrator.AddParameter(cmd, "@in_keys", System.Text.Json.JsonSerializer.Serialize(distinct));
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) list.Add(map(r));
            return list;
        }
        foreach (var chunk in distinct.Chunk(500))
        {
            var names = chunk.Select((_, i) => "@k" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            await using var cmd = Command(conn, tx, sqlWithIn.Replace("{in}", string.Join(",", names), StringComparison.Ordinal), parameters);
            for (var i = 0; i < chunk.Length; i++) SchemaMigrator.AddParameter(cmd, names[i], chunk[i]);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) list.Add(map(r));
        }
        return list;
    }

    public static string? Str(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static long? Long(this DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
}

/// <summary>The parts of a canonical GS1 Digital Link the tracing code needs: GTIN with serial (SGTIN) or lot (LGTIN).</summary>
public readonly record struct Gs1Key(string? Gtin, string? Serial, string? Lot)
{
    private const string Prefix = "https://id.gs1.org/01/";

    public static Gs1Key Parse(string canonical)
    {
        if (!canonical.StartsWith(Prefix, StringComparison.Ordinal) || canonical.Length < Prefix.Length + 14) return default;
        var gtin = canonical.Substring(Prefix.Length, 14);
        var rest = canonical[(Prefix.Length + 14)..];
        if (rest.StartsWith("/21/", StringComparison.Ordinal)) return new Gs1Key(gtin, Uri.UnescapeDataString(rest[4..]), null);
        if (rest.StartsWith("/10/", StringComparison.Ordinal)) return new Gs1Key(gtin, null, Uri.UnescapeDataString(rest[4..]));
        return new Gs1Key(gtin, null, null);
    }

    public bool IsSgtin => Gtin is not null && Serial is not null;

    public bool IsLgtin => Gtin is not null && Lot is not null;

    /// <summary>The GTIN an EPC names, when it is an SGTIN or LGTIN Digital Link.</summary>
    public static string? GtinOf(string canonical) =>
        canonical.StartsWith(Prefix, StringComparison.Ordinal) && canonical.Length >= Prefix.Length + 14 ? canonical.Substring(Prefix.Length, 14) : null;
}
