using System.Data.Common;
using System.Globalization;
using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Analytics;

/// <summary>
/// The daily roll-ups (analytics_daily, and analytics_daily_province for questions by province) the analytics API reads: one row per (kind, day, county, GTIN, lot, dealer)
/// with a count, so that a year by province reads at most a few hundred thousand small rows, whatever the number of
/// events. Days are calendar days in China Standard Time.
/// </summary>
public static class AnalyticsRollup
{
    public const string Sale = "sale";
    public const string Scan = "scan";
    public static readonly TimeSpan ChinaOffset = TimeSpan.FromHours(8);

    public const string UpsertSql =
        "INSERT INTO analytics_daily (kind, day, region_code, gtin, lot, dealer_id, n) VALUES (@k, @d, @r, @g, @l, @m, 1) " +
        "ON CONFLICT (kind, day, region_code, gtin, lot, dealer_id) DO UPDATE SET n = analytics_daily.n + 1";

    public const string UpsertProvinceSql =
        "INSERT INTO analytics_daily_province (kind, day, province, gtin, n) VALUES (@k, @d, @p, @g, 1) " +
        "ON CONFLICT (kind, day, province, gtin) DO UPDATE SET n = analytics_daily_province.n + 1";

    /// <summary>As <see cref="UpsertSql"/>, adding @n (the backfill adds up a batch before writing).</summary>
    public const string AddSql =
        "INSERT INTO analytics_daily (kind, day, region_code, gtin, lot, dealer_id, n) VALUES (@k, @d, @r, @g, @l, @m, @n) " +
        "ON CONFLICT (kind, day, region_code, gtin, lot, dealer_id) DO UPDATE SET n = analytics_daily.n + excluded.n";

    public const string AddProvinceSql =
        "INSERT INTO analytics_daily_province (kind, day, province, gtin, n) VALUES (@k, @d, @p, @g, @n) " +
        "ON CONFLICT (kind, day, province, gtin) DO UPDATE SET n = analytics_daily_province.n + excluded.n";

    public const string UnitSql = "SELECT gtin, lot, shipped_to_member_id FROM units WHERE epc = @e";

    /// <summary>The province of a stored region code ('' when unknown).</summary>
    public static string Province(string region) => region.Length >= 2 ? region[..2] : "";

    public static string Day(DateTimeOffset t) => t.ToOffset(ChinaOffset).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Is the event a sale (bizStep retail_selling, in any of its forms)?</summary>
    public static bool IsSale(EpcisEvent e) => CbvVocabulary.BizStepName(e.BizStep) == "retail_selling";

    /// <summary>Where a sale took place: its business location, else its read point, as the locations table keys it (null when neither reads).</summary>
    public static string? PlaceOf(EpcisEvent e) =>
        (e.BizLocation ?? e.ReadPoint) is { } placeId && Gs1Identifiers.TryCanonicalId(placeId, out var place, out _) ? place : null;

    /// <summary>The dealer a sale counts for: the member that recorded it when it is a dealer, else the dealer the unit was shipped to.</summary>
    public static string SaleDealer(bool recordedByDealer, string recorder, string? shippedTo) => recordedByDealer ? recorder : shippedTo ?? "";

    /// <summary>Counts one scan of a code (outside a capture: the scan path calls it after storing the scan).</summary>
    public static async Task AddScanAsync(DbConnection conn, DbTransaction? tx, string epc, string? region, DateTimeOffset at, CancellationToken ct)
    {
        var unit = (await Sql.ListAsync(conn, tx, UnitSql,
            r => (Gtin: r.Str(0), Lot: r.Str(1), Dealer: r.Str(2)), ct, ("@e", epc))).FirstOrDefault();
        var gtin = unit.Gtin ?? Gs1Key.GtinOf(epc) ?? "";
        await Sql.ExecAsync(conn, tx, UpsertSql, ct, ("@k", Scan), ("@d", Day(at)), ("@r", region ?? ""),
            ("@g", gtin), ("@l", unit.Lot ?? ""), ("@m", unit.Dealer ?? ""));
        await Sql.ExecAsync(conn, tx, UpsertProvinceSql, ct, ("@k", Scan), ("@d", Day(at)), ("@p", Province(region ?? "")), ("@g", gtin));
    }
}

/// <summary>
/// Capture step: every unit sold (bizStep retail_selling; its place's region from the locations master data, as the
/// diversion rule finds it) adds one to its day's roll-up, in the capture's transaction. The dealer is the member that
/// recorded the sale when it is a dealer, else the dealer the unit was shipped to. Registered after the tracing
/// projection's steps, whose units it reads.
/// </summary>
public sealed class AnalyticsRollupStep : ICaptureStep
{
    public async ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
    {
        var e = appended.Validated.Event;
        if (!AnalyticsRollup.IsSale(e)) return;
        string region = "";
        if (AnalyticsRollup.PlaceOf(e) is { } place)
            region = (await context.ListAsync("SELECT region_code FROM locations WHERE id = @id", r => r.GetString(0), ct, ("@id", place))).FirstOrDefault() ?? "";
        var day = AnalyticsRollup.Day(e.EventTime);
        foreach (var (epc, role) in appended.Validated.Identifiers)
        {
            if (role != EpcRoles.Epc) continue;
            var unit = (await context.ListAsync(AnalyticsRollup.UnitSql,
                r => (Gtin: r.Str(0), Lot: r.Str(1), Dealer: r.Str(2)), ct, ("@e", epc))).FirstOrDefault();
            var dealer = AnalyticsRollup.SaleDealer(context.Caller.Role == MemberRole.Dealer, context.Caller.MemberId, unit.Dealer);
            var gtin = unit.Gtin ?? Gs1Key.GtinOf(epc) ?? "";
            await context.ExecAsync(AnalyticsRollup.UpsertSql, ct, ("@k", AnalyticsRollup.Sale), ("@d", day), ("@r", region),
                ("@g", gtin), ("@l", unit.Lot ?? ""), ("@m", dealer));
            await context.ExecAsync(AnalyticsRollup.UpsertProvinceSql, ct, ("@k", AnalyticsRollup.Sale), ("@d", day), ("@p", AnalyticsRollup.Province(region)), ("@g", gtin));
        }
    }
}
