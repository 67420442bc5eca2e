using Npgsql;

namespace Traceability.Api.Tests.Support;

/// <summary>
/// The PostgreSQL server scripts/test starts (TRACE_TEST_POSTGRES). Each test gets a database of its own.
/// Without the variable the tests are skipped locally, but fail under CI=true: CI must run them.
/// </summary>
public static class Postgres
{
    public static string? ServerConnectionString => Environment.GetEnvironmentVariable("TRACE_TEST_POSTGRES");

    public static async Task<string> NewDatabaseAsync()
    {
        var server = ServerConnectionString ?? throw new InvalidOperationException("TRACE_TEST_POSTGRES is not set: scripts/test starts a PostgreSQL server and sets it.");
        var name = "trace_" + Guid.NewGuid().ToString("N")[..12];
        await using (var conn = new NpgsqlConnection(server))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }
}

/// <summary>A fact that needs the PostgreSQL server: skipped locally without it, run (and failing loudly) under CI.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (Postgres.ServerConnectionString is null && !RepoPaths.OnCi)
            Skip = "TRACE_TEST_POSTGRES not set (scripts/test starts PostgreSQL and sets it): skipped";
    }
}
