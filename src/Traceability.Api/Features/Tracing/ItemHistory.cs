using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mediator;
using Microsoft.Data.Sqlite;
using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Tracing;

/// <summary>
/// GET /api/v1/codes/history?epc=...: the item's own events, the events of every container it travelled in while it was
/// inside (by event time, from the AggregationEvent ADD to the DELETE, up through cases and pallets), the transformation
/// inputs it was made from, each event's anchor status, and its current state; all as <see cref="VisibilityPolicy"/> allows.
/// </summary>
public sealed class ItemHistory(TraceDbContext db) : IQueryHandler<ItemHistory.Query, ItemHistory.HistoryResponse>
{
    /// <summary>An item (EPC URN or GS1 Digital Link) as the caller may see it.</summary>
    public sealed record Query(string? Epc, Caller Caller) : IQuery<HistoryResponse>;

    private const int MaxDepth = 8;

    public sealed record ProductRef(string Gtin, string? Name);
    public sealed record UnitState(string Status, string? Lot, string? Serial, string? HolderMemberId, string? LocationId, string? RegionCode,
        string? ParentEpc, string? ShippedToMemberId, long LastEventSequence);
    public sealed record AnchorStatusRef(long Sequence, string Status);
    public sealed record HistoryEvent(long Sequence, string EventHash, string Type, string? Action, DateTimeOffset EventTime, string? BizStep, string? Disposition,
        string? ReadPoint, string? BizLocation, string? Via, AnchorStatusRef? Anchor, string View, JsonNode Event);
    public sealed record ContainerWindow(string Epc, DateTimeOffset From, DateTimeOffset? To, int Depth);
    public sealed record LineageInput(string Epc, long Sequence, int Depth);
    public sealed record HistoryResponse(string Epc, ProductRef? Product, UnitState? State, IReadOnlyList<ContainerWindow> Containers,
        IReadOnlyList<LineageInput> Inputs, IReadOnlyList<HistoryEvent> Events);

    private sealed record Window(string Container, string From, string? To, int Depth);

