using System.Globalization;
using System.Text;
using Hangfire;
using Traceability.Api.Domain;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Analytics;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Lifecycle;

public sealed record SiteView(string? Id, string? Name);
public sealed record DueRow(string Epc, string Gtin, string? Lot, string Status, string? Kind, DateTimeOffset? DueDate, SiteView Site, string? RegionCode,
    string? RegionName, DateTimeOffset InstalledAt, string InstallerMemberId, DateTimeOffset? LastInspection, string? LastInspectionResult,
    DateTimeOffset? ServiceLifeEnds);
public sealed record DuePage(IReadOnlyList<DueRow> Items, int Total, int Offset, int Limit, DateTimeOffset Now, DateTimeOffset Before);
public sealed record RegionServiceRow(string? RegionCode, string RegionName, string? RegionNameEn, long Installed, long Overdue, long Expired);
public sealed record RegionServiceResponse(string Level, string? Region, DateTimeOffset Now, IReadOnlyList<RegionServiceRow> Regions, long Installed, long Overdue,
    long Expired, string RegionSource);

/// <summary>
/// The installed units and their due dates: the due list, the counts by region (the analytics' region rules), and the
/// daily run that raises <c>overdue</c> and <c>expired</c> alerts. What a caller sees: a regulator or the admin every
/// unit, a manufacturer its own products, a service member the units it installed.
/// </summary>
public sealed class ServiceDue(TraceDbContext db, RegionTable regions, TimeProvider time)
{
    public const int MaxRows = 100_000;

    private static readonly string Columns =
        "s.epc, s.gtin, s.lot, s.site_id, l.name, s.region_code, s.installed_at, s.installer_member_id, s.last_inspection_at, s.last_inspection_result, " +
        "s.inspection_due, s.pressure_test_due, s.service_life_ends";

    private sealed record Row(string Epc, string Gtin, string? Lot, string? SiteId, string? SiteName, string? Region, DateTimeOffset InstalledAt, string Installer,
        DateTimeOffset? LastInspection, string? LastResult, DueDates Due);

    private static Row Read(System.Data.Common.DbDataReader r) => new(r.GetString(0), r.GetString(1), r.Str(2), r.Str(3), r.Str(4), r.Str(5), DbTime.Parse(r.GetString(6)),
        r.GetString(7), T(r.Str(8)), r.Str(9), new DueDates(T(r.Str(10)), T(r.Str(11)), T(r.Str(12))));

    private static DateTimeOffset? T(string? s) => s is null ? null : DbTime.Parse(s);

    private static void Visible(Caller caller, StringBuilder where, List<(string, object?)> args)
    {
        if (caller.SeesEverything) return;
        args.Add(("@me", caller.MemberId));
        where.Append(caller.Role switch
        {
            MemberRole.Manufacturer => " AND s.gtin IN (SELECT gtin FROM products WHERE owner_member_id = @me)",
            MemberRole.Service => " AND s.installer_member_id = @me",
            _ => " AND 1 = 0",
        });
    }

