using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Traceability.Api.Domain;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Analytics;

public sealed record CountRow(string Period, string? RegionCode, string RegionName, string? RegionNameEn, long Count);
public sealed record RegionTotal(string? RegionCode, string RegionName, string? RegionNameEn, long Count);
public sealed record PeriodTotal(string Period, long Count);

/// <summary>Counts by period and region, their totals by region and by period, the top regions and the grand total.</summary>
public sealed record RegionCountsResponse(string Kind, string From, string To, string Granularity, string Level, string? Region,
    IReadOnlyList<CountRow> Rows, IReadOnlyList<RegionTotal> Regions, IReadOnlyList<PeriodTotal> Periods, IReadOnlyList<RegionTotal> Top,
    long Total, string RegionSource);

/// <summary>The sales or scans counts question: what, asked by whom.</summary>
public sealed record RegionCountsQuery(string Kind, AnalyticsRequest Request, Caller Caller);

/// <summary>The alerts counts question (counterfeit and diversion, or one of them).</summary>
public sealed record AlertCountsQuery(string? Type, AnalyticsRequest Request, Caller Caller);

/// <summary>
/// Sales and scans by period and region from the daily roll-ups; alerts by period and region from the alerts. What a
/// caller sees: a regulator or the admin everything, a manufacturer its own products (GTINs it owns), a dealer its own
/// sales and the scans of units shipped to it.
/// </summary>
public sealed class RegionCounts(TraceDbContext db, RegionTable regions)
{
    public const int TopCount = 10;
    public const int MaxAlerts = 100_000;
    public static readonly string[] AlertKinds = [AlertTypes.Counterfeit, AlertTypes.Diversion];

    public async Task<RegionCountsResponse> Handle(RegionCountsQuery q, CancellationToken ct)
    {
        var r = q.Request;
        // By province, without lot or dealer, for a caller whose view is by product: the province roll-up answers.
        var byProvince = r.Level == RegionLevel.Province && r.Lot is null && r.Dealer is null && (r.RegionPrefix is null or { Length: 2 })
                         && (q.Caller.SeesEverything || q.Caller.Role == MemberRole.Manufacturer);
        var where = new StringBuilder("kind = @k AND day >= @from AND day <= @to");
        var args = new List<(string, object?)>
        {
            ("@k", q.Kind), ("@from", r.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            ("@to", r.To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), ("@len", (int)r.Level),
        };
        if (r.RegionPrefix is { } prefix)
        {
            where.Append(byProvince ? " AND province = @region" : " AND region_code LIKE @region");
            args.Add(("@region", byProvince ? prefix : prefix + "%"));
        }
        if (r.Gtin is { } gtin) { where.Append(" AND gtin = @gtin"); args.Add(("@gtin", gtin)); }
        if (r.Lot is { } lot) { where.Append(" AND lot = @lot"); args.Add(("@lot", lot)); }
        if (r.Dealer is { } dealer) { where.Append(" AND dealer_id = @dealer"); args.Add(("@dealer", dealer)); }
        if (!q.Caller.SeesEverything)
        {
            args.Add(("@me", q.Caller.MemberId));
            where.Append(q.Caller.Role switch
            {
                MemberRole.Manufacturer => " AND gtin IN (SELECT gtin FROM products WHERE owner_member_id = @me)",
                MemberRole.Dealer => " AND dealer_id = @me",
                _ => " AND 1 = 0",
            });
        }
        var sql = byProvince
            ? $"SELECT day, province, CAST(SUM(n) AS BIGINT) FROM analytics_daily_province WHERE {where} GROUP BY 1, 2"
            : $"SELECT day, substr(region_code, 1, @len) AS r, CAST(SUM(n) AS BIGINT) FROM analytics_daily WHERE {where} GROUP BY 1, 2";
        if (byProvince) args.RemoveAll(a => a.Item1 == "@len");
        var conn = await Sql.OpenAsync(db, ct);
        var daily = await Sql.ListAsync(conn, null, sql,
            x => (Day: DateOnly.ParseExact(x.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture), Region: x.GetString(1), Count: x.GetInt64(2)),
            ct, args.ToArray());
        return Summarise(q.Kind, r, daily.Select(d => (d.Day, d.Region, d.Count)));
    }

    public async Task<RegionCountsResponse> Handle(AlertCountsQuery q, CancellationToken ct)
    {
        var r = q.Request;
        var kinds = q.Type is null ? AlertKinds : [q.Type];
        var from = new DateTimeOffset(r.From.ToDateTime(TimeOnly.MinValue), AnalyticsRollup.ChinaOffset);
        var to = new DateTimeOffset(r.To.AddDays(1).ToDateTime(TimeOnly.MinValue), AnalyticsRollup.ChinaOffset);
        var where = new StringBuilder($"a.type IN ({string.Join(", ", kinds.Select((_, i) => "@t" + i))}) AND a.at >= @from AND a.at < @to");
        var args = new List<(string, object?)> { ("@from", DbTime.Format(from)), ("@to", DbTime.Format(to)) };
        args.AddRange(kinds.Select((k, i) => ("@t" + i, (object?)k)));
        if (r.Gtin is { } gtin) { where.Append(" AND a.gtin = @gtin"); args.Add(("@gtin", gtin)); }
        if (r.Lot is { } lot) { where.Append(" AND a.lot = @lot"); args.Add(("@lot", lot)); }
        if (q.Caller.Role == MemberRole.Manufacturer && !q.Caller.SeesEverything)
        {
            where.Append(" AND a.gtin IN (SELECT gtin FROM products WHERE owner_member_id = @me)");
            args.Add(("@me", q.Caller.MemberId));
        }
        args.Add(("@max", MaxAlerts + 1));
        var sql = "SELECT a.type, a.at, a.detail, (SELECT s.region_code FROM scans s WHERE s.epc = a.epc AND s.region_code IS NOT NULL ORDER BY s.id DESC LIMIT 1), " +
                  $"(SELECT u.shipped_to_member_id FROM units u WHERE u.epc = a.epc) FROM alerts a WHERE {where} ORDER BY a.id LIMIT @max";
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null, sql, x => (Type: x.GetString(0), At: DbTime.Parse(x.GetString(1)), Detail: x.GetString(2),
            ScanRegion: x.Str(3), ShippedTo: x.Str(4)), ct, args.ToArray());
        if (rows.Count > MaxAlerts)
            throw new Infrastructure.Errors.RequestValidationException("Too many alerts",
                [new("from", $"more than {MaxAlerts} alerts in the period: ask for a shorter period or a product.")]);
        var counted = new List<(DateOnly, string, long)>();
        foreach (var a in rows)
        {
            var (region, dealer) = AlertPlace(a.Type, a.Detail, a.ScanRegion, a.ShippedTo);
            if (q.Caller.Role == MemberRole.Dealer && !q.Caller.SeesEverything && dealer != q.Caller.MemberId) continue;
            if (q.Caller.Role is MemberRole.Logistics) continue;
            if (r.Dealer is { } d && dealer != d) continue;
            region ??= "";
            if (r.RegionPrefix is { } p && !region.StartsWith(p, StringComparison.Ordinal)) continue;
            var day = DateOnly.FromDateTime(a.At.ToOffset(AnalyticsRollup.ChinaOffset).DateTime);
            counted.Add((day, region.Length >= (int)r.Level ? region[..(int)r.Level] : region, 1));
        }
        return Summarise(q.Type ?? "alerts", r, counted);
    }

