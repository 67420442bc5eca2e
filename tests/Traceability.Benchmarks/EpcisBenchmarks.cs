using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Epcis;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Benchmarks;

/// <summary>
/// scripts/bench epcis: GET /epcis/events on the 1,000,000-event database of the trace suite (built by it when absent),
/// through the query handler and the JSON-LD document writer (as the endpoint runs them, without HTTP), one thread:
/// <list type="bullet">
/// <item>MATCH_anyEPC of a random item with 50 events, p99 (target &lt; 20 ms);</item>
/// <item>a one-day GE_eventTime / LT_eventTime window (about 72,000 events match: first page, perPage 30 and 100), p99
/// (target &lt; 20 ms); a page deep inside the window, through its nextPageToken.</item>
/// </list>
/// As a regulator (every event visible) and as the manufacturer that owns the products (the visibility join included).
/// </summary>
public static class EpcisBenchmarks
{
    public static IReadOnlyList<Figure> Run(Action<string> log) => RunAsync(log).GetAwaiter().GetResult();

    private static async Task<IReadOnlyList<Figure>> RunAsync(Action<string> log)
    {
        var figures = new List<Figure>();
        var basePath = await TraceBenchmarks.BaseDatabaseAsync(log, figures);
        var workPath = Path.Combine(Path.GetDirectoryName(basePath)!, "epcis-work.db");
        foreach (var f in new[] { workPath, workPath + "-wal", workPath + "-shm" }) File.Delete(f);
        File.Copy(basePath, workPath);
        await using var db = TraceDbContext.Open(workPath);
        var migrate = Stopwatch.StartNew();
        var applied = await SchemaMigrator.MigrateAsync(db);
        migrate.Stop();
        if (applied > 0) log($"  applied {applied} migration(s) to the copy in {migrate.Elapsed.TotalSeconds:F1} s (the /epcis indexes on 1,000,000 events)");
        var conn = await Sql.OpenAsync(db, default);
        // the event-time index, as the service's background projection keeps it (the database was bulk-loaded)
        var projection = Stopwatch.StartNew();
        var projected = 0L;
        for (int added; (added = await EventTimeIndex.ProjectBatchAsync(conn, postgres: false, default)) > 0;) projected += added;
        if (projected > 0) log($"  projected {projected:N0} events into event_times in {projection.Elapsed.TotalSeconds:F1} s");
        var hashes = new EventHashIndex();
        await using (var tx = await conn.BeginTransactionAsync()) { await hashes.LoadAsync(conn, tx, default); await tx.CommitAsync(); }

        var regulator = new Caller("bench-regulator", MemberRole.Regulator, "regulator", null, []);
        var maker = new Caller("m_bench_maker", MemberRole.Manufacturer, "m_bench_maker", null, []);
        var handler = new QueryEpcisEvents(db, hashes);
        var tokens = new PageToken(new AdminKey("bench-admin-key"));
        var items = await Sql.ListAsync(conn, null, "SELECT epc FROM units WHERE gtin = @g ORDER BY epc", r => r.GetString(0), default, ("@g", TraceBenchmarks.FillerItemGtin));
        var random = new Random(42);

        async Task<(double P50, double P99, double Max, int Events)> Measure(Func<int, string> queryString, Caller caller, int runs = 1000, int warmup = 200,
            Func<EpcisQuery, Task<PagePosition?>>? position = null)
        {
            var timings = new List<double>(runs);
            var events = 0;
            for (var i = 0; i < runs + warmup; i++)
            {
                var query = EpcisQueryParameters.Parse(Parse(queryString(i)));
                var after = position is null ? null : await position(query);
                var clock = Stopwatch.StartNew();
                var page = await handler.HandleAsync(query, after, caller, default);
                foreach (var e in page.Events) EpcisDocuments.ToDigitalLinks(e.Event);
                var bytes = Encoding.UTF8.GetBytes(EpcisDocuments.Json(page.Events, DateTimeOffset.UtcNow).ToJsonString());
                if (page.Next is { } next) GC.KeepAlive(tokens.Create(query.Fingerprint, next));
                clock.Stop();
                GC.KeepAlive(bytes);
                events = page.Events.Count;
                if (i >= warmup) timings.Add(clock.Elapsed.TotalMilliseconds);
            }
            timings.Sort();
            return (timings[timings.Count / 2], timings[(int)Math.Ceiling(timings.Count * 0.99) - 1], timings[^1], events);
        }

        string Item() => Uri.EscapeDataString(items[random.Next(items.Count)]);
        var day0 = DateTimeOffset.Parse("2026-02-03T00:00:00Z", CultureInfo.InvariantCulture);
        string Day(int i) => DbDay(day0.AddHours(i % 48));
        static string DbDay(DateTimeOffset start) =>
            $"GE_eventTime={start:yyyy-MM-dd'T'HH:mm:ss'Z'}&LT_eventTime={start.AddDays(1):yyyy-MM-dd'T'HH:mm:ss'Z'}";
        var windowCount = await Sql.LongAsync(conn, null, "SELECT COUNT(*) FROM events WHERE event_time >= @a AND event_time < @b", default,
            ("@a", "2026-02-03T00:00:00.000Z"), ("@b", "2026-02-04T00:00:00.000Z"));

        var cases = new (string Name, Func<int, string> Query, Caller Caller, string Note)[]
        {
            ("MATCH_anyEPC of an item (regulator)", _ => "MATCH_anyEPC=" + Item() + "&perPage=100", regulator, "random item of 50 events, perPage 100: one page"),
            ("MATCH_anyEPC of an item (owning manufacturer)", _ => "MATCH_anyEPC=" + Item() + "&perPage=100", maker, "the same, with the visibility join on event_parties"),
            ("one-day GE_eventTime/LT_eventTime window, first page of 30 (regulator)", Day, regulator, $"a window starting every hour over two days; {windowCount:N0} events in the first day"),
            ("one-day GE_eventTime/LT_eventTime window, first page of 100 (owning manufacturer)", i => Day(i) + "&perPage=100", maker, "perPage 100, visibility join"),
            ("one-day window, orderBy=eventTime DESC, page of 100 (regulator)", i => Day(i) + "&orderBy=eventTime&perPage=100", regulator, "newest first"),
        };
        foreach (var (name, query, caller, note) in cases)
        {
            var (p50, p99, max, events) = await Measure(query, caller);
            log($"  {name}: p50 {p50:F2} ms, p99 {p99:F2} ms, max {max:F2} ms, {events} events per answer");
            figures.Add(new Figure($"/epcis/events {name}, p99", Math.Round(p99, 2), "ms",
                $"{note}; 1,000 queries after 200 warm-up, {events} events per answer; p50 {p50:F2} ms, max {max:F2} ms; handler + JSON-LD document, one thread",
                "< 20 ms", p99 < 20));
        }

        // a page deep inside the window: after the first 20,000 events of the day, through a token (keyset: no offset scan)
        var deep = EpcisQueryParameters.Parse(Parse(Day(0) + "&perPage=100"));
        var deepAfter = await Sql.ListAsync(conn, null,
            "SELECT event_time, sequence FROM events WHERE event_time >= @a AND event_time < @b ORDER BY event_time, sequence LIMIT 1 OFFSET 20000",
            r => new PagePosition(r.GetString(0), r.GetInt64(1), null), default, ("@a", "2026-02-03T00:00:00.000Z"), ("@b", "2026-02-04T00:00:00.000Z"));
        var (dp50, dp99, _, dEvents) = await Measure(_ => Day(0) + "&perPage=100", regulator, 300, 50, _ => Task.FromResult<PagePosition?>(deepAfter[0]));
        GC.KeepAlive(deep);
        figures.Add(new Figure("/epcis/events one-day window, page after 20,000 events (nextPageToken), p99", Math.Round(dp99, 2), "ms",
            $"300 queries after 50 warm-up, {dEvents} events per page; p50 {dp50:F2} ms", "< 20 ms", dp99 < 20));

        await db.DisposeAsync();
        SqliteConnection.ClearAllPools();
        foreach (var f in new[] { workPath, workPath + "-wal", workPath + "-shm" }) File.Delete(f);
        return figures;
    }

    private static IEnumerable<KeyValuePair<string, string[]>> Parse(string queryString) =>
        queryString.Split('&').Select(p => p.Split('=', 2)).GroupBy(p => p[0])
            .Select(g => new KeyValuePair<string, string[]>(g.Key, g.Select(p => Uri.UnescapeDataString(p[1])).ToArray()));
}
