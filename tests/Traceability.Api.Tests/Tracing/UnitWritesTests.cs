using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Recall;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Observability;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Tests.Lifecycle;
using Traceability.Api.Tests.Support;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Tests.Tracing;

/// <summary>
/// The unit store writes units that one event changes the same way by one UPDATE per distinct change
/// (<see cref="UnitStore.SetBasedFrom"/>), the others by one upsert each. The same ledger (commissioning, packing into
/// cases, shipping, receiving, unpacking, selling, a lot put on hold, then the recall of both lots through
/// <see cref="RecallLot"/>) is captured in-process through the capture handler and the custody step, once with every
/// unit upserted on its own, once with every change of an existing unit set-based, and once as the service does it; the
/// units table must end the same, row for row and column for column, on a real SQLite file and on PostgreSQL.
/// </summary>
public sealed class UnitWritesTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-05T10:00:00Z", CultureInfo.InvariantCulture);
    private static readonly string Gtin = TracingDocs.Gtin("00001");
    private static readonly string Plant = TracingDocs.SglnDigitalLink("00001");
    private static readonly string StoreA = TracingDocs.SglnDigitalLink("00101");
    private static readonly string StoreB = TracingDocs.SglnDigitalLink("00102");

    [Fact]
    public async Task ARecallAndTheMovesBeforeItLeaveTheSameUnitRowsSetBasedAsUpsertedOneByOneOnSqlite()
    {
        var dir = Directory.CreateTempSubdirectory("trace-unit-writes-").FullName;
        try
        {
            var rows = new Dictionary<int, List<string>>();
            foreach (var setBasedFrom in new[] { int.MaxValue, 1, UnitStore.SetBasedFrom })
                rows[setBasedFrom] = await LedgerAsync(Path.Combine(dir, $"units-{setBasedFrom}.db"), postgres: false, setBasedFrom);
            Expect(rows);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [PostgresFact]
    public async Task ARecallAndTheMovesBeforeItLeaveTheSameUnitRowsSetBasedAsUpsertedOneByOneOnPostgres()
    {
        var rows = new Dictionary<int, List<string>>();
        foreach (var setBasedFrom in new[] { int.MaxValue, 1, UnitStore.SetBasedFrom })
            rows[setBasedFrom] = await LedgerAsync(await Postgres.NewDatabaseAsync(), postgres: true, setBasedFrom);
        Expect(rows);
    }

    private static void Expect(Dictionary<int, List<string>> rows)
    {
        var oneByOne = rows[int.MaxValue];
        // 300 units of lot L1 and 80 of L2, 3 cases; the recall names every unit of both lots.
        oneByOne.Should().HaveCount(383);
        oneByOne.Count(r => r.Contains("|recalled|", StringComparison.Ordinal)).Should().Be(380);
        var before = oneByOne.Where(r => r.Contains("|recalled|", StringComparison.Ordinal)).GroupBy(r => r.Split('|')[5]).ToDictionary(g => g.Key, g => g.Count());
        before.Should().BeEquivalentTo(new Dictionary<string, int>
        {
            ["sold"] = 5, [UnitStatus.AtHolder] = 195, [UnitStatus.InTransit] = 100, [UnitStatus.Commissioned] = 80,
        }, "the recall keeps each unit's custody status: sold, at the dealer (unpacked or still in its case), on its way, on hold at the plant");
        foreach (var (setBasedFrom, written) in rows)
        {
            written.Should().HaveCount(oneByOne.Count);
            written.Zip(oneByOne).Where(p => p.First != p.Second).Take(3).Select(p => $"{p.First} instead of {p.Second}")
                .Should().BeEmpty($"set-based from {setBasedFrom} units, the rows are those the per-unit upserts leave");
        }
    }

    /// <summary>Builds the ledger on a new database and returns its units, one line per row, every column.</summary>
    private static async Task<List<string>> LedgerAsync(string database, bool postgres, int setBasedFrom)
    {
        await using var db = TraceDbContext.Open(database, postgres);
        await SchemaMigrator.MigrateAsync(db);
        var conn = await Sql.OpenAsync(db, default);
        var at = DbTime.Format(Now);
        foreach (var (id, role, region) in new[] { ("m_maker", "manufacturer", "320506"), ("m_dealer_a", "dealer", "310115"), ("m_dealer_b", "dealer", "440305") })
            await Sql.ExecAsync(conn, null, "INSERT INTO members (id, name, role, region_codes, created_at) VALUES (@i, @i, @r, @rc, @t)", default,
                ("@i", id), ("@r", role), ("@rc", region), ("@t", at));
        foreach (var (id, member, region) in new[] { (Plant, "m_maker", "320506"), (StoreA, "m_dealer_a", "310115"), (StoreB, "m_dealer_b", "440305") })
            await Sql.ExecAsync(conn, null, "INSERT INTO locations (id, name, region_code, member_id, created_at) VALUES (@i, @i, @r, @m, @t)", default,
                ("@i", id), ("@r", region), ("@m", member), ("@t", at));
        await Sql.ExecAsync(conn, null, "INSERT INTO products (gtin, name, owner_member_id, created_at) VALUES (@g, 'Baijiu 500 ml', 'm_maker', @t)", default,
            ("@g", Gtin), ("@t", at));

        var clock = new TestClock(Now);
        using var writeLock = new CaptureWriteLock();
        var capture = Capture(db, writeLock, clock, setBasedFrom);
        var (maker, dealerA) = (await CallerAsync(db, "m_maker"), await CallerAsync(db, "m_dealer_a"));
        async Task CaptureAsync(Caller caller, params JsonObject[] events)
        {
            clock.Set(clock.GetUtcNow().AddSeconds(1));
            await capture.Handle(new CaptureEpcisDocument.Command(EpcisParser.ParseJson(TracingDocs.Document(events)), caller), default);
        }

        var docs = new TracingDocs();
        var l1 = Enumerable.Range(1, 300).Select(i => TracingDocs.Unit(Gtin, "A" + i.ToString("D3", CultureInfo.InvariantCulture))).ToArray();
        var l2 = Enumerable.Range(1, 80).Select(i => TracingDocs.Unit(Gtin, "B" + i.ToString("D3", CultureInfo.InvariantCulture))).ToArray();
        var cases = Enumerable.Range(1, 3).Select(Sscc).ToArray(); // the same in every run (TracingDocs.NextSscc counts on)
        await CaptureAsync(maker, docs.Commission("L1", Plant, l1[..150]), docs.Commission("L1", Plant, l1[150..]), docs.Commission("L2", Plant, l2));
        await CaptureAsync(maker, docs.Pack(cases[0], l1[..100]), docs.Pack(cases[1], l1[100..200]), docs.Pack(cases[2], l1[200..]));
        await CaptureAsync(maker, docs.Ship(Plant, StoreA, "PO-1", cases[0], cases[1]), docs.Ship(Plant, StoreB, "PO-2", cases[2]));
        await CaptureAsync(dealerA, docs.Receive(StoreA, cases[0], cases[1]));
        await CaptureAsync(dealerA, docs.Unpack(cases[0]), docs.Sell(StoreA, l1[..5]));
        await CaptureAsync(maker, docs.InspectLot("non_conformant", Plant, Gtin, "L2"));
        (await Sql.LongAsync(conn, null, "SELECT COUNT(*) FROM units WHERE status = 'on_hold'", default)).Should().Be(80, "lot L2 is on hold before its recall");

        clock.Set(clock.GetUtcNow().AddSeconds(1));
        var recall = new RecallLot(db, capture, clock);
        foreach (var lot in new[] { "L1", "L2" })
            await recall.Handle(new RecallLot.Command(new RecallLot.RecallRequest(Gtin, lot, "contamination"), maker), default);

        var rows = await Sql.ListAsync(conn, null,
            "SELECT epc, gtin, lot, serial, status, status_before_hold, holder_member_id, location_id, region_code, parent_epc, shipped_to_member_id, " +
            "commissioned_sequence, last_event_sequence, updated_at FROM units ORDER BY epc",
            r => string.Join('|', Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? "∅" : Convert.ToString(r.GetValue(i), CultureInfo.InvariantCulture))), default);
        return rows;
    }

    private static string Sscc(int serial)
    {
        var digits = "0" + TracingDocs.CompanyPrefix + serial.ToString("D9", CultureInfo.InvariantCulture);
        return "https://id.gs1.org/00/" + digits + Gs1Identifiers.CheckDigit(digits);
    }

    private static CaptureEpcisDocument Capture(TraceDbContext db, CaptureWriteLock writeLock, TimeProvider clock, int setBasedFrom)
    {
        var options = new TraceOptions();
        var checkpointer = new SqliteCheckpointer(options, writeLock, Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteCheckpointer>.Instance);
        return new CaptureEpcisDocument(db, writeLock, new EventHashIndex(), checkpointer, options, clock, [new CustodyStep(store: new UnitStore(setBasedFrom))],
            new TraceMetrics(Metrics.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), Metrics.GetRequiredService<IServiceScopeFactory>(), clock),
            new LedgerAppends());
    }

    /// <summary>Only for the meter the capture records into.</summary>
    private static readonly ServiceProvider Metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private static async Task<Caller> CallerAsync(TraceDbContext db, string id)
    {
        var m = await db.Members.AsNoTracking().FirstAsync(x => x.Id == id);
        return new Caller(m.Id, m.Role, m.Name, m.Gln, m.RegionCodes);
    }
}