    public async ValueTask<HistoryResponse> Handle(Query query, CancellationToken ct)
    {
        var (epcParameter, caller) = (query.Epc ?? "", query.Caller);
        if (string.IsNullOrWhiteSpace(epcParameter) || !Gs1Identifiers.TryCanonicalId(epcParameter.Trim(), out var epc, out _) || !epc.StartsWith("https://id.gs1.org/", StringComparison.Ordinal))
            throw RequestValidationException.ForField("epc", "epc must be an EPC URN (urn:epc:id:...) or a GS1 Digital Link.");
        var conn = await Sql.OpenAsync(db, ct);
        var key = Gs1Key.Parse(epc);

        var unit = (await Sql.ListAsync(conn, null,
            "SELECT status, lot, serial, holder_member_id, location_id, region_code, parent_epc, shipped_to_member_id, last_event_sequence, gtin FROM units WHERE epc = @e",
            r => (State: new UnitState(r.GetString(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Str(5), r.Str(6), r.Str(7), r.GetInt64(8)), Gtin: r.Str(9)), ct, ("@e", epc)))
            .Cast<(UnitState State, string? Gtin)?>().FirstOrDefault();
        var gtin = unit?.Gtin ?? key.Gtin;

        // Own events, then the containers' events inside each containment window, following the windows upward.
        var via = new Dictionary<long, string?>();
        foreach (var s in await Sql.ListAsync(conn, null, "SELECT DISTINCT sequence FROM event_epcs WHERE epc = @e", r => r.GetInt64(0), ct, ("@e", epc)))
            via[s] = null;
        var windows = await WindowsAsync(conn, epc, ct);
        foreach (var w in windows)
        {
            var sql = "SELECT DISTINCT ee.sequence FROM event_epcs ee JOIN events e ON e.sequence = ee.sequence WHERE ee.epc = @p AND e.event_time >= @f"
                + (w.To is null ? "" : " AND e.event_time <= @t");
            (string, object?)[] parameters = w.To is null ? [("@p", w.Container), ("@f", w.From)] : [("@p", w.Container), ("@f", w.From), ("@t", w.To)];
            foreach (var s in await Sql.ListAsync(conn, null, sql, r => r.GetInt64(0), ct, parameters))
                via.TryAdd(s, w.Container);
        }
        var inputs = await InputsAsync(conn, epc, ct);

        var views = await VisibilityPolicy.ForEventsAsync(conn, caller, via.Keys, ct);
        // the product's name and owner in one read: who owns it decides what the caller sees
        var productRow = gtin is null ? default : (await Sql.ListAsync(conn, null, "SELECT name, owner_member_id FROM products WHERE gtin = @g",
            r => (Name: r.GetString(0), Owner: r.Str(1)), ct, ("@g", gtin))).FirstOrDefault();
        var owner = VisibilityPolicy.OwnsProduct(caller, productRow.Owner);
        if (owner) foreach (var s in via.Keys) if (views[s] == EventView.None) views[s] = EventView.Redacted;
        var custodian = unit is { } u && (u.State.HolderMemberId == caller.MemberId || u.State.ShippedToMemberId == caller.MemberId);
        var tookPart = views.Values.Any(v => v == EventView.Full);
        if (!owner && !custodian && !tookPart) throw new NotFoundException($"History of {epc}");

        var visible = views.Where(v => v.Value != EventView.None).Select(v => v.Key).ToList();
        var anchors = visible.Count == 0 ? [] : await Sql.ListAsync(conn, null,
            "SELECT sequence, first_event_sequence, last_event_sequence, status FROM anchors WHERE status <> 'failed' AND last_event_sequence >= @min AND first_event_sequence <= @max",
            r => (Sequence: r.GetInt64(0), First: r.GetInt64(1), Last: r.GetInt64(2), Status: r.GetString(3)), ct, ("@min", visible.Min()), ("@max", visible.Max()));
        var ownGtins = views.Values.Any(v => v == EventView.Redacted) && !caller.SeesEverything ? await VisibilityPolicy.OwnedGtinsAsync(conn, caller, ct) : null;
        var events = await Sql.ListInAsync(conn, null,
            "SELECT sequence, event_hash, event_type, event_time, biz_step, disposition, read_point, biz_location, json FROM events WHERE sequence IN ({in})",
            visible, r =>
            {
                var sequence = r.GetInt64(0);
                var (json, action) = StoredEvent(r, 8);
                var anchor = anchors.FirstOrDefault(a => a.First <= sequence && a.Last >= sequence);
                return new HistoryEvent(sequence, r.GetString(1), r.GetString(2), action, DbTime.Parse(r.GetString(3)), r.Str(4), r.Str(5), r.Str(6), r.Str(7),
                    via[sequence], anchor.Status is null ? null : new AnchorStatusRef(anchor.Sequence, anchor.Status),
                    views[sequence].ToString().ToLowerInvariant(), VisibilityPolicy.Shape(json, views[sequence], ownGtins)!);
            }, ct);

        var product = gtin is null ? null : new ProductRef(gtin, productRow.Name);
        UnitState? state = null;
        if (unit is { } found)
        {
            // Others who took part see the status, not where the unit is now or with whom.
            state = owner || custodian ? found.State
                : found.State with { HolderMemberId = null, LocationId = null, RegionCode = null, ParentEpc = null, ShippedToMemberId = null };
        }
        return new HistoryResponse(epc, product, state,
            windows.Select(w => new ContainerWindow(w.Container, DbTime.Parse(w.From), w.To is null ? null : DbTime.Parse(w.To), w.Depth)).ToList(),
            owner ? inputs : [],
            events.OrderBy(e => e.EventTime).ThenBy(e => e.Sequence).ToList());
    }

    /// <summary>
    /// A stored event and its action, read without building its tree: the object stays backed by the parsed JSON, so an
    /// event shown in full is written out as it was read (a commissioning of 1,000 codes is 50 KB), and only a redacted one
    /// is taken apart. SQLite hands the text over as the UTF-8 it stores, so it is parsed from those bytes rather than
    /// copied to a string and back.
    /// </summary>
    private static (JsonObject Event, string? Action) StoredEvent(DbDataReader r, int column)
    {
        var reader = new Utf8JsonReader(r is SqliteDataReader sqlite ? sqlite.GetFieldValue<byte[]>(column) : Encoding.UTF8.GetBytes(r.GetString(column)));
        var element = JsonElement.ParseValue(ref reader);
        var action = element.TryGetProperty("action", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        return (JsonObject.Create(element)!, action);
    }

    /// <summary>The containers the item was in, each with the time window it was inside, through every level of nesting.</summary>
    private static async Task<List<Window>> WindowsAsync(DbConnection conn, string epc, CancellationToken ct)
    {
        var result = new List<Window>();
        var frontier = new List<Window> { new(epc, "", null, 0) };
        while (frontier.Count > 0)
        {
            var next = new List<Window>();
            foreach (var w in frontier)
            {
                if (w.Depth >= MaxDepth) continue;
                var rows = await Sql.ListAsync(conn, null, "SELECT parent_epc, add_time, delete_time FROM containment WHERE child_epc = @c",
                    r => (Parent: r.GetString(0), From: r.GetString(1), To: r.Str(2)), ct, ("@c", w.Container));
                foreach (var (parent, from, to) in rows)
                {
                    // The intersection of this containment with the window of the level below.
                    var start = string.CompareOrdinal(from, w.From) > 0 ? from : w.From;
                    var end = w.To is null ? to : to is null ? w.To : string.CompareOrdinal(to, w.To) < 0 ? to : w.To;
                    if (end is not null && string.CompareOrdinal(start, end) > 0) continue;
                    next.Add(new Window(parent, start, end, w.Depth + 1));
                }
            }
            result.AddRange(next);
            frontier = next;
        }
        return result;
    }

    /// <summary>Backward lineage: what the item was made from, and what that was made from.</summary>
    private static async Task<List<LineageInput>> InputsAsync(DbConnection conn, string epc, CancellationToken ct)
    {
        var result = new List<LineageInput>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { epc };
        var level = new List<string> { epc };
        for (var depth = 1; level.Count > 0 && depth <= MaxDepth; depth++)
        {
            var rows = await Sql.ListInAsync(conn, null, "SELECT input_epc, sequence FROM lineage WHERE output_epc IN ({in})", level, r => (r.GetString(0), r.GetInt64(1)), ct);
            level = [];
            foreach (var (input, sequence) in rows)
            {
                if (!seen.Add(input)) continue;
                result.Add(new LineageInput(input, sequence, depth));
                level.Add(input);
            }
        }
        return result;
    }
}