    /// <summary>Installed units due before <paramref name="before"/> (or overdue, or past their service life), earliest first; <paramref name="status"/> narrows.</summary>
    public async Task<DuePage> ListAsync(Caller caller, string? regionPrefix, DateTimeOffset before, string? status, int offset, int limit, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var where = new StringBuilder("(s.inspection_due <= @b OR s.pressure_test_due <= @b OR s.service_life_ends <= @b)");
        var args = new List<(string, object?)> { ("@b", DbTime.Format(before < now ? now : before)), ("@max", MaxRows + 1) };
        if (regionPrefix is not null) { where.Append(" AND s.region_code LIKE @r"); args.Add(("@r", regionPrefix + "%")); }
        Visible(caller, where, args);
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null, $"SELECT {Columns} FROM service_units s LEFT JOIN locations l ON l.id = s.site_id WHERE {where} LIMIT @max", Read, ct, [.. args]);
        if (rows.Count > MaxRows)
            throw Infrastructure.Errors.RequestValidationException.ForField("region", $"more than {MaxRows} units are due: ask for a region or an earlier date.");
        var items = new List<DueRow>();
        foreach (var r in rows)
        {
            var (s, due, kind) = ServiceStatus.Of(r.Due, now, before);
            if (s == ServiceStatus.Ok || (status is not null && s != status)) continue;
            items.Add(new DueRow(r.Epc, r.Gtin, r.Lot, s, kind, due, new SiteView(r.SiteId, r.SiteName), r.Region, r.Region is null ? null : regions.NameOf(r.Region),
                r.InstalledAt, r.Installer, r.LastInspection, r.LastResult, r.Due.ServiceLifeEnds));
        }
        var sorted = items.OrderBy(i => i.DueDate).ThenBy(i => i.Epc, StringComparer.Ordinal).ToList();
        return new DuePage(sorted.Skip(offset).Take(limit).ToList(), sorted.Count, offset, limit, now, before);
    }

    /// <summary>Installed, overdue and expired units by region at a level (province, city, county), as the analytics group them.</summary>
    public async Task<RegionServiceResponse> RegionsAsync(Caller caller, RegionLevel level, string? regionPrefix, CancellationToken ct)
    {
        var now = DbTime.Format(time.GetUtcNow());
        var where = new StringBuilder("1 = 1");
        var args = new List<(string, object?)> { ("@now", now), ("@len", (int)level) };
        if (regionPrefix is not null) { where.Append(" AND s.region_code LIKE @r"); args.Add(("@r", regionPrefix + "%")); }
        Visible(caller, where, args);
        const string expired = "s.service_life_ends IS NOT NULL AND s.service_life_ends <= @now";
        var sql = $"SELECT COALESCE(substr(s.region_code, 1, @len), ''), COUNT(*), " +
                  $"SUM(CASE WHEN NOT ({expired}) AND (s.inspection_due <= @now OR s.pressure_test_due <= @now) THEN 1 ELSE 0 END), " +
                  $"SUM(CASE WHEN {expired} THEN 1 ELSE 0 END) FROM service_units s WHERE {where} GROUP BY 1";
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null, sql, r => (Region: r.GetString(0), Installed: r.GetInt64(1), Overdue: r.GetInt64(2), Expired: r.GetInt64(3)), ct, [.. args]);
        var list = rows.OrderByDescending(r => r.Installed).ThenBy(r => r.Region, StringComparer.Ordinal).Select(r =>
        {
            if (r.Region.Length == 0) return new RegionServiceRow(null, "未知", "unknown", r.Installed, r.Overdue, r.Expired);
            var code = RegionTable.AtLevel(r.Region, level);
            var name = regions.NameOf(code);
            var en = regions.NameOf(code, english: true);
            return new RegionServiceRow(code, name, en == name ? null : en, r.Installed, r.Overdue, r.Expired);
        }).ToList();
        return new RegionServiceResponse(level.ToString().ToLowerInvariant(), regionPrefix, time.GetUtcNow(), list,
            list.Sum(r => r.Installed), list.Sum(r => r.Overdue), list.Sum(r => r.Expired), regions.Source);
    }

    /// <summary>
    /// The daily run: an <c>overdue</c> alert for every installed unit past a due date (once per unit, kind and due date:
    /// the next inspection starts a new period) and an <c>expired</c> alert once per unit past its service life. The number raised.
    /// </summary>
    public async Task<int> RaiseAlertsAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null,
            $"SELECT {Columns} FROM service_units s LEFT JOIN locations l ON l.id = s.site_id WHERE s.inspection_due <= @n OR s.pressure_test_due <= @n OR s.service_life_ends <= @n",
            Read, ct, ("@n", DbTime.Format(now)));
        var raised = 0;
        foreach (var r in rows)
        {
            var (status, due, kind) = ServiceStatus.Of(r.Due, now, now);
            var detail = new { status, kind, dueDate = due, siteId = r.SiteId, site = r.SiteName, regionCode = r.Region, installerMemberId = r.Installer, lastInspection = r.LastInspection };
            if (status == ServiceStatus.Expired)
            {
                if (await AlertWriter.RaiseAsync(db, AlertTypes.Expired, r.Epc, r.Gtin, r.Lot, detail, now, $"expired:{r.Epc}", ct)) raised++;
            }
            else if (status == ServiceStatus.Overdue && due is { } d)
            {
                var key = $"overdue:{r.Epc}:{kind}:{d.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture)}";
                if (await AlertWriter.RaiseAsync(db, AlertTypes.Overdue, r.Epc, r.Gtin, r.Lot, detail, now, key, ct)) raised++;
            }
        }
        return raised;
    }

    /// <summary>The service block of the consumer page: the unit's record, where it stands today; null when it is not installed.</summary>
    public async Task<ServiceView?> ForUnitAsync(string epc, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        var row = (await Sql.ListAsync(conn, null, $"SELECT {Columns} FROM service_units s LEFT JOIN locations l ON l.id = s.site_id WHERE s.epc = @e", Read, ct, ("@e", epc)))
            .FirstOrDefault();
        if (row is null) return null;
        var now = time.GetUtcNow();
        var (status, due, kind) = ServiceStatus.Of(row.Due, now, now.AddDays(30));
        return new ServiceView(row.InstalledAt, row.SiteName, row.LastInspection, row.LastResult, row.Due.Inspection, row.Due.PressureTest, row.Due.ServiceLifeEnds,
            status, due, kind);
    }
}

/// <summary>What a consumer sees of an installed unit's service: installed when and where, last inspection, next due, its status.</summary>
public sealed record ServiceView(DateTimeOffset InstalledAt, string? Site, DateTimeOffset? LastInspection, string? LastInspectionResult, DateTimeOffset? NextInspection,
    DateTimeOffset? NextPressureTest, DateTimeOffset? ServiceLifeEnds, string Status, DateTimeOffset? DueDate, string? DueKind);

/// <summary>Daily at 00:00 UTC: the overdue and expired alerts of installed units.</summary>
[Infrastructure.Jobs.SkipWhenPreviousRunActive]
[AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)] // the next day's run is the retry
public sealed class ServiceDueJob(ServiceDue due)
{
    public const string Id = "service-due";

    public async Task RunAsync(CancellationToken ct) => await due.RaiseAlertsAsync(ct);
}
