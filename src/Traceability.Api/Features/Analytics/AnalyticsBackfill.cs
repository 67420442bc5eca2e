using System.Data.Common;
using System.Diagnostics;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Analytics;

/// <summary>
/// Counts into the roll-ups, once, the sales and scans recorded before the roll-ups existed (before the migration
/// 0020_analytics was applied): from then on the capture step and the scan path count as they go. Runs in the
/// background at start-up, in batches of <see cref="BatchSize"/> events or scans, each batch's counts written in one
/// transaction with the progress row (analytics_backfill), so a stop resumes where it was and nothing is counted twice,
/// also with several instances on one PostgreSQL database (a batch is claimed by moving the progress row from where
/// this instance read it; an instance that finds it moved re-reads it). Sales are counted as the capture step counts
/// them, with the units' GTIN, lot and dealer as they are now.
/// </summary>
public sealed class AnalyticsBackfill(IServiceScopeFactory scopes, TimeProvider time, ILogger<AnalyticsBackfill> log) : BackgroundService
{
    public const int BatchSize = 10_000;
    private const string RollupsMigration = "0020_analytics";
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when everything recorded before the roll-ups is counted (at once when that was done before); faults when the backfill failed.</summary>
    public Task Completion => _completion.Task;

    private sealed record Progress(long ThroughEvent, long ThroughScan, long DoneEvent, long DoneScan, bool Finished);

    private readonly record struct Key(string Kind, string Day, string Region, string Gtin, string Lot, string Dealer);

    private readonly record struct ProvinceKey(string Kind, string Day, string Province, string Gtin);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // start-up goes on while this runs
        try
        {
            await RunAsync(stoppingToken);
            _completion.TrySetResult();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _completion.TrySetCanceled(stoppingToken);
        }
        catch (Exception ex)
        {
            // The service goes on without the old counts; the next start resumes from the last batch written.
            log.LogError(ex, "Analytics backfill failed; it resumes at the next start");
            _completion.TrySetException(ex);
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
        var conn = await Sql.OpenAsync(db, ct);

        var progress = await ReadAsync(conn, ct) ?? await StartAsync(conn, ct);
        if (progress.Finished) return;
        var anything = progress.DoneEvent < progress.ThroughEvent || progress.DoneScan < progress.ThroughScan;
        if (anything) log.LogInformation("Analytics backfill: counting events 1 to {ThroughEvent} and scans 1 to {ThroughScan}, recorded before the roll-ups existed (from event {DoneEvent}, scan {DoneScan})",
            progress.ThroughEvent, progress.ThroughScan, progress.DoneEvent, progress.DoneScan);
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        long sales = 0, scans = 0;
        var members = new Dictionary<string, bool>(StringComparer.Ordinal);
        var regions = new Dictionary<string, string>(StringComparer.Ordinal);
        while (progress.DoneEvent < progress.ThroughEvent || progress.DoneScan < progress.ThroughScan)
        {
            var events = progress.DoneEvent < progress.ThroughEvent;
            var from = events ? progress.DoneEvent : progress.DoneScan;
            var to = Math.Min(from + BatchSize, events ? progress.ThroughEvent : progress.ThroughScan);
            var counts = new Dictionary<Key, long>();
            if (events) sales += await CountSalesAsync(conn, from, to, counts, members, regions, ct);
            else scans += await CountScansAsync(conn, from, to, counts, ct);
            if (!await WriteAsync(conn, events, from, to, counts, ct))
            {
                progress = await ReadAsync(conn, ct) ?? throw new InvalidOperationException("the analytics backfill row is gone");
                continue; // another instance counted this batch
            }
            progress = events ? progress with { DoneEvent = to } : progress with { DoneScan = to };
            if (clock.Elapsed - lastReport >= ProgressEvery)
            {
                lastReport = clock.Elapsed;
                log.LogInformation("Analytics backfill: events {DoneEvent}/{ThroughEvent}, scans {DoneScan}/{ThroughScan} ({Seconds:F0} s)",
                    progress.DoneEvent, progress.ThroughEvent, progress.DoneScan, progress.ThroughScan, clock.Elapsed.TotalSeconds);
            }
        }
        await Sql.ExecAsync(conn, null, "UPDATE analytics_backfill SET finished_at = @t WHERE id = 1 AND finished_at IS NULL", ct, ("@t", DbTime.Format(time.GetUtcNow())));
        if (anything) log.LogInformation("Analytics backfill done: {Sales} units sold and {Scans} scans recorded before the roll-ups counted, in {Seconds:F1} s",
            sales, scans, clock.Elapsed.TotalSeconds);
    }

