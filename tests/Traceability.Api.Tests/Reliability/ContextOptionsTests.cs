using FluentAssertions;
using Microsoft.Data.Sqlite;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Tests.Reliability;

/// <summary>
/// A context built by hand (the benchmarks, these tests) reaches SQLite as the service's contexts do: through
/// <see cref="TraceDbContext.Configure"/>, with the per-connection settings applied on open. Real SQLite file.
/// </summary>
public sealed class ContextOptionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("trace-context-options").FullName;

    [Theory]
    [InlineData("synchronous", 1L)]       // NORMAL
    [InlineData("cache_size", -32768L)]   // 32 MiB
    [InlineData("temp_store", 2L)]        // MEMORY
    [InlineData("wal_autocheckpoint", 65536L)]
    public async Task AHandBuiltContextHasTheServicesConnectionSettings(string pragma, long expected)
    {
        await using var db = TraceDbContext.Open(Path.Combine(_dir, "hand.db"));
        var conn = await Sql.OpenAsync(db, CancellationToken.None);
        (await Sql.LongAsync(conn, null, $"PRAGMA {pragma}", CancellationToken.None)).Should().Be(expected);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
