using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Tests.Support;
using Traceability.Testing;

namespace Traceability.Api.Tests;

/// <summary>
/// How capture stores events in SQLite: events captured before are found through the in-memory hash map (rebuilt at
/// start-up, rows from before migration 0006 keyed on the way), and the WAL is copied into the database file in the
/// background.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class CaptureStorageTests(ChainFixture chain)
{
    [Fact]
    public async Task FindsEventsCapturedBeforeARestartIncludingRowsWithoutHashKey()
    {
        var dir = chain.Folders.Create("trace-storage-");
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        var events = Enumerable.Range(0, 3).Select(_ => EpcisDocs.Commissioning()).ToArray();
        IReadOnlyList<Traceability.Api.Features.Capture.CaptureReceipt> first;
        string makerKey;
        await using (var svc = chain.Start(dir, registry))
        {
            var (maker, _) = await svc.MemberAsync("manufacturer");
            makerKey = maker.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
            first = await (await TraceService.CaptureAsync(maker, EpcisDocs.Document(events))).ReceiptsAsync();
            svc.Scalar("SELECT COUNT(*) FROM events WHERE hash_key IS NULL").Should().Be(0);
            // as a ledger written before migration 0006 looks
            svc.Execute("UPDATE events SET hash_key = NULL").Should().Be(3);
        }

        await using (var svc = chain.Start(dir, registry))
        {
            var again = await TraceService.CaptureAsync(svc.Client(makerKey),
                EpcisDocs.Document([.. events.Select(e => (JsonObject)e.DeepClone()), EpcisDocs.Commissioning()]));
            var receipts = await again.ReceiptsAsync();
            for (var i = 0; i < 3; i++) receipts[i].Promise().Should().Be(first[i].Promise(), "event {0} was captured before the restart", i);
            receipts[3].Sequence.Should().Be(4);
            svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(4);
            svc.Scalar("SELECT COUNT(*) FROM events WHERE hash_key IS NULL").Should().Be(0, "the first capture after start-up keys the old rows");
        }
    }

    [Fact]
    public async Task ASecondServiceOnTheSameSqliteFileRefusesToStart()
    {
        var dir = chain.Folders.Create("trace-storage-");
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        await using (var first = chain.Start(dir, registry))
        {
            var second = () => chain.Start(dir, registry);
            second.Should().Throw<Exception>().Where(e => e.ToString().Contains("is in use by another Traceability service process"));
            var (maker, _) = await first.MemberAsync("manufacturer"); // the first goes on
            (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(1))).StatusCode.Should().Be(HttpStatusCode.Created);
        }

        await using var again = chain.Start(dir, registry); // the lock went with the first service
        var (maker2, _) = await again.MemberAsync("manufacturer");
        (await TraceService.CaptureAsync(maker2, EpcisDocs.Commissioning(1))).StatusCode.Should().Be(HttpStatusCode.Created);
        again.Scalar("SELECT COUNT(*) FROM events").Should().Be(2);
    }

    [Fact]
    public async Task StoresTextOutsideAsciiExactly()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        const string lot = "批次-Ä-€-😀"; // CJK, Latin-1, three-byte and four-byte UTF-8
        var e = EpcisDocs.Commissioning();
        e["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = lot };
        var receipt = (await (await TraceService.CaptureAsync(maker, EpcisDocs.Document(e))).ReceiptsAsync())[0];

        var stored = await maker.GetAnswerAsync<Traceability.Api.Features.Events.EventsApi.EventResponse>($"api/v1/events/{receipt.Sequence}");
        ((string)stored.Event["ilmd"]!["cbvmda:lotNumber"]!).Should().Be(lot, "the stored EPCIS event (JSON-LD) keeps every character");
        var json = svc.Text("SELECT json FROM events WHERE sequence = 1");
        var rehashed = Traceability.Ledger.Epcis.EventHash.Compute(Traceability.Ledger.Epcis.EpcisParser.ParseEventJson(json));
        rehashed.Should().Be(receipt.EventHash, "the stored JSON hashes to the receipt's hash");
        svc.Text("SELECT lot FROM units").Should().Be(lot);
    }

    [Fact]
    public async Task CopiesTheWriteAheadLogIntoTheDatabaseFileInTheBackground()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(10))).StatusCode.Should().Be(HttpStatusCode.Created);

        var checkpointer = svc.Services.GetRequiredService<SqliteCheckpointer>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (checkpointer.Checkpoints == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        checkpointer.Checkpoints.Should().BeGreaterThan(0, "a checkpoint runs about a second after the first capture since the last one");

        // The database file alone, without its -wal, holds the events.
        var copy = Path.Combine(chain.Folders.Create("trace-checkpoint-"), "copy.db");
        File.Copy(svc.DatabasePath, copy);
        await using var conn = new SqliteConnection($"Data Source={copy};Pooling=False");
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM events";
        Convert.ToInt64(await cmd.ExecuteScalarAsync()).Should().Be(10);
    }
}

