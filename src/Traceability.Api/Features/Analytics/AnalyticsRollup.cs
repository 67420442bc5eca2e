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

    /// <summary>The province of a stored region code ('' when unknown).</summary>
    public static string Province(string region) => region.Length >= 2 ? region[..2] : "";

    public static string Day(DateTimeOffset t) => t.ToOffset(ChinaOffset).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Counts one scan of a code (outside a capture: the scan path calls it after storing the scan).</summary>
    public static async Task AddScanAsync(DbConnection conn, DbTransaction? tx, string epc, string? region, DateTimeOffset at, CancellationToken ct)
    {
        var unit = (await Sql.ListAsync(conn, tx, "SELECT gtin, lot, shipped_to_member_id FROM units WHERE epc = @e",
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
        if (CbvVocabulary.BizStepName(e.BizStep) != "retail_selling") return;
        string region = "";
        if ((e.BizLocation ?? e.ReadPoint) is { } placeId && Gs1Identifiers.TryCanonicalId(placeId, out var place, out _))
            region = (await context.ListAsync("SELECT region_code FROM locations WHERE id = @id", r => r.GetString(0), ct, ("@id", place))).FirstOrDefault() ?? "";
        var day = AnalyticsRollup.Day(e.EventTime);
        foreach (var (epc, role) in appended.Validated.Identifiers)
        {
            if (role != EpcRoles.Epc) continue;
            var unit = (await context.ListAsync("SELECT gtin, lot, shipped_to_member_id FROM units WHERE epc = @e",
                r => (Gtin: r.Str(0), Lot: r.Str(1), Dealer: r.Str(2)), ct, ("@e", epc))).FirstOrDefault();
            var dealer = context.Caller.Role == MemberRole.Dealer ? context.Caller.MemberId : unit.Dealer ?? "";
            var gtin = unit.Gtin ?? Gs1Key.GtinOf(epc) ?? "";
            await context.ExecAsync(AnalyticsRollup.UpsertSql, ct, ("@k", AnalyticsRollup.Sale), ("@d", day), ("@r", region),
                ("@g", gtin), ("@l", unit.Lot ?? ""), ("@m", dealer));
            await context.ExecAsync(AnalyticsRollup.UpsertProvinceSql, ct, ("@k", AnalyticsRollup.Sale), ("@d", day), ("@p", AnalyticsRollup.Province(region)), ("@g", gtin));
        }
    }
}
