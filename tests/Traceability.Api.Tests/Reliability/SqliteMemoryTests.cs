using Microsoft.Data.Sqlite;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Tests.Reliability;

/// <summary>Runs alone: SQLite's memory counter and its soft heap limit are process-wide.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SqliteMemoryCollection
{
    public const string Name = "SQLite memory (process-wide)";
}

/// <summary>
/// The service bounds SQLite's page caches across its pooled connections: each connection may cache 32 MiB, and
/// without a bound every connection that reads a large file keeps its own copy (a long-running service grew by the
/// number of connections times the cache). Real SQLite file, the service's own connection settings.
/// </summary>
[Collection(SqliteMemoryCollection.Name)]
public sealed class SqliteMemoryTests : IDisposable
{
    private const int Connections = 4;
    private const long MiB = 1024 * 1024;
    private readonly string _dir = Directory.CreateTempSubdirectory("trace-sqlite-memory").FullName;

    [Fact]
    public async Task PageCachesOfManyConnectionsStayWithinTheBound()
    {
        var path = Path.Combine(_dir, "big.db");
        await FillAsync(path, megabytes: 48);

        SqliteConnectionSettings.LimitMemory(0); // no bound: what the connections take on their own
        var unbounded = await GrowthOfReadingAsync(path);
        unbounded.Should().BeGreaterThan(100 * MiB, "four connections each cache up to 32 MiB of a 48 MB file without a bound");

        SqliteConnectionSettings.LimitMemory(16 * MiB);
        try
        {
            await GrowthOfReadingAsync(path);
            SqliteConnectionSettings.MemoryUsed().Should().BeLessThan(16 * MiB + 4 * MiB,
                "past the bound each connection recycles its own pages (the slack: schemas, statements, a page or two each)");
        }
        finally
        {
            SqliteConnectionSettings.LimitMemory(64 * MiB); // the service's default, for the tests that run after
        }
    }

    /// <summary>SQLite's memory after four fresh connections (the service's settings) each read the whole file, less before.</summary>
    private static async Task<long> GrowthOfReadingAsync(string path)
    {
        SqliteConnection.ClearAllPools();
        var before = SqliteConnectionSettings.MemoryUsed();
        var open = new List<SqliteConnection>();
        try
        {
            for (var i = 0; i < Connections; i++)
            {
                var conn = new SqliteConnection($"Data Source={path};Pooling=False");
                open.Add(conn);
                await conn.OpenAsync();
                await SqliteConnectionSettings.ApplyAsync(conn, CancellationToken.None);
                await using var read = conn.CreateCommand();
                read.CommandText = "SELECT sum(length(body)) FROM filler";
                (await read.ExecuteScalarAsync()).Should().NotBeNull();
            }
            return SqliteConnectionSettings.MemoryUsed() - before;
        }
        finally
        {
            foreach (var conn in open) await conn.DisposeAsync();
        }
    }

    private static async Task FillAsync(string path, int megabytes)
    {
        await using var conn = new SqliteConnection($"Data Source={path};Pooling=False");
        await conn.OpenAsync();
        await using var tx = conn.BeginTransaction();
        await using (var create = conn.CreateCommand())
        {
            create.CommandText = "CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB NOT NULL)";
            await create.ExecuteNonQueryAsync();
        }
        await using var insert = conn.CreateCommand();
        insert.CommandText = "INSERT INTO filler (body) VALUES (randomblob(3000))";
        for (var i = 0; i < megabytes * MiB / 3000; i++) await insert.ExecuteNonQueryAsync();
        await tx.CommitAsync();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
