using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Analytics;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Benchmarks;

/// <summary>
/// scripts/bench analytics: one year of sales by province over 1,000,000 sale and scan events (target &lt; 200 ms).
/// The events are counted into the daily roll-ups with the statement the capture step and the scan path run
/// (AnalyticsRollup.UpsertSql and UpsertProvinceSql), two per event: 500,000 sales and 500,000 scans over 365 days, spread over every county
/// of the GB/T 2260 table, 20 products of 5 lots each and 100 dealers (a near worst case for the roll-ups: few events
/// share a row). Then the RegionCounts handler answers, as a regulator and as a manufacturer, serialised to JSON.
/// </summary>
public static class AnalyticsBenchmarks
{
    public const int Sales = 500_000, Scans = 500_000, Days = 365, Products = 20, LotsPerProduct = 5, DealerCount = 100;

    public static IReadOnlyList<Figure> Run(Action<string> log) => RunAsync(log).GetAwaiter().GetResult();

    private static async Task<IReadOnlyList<Figure>> RunAsync(Action<string> log)
    {
        var dir = Path.Combine(Environment.GetEnvironmentVariable("BENCH_RESULTS_DIR") ?? Path.Combine(Directory.GetCurrentDirectory(), "bench-results"), "tmp");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "analytics.db");
        foreach (var f in new[] { path, path + "-wal", path + "-shm" }) File.Delete(f);
        var figures = new List<Figure>();
        var regions = RegionTable.LoadEmbedded();
        var counties = RegionCodes(regions);
        var to = new DateOnly(2026, 11, 30);
        var from = to.AddDays(-(Days - 1));