    /// <summary>
    /// Where an alert happened and the dealer it concerns: a diversion names both (the region the unit was sold or scanned
    /// in, the dealer it was shipped to); a counterfeit suspicion is placed at the code's latest scan with a region.
    /// </summary>
    public static (string? Region, string? Dealer) AlertPlace(string type, string detailJson, string? scanRegion, string? shippedTo)
    {
        if (type != AlertTypes.Diversion) return (scanRegion, shippedTo);
        using var doc = JsonDocument.Parse(detailJson);
        var d = doc.RootElement;
        var region = d.TryGetProperty("actualRegion", out var ar) && ar.ValueKind == JsonValueKind.String ? ar.GetString() : scanRegion;
        var dealer = d.TryGetProperty("dealer", out var de) && de.ValueKind == JsonValueKind.Object && de.TryGetProperty("id", out var id) ? id.GetString() : shippedTo;
        return (region, dealer);
    }

    private RegionCountsResponse Summarise(string kind, AnalyticsRequest r, IEnumerable<(DateOnly Day, string Region, long Count)> daily)
    {
        var cells = new Dictionary<(string Period, string Region), long>();
        foreach (var (day, region, count) in daily)
        {
            var key = (AnalyticsRequest.Period(day, r.Granularity), region);
            cells[key] = cells.GetValueOrDefault(key) + count;
        }
        CountRow Row(KeyValuePair<(string Period, string Region), long> c)
        {
            var (code, name, en) = Name(c.Key.Region);
            return new CountRow(c.Key.Period, code, name, en, c.Value);
        }
        var rows = cells.OrderBy(c => c.Key.Period, StringComparer.Ordinal).ThenByDescending(c => c.Value).ThenBy(c => c.Key.Region, StringComparer.Ordinal)
            .Select(Row).ToList();
        var byRegion = cells.GroupBy(c => c.Key.Region).Select(g => (Region: g.Key, Count: g.Sum(c => c.Value)))
            .OrderByDescending(x => x.Count).ThenBy(x => x.Region, StringComparer.Ordinal)
            .Select(x => { var (code, name, en) = Name(x.Region); return new RegionTotal(code, name, en, x.Count); }).ToList();
        var periods = cells.GroupBy(c => c.Key.Period).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new PeriodTotal(g.Key, g.Sum(c => c.Value))).ToList();
        return new RegionCountsResponse(kind, r.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), r.To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            r.Granularity.ToString().ToLowerInvariant(), r.Level.ToString().ToLowerInvariant(), r.RegionPrefix, rows, byRegion, periods,
            byRegion.Where(x => x.RegionCode is not null).Take(TopCount).ToList(), byRegion.Sum(x => x.Count), regions.Source);
    }

    private (string? Code, string Name, string? NameEn) Name(string prefix)
    {
        if (prefix.Length == 0) return (null, "未知", "unknown");
        var code = prefix.PadRight(6, '0');
        var name = regions.NameOf(code);
        var en = regions.NameOf(code, english: true);
        return (code, name, en == name ? null : en);
    }
}
