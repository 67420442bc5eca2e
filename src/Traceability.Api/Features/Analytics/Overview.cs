using System.Globalization;
using Traceability.Api.Domain;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Analytics;

public sealed record LastAnchor(long Sequence, string Status, string? TxHash, long? BlockNumber, long LastEventSequence, string CreatedAt);

/// <summary>The dashboard's figures, as the caller may see them.</summary>
public sealed record OverviewResponse(string Today, long EventsToday, IReadOnlyDictionary<string, long> UnitsByStatus, long Units,
    long EventsAwaitingAnchor, LastAnchor? LastAnchor, long? OpenAlerts);

public sealed record OverviewQuery(Caller Caller, DateTimeOffset Now);

/// <summary>
/// The dashboard: events recorded today (China Standard Time) that the caller took part in or that concern its products
/// (all for a regulator), its units by status (a manufacturer: of its products; a dealer or logistics member: those it
/// holds or was shipped), events not yet in an anchor and the newest anchor (the platform's, public like the anchors
/// API), and open (unhandled) alerts where the caller may read alerts (manufacturers and regulators; null otherwise).
/// </summary>
public sealed class Overview(TraceDbContext db)
{
    public async Task<OverviewResponse> Handle(OverviewQuery q, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        var c = q.Caller;
        var localToday = q.Now.ToOffset(AnalyticsRollup.ChinaOffset);
        var dayStart = new DateTimeOffset(localToday.Date, AnalyticsRollup.ChinaOffset);
        var since = DbTime.Format(dayStart);

        var eventsToday = c.SeesEverything
            ? await Sql.LongAsync(conn, null, "SELECT COUNT(*) FROM events WHERE record_time >= @s", ct, ("@s", since))
            : await Sql.LongAsync(conn, null,
                "SELECT COUNT(*) FROM events e WHERE e.record_time >= @s AND EXISTS (SELECT 1 FROM event_parties p WHERE p.sequence = e.sequence AND p.member_id = @m)",
                ct, ("@s", since), ("@m", c.MemberId));

        var unitsWhere = c.SeesEverything ? "" : c.Role == MemberRole.Manufacturer
            ? " WHERE gtin IN (SELECT gtin FROM products WHERE owner_member_id = @m)"
            : " WHERE holder_member_id = @m OR shipped_to_member_id = @m";
        var byStatus = (await Sql.ListAsync(conn, null, $"SELECT status, COUNT(*) FROM units{unitsWhere} GROUP BY status",
            r => (r.GetString(0), r.GetInt64(1)), ct, ("@m", c.MemberId))).ToDictionary(x => x.Item1, x => x.Item2, StringComparer.Ordinal);

        var lastAnchored = await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(last_event_sequence), 0) FROM anchors", ct);
        var awaiting = await Sql.LongAsync(conn, null, "SELECT COUNT(*) FROM events WHERE sequence > @a", ct, ("@a", lastAnchored));
        var last = (await Sql.ListAsync(conn, null,
            "SELECT sequence, status, tx_hash, block_number, last_event_sequence, created_at FROM anchors ORDER BY sequence DESC LIMIT 1",
            r => new LastAnchor(r.GetInt64(0), r.GetString(1).ToLowerInvariant(), r.Str(2), r.Long(3), r.GetInt64(4), r.GetString(5)), ct)).FirstOrDefault();

        long? open = null;
        if (c.SeesEverything)
            open = await Sql.LongAsync(conn, null, "SELECT COUNT(*) FROM alerts WHERE handled_at IS NULL", ct);
        else if (c.Role == MemberRole.Manufacturer)
            open = await Sql.LongAsync(conn, null,
                "SELECT COUNT(*) FROM alerts WHERE handled_at IS NULL AND gtin IN (SELECT gtin FROM products WHERE owner_member_id = @m)", ct, ("@m", c.MemberId));

        return new OverviewResponse(localToday.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), eventsToday, byStatus, byStatus.Values.Sum(),
            awaiting, last, open);
    }
}