/// <summary>The event hash map against a real SQLite file, including hashes that share their first 8 bytes.</summary>
public sealed class EventHashIndexTests : IDisposable
{
    private const string Suffix = "?ver=CBV2.0";
    private static readonly string SharedPrefix = EventHashPrefix("0123456789abcdef");
    private readonly string _dir = Directory.CreateTempSubdirectory("trace-hashmap-").FullName;

    private static string EventHashPrefix(string first16) => "ni:///sha-256;" + first16;

    private static string Hash(string first16, char fill) => EventHashPrefix(first16) + new string(fill, 48) + Suffix;

    [Fact]
    public void KeyIsTheFirstEightBytesOfTheDigestAsASignedInteger()
    {
        EventHashIndex.Key(Hash("0000000000000001", 'a')).Should().Be(1);
        EventHashIndex.Key(Hash("ffffffffffffffff", 'a')).Should().Be(-1);
        EventHashIndex.Key(Hash("8000000000000000", '0')).Should().Be(long.MinValue);
    }

    [Fact]
    public async Task TellsApartHashesSharingTheirFirstEightBytes()
    {
        var a = SharedPrefix + new string('a', 48) + Suffix;
        var b = SharedPrefix + new string('b', 48) + Suffix;
        var c = SharedPrefix + new string('c', 48) + Suffix;
        var other = Hash("fedcba9876543210", '1');
        await using var conn = new SqliteConnection($"Data Source={Path.Combine(_dir, "ledger.db")};Pooling=False");
        await conn.OpenAsync();
        await using (var create = conn.CreateCommand())
        {
            create.CommandText = "CREATE TABLE events (sequence INTEGER PRIMARY KEY, event_hash TEXT NOT NULL, hash_key INTEGER);" +
                                 $"INSERT INTO events VALUES (1, '{a}', {EventHashIndex.Key(a)}), (2, '{other}', NULL), (3, '{b}', NULL);";
            await create.ExecuteNonQueryAsync();
        }

        var index = new EventHashIndex();
        await using (var tx = conn.BeginTransaction())
        {
            await index.LoadAsync(conn, tx, default);
            await tx.CommitAsync();
        }

        index.Count.Should().Be(3);
        index.Candidate(a).Should().Be(1);
        index.Candidate(b).Should().Be(3, "the second hash with that key is kept by full hash");
        index.Candidate(other).Should().Be(2, "a row without hash_key is keyed on loading");
        index.Candidate(c).Should().Be(1, "a hash sharing the key is a candidate, for capture to confirm against the stored hash");
        index.Candidate(Hash("0000000000000000", 'a')).Should().BeNull();

        index.Add([(c, 4)]);
        index.Candidate(c).Should().Be(4);
        index.Candidate(a).Should().Be(1);
        await using var keys = conn.CreateCommand();
        keys.CommandText = "SELECT COUNT(*) FROM events WHERE hash_key IS NULL";
        Convert.ToInt64(await keys.ExecuteScalarAsync()).Should().Be(0);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
