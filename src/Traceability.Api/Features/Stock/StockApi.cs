using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Traceability.Api.Domain;
using Traceability.Api.Features.Analytics;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Stock;

/// <summary>
/// Stock: the units in each member's possession by product, lot and location, read from the units table the custody
/// rules keep; and each holder's movements in and out per day, read from the units each event moved (event_lots).
/// A dealer sees its own; a manufacturer its products at every holder; a regulator (and the admin) everything.
/// </summary>
public static class StockApi
{
    public const int MaxRows = 10_000;
    public const int MaxDays = 366;

    public sealed record StockRow(string Holder, string Gtin, string? Lot, string? Location, string? RegionCode, long Quantity);
    public sealed record StockResponse(string? Holder, long Total, bool Truncated, IReadOnlyList<StockRow> Items);
    public sealed record MovementDay(string Day, long In, long Out);
    public sealed record MovementsResponse(string Holder, string From, string To, long In, long Out, IReadOnlyList<MovementDay> Days);

    public static IEndpointRouteBuilder MapStockApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/stock").WithTags("Stock");
        group.MapGet("", StockAsync).RequireRoles()
            .WithSummary("Units in a holder's possession by product, lot and location; ?holder=&gtin=&lot=&location=").ProducesProblem(400).ProducesProblem(403);
        group.MapGet("movements", MovementsAsync).RequireRoles()
            .WithSummary("A holder's units in (commissioned, received) and out (shipped, sold, destroyed) per day (UTC+08:00); ?holder=&from=&to=")
            .ProducesProblem(400).ProducesProblem(403);
        return app;
    }

    private static async Task<Ok<StockResponse>> StockAsync(string? holder, string? gtin, string? lot, string? location, HttpContext http, TraceDbContext db, CancellationToken ct)
    {
        var caller = http.Caller();
        holder = Holder(caller, holder, required: false);
        var where = new List<string> { BatchTrace.HeldPredicate };
        var p = new List<(string, object?)>();
        if (holder is not null) { where.Add("u.holder_member_id = @h"); p.Add(("@h", holder)); }
        if (gtin is not null)
        {
            if (!Gs1Identifiers.TryNormalizeGtin(gtin, out var g)) throw RequestValidationException.ForField("gtin", "gtin must be a GTIN-8, -12, -13 or -14 with a valid check digit.");
            where.Add("u.gtin = @g"); p.Add(("@g", g));
        }
        if (lot is not null) { where.Add("u.lot = @l"); p.Add(("@l", lot)); }
        if (location is not null)
        {
            if (!Gs1Identifiers.TryCanonicalId(location, out var loc, out _)) throw RequestValidationException.ForField("location", "location must be an SGLN or its Digital Link.");
            where.Add("u.location_id = @loc"); p.Add(("@loc", loc));
        }
        if (!caller.SeesEverything && caller.Role == MemberRole.Manufacturer && holder != caller.MemberId)
        {
            where.Add("u.gtin IN (SELECT gtin FROM products WHERE owner_member_id = @me)"); p.Add(("@me", caller.MemberId));
        }
        p.Add(("@lim", MaxRows + 1));
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null,
            "SELECT u.holder_member_id, u.gtin, u.lot, u.location_id, MAX(u.region_code), COUNT(*) FROM units u WHERE " + string.Join(" AND ", where) +
            " GROUP BY u.holder_member_id, u.gtin, u.lot, u.location_id ORDER BY u.holder_member_id, u.gtin, u.lot, u.location_id LIMIT @lim",
            r => new StockRow(r.GetString(0), r.GetString(1), r.Str(2), r.Str(3), r.Str(4), r.GetInt64(5)), ct, [.. p]);
        var truncated = rows.Count > MaxRows;
        if (truncated) rows.RemoveAt(rows.Count - 1);
        return TypedResults.Ok(new StockResponse(holder, rows.Sum(r => r.Quantity), truncated, rows));
    }

    private static async Task<Ok<MovementsResponse>> MovementsAsync(string? holder, string? from, string? to, HttpContext http, TraceDbContext db, TimeProvider time,
        CancellationToken ct)
    {
        var caller = http.Caller();
        var who = Holder(caller, holder, required: true)!;
        var today = DateOnly.Parse(AnalyticsRollup.Day(time.GetUtcNow()), CultureInfo.InvariantCulture);
        var last = ParseDay(to, "to") ?? today;
        var first = ParseDay(from, "from") ?? last.AddDays(-29);
        if (first > last) throw RequestValidationException.ForField("from", "from is after to.");
        if (last.DayNumber - first.DayNumber + 1 > MaxDays) throw RequestValidationException.ForField("from", $"a period of at most {MaxDays} days.");

        // the days are China Standard Time days (as the analytics roll-ups), so their bounds in UTC are 8 hours earlier
        var start = new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.FromHours(8));
        var end = new DateTimeOffset(last.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.FromHours(8));
        var p = new List<(string, object?)> { ("@h", who), ("@a", DbTime.Format(start)), ("@b", DbTime.Format(end)) };
        var ownOnly = !caller.SeesEverything && who != caller.MemberId;
        if (ownOnly) p.Add(("@me", caller.MemberId));
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null,
            "SELECT e.event_time, e.biz_step, CAST(SUM(l.quantity) AS BIGINT) FROM events e JOIN event_lots l ON l.sequence = e.sequence " +
            "WHERE e.submitter_id = @h AND e.event_time >= @a AND e.event_time < @b" +
            (ownOnly ? " AND l.gtin IN (SELECT gtin FROM products WHERE owner_member_id = @me)" : "") +
            " GROUP BY e.sequence, e.event_time, e.biz_step",
            r => (At: DbTime.Parse(r.GetString(0)), Step: CbvVocabulary.BizStepName(r.Str(1)), N: r.GetInt64(2)), ct, [.. p]);
        var days = new SortedDictionary<string, (long In, long Out)>(StringComparer.Ordinal);
        foreach (var (at, step, n) in rows)
        {
            var direction = step switch
            {
                "commissioning" or "receiving" or "arriving" => 1,
                "shipping" or "retail_selling" or "destroying" => -1,
                _ => 0,
            };
            if (direction == 0) continue;
            var day = AnalyticsRollup.Day(at);
            var (i, o) = days.GetValueOrDefault(day);
            days[day] = direction > 0 ? (i + n, o) : (i, o + n);
        }
        var list = days.Select(d => new MovementDay(d.Key, d.Value.In, d.Value.Out)).ToList();
        return TypedResults.Ok(new MovementsResponse(who, first.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), last.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            list.Sum(d => d.In), list.Sum(d => d.Out), list));
    }

    /// <summary>The holder asked about: a dealer or carrier only itself (its own by default); a manufacturer any (its products only); a regulator any.</summary>
    private static string? Holder(Caller caller, string? holder, bool required)
    {
        if (caller.SeesEverything || caller.Role == MemberRole.Manufacturer)
        {
            if (holder is null && required)
            {
                if (caller.Role == MemberRole.Manufacturer) return caller.MemberId;
                throw RequestValidationException.ForField("holder", "holder (a member id) is required.");
            }
            return holder;
        }
        if (holder is not null && holder != caller.MemberId) throw new ForbiddenException("A member sees its own stock only; a product's manufacturer and regulators see more.");
        return caller.MemberId;
    }

    private static DateOnly? ParseDay(string? value, string field)
    {
        if (value is null) return null;
        if (!DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            throw RequestValidationException.ForField(field, $"{field} is a day, yyyy-MM-dd.");
        return day;
    }
}