    private static async Task<Progress?> ReadAsync(DbConnection conn, CancellationToken ct) =>
        (await Sql.ListAsync(conn, null, "SELECT through_event, through_scan, done_event, done_scan, finished_at FROM analytics_backfill WHERE id = 1",
            r => new Progress(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), !r.IsDBNull(4)), ct)).FirstOrDefault();

    /// <summary>
    /// The first start after the migration: what was recorded before the roll-ups existed. Events and scans are stamped
    /// with the server's clock as they are stored, as the migration is when applied; both only ever grow.
    /// </summary>
    private async Task<Progress> StartAsync(DbConnection conn, CancellationToken ct)
    {
        var since = (await Sql.ListAsync(conn, null, "SELECT applied_at FROM schema_migrations WHERE version = @v", r => r.GetString(0), ct, ("@v", RollupsMigration))).Single();
        var throughEvent = await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(sequence), 0) FROM events WHERE record_time < @t", ct, ("@t", since));
        var throughScan = await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(id), 0) FROM scans WHERE at < @t", ct, ("@t", since));
        await Sql.ExecAsync(conn, null,
            "INSERT INTO analytics_backfill (id, through_event, through_scan, done_event, done_scan, started_at) VALUES (1, @e, @s, 0, 0, @t) ON CONFLICT (id) DO NOTHING",
            ct, ("@e", throughEvent), ("@s", throughScan), ("@t", DbTime.Format(time.GetUtcNow())));
        return await ReadAsync(conn, ct) ?? throw new InvalidOperationException("the analytics backfill row was not written");
    }

    /// <summary>The sales among events (from, to]: as <see cref="AnalyticsRollupStep"/> counts them. Returns the units counted.</summary>
    private static async Task<long> CountSalesAsync(DbConnection conn, long from, long to, Dictionary<Key, long> counts,
        Dictionary<string, bool> dealers, Dictionary<string, string> regions, CancellationToken ct)
    {
        // Only sales are read and parsed; the bizStep column holds the captured text in any of its forms, all ending so.
        var rows = await Sql.ListAsync(conn, null,
            "SELECT submitter_id, json FROM events WHERE sequence > @a AND sequence <= @b AND biz_step LIKE '%retail_selling' ORDER BY sequence",
            r => (Submitter: r.GetString(0), Json: r.GetString(1)), ct, ("@a", from), ("@b", to));
        var sales = new List<(string Day, string Region, string Recorder, bool ByDealer, List<string> Epcs)>();
        foreach (var row in rows)
        {
            var e = EpcisParser.ParseEventJson(row.Json);
            if (!AnalyticsRollup.IsSale(e)) continue;
            var region = "";
            if (AnalyticsRollup.PlaceOf(e) is { } place)
            {
                if (!regions.TryGetValue(place, out var known))
                    regions[place] = known = (await Sql.ListAsync(conn, null, "SELECT region_code FROM locations WHERE id = @id", r => r.GetString(0), ct, ("@id", place))).FirstOrDefault() ?? "";
                region = known;
            }
            if (!dealers.TryGetValue(row.Submitter, out var byDealer))
                dealers[row.Submitter] = byDealer = await Sql.LongAsync(conn, null, "SELECT COUNT(*) FROM members WHERE id = @id AND role = 'dealer'", ct, ("@id", row.Submitter)) > 0;
            var epcs = new List<string>();
            foreach (var epc in e.EpcList)
                if (Gs1Identifiers.TryCanonicalId(epc, out var canonical, out _)) epcs.Add(canonical);
            sales.Add((AnalyticsRollup.Day(e.EventTime), region, row.Submitter, byDealer, epcs));
        }
        var units = await UnitsAsync(conn, sales.SelectMany(s => s.Epcs), ct);
        long n = 0;
        foreach (var s in sales)
            foreach (var epc in s.Epcs)
            {
                units.TryGetValue(epc, out var unit);
                var gtin = unit.Gtin ?? Gs1Key.GtinOf(epc) ?? "";
                Add(counts, new Key(AnalyticsRollup.Sale, s.Day, s.Region, gtin, unit.Lot ?? "", AnalyticsRollup.SaleDealer(s.ByDealer, s.Recorder, unit.Dealer)));
                n++;
            }
        return n;
    }

    /// <summary>The scans (from, to] by id: as the scan path counts them (<see cref="AnalyticsRollup.AddScanAsync"/>). Returns the scans counted.</summary>
    private static async Task<long> CountScansAsync(DbConnection conn, long from, long to, Dictionary<Key, long> counts, CancellationToken ct)
    {
        var scans = await Sql.ListAsync(conn, null, "SELECT epc, at, region_code FROM scans WHERE id > @a AND id <= @b",
            r => (Epc: r.GetString(0), At: DbTime.Parse(r.GetString(1)), Region: r.Str(2)), ct, ("@a", from), ("@b", to));
        var units = await UnitsAsync(conn, scans.Select(s => s.Epc), ct);
        foreach (var s in scans)
        {
            units.TryGetValue(s.Epc, out var unit);
            Add(counts, new Key(AnalyticsRollup.Scan, AnalyticsRollup.Day(s.At), s.Region ?? "", unit.Gtin ?? Gs1Key.GtinOf(s.Epc) ?? "", unit.Lot ?? "", unit.Dealer ?? ""));
        }
        return scans.Count;
    }

    private static async Task<Dictionary<string, (string? Gtin, string? Lot, string? Dealer)>> UnitsAsync(DbConnection conn, IEnumerable<string> epcs, CancellationToken ct) =>
        (await Sql.ListInAsync(conn, null, "SELECT epc, gtin, lot, shipped_to_member_id FROM units WHERE epc IN ({in})", epcs,
            r => (Epc: r.GetString(0), Unit: (Gtin: r.Str(1), Lot: r.Str(2), Dealer: r.Str(3))), ct))
        .ToDictionary(u => u.Epc, u => u.Unit, StringComparer.Ordinal);

    private static void Add(Dictionary<Key, long> counts, Key key) => counts[key] = counts.GetValueOrDefault(key) + 1;

    /// <summary>
    /// Writes a batch's counts and moves the progress row from <paramref name="from"/> to <paramref name="to"/>, in one
    /// transaction; false (nothing written) when the row no longer stands at <paramref name="from"/>.
    /// </summary>
    private static async Task<bool> WriteAsync(DbConnection conn, bool events, long from, long to, Dictionary<Key, long> counts, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        var column = events ? "done_event" : "done_scan";
        // First statement: takes the write lock (SQLite) or the row's lock (PostgreSQL) before anything else is read.
        if (await Sql.ExecAsync(conn, tx, $"UPDATE analytics_backfill SET {column} = @to WHERE id = 1 AND {column} = @from", ct, ("@to", to), ("@from", from)) == 0)
        {
            await tx.RollbackAsync(ct);
            return false;
        }
        foreach (var (k, n) in counts)
            await Sql.ExecAsync(conn, tx, AnalyticsRollup.AddSql, ct, ("@k", k.Kind), ("@d", k.Day), ("@r", k.Region), ("@g", k.Gtin), ("@l", k.Lot), ("@m", k.Dealer), ("@n", n));
        foreach (var g in counts.GroupBy(c => new ProvinceKey(c.Key.Kind, c.Key.Day, AnalyticsRollup.Province(c.Key.Region), c.Key.Gtin), c => c.Value))
            await Sql.ExecAsync(conn, tx, AnalyticsRollup.AddProvinceSql, ct, ("@k", g.Key.Kind), ("@d", g.Key.Day), ("@p", g.Key.Province), ("@g", g.Key.Gtin), ("@n", g.Sum()));
        await tx.CommitAsync(ct);
        return true;
    }
}
