using System.Data.Common;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Epcis;

/// <summary>One stored event as a query answers it: the event as captured, shaped for the caller.</summary>
public sealed record QueriedEvent(long Sequence, string EventHash, JsonObject Event);

/// <summary>A page of a query: its events and, when more match, where the next page starts.</summary>
public sealed record EventPage(IReadOnlyList<QueriedEvent> Events, PagePosition? Next);

/// <summary>
/// GET /epcis/events and the resources that are queries by another name (/epcis/epcs/{epc}/events, ...): the matching
/// events the caller may see, in the order asked for, one page at a time (keyset paging on (order value, sequence), so
/// a page costs the same wherever it is and events captured meanwhile neither repeat nor shift the pages).
/// </summary>
public sealed class QueryEpcisEvents(TraceDbContext db, EventHashIndex hashIndex)
{
    public async Task<EventPage> HandleAsync(EpcisQuery query, PagePosition? after, Caller caller, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        var postgres = db.Database.IsNpgsql();
        var where = new List<string>();
        var args = new List<(string, object?)>();
        var n = 0;
        string Arg(object? value)
        {
            var name = "@p" + n++.ToString(System.Globalization.CultureInfo.InvariantCulture);
            args.Add((name, value));
            return name;
        }
        string In(IEnumerable<string> values) => string.Join(", ", values.Select(v => Arg(v)));

        if (query.EventTypes is { } types) where.Add($"e.event_type IN ({In(types)})");
        // {time} and {seq}: the event time and sequence, read from event_times or from events (see below). After a page
        // position in event-time order, the position bounds that side of the window itself (it is a row of this query:
        // its token is signed and bound to these filters); with both bounds SQLite would seek to the window's start and
        // step over every event before the position.
        var positioned = after is not null && query.OrderBy == EpcisOrder.EventTime;
        if (query.GeEventTime is { } ge && !(positioned && !query.Descending)) where.Add($"{{time}} >= {Arg(ge)}");
        if (query.LtEventTime is { } lt && !(positioned && query.Descending)) where.Add($"{{time}} < {Arg(lt)}");
        if (query.MaxSequence is { } max) where.Add($"e.sequence <= {Arg(max)}");
        if (query.GeRecordTime is { } gr) where.Add($"e.record_time >= {Arg(gr)}");
        if (query.LtRecordTime is { } lr) where.Add($"e.record_time < {Arg(lr)}");
        if (query.Actions is { } actions)
        {
            // action is not a column: the stored JSON holds it (events read from JSON keep their fields as written)
            where.Add("(" + string.Join(" OR ", actions.Select(a => postgres
                ? $"(e.json::jsonb ->> 'action') = {Arg(a)}"
                : $"json_extract(e.json, '$.action') = {Arg(a)}")) + ")");
        }
        if (query.BizSteps is { } steps) where.Add($"e.biz_step IN ({In(steps)})");
        if (query.Dispositions is { } dispositions) where.Add($"e.disposition IN ({In(dispositions)})");
        if (query.ReadPoints is { } readPoints) where.Add($"e.read_point IN ({In(readPoints)})");
        if (query.BizLocations is { } bizLocations) where.Add($"e.biz_location IN ({In(bizLocations)})");
        if (query.EventIds is { } ids)
        {
            var sequences = await SequencesOfEventIdsAsync(conn, ids, postgres, ct);
            where.Add(sequences.Count == 0 ? "1 = 0" : $"e.sequence IN ({string.Join(", ", sequences)})");
        }
        foreach (var (roles, notTransformation, match) in query.EpcMatches)
        {
            var any = new List<string>();
            if (match.Exact.Count > 0) any.Add($"ee.epc IN ({In(match.Exact)})");
            foreach (var prefix in match.Prefixes)
            {
                // a prefix as a range of the primary key (SQLite compares bytes); PostgreSQL's collation may not, so starts_with
                any.Add(postgres ? $"starts_with(ee.epc, {Arg(prefix)})" : $"(ee.epc >= {Arg(prefix)} AND ee.epc < {Arg(prefix[..^1] + (char)(prefix[^1] + 1))})");
            }
            var roleList = string.Join(", ", roles.Select(r => $"'{r}'"));
            where.Add($"e.sequence IN (SELECT ee.sequence FROM event_epcs ee WHERE ee.role IN ({roleList}) AND ({string.Join(" OR ", any)}))");
            if (notTransformation) where.Add("e.event_type <> 'TransformationEvent'");
        }
        if (!caller.SeesEverything)
            where.Add($"EXISTS (SELECT 1 FROM event_parties vp WHERE vp.member_id = {Arg(caller.MemberId)} AND vp.sequence = e.sequence)");

        var column = query.OrderBy switch
        {
            EpcisOrder.EventTime => "{time}",
            EpcisOrder.RecordTime => "e.record_time",
            _ => null,
        };
        var direction = query.Descending ? "DESC" : "ASC";
        if (after is not null)
        {
            var op = query.Descending ? "<" : ">";
            where.Add(column is null
                ? $"{{seq}} {op} {Arg(after.Sequence)}"
                : $"({column}, {{seq}}) {op} ({Arg(after.OrderValue ?? "")}, {Arg(after.Sequence)})");
        }

        var remaining = after?.Remaining ?? query.EventCountLimit;
        var size = Math.Min(query.PerPage, remaining ?? int.MaxValue);
        string Select(string from, string time, string sequence, IEnumerable<string> conditions)
        {
            var all = conditions.ToList();
            var select = $"SELECT {sequence}, e.event_id, e.event_hash, e.record_time, e.json, {column ?? "NULL"} FROM {from}" +
                (all.Count > 0 ? " WHERE " + string.Join(" AND ", all) : "");
            return select.Replace("{time}", time, StringComparison.Ordinal).Replace("{seq}", sequence, StringComparison.Ordinal);
        }
        // Event time asked for (a window or the order): event_times answers for the events up to its projected_to
        // (EventTimeIndex), in (event_time, sequence) order from its key; the few events after it come from events.
        var sql = (query.GeEventTime ?? query.LtEventTime) is not null || query.OrderBy == EpcisOrder.EventTime
            ? Select("event_times t JOIN events e ON e.sequence = t.sequence", "t.event_time", "t.sequence", where) +
              " UNION ALL " + Select("events e", "e.event_time", "e.sequence", [$"e.sequence > {EventTimeIndex.ProjectedTo}", .. where])
            : Select("events e", "e.event_time", "e.sequence", where);
        sql += $" ORDER BY {(column is null ? "" : "6 " + direction + ", ")}1 {direction} LIMIT {size + 1}";
        var rows = await Sql.ListAsync(conn, null, sql, r => (Sequence: r.GetInt64(0), EventId: r.Str(1), Hash: r.GetString(2), RecordTime: r.GetString(3),
            Json: r.GetString(4), OrderValue: r.Str(5)), ct, [.. args]);

        var more = rows.Count > size;
        if (more) rows.RemoveAt(rows.Count - 1);
        var views = await VisibilityPolicy.ForEventsAsync(conn, caller, rows.Select(r => r.Sequence).ToList(), ct);
        var ownGtins = views.Values.Any(v => v == EventView.Redacted) && !caller.SeesEverything ? await VisibilityPolicy.OwnedGtinsAsync(conn, caller, ct) : null;
        var events = new List<QueriedEvent>(rows.Count);
        foreach (var row in rows)
        {
            if (JsonNode.Parse(row.Json) is not JsonObject stored || VisibilityPolicy.Shape(stored, views[row.Sequence], ownGtins) is not JsonObject shaped) continue;
            // the repository's own fields: the eventID it is found by (its hash when the capture gave none), its recordTime
            if (shaped["eventID"] is null) shaped["eventID"] = row.EventId ?? row.Hash;
            shaped["recordTime"] = row.RecordTime;
            events.Add(new QueriedEvent(row.Sequence, row.Hash, shaped));
        }

        PagePosition? next = null;
        var left = remaining is { } r0 ? r0 - rows.Count : (int?)null;
        if (more && left is not 0 && rows.Count > 0) next = new PagePosition(rows[^1].OrderValue, rows[^1].Sequence, left);
        return new EventPage(events, next);
    }

