using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json;
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
using Traceability.Ledger.Epcis;

namespace Traceability.Benchmarks;

/// <summary>
/// scripts/bench trace, on a SQLite database of 1,000,000 events:
/// <list type="bullet">
/// <item>history of an item with 50 events, p99 (target &lt; 10 ms);</item>
/// <item>trace of a 100,000-unit lot that went through cases, pallets and 20 dealers (target &lt; 2 s);</item>
/// <item>recall of that lot, recorded on the ledger through the capture pipeline (target &lt; 10 s).</item>
/// </list>
/// How the database is built: the 100,000-unit lot goes through the real capture handler in-process (every event
/// validated, hashed and passed through the custody step: commissioning, packing into 2,000 cases and 100 pallets,
/// shipping 5 pallets to each of 20 dealers, receiving, unpacking, 10,000 single-unit sales). The rest, up to 1,000,000,
/// are items of 50 events each (a commissioning and 49 observations) validated and hashed by the capture validator and
/// written with raw inserts (events, event_epcs, event_parties, units), as the capture handler writes them, without its
/// per-event round trips. The built database is kept in bench-results/tmp and copied for each run (the recall changes it).
/// </summary>
public static class TraceBenchmarks
{
    public const int TotalEvents = 1_000_000;
    public const int LotUnits = 100_000;
    public const int Dealers = 20;
    public const int UnitsPerCase = 50;
    public const int CasesPerPallet = 20;
    public const int SalesPerDealer = 500;
    public const int EventsPerItem = 50;
    private const string BuildVersion = "v2"; // v2: events keyed by hash_key (SQLite migration 0006)
    private const string LotCode = "BENCH-LOT-1";

    private static readonly string LotGtin = Gtin("00001");
    private static readonly string FillerGtin = Gtin("00002");

    public static IReadOnlyList<Figure> Run(Action<string> log) => RunAsync(log).GetAwaiter().GetResult();