        await using (var db = Open(path))
        {
            await SchemaMigrator.MigrateAsync(db);
            var conn = await Sql.OpenAsync(db, default);
            await Sql.ExecAsync(conn, null, "INSERT INTO members (id, name, role, region_codes, created_at) VALUES ('m_maker', 'Maker', 'manufacturer', '', '2026-01-01T00:00:00.000Z')", default);
            for (var p = 0; p < Products; p++)
                await Sql.ExecAsync(conn, null, "INSERT INTO products (gtin, name, owner_member_id, created_at) VALUES (@g, 'p', @o, '2026-01-01T00:00:00.000Z')", default,
                    ("@g", Gtin(p)), ("@o", p < Products / 2 ? "m_maker" : "m_other"));

            var random = new Random(7);
            var clock = Stopwatch.StartNew();
            await using (var tx = (SqliteTransaction)await conn.BeginTransactionAsync())
            {
                await using var cmd = (SqliteCommand)conn.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = AnalyticsRollup.UpsertSql;
                var ps = new[] { "@k", "@d", "@r", "@g", "@l", "@m" }.Select(n => cmd.Parameters.Add(n, SqliteType.Text)).ToArray();
                cmd.Prepare();
                await using var byProvince = (SqliteCommand)conn.CreateCommand();
                byProvince.Transaction = tx;
                byProvince.CommandText = AnalyticsRollup.UpsertProvinceSql;
                var pp = new[] { "@k", "@d", "@p", "@g" }.Select(n => byProvince.Parameters.Add(n, SqliteType.Text)).ToArray();
                byProvince.Prepare();
                for (var i = 0; i < Sales + Scans; i++)
                {
                    var product = random.Next(Products);
                    ps[0].Value = i < Sales ? AnalyticsRollup.Sale : AnalyticsRollup.Scan;
                    ps[1].Value = from.AddDays(random.Next(Days)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                    ps[2].Value = counties[random.Next(counties.Count)];
                    ps[3].Value = Gtin(product);
                    ps[4].Value = $"L{product}-{random.Next(LotsPerProduct)}";
                    ps[5].Value = $"m_dealer_{random.Next(DealerCount):D3}";
                    cmd.ExecuteNonQuery();
                    pp[0].Value = ps[0].Value; pp[1].Value = ps[1].Value; pp[2].Value = AnalyticsRollup.Province((string)ps[2].Value!); pp[3].Value = ps[3].Value;
                    byProvince.ExecuteNonQuery();
                }
                await tx.CommitAsync();
            }
            clock.Stop();
            var rows = await Sql.LongAsync(conn, null, "SELECT COUNT(*) FROM analytics_daily", default);
            var provinceRows = await Sql.LongAsync(conn, null, "SELECT COUNT(*) FROM analytics_daily_province", default);
            figures.Add(new Figure("roll-up writes (two upserts per sale or scan: detailed and by province)", Math.Round((Sales + Scans) / clock.Elapsed.TotalSeconds), "events/s",
                $"{Sales + Scans:N0} events in {clock.Elapsed.TotalSeconds:F1} s, one transaction; {rows:N0} detailed and {provinceRows:N0} province roll-up rows over {counties.Count:N0} counties, " +
                $"{Products} products × {LotsPerProduct} lots, {DealerCount} dealers, {Days} days"));
            log($"  {rows:N0} roll-up rows, {new FileInfo(path).Length / (1024 * 1024):N0} MiB");
            await Sql.ExecAsync(conn, null, "ANALYZE", default);
        }
        SqliteConnection.ClearAllPools();

        await using (var db = Open(path))
        {
            var handler = new RegionCounts(db, regions);
            var regulator = new Caller("m_regulator", MemberRole.Regulator, "Regulator", null, []);
            var maker = new Caller("m_maker", MemberRole.Manufacturer, "Maker", null, []);
            async Task<(double P50, double P99, long Total, int Rows)> Measure(Caller caller, AnalyticsRequest r, int runs = 30)
            {
                var times = new List<double>();
                RegionCountsResponse? last = null;
                for (var i = 0; i < runs + 5; i++)
                {
                    var c = Stopwatch.StartNew();
                    last = await handler.Handle(new RegionCountsQuery(AnalyticsRollup.Sale, r, caller), default);
                    var bytes = JsonSerializer.SerializeToUtf8Bytes(last, JsonSerializerOptions.Web);
                    c.Stop();
                    GC.KeepAlive(bytes);
                    if (i >= 5) times.Add(c.Elapsed.TotalMilliseconds);
                }
                times.Sort();
                return (times[times.Count / 2], times[(int)Math.Ceiling(times.Count * 0.99) - 1], last!.Total, last.Rows.Count);
            }
            var year = new AnalyticsRequest(from, to, Granularity.Day, RegionLevel.Province, null, null, null, null);
            var (p50, p99, total, rowCount) = await Measure(regulator, year);
            figures.Add(new Figure("one year of sales by province and day, regulator", Math.Round(p99, 1), "ms",
                $"p99 of 30 after 5 warm-up (p50 {p50:F1} ms); {total:N0} sales in {rowCount:N0} rows (day × province), totals and top regions, serialised to JSON",
                "< 200 ms", p99 < 200));
            (p50, p99, total, rowCount) = await Measure(maker, year with { Granularity = Granularity.Month });
            figures.Add(new Figure("one year of sales by province and month, manufacturer (its 10 of 20 products)", Math.Round(p99, 1), "ms",
                $"p99 of 30 after 5 warm-up (p50 {p50:F1} ms); {total:N0} sales in {rowCount:N0} rows", "< 200 ms", p99 < 200));
            (p50, p99, total, rowCount) = await Measure(regulator, year with { Level = RegionLevel.County, Granularity = Granularity.Month }, 10);
            figures.Add(new Figure("one year of sales by county and month, regulator", Math.Round(p99, 1), "ms",
                $"p99 of 10 after 5 warm-up (p50 {p50:F1} ms); {total:N0} sales in {rowCount:N0} rows"));
            (p50, p99, total, rowCount) = await Measure(regulator, year with { RegionPrefix = "44", Level = RegionLevel.City, Gtin = Gtin(3) });
            figures.Add(new Figure("one year of one product's sales in one province by city", Math.Round(p99, 1), "ms",
                $"p99 of 30 after 5 warm-up (p50 {p50:F1} ms); {total:N0} sales in {rowCount:N0} rows"));
        }
        SqliteConnection.ClearAllPools();
        foreach (var f in new[] { path, path + "-wal", path + "-shm" }) File.Delete(f);
        return figures;
    }

    private static List<string> RegionCodes(RegionTable regions)
    {
        var codes = new List<string>();
        for (var p = 11; p <= 82; p++)
            for (var c = 1; c <= 99; c++)
                for (var d = 1; d <= 99; d++)
                {
                    var code = string.Create(CultureInfo.InvariantCulture, $"{p:D2}{c:D2}{d:D2}");
                    if (regions.Find(code) is { Successor: null }) codes.Add(code);
                }
        return codes;
    }

    private static TraceDbContext Open(string path) => TraceDbContext.Open(path);

    private static string Gtin(int p) => "0690123400" + p.ToString("D3", CultureInfo.InvariantCulture) + "0";
}