    /// <summary>
    /// The events with these eventIDs: given eventIDs other than the event's hash through their partial index, hashes
    /// through the hash map (SQLite) or the unique index (PostgreSQL), each checked against the stored row.
    /// </summary>
    private async Task<List<long>> SequencesOfEventIdsAsync(DbConnection conn, IReadOnlyList<string> ids, bool postgres, CancellationToken ct)
    {
        var found = await Sql.ListInAsync(conn, null, "SELECT sequence FROM events WHERE event_id IN ({in}) AND event_id <> event_hash", ids, r => r.GetInt64(0), ct);
        var hashes = ids.Where(i => i.StartsWith("ni:", StringComparison.Ordinal)).ToList();
        if (postgres)
        {
            found.AddRange(await Sql.ListInAsync(conn, null, "SELECT sequence FROM events WHERE event_hash IN ({in})", hashes, r => r.GetInt64(0), ct));
        }
        else
        {
            if (!hashIndex.IsLoaded) // loaded at start-up; without it, the hashes are looked for the slow way
            {
                found.AddRange(await Sql.ListInAsync(conn, null, "SELECT sequence FROM events WHERE event_hash IN ({in})", hashes, r => r.GetInt64(0), ct));
                return found.Distinct().Order().ToList();
            }
            foreach (var h in hashes)
            {
                long? candidate;
                try { candidate = hashIndex.Candidate(h); }
                catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException) { continue; } // not a hash this ledger writes
                if (candidate is null) continue;
                if (await Sql.LongAsync(conn, null, "SELECT COUNT(*) FROM events WHERE sequence = @s AND event_hash = @h", ct, ("@s", candidate), ("@h", h)) > 0)
                    found.Add(candidate.Value);
            }
        }
        return found.Distinct().Order().ToList();
    }
}