    private static async Task<IReadOnlyList<Figure>> RunAsync(Action<string> log)
    {
        var figures = new List<Figure>();
        var basePath = await BaseDatabaseAsync(log, figures);
        var dir = Path.GetDirectoryName(basePath)!;
        var workPath = Path.Combine(dir, "trace-work.db");
        foreach (var f in new[] { workPath, workPath + "-wal", workPath + "-shm" }) File.Delete(f);
        File.Copy(basePath, workPath);
        await using var db = Open(workPath);
        var conn = await Sql.OpenAsync(db, default);
        var eventCount = Convert.ToInt64(await Sql.Command(conn, null, "SELECT COUNT(*) FROM events").ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        log($"  database: {eventCount:N0} events, {new FileInfo(workPath).Length / (1024 * 1024):N0} MiB");
        var maker = await CallerAsync(db, "m_bench_maker");
        // BENCH_TRACE_PARTS runs only some parts (history, lot-history, trace, recall), BENCH_TRACE_LOOPS repeats the
        // history and trace parts that many times over: to profile one part, or compare two builds part by part.
        var parts = (Environment.GetEnvironmentVariable("BENCH_TRACE_PARTS") ?? "history,lot-history,trace,recall").Split(',', StringSplitOptions.TrimEntries);
        var loops = int.TryParse(Environment.GetEnvironmentVariable("BENCH_TRACE_LOOPS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 1000 ? n : 1;
        static TimeSpan Cpu() => Process.GetCurrentProcess().TotalProcessorTime;

        // 1. Item history, 50 events each, as the product's manufacturer (visibility lookups included), serialised to JSON.
        var history = new ItemHistory(db);
        if (parts.Contains("history"))
        {
            var items = await Sql.ListAsync(conn, null, "SELECT epc FROM units WHERE gtin = @g ORDER BY epc", r => r.GetString(0), default, ("@g", FillerGtin));
            var random = new Random(42);
            var timings = new List<double>();
            var eventsSeen = 0;
            var cpu = Cpu();
            for (var i = 0; i < 200 + 1000 * loops; i++)
            {
                var epc = items[random.Next(items.Count)];
                var clock = Stopwatch.StartNew();
                var h = await history.Handle(new ItemHistory.Query(epc, maker), default);
                var bytes = JsonSerializer.SerializeToUtf8Bytes(h, JsonSerializerOptions.Web);
                clock.Stop();
                if (i < 200) continue; // warm-up
                timings.Add(clock.Elapsed.TotalMilliseconds);
                eventsSeen = h.Events.Count;
                GC.KeepAlive(bytes);
            }
            cpu = Cpu() - cpu;
            timings.Sort();
            var p99 = timings[(int)Math.Ceiling(timings.Count * 0.99) - 1];
            var p50 = timings[timings.Count / 2];
            figures.Add(new Figure("item history p99 (item with 50 events, 1,000,000-event database)", Math.Round(p99, 2), "ms",
                $"{timings.Count:N0} requests over random items ({eventsSeen} events each) after 200 warm-up; p50 {p50:F2} ms, max {timings[^1]:F2} ms; " +
                $"ItemHistory handler as the owning manufacturer + JSON serialisation, one thread; process CPU {cpu.TotalMilliseconds / (200 + 1000 * loops):F2} ms per request",
                "< 10 ms", p99 < 10));
        }

        if (parts.Contains("lot-history"))
        {
            var lotItem = (await Sql.ListAsync(conn, null, "SELECT epc FROM units WHERE gtin = @g AND lot = @l AND status = 'sold' LIMIT 1", r => r.GetString(0), default,
                ("@g", LotGtin), ("@l", LotCode)))[0];
            var lotTimings = new List<double>();
            var lotEvents = 0;
            var lotCpu = Cpu();
            for (var i = 0; i < 20 + 100 * loops; i++)
            {
                var clock = Stopwatch.StartNew();
                var h = await history.Handle(new ItemHistory.Query(lotItem, maker), default);
                var bytes = JsonSerializer.SerializeToUtf8Bytes(h, JsonSerializerOptions.Web);
                clock.Stop();
                if (i >= 20) lotTimings.Add(clock.Elapsed.TotalMilliseconds);
                lotEvents = h.Events.Count;
                GC.KeepAlive(bytes);
            }
            lotCpu = Cpu() - lotCpu;
            lotTimings.Sort();
            figures.Add(new Figure("item history p99, unit of the 100,000-unit lot (through a case and a pallet)",
                Math.Round(lotTimings[(int)Math.Ceiling(lotTimings.Count * 0.99) - 1], 2), "ms",
                $"{lotTimings.Count:N0} requests after 20 warm-up, {lotEvents} events (its own and its case's and pallet's while inside; the commissioning event names 1,000 EPCs); " +
                $"p50 {lotTimings[lotTimings.Count / 2]:F2} ms; process CPU {lotCpu.TotalMilliseconds / (20 + 100 * loops):F2} ms per request"));
        }

        // 2. Batch trace of the lot.
        // Every unit, page after page of the largest page the API allows.
        if (parts.Contains("trace"))
        {
            var trace = new BatchTrace(db, new LotCounts());
            var traceRuns = new List<double>();
            BatchTrace.TraceResponse? traced = null;
            for (var i = 0; i < 1 + 3 * loops; i++)
            {
                var cpu = Cpu();
                var clock = Stopwatch.StartNew();
                var (bytes, pages, listed) = (0L, 0, 0);
                string? after = null;
                do
                {
                    traced = await trace.Handle(new BatchTrace.Query(LotGtin, LotCode, maker, BatchTrace.MaxLimit.ToString(CultureInfo.InvariantCulture), after), default);
                    bytes += JsonSerializer.SerializeToUtf8Bytes(traced, JsonSerializerOptions.Web).Length;
                    (pages, listed, after) = (pages + 1, listed + traced.Units.Count, traced.NextAfter);
                }
                while (after is not null);
                clock.Stop();
                traceRuns.Add(clock.Elapsed.TotalSeconds);
                log($"  trace run {i + 1}: {clock.Elapsed.TotalSeconds:F3} s (process CPU {(Cpu() - cpu).TotalSeconds:F3} s), {listed:N0} of {traced.Count:N0} units in {pages} pages, {traced.ByHolder.Count} holder groups, {bytes / 1024:N0} KiB of JSON");
            }
            var traceMedian = traceRuns.Skip(1).Order().ElementAt((traceRuns.Count - 1) / 2);
            figures.Add(new Figure("batch trace of a 100,000-unit lot (cases, pallets, 20 dealers)", Math.Round(traceMedian, 3), "s",
                $"median of {traceRuns.Count - 1} after a first run ({string.Join(", ", traceRuns.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)))} s); every unit with its state in pages of {BatchTrace.MaxLimit:N0}, " +
                $"byHolder ({traced!.ByHolder.Count} groups), byStatus ({string.Join(", ", traced.ByStatus.Select(kv => $"{kv.Key} {kv.Value:N0}"))}), serialised to JSON",
                "< 2 s", traceMedian < 2));
        }

        // 3. Recall of the lot: 10 ObjectEvents of 10,000 EPCs through the capture handler and the custody step.
        if (parts.Contains("recall"))
        {
            // The recall's capture handler is new, so its first capture loads the ledger's event-hash map, which a running
            // service loaded at start-up: timed apart here (on a map of its own, thrown away) so the figure reads both ways.
            var mapClock = Stopwatch.StartNew();
            await using (var tx = await conn.BeginTransactionAsync()) await new EventHashIndex().LoadAsync(conn, tx, default);
            mapClock.Stop();
            var recall = new RecallLot(db, Capture(db), TimeProvider.System);
            var recallCpu = Cpu();
            var recallClock = Stopwatch.StartNew();
            var recalled = await recall.Handle(new RecallLot.Command(new RecallLot.RecallRequest(LotGtin, LotCode, "benchmark"), maker), default);
            recallClock.Stop();
            recallCpu = Cpu() - recallCpu;
            figures.Add(new Figure("recall of the 100,000-unit lot", Math.Round(recallClock.Elapsed.TotalSeconds, 3), "s",
                $"one run, process CPU {recallCpu.TotalSeconds:F3} s; {recalled.Units:N0} units in {recalled.LastEventSequence - recalled.FirstEventSequence + 1} events (validated, hashed, appended, " +
                $"units marked recalled, {recalled.ByHolder.Count} recall alerts by holder and region) in one capture transaction; of it, loading the event-hash map " +
                $"(the new capture handler's first capture does it, a running service did it at start-up) takes about {mapClock.Elapsed.TotalSeconds:F3} s, timed apart", "< 10 s",
                recallClock.Elapsed.TotalSeconds < 10));
        }

        await db.DisposeAsync();
        SqliteConnection.ClearAllPools();
        foreach (var f in new[] { workPath, workPath + "-wal", workPath + "-shm" }) File.Delete(f);
        return figures;
    }

    /// <summary>The built 1,000,000-event database (built now, with its figure, when it is not there yet); shared with the epcis suite.</summary>
    internal static async Task<string> BaseDatabaseAsync(Action<string> log, List<Figure> figures)
    {
        var dir = Path.Combine(Environment.GetEnvironmentVariable("BENCH_RESULTS_DIR") ?? Path.Combine(Directory.GetCurrentDirectory(), "bench-results"), "tmp");
        Directory.CreateDirectory(dir);
        var basePath = Path.Combine(dir, $"trace-base-{BuildVersion}.db");
        var built = File.Exists(basePath) ? await SchemaOfAsync(basePath) : null;
        var stale = built is not null && built != LatestMigration;
        if (stale) log($"  {basePath} has the schema of migration {built}, this build {LatestMigration}: rebuilding it");
        if (!File.Exists(basePath) || stale || Environment.GetEnvironmentVariable("TRACE_BENCH_REBUILD") == "1")
        {
            var build = await BuildAsync(basePath, log);
            figures.Add(new Figure("building the 1,000,000-event database", Math.Round(build.Seconds, 1), "s",
                $"{build.LotEvents:N0} events of the 100,000-unit lot through the capture handler in {build.LotSeconds:F1} s; " +
                $"{build.FillerEvents:N0} events of {build.FillerEvents / EventsPerItem:N0} items validated, hashed and bulk-inserted"));
        }
        else log($"  reusing {basePath} (TRACE_BENCH_REBUILD=1 rebuilds it)");
        return basePath;
    }

    /// <summary>The last SQLite migration of this build: a database built by an older schema is built again (its indexes differ).</summary>
    private static string LatestMigration => typeof(TraceDbContext).Assembly.GetManifestResourceNames()
        .Where(n => n.Contains(".Migrations.Sqlite.", StringComparison.Ordinal)).Select(n => n[(n.IndexOf(".Migrations.Sqlite.", StringComparison.Ordinal) + 19)..^4])
        .Max(StringComparer.Ordinal) ?? "";

    private static async Task<string> SchemaOfAsync(string path)
    {
        await using var conn = new SqliteConnection($"Data Source={path};Pooling=False");
        await conn.OpenAsync();
        return Convert.ToString(await Sql.Command(conn, null, "SELECT MAX(version) FROM schema_migrations").ExecuteScalarAsync(), CultureInfo.InvariantCulture) ?? "";
    }

    /// <summary>The filler items' GTIN: items of 50 events, one hour apart, an item starting every minute from 2026-02-01.</summary>
    internal static string FillerItemGtin => FillerGtin;

    private sealed record BuildResult(double Seconds, double LotSeconds, int LotEvents, int FillerEvents);

    private static async Task<BuildResult> BuildAsync(string path, Action<string> log)
    {
        var total = Stopwatch.StartNew();
        var tmp = path + ".building";
        foreach (var f in new[] { tmp, tmp + "-wal", tmp + "-shm" }) File.Delete(f);
        await using var db = Open(tmp);
        await SchemaMigrator.MigrateAsync(db);
        var conn = await Sql.OpenAsync(db, default);
        await Sql.ExecAsync(conn, null, "PRAGMA synchronous=OFF", default);

        // Members, locations, products.
        var now = DbTime.Format(DateTimeOffset.UtcNow);
        async Task MemberAsync(string id, string role, string? gln, string regions) =>
            await Sql.ExecAsync(conn, null, "INSERT INTO members (id, name, role, gln, region_codes, created_at) VALUES (@i, @i, @r, @g, @rc, @t)", default,
                ("@i", id), ("@r", role), ("@g", gln), ("@rc", regions), ("@t", now));
        async Task LocationAsync(string id, string member, string region) =>
            await Sql.ExecAsync(conn, null, "INSERT INTO locations (id, name, region_code, member_id, created_at) VALUES (@i, @i, @r, @m, @t)", default,
                ("@i", id), ("@r", region), ("@m", member), ("@t", now));
        await MemberAsync("m_bench_maker", "manufacturer", null, "");
        await LocationAsync(SglnDl("00001"), "m_bench_maker", "320506");
        var regions = new[] { "110101", "120101", "130102", "140105", "150102", "210102", "220102", "230102", "310101", "320102",
            "330102", "340102", "350102", "360102", "370102", "410102", "420102", "430102", "440103", "450102" };
        for (var d = 0; d < Dealers; d++)
        {
            await MemberAsync(Dealer(d), "dealer", null, regions[d]);
            await LocationAsync(SglnDl((100 + d).ToString("D5", CultureInfo.InvariantCulture)), Dealer(d), regions[d]);
        }
        foreach (var (gtin, name) in new[] { (LotGtin, "Benchmark lot product"), (FillerGtin, "Benchmark filler product") })
            await Sql.ExecAsync(conn, null, "INSERT INTO products (gtin, name, owner_member_id, created_at) VALUES (@g, @n, 'm_bench_maker', @t)", default,
                ("@g", gtin), ("@n", name), ("@t", now));

        // The lot, through the capture handler.
        var lotClock = Stopwatch.StartNew();
        var maker = await CallerAsync(db, "m_bench_maker");
        var clock = DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture);
        string Time() => (clock = clock.AddSeconds(1)).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var lotEvents = 0;
        var hashes = new EventHashIndex(); // one map for the whole build, as the service keeps one
        async Task CaptureAsync(Caller caller, List<string> events)
        {
            foreach (var chunk in events.Chunk(1000))
            {
                var doc = $"{{\"@context\":[\"{Traceability.Ledger.Epcis.CbvVocabulary.StandardContext}\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\"," +
                          $"\"creationDate\":\"2026-01-01T00:00:00Z\",\"epcisBody\":{{\"eventList\":[{string.Join(",", chunk)}]}}}}";
                db.ChangeTracker.Clear();
                await Capture(db, hashes).Handle(new CaptureEpcisDocument.Command(EpcisParser.ParseJson(doc), caller), default);
                lotEvents += chunk.Length;
            }
        }
        string Epcs(IEnumerable<string> epcs) => string.Join(",", epcs.Select(e => $"\"{e}\""));
        var units = Enumerable.Range(0, LotUnits).Select(i => $"https://id.gs1.org/01/{LotGtin}/21/L{i:D6}").ToArray();
        var plant = SglnDl("00001");

        var commissioning = units.Chunk(1000).Select(chunk =>
            $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{Time()}\",\"eventTimeZoneOffset\":\"+00:00\",\"epcList\":[{Epcs(chunk)}],\"action\":\"ADD\"," +
            $"\"bizStep\":\"commissioning\",\"disposition\":\"active\",\"bizLocation\":{{\"id\":\"{plant}\"}},\"ilmd\":{{\"cbvmda:lotNumber\":\"{LotCode}\"}}}}").ToList();
        await CaptureAsync(maker, commissioning);
        var cases = Enumerable.Range(0, LotUnits / UnitsPerCase).Select(i => Sscc(1_000_000 + i)).ToArray();
        var pallets = Enumerable.Range(0, cases.Length / CasesPerPallet).Select(i => Sscc(2_000_000 + i)).ToArray();
        string Aggregation(string action, string bizStep, string parent, IEnumerable<string> children, string? where = null) =>
            $"{{\"type\":\"AggregationEvent\",\"eventTime\":\"{Time()}\",\"eventTimeZoneOffset\":\"+00:00\",\"parentID\":\"{parent}\",\"childEPCs\":[{Epcs(children)}]," +
            $"\"action\":\"{action}\",\"bizStep\":\"{bizStep}\"" + (where is null ? "" : $",\"bizLocation\":{{\"id\":\"{where}\"}}") + "}";
        await CaptureAsync(maker, cases.Select((c, i) => Aggregation("ADD", "packing", c, units.Skip(i * UnitsPerCase).Take(UnitsPerCase))).ToList());
        await CaptureAsync(maker, pallets.Select((p, i) => Aggregation("ADD", "packing", p, cases.Skip(i * CasesPerPallet).Take(CasesPerPallet))).ToList());
        await CaptureAsync(maker, pallets.Select((p, i) =>
            $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{Time()}\",\"eventTimeZoneOffset\":\"+00:00\",\"epcList\":[\"{p}\"],\"action\":\"OBSERVE\"," +
            $"\"bizStep\":\"shipping\",\"disposition\":\"in_transit\",\"readPoint\":{{\"id\":\"{plant}\"}}," +
            $"\"bizTransactionList\":[{{\"type\":\"po\",\"bizTransaction\":\"urn:epcglobal:cbv:bt:6901234000001:PO-{i}\"}}]," +
            $"\"destinationList\":[{{\"type\":\"owning_party\",\"destination\":\"{SglnDl((100 + i % Dealers).ToString("D5", CultureInfo.InvariantCulture))}\"}}]}}").ToList());
        for (var d = 0; d < Dealers; d++)
        {
            var store = SglnDl((100 + d).ToString("D5", CultureInfo.InvariantCulture));
            var mine = pallets.Where((_, i) => i % Dealers == d).ToList();
            var dealer = await CallerAsync(db, Dealer(d));
            var events = mine.Select(p => $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{Time()}\",\"eventTimeZoneOffset\":\"+00:00\",\"epcList\":[\"{p}\"]," +
                                          $"\"action\":\"OBSERVE\",\"bizStep\":\"receiving\",\"disposition\":\"in_progress\",\"bizLocation\":{{\"id\":\"{store}\"}}}}").ToList();
            events.AddRange(mine.Select(p => Aggregation("DELETE", "unpacking", p, cases.Where((_, ci) => pallets[ci / CasesPerPallet] == p), store)));
            var sold = mine.SelectMany(p => cases.Where((_, ci) => pallets[ci / CasesPerPallet] == p)).SelectMany(c => units.Skip(Array.IndexOf(cases, c) * UnitsPerCase).Take(UnitsPerCase))
                .Take(SalesPerDealer);
            events.AddRange(sold.Select(u => $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{Time()}\",\"eventTimeZoneOffset\":\"+00:00\",\"epcList\":[\"{u}\"]," +
                                             $"\"action\":\"OBSERVE\",\"bizStep\":\"retail_selling\",\"disposition\":\"retail_sold\",\"bizLocation\":{{\"id\":\"{store}\"}}}}"));
            await CaptureAsync(dealer, events);
        }
        lotClock.Stop();
        log($"  the lot: {lotEvents:N0} events through the capture handler in {lotClock.Elapsed.TotalSeconds:F1} s");

        // The filler: items of 50 events each, validated and hashed by the capture validator, then bulk-inserted.
        var fillerEvents = TotalEvents - lotEvents;
        var fillerItems = fillerEvents / EventsPerItem;
        fillerEvents = fillerItems * EventsPerItem;
        var next = lotEvents + 1L;
        var recordTime = DbTime.Format(DateTimeOffset.UtcNow);
        var fillerClock = Stopwatch.StartNew();
        string[] steps = ["storing", "loading", "transporting", "unloading", "stocking", "cycle_counting", "picking"];
        const int itemsPerBatch = 400;
        for (var first = 0; first < fillerItems; first += itemsPerBatch)
        {
            var count = Math.Min(itemsPerBatch, fillerItems - first);
            var json = new StringBuilder(count * EventsPerItem * 300);
            json.Append($"{{\"@context\":[\"{Traceability.Ledger.Epcis.CbvVocabulary.StandardContext}\"],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2026-01-01T00:00:00Z\",\"epcisBody\":{{\"eventList\":[");
            for (var i = 0; i < count; i++)
            {
                var item = $"https://id.gs1.org/01/{FillerGtin}/21/F{first + i:D7}";
                var t = DateTimeOffset.Parse("2026-02-01T00:00:00Z", CultureInfo.InvariantCulture).AddMinutes(first + i);
                for (var k = 0; k < EventsPerItem; k++)
                {
                    if (i + k > 0) json.Append(',');
                    var time = t.AddHours(k).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
                    json.Append(k == 0
                        ? $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{time}\",\"eventTimeZoneOffset\":\"+00:00\",\"epcList\":[\"{item}\"],\"action\":\"ADD\",\"bizStep\":\"commissioning\",\"disposition\":\"active\",\"bizLocation\":{{\"id\":\"{plant}\"}},\"ilmd\":{{\"cbvmda:lotNumber\":\"F{(first + i) / 1000}\"}}}}"
                        : $"{{\"type\":\"ObjectEvent\",\"eventTime\":\"{time}\",\"eventTimeZoneOffset\":\"+00:00\",\"epcList\":[\"{item}\"],\"action\":\"OBSERVE\",\"bizStep\":\"{steps[k % steps.Length]}\",\"readPoint\":{{\"id\":\"{plant}\"}}}}");
                }
            }
            json.Append("]}}");
            var validated = EpcisEventValidator.ValidateAll(EpcisParser.ParseJson(json.ToString()).Events);

            await using var tx = await conn.BeginTransactionAsync();
            await using var insert = Sql.Command(conn, tx,
                "INSERT INTO events (sequence, event_hash, event_id, event_type, event_time, record_time, biz_step, disposition, read_point, biz_location, submitter_id, json, hash_key) " +
                "VALUES (@s, @h, @h, @t, @et, @rt, @bs, @d, @rp, @bl, 'm_bench_maker', @j, @k)",
                ("@s", null), ("@h", null), ("@t", null), ("@et", null), ("@rt", recordTime), ("@bs", null), ("@d", null), ("@rp", null), ("@bl", null), ("@j", null), ("@k", null));
            await using var index = Sql.Command(conn, tx, "INSERT INTO event_epcs (epc, sequence, role) VALUES (@e, @s, 'epc')", ("@e", null), ("@s", null));
            await using var party = Sql.Command(conn, tx, "INSERT INTO event_parties (sequence, member_id, kind) VALUES (@s, 'm_bench_maker', 'party'), (@s, 'm_bench_maker', 'owner')", ("@s", null));
            await using var unit = Sql.Command(conn, tx,
                "INSERT INTO units (epc, gtin, lot, serial, status, holder_member_id, location_id, region_code, commissioned_sequence, last_event_sequence, updated_at) " +
                "VALUES (@e, @g, @l, @sr, 'at_holder', 'm_bench_maker', @loc, '320506', @cs, @ls, @u)",
                ("@e", null), ("@g", FillerGtin), ("@l", null), ("@sr", null), ("@loc", plant), ("@cs", null), ("@ls", null), ("@u", recordTime));
            foreach (var cmd in new[] { insert, index, party, unit }) cmd.Prepare();
            foreach (var v in validated)
            {
                var e = v.Event;
                var sequence = next++;
                insert.Parameters[0].Value = sequence;
                insert.Parameters[1].Value = v.EventHash;
                insert.Parameters[2].Value = e.Type;
                insert.Parameters[3].Value = DbTime.Format(e.EventTime);
                insert.Parameters[5].Value = (object?)e.BizStep ?? DBNull.Value;
                insert.Parameters[6].Value = (object?)e.Disposition ?? DBNull.Value;
                insert.Parameters[7].Value = (object?)e.ReadPoint ?? DBNull.Value;
                insert.Parameters[8].Value = (object?)e.BizLocation ?? DBNull.Value;
                insert.Parameters[9].Value = v.Json;
                insert.Parameters[10].Value = EventHashIndex.Key(v.EventHash);
                await insert.ExecuteNonQueryAsync();
                var epc = v.Identifiers[0].Epc;
                index.Parameters[0].Value = epc;
                index.Parameters[1].Value = sequence;
                await index.ExecuteNonQueryAsync();
                party.Parameters[0].Value = sequence;
                await party.ExecuteNonQueryAsync();
                if (v.Index % EventsPerItem == EventsPerItem - 1)
                {
                    unit.Parameters[0].Value = epc;
                    unit.Parameters[2].Value = "F" + ((first + v.Index / EventsPerItem) / 1000).ToString(CultureInfo.InvariantCulture);
                    unit.Parameters[3].Value = epc[(epc.LastIndexOf('/') + 1)..];
                    unit.Parameters[5].Value = sequence - EventsPerItem + 1;
                    unit.Parameters[6].Value = sequence;
                    await unit.ExecuteNonQueryAsync();
                }
            }
            await tx.CommitAsync();
            if ((first / itemsPerBatch) % 10 == 0)
                log($"  filler: {(first + count) * EventsPerItem:N0} of {fillerEvents:N0} events, {fillerClock.Elapsed.TotalSeconds:F0} s");
        }
        await Sql.ExecAsync(conn, null, "PRAGMA wal_checkpoint(TRUNCATE)", default);
        await Sql.ExecAsync(conn, null, "ANALYZE", default);
        if (WriteLocks.TryGetValue(db, out var writeLock)) writeLock.Dispose(); // its connection to the file, before the file moves
        await db.DisposeAsync();
        SqliteConnection.ClearAllPools();
        File.Move(tmp, path, overwrite: true);
        foreach (var f in new[] { tmp + "-wal", tmp + "-shm" }) File.Delete(f);
        log($"  built {path}: {lotEvents + fillerEvents:N0} events in {total.Elapsed.TotalSeconds:F1} s");
        return new BuildResult(total.Elapsed.TotalSeconds, lotClock.Elapsed.TotalSeconds, lotEvents, fillerEvents);
    }

    private static TraceDbContext Open(string path) => TraceDbContext.Open(path);

    // One capture lock per database, as the service has: on SQLite the lock keeps the connection captures append through.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TraceDbContext, CaptureWriteLock> WriteLocks = new();

    private static CaptureEpcisDocument Capture(TraceDbContext db, EventHashIndex? hashes = null)
    {
        var options = new Traceability.Api.Infrastructure.Configuration.TraceOptions();
        // the checkpointer is not started here: Build checkpoints the file itself when it is done
        var writeLock = WriteLocks.GetValue(db, _ => new CaptureWriteLock());
        var checkpointer = new SqliteCheckpointer(options, writeLock, Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteCheckpointer>.Instance);
        return new(db, writeLock, hashes ?? new EventHashIndex(), checkpointer, options, TimeProvider.System, [new CustodyStep()],
            new TraceMetrics(MetricsServices.GetRequiredService<IMeterFactory>(), MetricsServices.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System),
            new LedgerAppends());
    }

    /// <summary>Only for the meter the capture records into; nothing listens to it here, so its gauges never read a database.</summary>
    private static readonly ServiceProvider MetricsServices = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private static async Task<Caller> CallerAsync(TraceDbContext db, string id)
    {
        var m = await db.Members.AsNoTracking().FirstAsync(x => x.Id == id);
        return new Caller(m.Id, m.Role, m.Name, m.Gln, m.RegionCodes);
    }

    private static string Dealer(int d) => $"m_bench_dealer_{d:D2}";

    private static string Gtin(string itemRef5) => Check("06901234" + itemRef5);

    private static string SglnDl(string locationRef5) => $"https://id.gs1.org/414/{Check("6901234" + locationRef5)}";

    private static string Sscc(int serial) => $"https://id.gs1.org/00/{Check("06901234" + serial.ToString("D9", CultureInfo.InvariantCulture))}";

    private static string Check(string digits) => digits + Gs1Identifiers.CheckDigit(digits);
}
