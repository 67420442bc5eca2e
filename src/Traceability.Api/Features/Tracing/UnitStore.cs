using System.Data.Common;
using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Tracing;

/// <summary>
/// The custody step's access to the units table and the tables it keeps with it (containment, lineage, lot holds, who
/// took part in each event, the lots each event moved), on the capture's transaction through plain ADO.NET: this runs
/// for every event of every capture under the capture lock (docs/adr/0006-sqlite-capture-write-path.md). Master data is
/// cached for the length of one capture (one instance per request scope).
/// </summary>
public sealed class UnitStore
{
    private const string UnitColumns =
        "epc, gtin, lot, serial, status, status_before_hold, holder_member_id, location_id, region_code, parent_epc, shipped_to_member_id, commissioned_sequence, last_event_sequence";

    private const string UpsertUnit =
        $"INSERT INTO units ({UnitColumns}, updated_at) VALUES (@e, @g, @l, @sr, @st, @sb, @h, @loc, @rg, @p, @to, @cs, @ls, @u) " +
        "ON CONFLICT (epc) DO UPDATE SET gtin = excluded.gtin, lot = excluded.lot, serial = excluded.serial, status = excluded.status, " +
        "status_before_hold = excluded.status_before_hold, holder_member_id = excluded.holder_member_id, location_id = excluded.location_id, " +
        "region_code = excluded.region_code, parent_epc = excluded.parent_epc, shipped_to_member_id = excluded.shipped_to_member_id, " +
        "commissioned_sequence = excluded.commissioned_sequence, last_event_sequence = excluded.last_event_sequence, updated_at = excluded.updated_at";

    private const int MaxNesting = 64;

    /// <summary>How many EPCs an event names for <see cref="BeginAsync"/> to leave their lookup to the event's own query.</summary>
    private const int LooksUpItself = 64;

    /// <summary>How many existing units must share one change for it to be written by one UPDATE (<see cref="WriteUnitsAsync"/>).</summary>
    public const int SetBasedFrom = 64;

    private readonly int _setBasedFrom;

    /// <param name="setBasedFrom">
    /// <see cref="SetBasedFrom"/>; <see cref="int.MaxValue"/> writes every unit by its own upsert (the tests compare the two ways).
    /// </param>
    public UnitStore(int setBasedFrom = SetBasedFrom) => _setBasedFrom = Math.Max(1, setBasedFrom);

