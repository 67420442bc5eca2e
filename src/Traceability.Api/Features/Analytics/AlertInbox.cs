using System.Text;
using System.Text.Json;
using Traceability.Api.Domain;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Analytics;

public sealed record InboxAlert(long Id, string Type, string? Epc, string? Gtin, string? Lot, DateTimeOffset At, string? RegionCode, string? RegionName,
    bool Handled, DateTimeOffset? HandledAt, string? HandledBy, JsonElement Detail);

public sealed record InboxPage(IReadOnlyList<InboxAlert> Items, int Total, int Offset, int Limit, bool Truncated);

public sealed record InboxQuery(Caller Caller, string? Type, string? RegionPrefix, string? Gtin, bool? Handled, int Offset, int Limit);

public sealed record MarkHandled(Caller Caller, long Id, DateTimeOffset At);

/// <summary>
/// The alerts inbox: alerts newest first, with the region each concerns (as the alerts analytics places them), filtered
/// by type, region, product and handled or not; and marking one handled. A manufacturer sees and handles alerts on
/// its products, a regulator or the admin all. Filtering by region reads at most the newest 10,000 matching alerts.
/// </summary>
public sealed class AlertInbox(TraceDbContext db, RegionTable regions)
{
    public const int Window = 10_000;

    public async Task<InboxPage> Handle(InboxQuery q, CancellationToken ct)
    {
        var (where, args) = Visible(q.Caller);
        if (q.Type is { } t) { where.Append(" AND a.type = @type"); args.Add(("@type", t)); }
        if (q.Gtin is { } g) { where.Append(" AND a.gtin = @gtin"); args.Add(("@gtin", g)); }
        if (q.Handled is { } h) where.Append(h ? " AND a.handled_at IS NOT NULL" : " AND a.handled_at IS NULL");
        args.Add(("@max", Window + 1));
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null,
            "SELECT a.id, a.type, a.epc, a.gtin, a.lot, a.at, a.detail, a.handled_at, a.handled_by, " +
            "(SELECT s.region_code FROM scans s WHERE s.epc = a.epc AND s.region_code IS NOT NULL ORDER BY s.id DESC LIMIT 1), " +
            $"(SELECT u.shipped_to_member_id FROM units u WHERE u.epc = a.epc) FROM alerts a WHERE {where} ORDER BY a.id DESC LIMIT @max",
            r => (Id: r.GetInt64(0), Type: r.GetString(1), Epc: r.Str(2), Gtin: r.Str(3), Lot: r.Str(4), At: DbTime.Parse(r.GetString(5)), Detail: r.GetString(6),
                HandledAt: r.Str(7), HandledBy: r.Str(8), ScanRegion: r.Str(9), ShippedTo: r.Str(10)), ct, args.ToArray());
        var truncated = rows.Count > Window;
        var items = new List<InboxAlert>();
        foreach (var a in rows.Take(Window))
        {
            var detail = JsonDocument.Parse(a.Detail).RootElement.Clone();
            // Counterfeit and diversion where the analytics count them; other alerts where their detail places them (a
            // recall's holder, an overdue unit's site).
            var region = a.Type is AlertTypes.Diversion or AlertTypes.Counterfeit ? RegionCounts.AlertPlace(a.Type, a.Detail, a.ScanRegion, a.ShippedTo).Region
                : detail.ValueKind == JsonValueKind.Object && detail.TryGetProperty("regionCode", out var rc) && rc.ValueKind == JsonValueKind.String ? rc.GetString() : null;
            if (q.RegionPrefix is { } p && (region is null || !region.StartsWith(p, StringComparison.Ordinal))) continue;
            items.Add(new InboxAlert(a.Id, a.Type, a.Epc, a.Gtin, a.Lot, a.At, region, region is null ? null : regions.NameOf(region), a.HandledAt is not null,
                a.HandledAt is null ? null : DbTime.Parse(a.HandledAt), a.HandledBy, detail));
        }
        return new InboxPage(items.Skip(q.Offset).Take(q.Limit).ToList(), items.Count, q.Offset, q.Limit, truncated);
    }

    /// <summary>Marks an alert handled (once: the first time and member are kept); 404 for an alert the caller may not see.</summary>
    public async Task<InboxAlert> Handle(MarkHandled m, CancellationToken ct)
    {
        var (where, args) = Visible(m.Caller);
        args.Add(("@id", m.Id));
        var conn = await Sql.OpenAsync(db, ct);
        var visible = await Sql.LongAsync(conn, null, $"SELECT COUNT(*) FROM alerts a WHERE {where} AND a.id = @id", ct, args.ToArray());
        if (visible == 0) throw new NotFoundException($"Alert {m.Id}");
        await Sql.ExecAsync(conn, null, "UPDATE alerts SET handled_at = @at, handled_by = @by WHERE id = @id AND handled_at IS NULL", ct,
            ("@at", DbTime.Format(m.At)), ("@by", m.Caller.MemberId), ("@id", m.Id));
        var page = await Handle(new InboxQuery(m.Caller, null, null, null, null, 0, Window), ct);
        return page.Items.FirstOrDefault(i => i.Id == m.Id) ?? throw new NotFoundException($"Alert {m.Id}");
    }

    private static (StringBuilder Where, List<(string, object?)> Args) Visible(Caller c)
    {
        if (c.SeesEverything) return (new StringBuilder("1 = 1"), []);
        return (new StringBuilder("a.gtin IN (SELECT gtin FROM products WHERE owner_member_id = @me)"), [("@me", c.MemberId)]);
    }
}