    private readonly Dictionary<string, LocationFact?> _locations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _owners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _membersByGln = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Gtin, string Lot), long?> _openHolds = [];
    private readonly HashSet<string> _absent = new(StringComparer.Ordinal);
    private static readonly HashSet<string> NoAncestors = new(StringComparer.Ordinal);
    private string _updatedAt = ""; // the capture's record time as stored: every unit written by it carries it

    private static Unit ReadUnit(DbDataReader r) => new()
    {
        Epc = r.GetString(0), Gtin = r.Str(1), Lot = r.Str(2), Serial = r.Str(3), Status = r.GetString(4), StatusBeforeHold = r.Str(5),
        HolderMemberId = r.Str(6), LocationId = r.Str(7), RegionCode = r.Str(8), ParentEpc = r.Str(9), ShippedToMemberId = r.Str(10),
        CommissionedSequence = r.Long(11), LastEventSequence = r.GetInt64(12),
    };

    /// <summary>
    /// Loads, in one query, which EPCs of the document's small events have no unit yet, so that those events (most of
    /// them commissioning new codes) need not ask one by one. An event naming <see cref="LooksUpItself"/> EPCs or more
    /// reads its units in one query of its own anyway, absent ones included: checking its EPCs here too read them twice
    /// (a recall of 100,000 units read every unit's EPC here and then every unit's row). Units are inserted only by
    /// <see cref="WriteAsync"/>, which takes the EPC out of the set, and captures are serialised, so the set stays exact
    /// for the length of the capture.
    /// </summary>
    public async Task BeginAsync(CaptureContext context, IReadOnlyList<ValidatedEvent> events, CancellationToken ct)
    {
        _updatedAt = DbTime.Format(context.RecordTime);
        _absent.Clear();
        foreach (var v in events)
            if (v.Identifiers.Count < LooksUpItself)
                foreach (var (epc, _) in v.Identifiers) _absent.Add(epc);
        foreach (var epc in await Sql.ListInAsync(context.Connection, context.Transaction, "SELECT epc FROM units WHERE epc IN ({in})", _absent, r => r.GetString(0), ct))
            _absent.Remove(epc);
    }

    /// <summary>The end of a capture: what was learnt about lot holds and absent units may be rolled back with it.</summary>
    public void Complete()
    {
        _openHolds.Clear();
        _absent.Clear();
    }

    // ---- the facts the rules need ------------------------------------------------------------------------------------

    public async Task<CustodyFacts> LoadFactsAsync(CaptureContext context, CustodyEvent e, IReadOnlyList<TypedValue> destinations, CancellationToken ct)
    {
        var named = e.Targets.Concat(e.Children).Concat(e.Inputs).Concat(e.Outputs);
        if (e.Parent is not null) named = named.Append(e.Parent);
        var units = await UnitsAsync(context, named, ct);

        IReadOnlyList<string> contents = [], parentChildren = [];
        IReadOnlySet<string> ancestors = NoAncestors;
        switch (e.Kind)
        {
            case EventKind.Ship or EventKind.Receive or EventKind.Destroy or EventKind.Recall or EventKind.Inspect:
                contents = await ContentsAsync(context, e.Targets.Where(units.ContainsKey), units, ct);
                break;
            case EventKind.Pack:
                ancestors = await AncestorsAsync(context, e.Parent!, units, ct);
                contents = await ContentsAsync(context, e.Children, units, ct);
                break;
            case EventKind.Unpack:
                if (e.Children.Count == 0)
                {
                    var inside = await Sql.ListAsync(context.Connection, context.Transaction, $"SELECT {UnitColumns} FROM units WHERE parent_epc = @p", ReadUnit, ct, ("@p", e.Parent));
                    foreach (var u in inside) units.TryAdd(u.Epc, u);
                    parentChildren = inside.Select(u => u.Epc).ToList();
                }
                contents = await ContentsAsync(context, e.Children.Count > 0 ? e.Children : parentChildren, units, ct);
                break;
        }

        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var gtin in named.Select(Gs1Key.GtinOf).Concat(units.Values.Select(u => u.Gtin)).Concat(e.AllClasses.Select(q => q.Gtin)))
            if (gtin is not null && !owners.ContainsKey(gtin) && await OwnerAsync(context, gtin, ct) is { } owner) owners[gtin] = owner;

        var openHolds = new Dictionary<(string, string), long>();
        var lotsHeld = new HashSet<(string, string)>();
        IEnumerable<(string, string)> lots = e.Kind switch
        {
            EventKind.Commission or EventKind.Transform when e.Lot is not null =>
                (e.Kind == EventKind.Commission ? e.Targets : e.Outputs).Select(Gs1Key.GtinOf).OfType<string>().Distinct().Select(g => (g, e.Lot)),
            EventKind.Inspect => units.Values.Where(u => u.Gtin is not null && u.Lot is not null).Select(u => (u.Gtin!, u.Lot!))
                .Concat(e.AllClasses.Select(q => (q.Gtin, q.Lot))).Distinct(),
            _ => [],
        };
        foreach (var lot in lots)
            if (await OpenHoldAsync(context, lot, ct) is { } hold) openHolds[lot] = hold;
        if (e.Kind == EventKind.Inspect)
        {
            foreach (var q in e.Classes)
                if ((await context.ListAsync("SELECT 1 FROM units WHERE gtin = @g AND lot = @l AND holder_member_id = @m LIMIT 1", _ => true, ct,
                        ("@g", q.Gtin), ("@l", q.Lot), ("@m", context.Caller.MemberId))).Count > 0)
                    lotsHeld.Add((q.Gtin, q.Lot));
        }

        return new CustodyFacts
        {
            Caller = context.Caller, Units = units, Contents = contents, ParentAncestors = ancestors, ParentChildren = parentChildren,
            ProductOwners = owners, Location = await LocationAsync(context, e.Where, ct), OpenHolds = openHolds, LotsHeldByCaller = lotsHeld,
            Destination = e.Kind == EventKind.Ship ? await DestinationMemberAsync(context, destinations, ct) : null,
        };
    }

    private async Task<Dictionary<string, Unit>> UnitsAsync(CaptureContext context, IEnumerable<string> epcs, CancellationToken ct)
    {
        var result = new Dictionary<string, Unit>(StringComparer.Ordinal);
        var missing = epcs.Where(epc => !_absent.Contains(epc)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count == 0) return result;
        var rows = missing.Count == 1
            ? await context.ListAsync($"SELECT {UnitColumns} FROM units WHERE epc = @e", ReadUnit, ct, ("@e", missing[0]))
            : await Sql.ListInAsync(context.Connection, context.Transaction, $"SELECT {UnitColumns} FROM units WHERE epc IN ({{in}})", missing, ReadUnit, ct);
        foreach (var u in rows) result[u.Epc] = u;
        return result;
    }

    /// <summary>Everything inside the containers, at any depth, added to <paramref name="units"/>.</summary>
    private static async Task<List<string>> ContentsAsync(CaptureContext context, IEnumerable<string> containers, Dictionary<string, Unit> units, CancellationToken ct)
    {
        var seen = new HashSet<string>(containers, StringComparer.Ordinal);
        var result = new List<string>();
        var level = seen.ToList();
        for (var depth = 0; level.Count > 0 && depth < MaxNesting; depth++)
        {
            var next = new List<string>();
            foreach (var u in await Sql.ListInAsync(context.Connection, context.Transaction, $"SELECT {UnitColumns} FROM units WHERE parent_epc IN ({{in}})", level, ReadUnit, ct))
            {
                if (!seen.Add(u.Epc)) continue;
                units.TryAdd(u.Epc, u);
                result.Add(u.Epc);
                next.Add(u.Epc);
            }
            level = next;
        }
        return result;
    }

    private async Task<HashSet<string>> AncestorsAsync(CaptureContext context, string epc, Dictionary<string, Unit> units, CancellationToken ct)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var current = units.GetValueOrDefault(epc);
        while (current?.ParentEpc is { } parent && result.Count < MaxNesting && result.Add(parent))
            current = (await UnitsAsync(context, [parent], ct)).GetValueOrDefault(parent);
        return result;
    }

    // ---- master data, cached for the length of one capture -------------------------------------------------------------

    public async Task<LocationFact?> LocationAsync(CaptureContext context, string? id, CancellationToken ct)
    {
        if (id is null) return null;
        if (_locations.TryGetValue(id, out var known)) return known;
        var found = (await context.ListAsync("SELECT id, member_id, region_code FROM locations WHERE id = @i",
            r => new LocationFact(r.GetString(0), r.Str(1), r.GetString(2)), ct, ("@i", id))).FirstOrDefault();
        return _locations[id] = found;
    }

    /// <summary>The owner of a product ("" for a product without owner, created by the admin), or null for an unknown GTIN.</summary>
    public async Task<string?> OwnerAsync(CaptureContext context, string gtin, CancellationToken ct)
    {
        if (_owners.TryGetValue(gtin, out var known)) return known;
        var rows = await context.ListAsync("SELECT owner_member_id FROM products WHERE gtin = @g", r => r.Str(0) ?? "", ct, ("@g", gtin));
        return _owners[gtin] = rows.Count == 0 ? null : rows[0];
    }

    /// <summary>The member behind a source/destination value: a location of its, or its GLN (SGLN or PGLN).</summary>
    public async Task<string?> PartyAsync(CaptureContext context, string value, CancellationToken ct)
    {
        if (!Gs1Identifiers.TryToCanonicalDigitalLink(value, out var dl)) return null;
        if (await LocationAsync(context, dl, ct) is { MemberId: { } m }) return m;
        var at = dl.IndexOf("/414/", StringComparison.Ordinal) is var i and >= 0 ? i : dl.IndexOf("/417/", StringComparison.Ordinal);
        if (at < 0 || dl.Length < at + 5 + 13) return null;
        var gln = dl.Substring(at + 5, 13);
        if (_membersByGln.TryGetValue(gln, out var known)) return known;
        var found = (await context.ListAsync("SELECT id FROM members WHERE gln = @g", r => r.GetString(0), ct, ("@g", gln))).FirstOrDefault();
        return _membersByGln[gln] = found;
    }

    /// <summary>The member a shipment goes to: its owning party, else its possessing party, else its destination location's member.</summary>
    private async Task<string?> DestinationMemberAsync(CaptureContext context, IReadOnlyList<TypedValue> destinations, CancellationToken ct)
    {
        foreach (var type in new[] { "SDT-owning_party", "SDT-possessing_party", "SDT-location" })
            foreach (var d in destinations.Where(d => d.Type == CbvVocabulary.Cbv + type))
                if (await PartyAsync(context, d.Value, ct) is { } m) return m;
        return null;
    }

    private async Task<long?> OpenHoldAsync(CaptureContext context, (string Gtin, string Lot) lot, CancellationToken ct)
    {
        if (_openHolds.TryGetValue(lot, out var known)) return known;
        var open = (await context.ListAsync("SELECT hold_sequence FROM lot_holds WHERE gtin = @g AND lot = @l AND released_sequence IS NULL",
            r => r.GetInt64(0), ct, ("@g", lot.Gtin), ("@l", lot.Lot))).Cast<long?>().FirstOrDefault();
        return _openHolds[lot] = open;
    }

    // ---- writing what an event does ------------------------------------------------------------------------------------

    /// <summary>
    /// Writes the outcome of an event that broke no rule; the holds it opened, each with the number of units it put on hold.
    /// <paramref name="before"/> holds the units as the facts had them (<see cref="CustodyFacts.Units"/>), which says
    /// which of the outcome's units exist and what changed in each.
    /// </summary>
    public async Task<List<(HoldChange Hold, int Units)>> WriteAsync(CaptureContext context, CustodyEvent e, DateTimeOffset eventTime, CustodyOutcome outcome,
        IReadOnlyDictionary<string, Unit> before, CancellationToken ct)
    {
        await WriteUnitsAsync(context, e.Sequence, outcome.Units, before, ct);
        var time = outcome.Packed.Count + outcome.Unpacked.Count > 0 ? DbTime.Format(eventTime) : "";
        foreach (var (child, parent) in outcome.Packed)
            await context.ExecAsync("INSERT INTO containment (child_epc, parent_epc, add_sequence, add_time) VALUES (@c, @p, @s, @t) ON CONFLICT DO NOTHING", ct,
                ("@c", child), ("@p", parent), ("@s", e.Sequence), ("@t", time));
        foreach (var (child, parent) in outcome.Unpacked)
            await context.ExecAsync(
                "UPDATE containment SET delete_sequence = @s, delete_time = @t WHERE child_epc = @c AND parent_epc = @p AND delete_sequence IS NULL", ct,
                ("@s", e.Sequence), ("@t", time), ("@c", child), ("@p", parent));
        foreach (var (output, input) in outcome.Lineage)
            await context.ExecAsync("INSERT INTO lineage (output_epc, input_epc, sequence) VALUES (@o, @i, @s) ON CONFLICT DO NOTHING", ct,
                ("@o", output), ("@i", input), ("@s", e.Sequence));
        foreach (var (output, input) in outcome.LotLineage)
            await context.ExecAsync(
                "INSERT INTO lot_lineage (output_gtin, output_lot, input_gtin, input_lot, sequence) VALUES (@og, @ol, @ig, @il, @s) ON CONFLICT DO NOTHING", ct,
                ("@og", output.Gtin), ("@ol", output.Lot), ("@ig", input.Gtin), ("@il", input.Lot), ("@s", e.Sequence));

        // After the units: a hold changes every unit of the lot, those just written included.
        var opened = new List<(HoldChange, int)>();
        foreach (var h in outcome.Holds)
        {
            if (h.ReleasesHold is { } hold)
            {
                await context.ExecAsync("UPDATE lot_holds SET released_sequence = @s WHERE gtin = @g AND lot = @l AND hold_sequence = @h", ct,
                    ("@s", e.Sequence), ("@g", h.Gtin), ("@l", h.Lot), ("@h", hold));
                await context.ExecAsync(
                    "UPDATE units SET status = COALESCE(status_before_hold, 'at_holder'), status_before_hold = NULL WHERE gtin = @g AND lot = @l AND status = 'on_hold'", ct,
                    ("@g", h.Gtin), ("@l", h.Lot));
                _openHolds[(h.Gtin, h.Lot)] = null;
                continue;
            }
            await context.ExecAsync("INSERT INTO lot_holds (gtin, lot, hold_sequence, hold_epc, disposition) VALUES (@g, @l, @s, @e, @d)", ct,
                ("@g", h.Gtin), ("@l", h.Lot), ("@s", e.Sequence), ("@e", h.Epc), ("@d", h.Disposition));
            var held = await context.ExecAsync(
                "UPDATE units SET status_before_hold = status, status = 'on_hold' WHERE gtin = @g AND lot = @l " +
                "AND status IN ('commissioned', 'packed', 'in_transit', 'at_holder')", ct, ("@g", h.Gtin), ("@l", h.Lot));
            _openHolds[(h.Gtin, h.Lot)] = e.Sequence;
            opened.Add((h, held));
        }
        return opened;
    }

    /// <summary>
    /// The units as the event leaves them. Existing units that the event changed the same way (a recall or a shipment
    /// of thousands: the same status, holder or container for all) are written by one UPDATE per distinct change, naming
    /// the units by EPC: one statement instead of one per unit, which at 100,000 units was most of a recall's custody
    /// time (docs/adr/0032-set-based-unit-writes.md). New units, and changes shared by fewer than
    /// <see cref="SetBasedFrom"/> units, are written one by one. Either way the rows end as the upsert of each unit
    /// would leave them: the columns not in the change keep their values, which are the unit's.
    /// </summary>
    private async Task WriteUnitsAsync(CaptureContext context, long sequence, IReadOnlyList<Unit> units, IReadOnlyDictionary<string, Unit> before,
        CancellationToken ct)
    {
        Dictionary<UnitChange, List<Unit>>? changes = units.Count >= _setBasedFrom ? [] : null;
        foreach (var u in units)
        {
            _absent.Remove(u.Epc);
            u.LastEventSequence = sequence;
            if (changes is not null && before.TryGetValue(u.Epc, out var was))
            {
                var change = UnitChange.Between(was, u);
                if (!changes.TryGetValue(change, out var same)) changes[change] = same = [];
                same.Add(u);
            }
            else await UpsertAsync(context, u, ct);
        }
        if (changes is null) return;
        foreach (var (change, same) in changes)
        {
            if (same.Count < _setBasedFrom)
                foreach (var u in same) await UpsertAsync(context, u, ct);
            else await UpdateAllAsync(context, change, sequence, same, ct);
        }
    }

    private async Task UpsertAsync(CaptureContext context, Unit u, CancellationToken ct) =>
        await context.ExecAsync(UpsertUnit, ct, ("@e", u.Epc), ("@g", u.Gtin), ("@l", u.Lot), ("@sr", u.Serial), ("@st", u.Status),
            ("@sb", u.StatusBeforeHold), ("@h", u.HolderMemberId), ("@loc", u.LocationId), ("@rg", u.RegionCode), ("@p", u.ParentEpc),
            ("@to", u.ShippedToMemberId), ("@cs", u.CommissionedSequence), ("@ls", u.LastEventSequence), ("@u", _updatedAt));

    /// <summary>One UPDATE of the columns <paramref name="change"/> sets, for every unit of <paramref name="units"/>.</summary>
    private async Task UpdateAllAsync(CaptureContext context, UnitChange change, long sequence, List<Unit> units, CancellationToken ct)
    {
        var set = new List<string>(UnitChange.Columns.Length + 2);
        var parameters = new List<(string, object?)>(UnitChange.Columns.Length + 3);
        for (var i = 0; i < UnitChange.Columns.Length; i++)
        {
            if ((change.Mask & (1 << i)) == 0) continue;
            set.Add($"{UnitChange.Columns[i]} = @c{i}");
            parameters.Add(($"@c{i}", change.Value(i)));
        }
        set.Add("last_event_sequence = @ls");
        set.Add("updated_at = @u");
        parameters.Add(("@ls", sequence));
        parameters.Add(("@u", _updatedAt));
        var epcs = new string[units.Count];
        for (var i = 0; i < epcs.Length; i++) epcs[i] = units[i].Epc;
        // SQLite takes the EPCs as one JSON array (each looked up by primary key); PostgreSQL as one text[] parameter.
        var sqlite = context.Connection is Microsoft.Data.Sqlite.SqliteConnection;
        parameters.Add(("@epcs", sqlite ? System.Text.Json.JsonSerializer.Serialize(epcs) : epcs));
        var sql = $"UPDATE units SET {string.Join(", ", set)} WHERE epc " + (sqlite ? "IN (SELECT value FROM json_each(@epcs))" : "= ANY(@epcs)");
        var written = await context.ExecAsync(sql, ct, [.. parameters]);
        if (written != units.Count)
            throw new InvalidOperationException($"Updating {units.Count} units of event {sequence} changed {written} rows: a unit read in this capture is gone.");
    }

    /// <summary>
    /// Who took part in the event (the caller, the members of its locations, its sources and destinations) and whose
    /// products it concerns: the rows <see cref="VisibilityPolicy"/> decides by.
    /// </summary>
    public async Task RecordPartiesAsync(CaptureContext context, EpcisEvent e, long sequence, IEnumerable<string> gtins, CancellationToken ct)
    {
        // Small lists rather than sets and LINQ: one to three members in almost every event.
        var parties = new List<string>(4) { context.Caller.MemberId };
        if (await LocationAsync(context, e.BizLocationDigitalLink, ct) is { MemberId: { } atBiz } && !parties.Contains(atBiz)) parties.Add(atBiz);
        if (await LocationAsync(context, e.ReadPointDigitalLink, ct) is { MemberId: { } atRead } && !parties.Contains(atRead)) parties.Add(atRead);
        foreach (var sd in e.Sources.Concat(e.Destinations))
            if (await PartyAsync(context, sd.Value, ct) is { } m && !parties.Contains(m)) parties.Add(m);

        var owners = new List<string>(2);
        foreach (var gtin in gtins)
            if (gtin.Length == 14 && await OwnerAsync(context, gtin, ct) is { Length: > 0 } o && !owners.Contains(o)) owners.Add(o);

        const string insert = "INSERT INTO event_parties (sequence, member_id, kind) VALUES (@s, @m, @k) ON CONFLICT DO NOTHING";
        foreach (var member in parties) await context.ExecAsync(insert, ct, ("@s", sequence), ("@m", member), ("@k", "party"));
        foreach (var owner in owners) await context.ExecAsync(insert, ct, ("@s", sequence), ("@m", owner), ("@k", "owner"));
    }

    /// <summary>How many units of each lot the event moved (the FSMA 204 export's quantities).</summary>
    public static async Task RecordLotsAsync(CaptureContext context, long sequence, IReadOnlyDictionary<(string Gtin, string Lot), long> quantities, CancellationToken ct)
    {
        foreach (var ((gtin, lot), quantity) in quantities)
            await context.ExecAsync("INSERT INTO event_lots (gtin, lot, sequence, quantity) VALUES (@g, @l, @s, @q) ON CONFLICT DO NOTHING", ct,
                ("@g", gtin), ("@l", lot), ("@s", sequence), ("@q", quantity));
    }

    public static async Task WriteRecallAsync(CaptureContext context, string id, string gtin, string lot, string reason, long first, long last, int units,
        CancellationToken ct) =>
        await Sql.ExecAsync(context.Connection, context.Transaction,
            "INSERT INTO recalls (id, gtin, lot, reason, requested_by, created_at, first_event_sequence, last_event_sequence, units) " +
            "VALUES (@id, @g, @l, @r, @by, @at, @f, @t, @n)", ct,
            ("@id", id), ("@g", gtin), ("@l", lot), ("@r", reason), ("@by", context.Caller.MemberId),
            ("@at", DbTime.Format(context.RecordTime)), ("@f", first), ("@t", last), ("@n", units));

    /// <summary>
    /// What one event changed in an existing unit: a bit of <see cref="Mask"/> per column of <see cref="Columns"/> it
    /// changed, and the new values (null where unchanged). Units with equal changes are written by one statement.
    /// </summary>
    private readonly record struct UnitChange(string? Gtin, string? Lot, string? Serial, string? Status, string? StatusBeforeHold,
        string? Holder, string? Location, string? Region, string? Parent, string? ShippedTo, long? CommissionedSequence, int Mask)
    {
        public static readonly string[] Columns =
        [
            "gtin", "lot", "serial", "status", "status_before_hold", "holder_member_id", "location_id", "region_code", "parent_epc",
            "shipped_to_member_id", "commissioned_sequence",
        ];

        public static UnitChange Between(Unit was, Unit now)
        {
            var mask = 0;
            string? Changed(int column, string? before, string? after)
            {
                if (string.Equals(before, after, StringComparison.Ordinal)) return null;
                mask |= 1 << column;
                return after;
            }
            long? commissioned = null;
            if (was.CommissionedSequence != now.CommissionedSequence) (commissioned, mask) = (now.CommissionedSequence, mask | 1 << 10);
            // arguments are evaluated left to right: the mask is complete when it is passed, last
            return new UnitChange(Changed(0, was.Gtin, now.Gtin), Changed(1, was.Lot, now.Lot), Changed(2, was.Serial, now.Serial),
                Changed(3, was.Status, now.Status), Changed(4, was.StatusBeforeHold, now.StatusBeforeHold), Changed(5, was.HolderMemberId, now.HolderMemberId),
                Changed(6, was.LocationId, now.LocationId), Changed(7, was.RegionCode, now.RegionCode), Changed(8, was.ParentEpc, now.ParentEpc),
                Changed(9, was.ShippedToMemberId, now.ShippedToMemberId), commissioned, mask);
        }

        /// <summary>The new value of the <paramref name="column"/>-th column of <see cref="Columns"/>.</summary>
        public object? Value(int column) => column switch
        {
            0 => Gtin, 1 => Lot, 2 => Serial, 3 => Status, 4 => StatusBeforeHold, 5 => Holder, 6 => Location, 7 => Region, 8 => Parent, 9 => ShippedTo,
            10 => CommissionedSequence,
            _ => throw new ArgumentOutOfRangeException(nameof(column)),
        };
    }
}
