using System.Data.Common;
using Traceability.Api.Domain;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Tracing;

/// <summary>The names of the custody rules; a refused capture's ProblemDetails lists them with the EPC at fault.</summary>
public static class CustodyRules
{
    public const string HolderOnly = "holder-only";
    public const string NotCommissioned = "not-commissioned";
    public const string AlreadyCommissioned = "already-commissioned";
    public const string ProductOwnerOnly = "product-owner-only";
    public const string RecalledUnit = "recalled-unit";
    public const string DestroyedUnit = "destroyed-unit";
    public const string OnHoldUnit = "on-hold-unit";
    public const string AlreadySold = "already-sold";
    public const string AlreadyPacked = "already-packed";
    public const string ContainerCycle = "container-cycle";
    public const string NotInContainer = "not-in-container";
    public const string OwnLocation = "own-location";
    public const string NotShipped = "not-shipped";
    public const string RecallNotAllowed = "recall-not-allowed";
}

/// <summary>
/// The custody step of the capture pipeline: checks the rules of issue 6 on every new event and keeps the units table
/// (the current state of each serialized unit and container), the containment windows, who took part in each event,
/// the lots each event moved, transformation lineage, lot holds and recall records, all in the capture's transaction.
/// <para>
/// What is tracked: every unit commissioned through this ledger, and every container packed here. The rules apply to
/// tracked units, and to SGTINs of products in the master data that were never commissioned ("a unit not commissioned
/// cannot move"). EPCs of products the consortium does not know (the GS1 example documents) pass untracked.
/// </para>
/// </summary>
public sealed class CustodyStep : ICaptureStep
{
    public const string RecallNamespace = "https://traceability.example/epcis/";
    private const string Cbv = "https://ref.gs1.org/cbv/";

    private readonly Dictionary<string, LocationInfo?> _locations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _owners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _membersByGln = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RecallRecord> _recalls = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Gtin, string Lot), long?> _openHolds = [];
    private readonly HashSet<string> _absent = new(StringComparer.Ordinal);

    private sealed record LocationInfo(string Id, string? MemberId, string RegionCode);

    private sealed class RecallRecord
    {
        public required string Reason { get; init; }
        public string? Gtin { get; set; }
        public string? Lot { get; set; }
        public long First { get; set; } = long.MaxValue;
        public long Last { get; set; }
        public int Units { get; set; }
    }

    /// <summary>One row of the units table, as loaded and changed during one event.</summary>
    internal sealed class UnitRow
    {
        public required string Epc { get; init; }
        public string? Gtin { get; set; }
        public string? Lot { get; set; }
        public string? Serial { get; set; }
        public required string Status { get; set; }
        public string? StatusBeforeHold { get; set; }
        public string? Holder { get; set; }
        public string? Location { get; set; }
        public string? Region { get; set; }
        public string? Parent { get; set; }
        public string? ShippedTo { get; set; }
        public long? CommissionedSequence { get; set; }
        public long LastEventSequence { get; set; }
        public bool IsItem => CommissionedSequence is not null && Gtin is not null;

        /// <summary>Moves the unit to a status, except that recalled and destroyed stay, and a held unit resumes it on release.</summary>
        public void MoveTo(string status)
        {
            if (Status is UnitStatus.Recalled or UnitStatus.Destroyed) return;
            if (Status == UnitStatus.OnHold) StatusBeforeHold = status;
            else Status = status;
        }
    }

    private const string UnitColumns =
        "epc, gtin, lot, serial, status, status_before_hold, holder_member_id, location_id, region_code, parent_epc, shipped_to_member_id, commissioned_sequence, last_event_sequence";

    private const string UpsertUnit =
        $"INSERT INTO units ({UnitColumns}, updated_at) VALUES (@e, @g, @l, @sr, @st, @sb, @h, @loc, @rg, @p, @to, @cs, @ls, @u) " +
        "ON CONFLICT (epc) DO UPDATE SET gtin = excluded.gtin, lot = excluded.lot, serial = excluded.serial, status = excluded.status, " +
        "status_before_hold = excluded.status_before_hold, holder_member_id = excluded.holder_member_id, location_id = excluded.location_id, " +
        "region_code = excluded.region_code, parent_epc = excluded.parent_epc, shipped_to_member_id = excluded.shipped_to_member_id, " +
        "commissioned_sequence = excluded.commissioned_sequence, last_event_sequence = excluded.last_event_sequence, updated_at = excluded.updated_at";

    private static UnitRow ReadUnit(DbDataReader r) => new()
    {
        Epc = r.GetString(0), Gtin = r.Str(1), Lot = r.Str(2), Serial = r.Str(3), Status = r.GetString(4), StatusBeforeHold = r.Str(5),
        Holder = r.Str(6), Location = r.Str(7), Region = r.Str(8), Parent = r.Str(9), ShippedTo = r.Str(10),
        CommissionedSequence = r.Long(11), LastEventSequence = r.GetInt64(12),
    };

    /// <summary>
    /// Loads, in one query per 500 EPCs, which EPCs of the document have no unit yet, so that the events (most of them
    /// commissioning new codes) need not ask one by one. Only units are inserted here (by SaveAsync, which takes the EPC
    /// out of the set), and captures are serialised, so the set stays exact for the length of the capture.
    /// </summary>
    public async ValueTask BeginAsync(CaptureContext context, IReadOnlyList<ValidatedEvent> events, CancellationToken ct)
    {
        _absent.Clear();
        foreach (var v in events)
            foreach (var (epc, _) in v.Identifiers) _absent.Add(epc);
        foreach (var epc in await Sql.ListInAsync(context.Connection, context.Transaction, "SELECT epc FROM units WHERE epc IN ({in})", _absent, r => r.GetString(0), ct))
            _absent.Remove(epc);
    }

    public async ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
    {
        var run = new EventRun(this, context, appended);
        await run.ApplyAsync(ct);
    }

    public async ValueTask CompleteAsync(CaptureContext context, CancellationToken ct)
    {
        if (context.Violations.Count == 0)
        {
            foreach (var (id, r) in _recalls)
            {
                if (r.Gtin is null || r.Lot is null) continue;
                await Sql.ExecAsync(context.Connection, context.Transaction,
                    "INSERT INTO recalls (id, gtin, lot, reason, requested_by, created_at, first_event_sequence, last_event_sequence, units) " +
                    "VALUES (@id, @g, @l, @r, @by, @at, @f, @t, @n)", ct,
                    ("@id", id), ("@g", r.Gtin), ("@l", r.Lot), ("@r", r.Reason), ("@by", context.Caller.MemberId),
                    ("@at", DbTime.Format(context.RecordTime)), ("@f", r.First), ("@t", r.Last), ("@n", r.Units));
            }
        }
        _recalls.Clear();
        _openHolds.Clear();
        _absent.Clear();
    }

    /// <summary>The work on one event: classify it, check the rules, then (when none is broken) apply it.</summary>
    private sealed class EventRun(CustodyStep step, CaptureContext context, AppendedEvent appended)
    {
        private readonly EpcisEvent _e = appended.Validated.Event;
        private readonly long _seq = appended.Sequence;
        private readonly int _index = appended.Validated.Index;
        private readonly Caller _caller = context.Caller;
        private readonly DbConnection _conn = context.Connection;
        private readonly DbTransaction _tx = context.Transaction;
        private readonly Dictionary<string, UnitRow> _touched = new(StringComparer.Ordinal);
        private readonly HashSet<string> _extraGtins = new(StringComparer.Ordinal);
        private readonly List<(string Gtin, string Lot, long Quantity)> _classQuantities = [];
        private readonly int _violationsBefore = context.Violations.Count;
        private string? _recallId;

        private List<string> Ids(string role) => appended.Validated.Identifiers.Where(i => i.Role == role).Select(i => i.Epc).ToList();

        private static string? Short(string? uri, string prefix) =>
            uri is not null && uri.StartsWith(Cbv + prefix, StringComparison.Ordinal) ? uri[(Cbv.Length + prefix.Length)..] : uri;

        private void Refuse(string rule, string epc, string field, string message) =>
            context.Violations.Add(new FieldError(field, message, _index, rule, epc));

        private bool Refused => context.Violations.Count > _violationsBefore;

        private string? Where => _e.BizLocationDigitalLink ?? _e.ReadPointDigitalLink;

        public async Task ApplyAsync(CancellationToken ct)
        {
            var bizStep = Short(_e.BizStep, "BizStep-");
            var disposition = Short(_e.Disposition, "Disp-");
            // one pass over the identifiers (this runs for every event of every capture, under the capture lock)
            var epcs = new List<string>();
            var children = new List<string>();
            string? parent = null;
            foreach (var (epc, role) in appended.Validated.Identifiers)
            {
                if (role == EpcRoles.Epc) epcs.Add(epc);
                else if (role == EpcRoles.Child) children.Add(epc);
                else if (role == EpcRoles.Parent) parent ??= epc;
                if (Gs1Key.GtinOf(epc) is { } g) _extraGtins.Add(g);
            }
            foreach (var list in (IReadOnlyList<QuantityElement>[])[_e.QuantityList, _e.ChildQuantityList, _e.InputQuantityList, _e.OutputQuantityList])
            {
                foreach (var q in list)
                {
                    var key = Gs1Key.Parse(q.EpcClassDigitalLink);
                    if (key.Gtin is not null) _extraGtins.Add(key.Gtin);
                    if (key.IsLgtin && q.QuantityValue is { } n) _classQuantities.Add((key.Gtin!, key.Lot!, (long)Math.Ceiling(n)));
                }
            }

            // Targets of an object-level step: the EPCs of an ObjectEvent or TransactionEvent, the parent and children of
            // an AggregationEvent OBSERVE.
            var targets = epcs.Concat(_e.Type == "AggregationEvent" && _e.Action == "OBSERVE" ? (parent is null ? children : children.Prepend(parent)) : [])
                .Concat(_e.Type == "TransactionEvent" && parent is not null ? [parent] : []).Distinct(StringComparer.Ordinal).ToList();

            if (disposition == "recalled") await RecallAsync(targets, ct);
            else if (bizStep == "inspecting" && disposition is "non_conformant" or "damaged" or "conformant") await InspectAsync(targets, disposition, ct);
            else if (_e.Type == "TransformationEvent") await TransformAsync(Ids(EpcRoles.Input), Ids(EpcRoles.Output), ct);
            else if (_e.Type == "AggregationEvent" && _e.Action == "ADD" && parent is not null) await PackAsync(parent, children, ct);
            else if (_e.Type == "AggregationEvent" && _e.Action == "DELETE" && parent is not null) await UnpackAsync(parent, children, ct);
            else if (_e.Type == "ObjectEvent" && _e.Action == "ADD" && bizStep is null or "commissioning") await CommissionAsync(epcs, ct);
            else if (bizStep == "shipping" || disposition == "in_transit") await ShipAsync(targets, ct);
            else if (bizStep is "receiving" or "arriving") await ReceiveAsync(targets, ct);
            else if (bizStep == "retail_selling" || disposition == "retail_sold") await SellAsync(targets, ct);
            else if (bizStep == "destroying" || disposition == "destroyed") await DestroyAsync(targets, ct);
            else await TouchAsync(targets, ct);

            if (Refused) return;
            await SaveAsync(ct);
            await RecordPartiesAsync(ct);
            await RecordLotsAsync(ct);
        }

        // ---- the steps ---------------------------------------------------------------------------------------------

        private async Task CommissionAsync(IReadOnlyList<string> epcs, CancellationToken ct)
        {
            var existing = await LoadAsync(epcs, ct);
            var location = await step.LocationAsync(_conn, _tx, Where, ct);
            foreach (var epc in epcs)
            {
                var key = Gs1Key.Parse(epc);
                if (existing.TryGetValue(epc, out var before))
                {
                    // Codes of products outside the master data (the GS1 examples commission the same codes again) are
                    // tracked but not policed: the first commissioning stands.
                    if (key.Gtin is not null && await step.ProductKnownAsync(_conn, _tx, key.Gtin, ct))
                        Refuse(CustodyRules.AlreadyCommissioned, epc, "epcList", $"{epc} was commissioned before; a code is commissioned once.");
                    else _touched[epc] = before;
                    continue;
                }
                if (key.Gtin is not null && await step.OwnerAsync(_conn, _tx, key.Gtin, ct) is { Length: > 0 } owner && owner != _caller.MemberId && _caller.Role != MemberRole.Admin)
                {
                    Refuse(CustodyRules.ProductOwnerOnly, epc, "epcList", $"Only the owner of GTIN {key.Gtin} commissions its units.");
                    continue;
                }
                if (!key.IsSgtin && Gs1Key.GtinOf(epc) is null && !epc.Contains("/00/", StringComparison.Ordinal)) continue; // not a serialized GS1 unit
                var lot = _e.LotNumber;
                _touched[epc] = new UnitRow
                {
                    Epc = epc, Gtin = key.Gtin, Serial = key.Serial, Lot = lot, Status = UnitStatus.Commissioned, Holder = _caller.MemberId,
                    Location = location?.Id ?? Where, Region = location?.RegionCode, CommissionedSequence = _seq,
                };
            }
            if (Refused) return;
            // A unit commissioned into a lot on quality hold starts on hold.
            foreach (var lot in _touched.Values.Where(u => u.CommissionedSequence == _seq && u.Gtin is not null && u.Lot is not null).Select(u => (u.Gtin!, u.Lot!)).Distinct())
            {
                if (await OpenHoldAsync(lot.Item1, lot.Item2, ct) is null) continue;
                foreach (var u in _touched.Values.Where(u => u.CommissionedSequence == _seq && u.Gtin == lot.Item1 && u.Lot == lot.Item2))
                {
                    u.StatusBeforeHold = u.Status;
                    u.Status = UnitStatus.OnHold;
                }
            }
        }

        private async Task PackAsync(string parent, IReadOnlyList<string> children, CancellationToken ct)
        {
            var rows = await LoadAsync(children.Append(parent), ct);
            var ancestors = await AncestorsAsync(parent, ct);
            rows.TryGetValue(parent, out var container);
            if (container is not null && container.Holder is not null && container.Holder != _caller.MemberId)
                Refuse(CustodyRules.HolderOnly, parent, "parentID", $"{parent} is held by another member; only its holder packs into it.");
            foreach (var child in children)
            {
                if (child == parent || ancestors.Contains(child))
                {
                    Refuse(CustodyRules.ContainerCycle, child, "childEPCs", $"Packing {child} into {parent} would put a container inside itself.");
                    continue;
                }
                if (!rows.TryGetValue(child, out var unit))
                {
                    await RefuseIfKnownProductAsync(child, "childEPCs", ct);
                    continue;
                }
                if (unit.Parent is not null && unit.Parent != parent)
                    Refuse(CustodyRules.AlreadyPacked, child, "childEPCs", $"{child} is already inside {unit.Parent}; unpack it first.");
                else if (unit.Holder != _caller.MemberId)
                    Refuse(CustodyRules.HolderOnly, child, "childEPCs", $"{child} is held by another member; only its holder packs it.");
            }
            if (Refused) return;

            var location = await step.LocationAsync(_conn, _tx, Where, ct);
            if (container is null)
            {
                var key = Gs1Key.Parse(parent);
                var first = children.Select(c => rows.GetValueOrDefault(c)).FirstOrDefault(u => u is not null);
                container = new UnitRow
                {
                    Epc = parent, Gtin = key.Gtin, Serial = key.Serial, Status = UnitStatus.Commissioned, Holder = _caller.MemberId,
                    Location = location?.Id ?? first?.Location ?? Where, Region = location?.RegionCode ?? first?.Region,
                };
            }
            _touched[parent] = container;
            foreach (var child in children)
            {
                if (rows.TryGetValue(child, out var unit))
                {
                    if (unit.Parent != parent) unit.MoveTo(UnitStatus.Packed);
                    unit.Parent = parent;
                    _touched[child] = unit;
                }
                await context.ExecAsync(
                    "INSERT INTO containment (child_epc, parent_epc, add_sequence, add_time) VALUES (@c, @p, @s, @t) ON CONFLICT DO NOTHING", ct,
                    ("@c", child), ("@p", parent), ("@s", _seq), ("@t", DbTime.Format(_e.EventTime)));
            }
            foreach (var inside in await ContentsAsync(children, ct)) _touched.TryAdd(inside.Epc, inside);
        }

        private async Task UnpackAsync(string parent, IReadOnlyList<string> named, CancellationToken ct)
        {
            var rows = await LoadAsync(named.Append(parent), ct);
            rows.TryGetValue(parent, out var container);
            if (container?.Holder is not null && container.Holder != _caller.MemberId)
                Refuse(CustodyRules.HolderOnly, parent, "parentID", $"{parent} is held by another member; only its holder unpacks it.");
            var children = named.Count > 0 ? named : (await ChildrenAsync([parent], ct)).Select(u => u.Epc).ToList();
            if (named.Count == 0) foreach (var u in await LoadAsync(children, ct)) rows[u.Key] = u.Value;
            foreach (var child in named)
            {
                if (rows.TryGetValue(child, out var unit) && unit.Parent != parent)
                    Refuse(CustodyRules.NotInContainer, child, "childEPCs", $"{child} is not inside {parent}.");
            }
            if (Refused) return;

            var location = await step.LocationAsync(_conn, _tx, Where, ct);
            if (container is not null) _touched[parent] = container;
            foreach (var child in children)
            {
                if (rows.TryGetValue(child, out var unit))
                {
                    unit.Parent = null;
                    if (unit.Status == UnitStatus.Packed || unit.StatusBeforeHold == UnitStatus.Packed)
                    {
                        var resumed = container?.Status == UnitStatus.Commissioned ? UnitStatus.Commissioned : UnitStatus.AtHolder;
                        if (unit.Status == UnitStatus.OnHold) unit.StatusBeforeHold = resumed;
                        else unit.Status = resumed;
                    }
                    unit.Holder = container?.Holder ?? unit.Holder;
                    unit.Location = location?.Id ?? container?.Location ?? unit.Location;
                    unit.Region = location?.RegionCode ?? container?.Region ?? unit.Region;
                    _touched[child] = unit;
                }
                await CloseContainmentAsync(child, parent, ct);
            }
            foreach (var inside in await ContentsAsync(children, ct)) _touched.TryAdd(inside.Epc, inside);
        }

        private async Task ShipAsync(IReadOnlyList<string> targets, CancellationToken ct)
        {
            var (rows, all) = await TargetsWithContentsAsync(targets, "epcList", ct);
            foreach (var t in targets)
            {
                if (rows.TryGetValue(t, out var unit) && unit.Holder != _caller.MemberId)
                    Refuse(CustodyRules.HolderOnly, t, "epcList", $"{t} is held by another member; only its holder ships it.");
            }
            foreach (var unit in all) RefuseBlocked(unit, "ship");
            if (Refused) return;

            var destination = await DestinationMemberAsync(ct);
            foreach (var unit in all)
            {
                unit.MoveTo(UnitStatus.InTransit);
                if (destination is not null) unit.ShippedTo = destination;
                _touched[unit.Epc] = unit;
            }
        }

        private async Task ReceiveAsync(IReadOnlyList<string> targets, CancellationToken ct)
        {
            var (rows, all) = await TargetsWithContentsAsync(targets, "epcList", ct);
            if (all.Count == 0) return;
            var location = await step.LocationAsync(_conn, _tx, Where, ct);
            if (location is null || location.MemberId != _caller.MemberId)
            {
                Refuse(CustodyRules.OwnLocation, targets[0], _e.BizLocation is not null ? "bizLocation.id" : "readPoint.id",
                    Where is null ? "A receiving event names the receiver's location (bizLocation)."
                        : $"{Where} is not one of the receiving member's locations.");
                return;
            }
            foreach (var t in targets)
            {
                if (rows.TryGetValue(t, out var unit) && unit.Holder != _caller.MemberId
                    && unit.Status is UnitStatus.Commissioned or UnitStatus.Packed or UnitStatus.AtHolder or UnitStatus.Sold or UnitStatus.Destroyed)
                    Refuse(CustodyRules.NotShipped, t, "epcList", $"{t} is {unit.Status} at another member; it must be shipped before it is received.");
            }
            if (Refused) return;
            foreach (var unit in all)
            {
                unit.MoveTo(UnitStatus.AtHolder);
                unit.Holder = _caller.MemberId;
                unit.Location = location.Id;
                unit.Region = location.RegionCode;
                _touched[unit.Epc] = unit;
            }
        }

        private async Task SellAsync(IReadOnlyList<string> targets, CancellationToken ct)
        {
            var (rows, _) = await TargetsWithContentsAsync(targets, "epcList", ct, withContents: false);
            foreach (var t in targets)
            {
                if (!rows.TryGetValue(t, out var unit)) continue;
                if (unit.Holder != _caller.MemberId) Refuse(CustodyRules.HolderOnly, t, "epcList", $"{t} is held by another member; only its holder sells it.");
                else if (unit.Status == UnitStatus.Sold) Refuse(CustodyRules.AlreadySold, t, "epcList", $"{t} was sold before.");
                else RefuseBlocked(unit, "sell");
            }
            if (Refused) return;
            var location = await step.LocationAsync(_conn, _tx, Where, ct);
            foreach (var unit in rows.Values)
            {
                unit.MoveTo(UnitStatus.Sold);
                if (unit.Parent is not null) await CloseContainmentAsync(unit.Epc, unit.Parent, ct);
                unit.Parent = null;
                unit.Location = location?.Id ?? unit.Location;
                unit.Region = location?.RegionCode ?? unit.Region;
                _touched[unit.Epc] = unit;
            }
        }

        private async Task DestroyAsync(IReadOnlyList<string> targets, CancellationToken ct)
        {
            var (rows, all) = await TargetsWithContentsAsync(targets, "epcList", ct);
            foreach (var t in targets)
                if (rows.TryGetValue(t, out var unit) && unit.Holder != _caller.MemberId)
                    Refuse(CustodyRules.HolderOnly, t, "epcList", $"{t} is held by another member; only its holder destroys it.");
            if (Refused) return;
            foreach (var unit in all)
            {
                unit.Status = UnitStatus.Destroyed;
                unit.StatusBeforeHold = null;
                _touched[unit.Epc] = unit;
            }
        }

        private async Task RecallAsync(IReadOnlyList<string> targets, CancellationToken ct)
        {
            var (rows, all) = await TargetsWithContentsAsync(targets, "epcList", ct);
            foreach (var t in targets)
            {
                if (!rows.TryGetValue(t, out var unit)) continue;
                if (!await MayDeclareAsync(unit, ct))
                    Refuse(CustodyRules.RecallNotAllowed, t, "disposition", $"Only a regulator, the product's owner or the holder may record {t} as recalled.");
            }
            if (Refused) return;
            foreach (var unit in all)
            {
                if (unit.Status != UnitStatus.Destroyed)
                {
                    unit.Status = UnitStatus.Recalled;
                    unit.StatusBeforeHold = null;
                }
                _touched[unit.Epc] = unit;
            }

            var recallId = _e.Extensions.FirstOrDefault(x => x.Name == "{" + RecallNamespace + "}recallId")?.Value;
            var reason = _e.Extensions.FirstOrDefault(x => x.Name == "{" + RecallNamespace + "}reason")?.Value ?? "";
            var items = all.Where(u => u.IsItem).ToList();
            if (recallId is not null && (_caller.SeesEverything || _caller.Role == MemberRole.Manufacturer))
            {
                _recallId = recallId;
                if (!step._recalls.TryGetValue(recallId, out var record)) step._recalls[recallId] = record = new RecallRecord { Reason = reason };
                record.First = Math.Min(record.First, _seq);
                record.Last = Math.Max(record.Last, _seq);
                record.Units += items.Count;
                record.Gtin ??= items.FirstOrDefault()?.Gtin;
                record.Lot ??= items.FirstOrDefault()?.Lot;
            }
            foreach (var g in items.GroupBy(u => (u.Gtin, u.Lot, u.Holder, u.Region)))
            {
                await AlertWriter.RaiseAsync(_conn, _tx, AlertTypes.Recall, g.Count() == 1 ? g.First().Epc : null, g.Key.Gtin, g.Key.Lot,
                    new { sequence = _seq, recallId = _recallId, reason, holderMemberId = g.Key.Holder, regionCode = g.Key.Region, units = g.Count() },
                    context.RecordTime, $"recall:{_seq}:{g.Key.Gtin}:{g.Key.Lot}:{g.Key.Holder}:{g.Key.Region}", ct);
            }
        }

        private async Task InspectAsync(IReadOnlyList<string> targets, string disposition, CancellationToken ct)
        {
            var (rows, all) = await TargetsWithContentsAsync(targets, "epcList", ct);
            foreach (var t in targets)
            {
                if (rows.TryGetValue(t, out var unit) && !await MayDeclareAsync(unit, ct))
                    Refuse(CustodyRules.HolderOnly, t, "epcList", $"Only the holder, the product's owner or a regulator records an inspection of {t}.");
            }
            if (Refused) return;
            foreach (var u in all) _touched[u.Epc] = u;
            await SaveAsync(ct);

            var lots = all.Where(u => u.Gtin is not null && u.Lot is not null).Select(u => (Gtin: u.Gtin!, Lot: u.Lot!, u.Epc))
                .Concat(_classQuantities.Select(q => (q.Gtin, q.Lot, Epc: (string)$"https://id.gs1.org/01/{q.Gtin}/10/{q.Lot}")))
                .DistinctBy(x => (x.Gtin, x.Lot)).ToList();
            foreach (var (gtin, lot, epc) in lots)
            {
                var open = await OpenHoldAsync(gtin, lot, ct);
                step._openHolds.Remove((gtin, lot)); // opened or released below
                if (disposition == "conformant")
                {
                    if (open is null) continue;
                    await context.ExecAsync( "UPDATE lot_holds SET released_sequence = @s WHERE gtin = @g AND lot = @l AND hold_sequence = @h", ct,
                        ("@s", _seq), ("@g", gtin), ("@l", lot), ("@h", open));
                    await context.ExecAsync(
                        "UPDATE units SET status = COALESCE(status_before_hold, 'at_holder'), status_before_hold = NULL WHERE gtin = @g AND lot = @l AND status = 'on_hold'", ct,
                        ("@g", gtin), ("@l", lot));
                    continue;
                }
                if (open is not null) continue; // the same hold episode
                await context.ExecAsync(
                    "INSERT INTO lot_holds (gtin, lot, hold_sequence, hold_epc, disposition) VALUES (@g, @l, @s, @e, @d)", ct,
                    ("@g", gtin), ("@l", lot), ("@s", _seq), ("@e", epc), ("@d", disposition));
                var held = await context.ExecAsync(
                    "UPDATE units SET status_before_hold = status, status = 'on_hold' WHERE gtin = @g AND lot = @l " +
                    "AND status IN ('commissioned', 'packed', 'in_transit', 'at_holder')", ct, ("@g", gtin), ("@l", lot));
                await AlertWriter.RaiseAsync(_conn, _tx, AlertTypes.Hold, epc, gtin, lot,
                    new { sequence = _seq, disposition, inspectedBy = _caller.MemberId, units = held }, context.RecordTime, $"hold:{gtin}:{lot}:{_seq}", ct);
            }
            _touched.Clear(); // saved above; the lot-wide updates must not be overwritten
            foreach (var u in all) _extraGtins.Add(u.Gtin ?? "");
        }

        private async Task TransformAsync(IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, CancellationToken ct)
        {
            var inputRows = await LoadAsync(inputs, ct);
            foreach (var input in inputs)
            {
                if (!inputRows.TryGetValue(input, out var unit)) await RefuseIfKnownProductAsync(input, "inputEPCList", ct);
                else if (unit.Holder != _caller.MemberId)
                    Refuse(CustodyRules.HolderOnly, input, "inputEPCList", $"{input} is held by another member; only its holder transforms it.");
            }
            await CommissionAsync(outputs, ct);
            if (Refused) return;
            foreach (var u in inputRows.Values) _touched[u.Epc] = u;
            foreach (var o in outputs)
            foreach (var i in inputs)
                await context.ExecAsync( "INSERT INTO lineage (output_epc, input_epc, sequence) VALUES (@o, @i, @s) ON CONFLICT DO NOTHING", ct,
                    ("@o", o), ("@i", i), ("@s", _seq));

            var inputLots = inputRows.Values.Where(u => u.Gtin is not null && u.Lot is not null).Select(u => (u.Gtin!, u.Lot!))
                .Concat(_e.InputQuantityList.Select(q => Gs1Key.Parse(q.EpcClassDigitalLink)).Where(k => k.IsLgtin).Select(k => (k.Gtin!, k.Lot!))).Distinct().ToList();
            var outputLots = _touched.Values.Where(u => outputs.Contains(u.Epc) && u.Gtin is not null && u.Lot is not null).Select(u => (u.Gtin!, u.Lot!))
                .Concat(_e.OutputQuantityList.Select(q => Gs1Key.Parse(q.EpcClassDigitalLink)).Where(k => k.IsLgtin).Select(k => (k.Gtin!, k.Lot!))).Distinct().ToList();
            foreach (var (og, ol) in outputLots)
            foreach (var (ig, il) in inputLots)
                await context.ExecAsync(
                    "INSERT INTO lot_lineage (output_gtin, output_lot, input_gtin, input_lot, sequence) VALUES (@og, @ol, @ig, @il, @s) ON CONFLICT DO NOTHING", ct,
                    ("@og", og), ("@ol", ol), ("@ig", ig), ("@il", il), ("@s", _seq));
        }

        private async Task TouchAsync(IReadOnlyList<string> targets, CancellationToken ct)
        {
            foreach (var u in (await LoadAsync(targets, ct)).Values) _touched[u.Epc] = u;
        }

        // ---- rules shared by the steps -------------------------------------------------------------------------------

        /// <summary>Refuses an SGTIN of a product in the master data that was never commissioned.</summary>
        private async Task RefuseIfKnownProductAsync(string epc, string field, CancellationToken ct)
        {
            var key = Gs1Key.Parse(epc);
            if (key.IsSgtin && await step.ProductKnownAsync(_conn, _tx, key.Gtin!, ct))
                Refuse(CustodyRules.NotCommissioned, epc, field, $"{epc} was never commissioned; a unit not commissioned cannot move.");
        }

        private void RefuseBlocked(UnitRow unit, string verb)
        {
            var (rule, what) = unit.Status switch
            {
                UnitStatus.Recalled => (CustodyRules.RecalledUnit, "recalled"),
                UnitStatus.Destroyed => (CustodyRules.DestroyedUnit, "destroyed"),
                UnitStatus.OnHold => (CustodyRules.OnHoldUnit, "on quality hold"),
                _ => (null, null),
            };
            if (rule is not null) Refuse(rule, unit.Epc, "epcList", $"{unit.Epc} is {what}; it cannot {verb}.");
        }

        private async Task<bool> MayDeclareAsync(UnitRow unit, CancellationToken ct) =>
            _caller.SeesEverything || unit.Holder == _caller.MemberId
            || (unit.Gtin is not null && await step.OwnerAsync(_conn, _tx, unit.Gtin, ct) == _caller.MemberId);

        /// <summary>The tracked targets, refusing untracked SGTINs of known products, and (optionally) everything inside them.</summary>
        private async Task<(Dictionary<string, UnitRow> Rows, List<UnitRow> All)> TargetsWithContentsAsync(IReadOnlyList<string> targets, string field,
            CancellationToken ct, bool withContents = true)
        {
            var rows = await LoadAsync(targets, ct);
            foreach (var t in targets)
                if (!rows.ContainsKey(t)) await RefuseIfKnownProductAsync(t, field, ct);
            var all = rows.Values.ToList();
            if (withContents) all.AddRange(await ContentsAsync(rows.Keys, ct));
            return (rows, all.DistinctBy(u => u.Epc).ToList());
        }

        // ---- reading and writing units -------------------------------------------------------------------------------

        private async Task<Dictionary<string, UnitRow>> LoadAsync(IEnumerable<string> epcs, CancellationToken ct)
        {
            var result = new Dictionary<string, UnitRow>(StringComparer.Ordinal);
            var missing = new List<string>();
            foreach (var epc in epcs)
            {
                if (_touched.TryGetValue(epc, out var t)) result[epc] = t;
                else if (!step._absent.Contains(epc)) missing.Add(epc);
            }
            var rows = missing.Count == 1
                ? await context.ListAsync($"SELECT {UnitColumns} FROM units WHERE epc = @e", ReadUnit, ct, ("@e", missing[0]))
                : await Sql.ListInAsync(_conn, _tx, $"SELECT {UnitColumns} FROM units WHERE epc IN ({{in}})", missing, ReadUnit, ct);
            foreach (var u in rows) result[u.Epc] = u;
            return result;
        }

        private async Task<List<UnitRow>> ChildrenAsync(IEnumerable<string> parents, CancellationToken ct) =>
            await Sql.ListInAsync(_conn, _tx, $"SELECT {UnitColumns} FROM units WHERE parent_epc IN ({{in}})", parents, ReadUnit, ct);

        /// <summary>Everything inside the containers, at any depth.</summary>
        private async Task<List<UnitRow>> ContentsAsync(IEnumerable<string> containers, CancellationToken ct)
        {
            var seen = new HashSet<string>(containers, StringComparer.Ordinal);
            var result = new List<UnitRow>();
            var level = seen.ToList();
            while (level.Count > 0)
            {
                var next = new List<string>();
                foreach (var u in await ChildrenAsync(level, ct))
                {
                    if (!seen.Add(u.Epc)) continue;
                    result.Add(_touched.GetValueOrDefault(u.Epc) ?? u);
                    next.Add(u.Epc);
                }
                level = next;
            }
            return result;
        }

        private async Task<HashSet<string>> AncestorsAsync(string epc, CancellationToken ct)
        {
            var result = new HashSet<string>(StringComparer.Ordinal);
            var current = epc;
            while (result.Count < 64)
            {
                var rows = await LoadAsync([current], ct);
                if (!rows.TryGetValue(current, out var u) || u.Parent is null || !result.Add(u.Parent)) break;
                current = u.Parent;
            }
            return result;
        }

        private async Task CloseContainmentAsync(string child, string parent, CancellationToken ct) =>
            await context.ExecAsync(
                "UPDATE containment SET delete_sequence = @s, delete_time = @t WHERE child_epc = @c AND parent_epc = @p AND delete_sequence IS NULL", ct,
                ("@s", _seq), ("@t", DbTime.Format(_e.EventTime)), ("@c", child), ("@p", parent));

        /// <summary>The open quality hold of a lot; remembered for the capture (holds are opened and released only by InspectAsync, which forgets them).</summary>
        private async Task<long?> OpenHoldAsync(string gtin, string lot, CancellationToken ct)
        {
            if (step._openHolds.TryGetValue((gtin, lot), out var known)) return known;
            var open = (await context.ListAsync("SELECT hold_sequence FROM lot_holds WHERE gtin = @g AND lot = @l AND released_sequence IS NULL",
                r => r.GetInt64(0), ct, ("@g", gtin), ("@l", lot))).Cast<long?>().FirstOrDefault();
            return step._openHolds[(gtin, lot)] = open;
        }

        private async Task SaveAsync(CancellationToken ct)
        {
            if (_touched.Count == 0) return;
            var updated = DbTime.Format(context.RecordTime);
            foreach (var u in _touched.Values)
            {
                step._absent.Remove(u.Epc);
                u.LastEventSequence = _seq;
                await context.ExecAsync(UpsertUnit, ct, ("@e", u.Epc), ("@g", u.Gtin), ("@l", u.Lot), ("@sr", u.Serial), ("@st", u.Status),
                    ("@sb", u.StatusBeforeHold), ("@h", u.Holder), ("@loc", u.Location), ("@rg", u.Region), ("@p", u.Parent), ("@to", u.ShippedTo),
                    ("@cs", u.CommissionedSequence), ("@ls", u.LastEventSequence), ("@u", updated));
            }
        }

        // ---- who took part, whose products, which lots ---------------------------------------------------------------

        private async Task RecordPartiesAsync(CancellationToken ct)
        {
            // Small lists rather than sets and LINQ: one to three members in almost every event.
            var parties = new List<string>(4) { _caller.MemberId };
            if (await step.LocationAsync(_conn, _tx, _e.BizLocationDigitalLink, ct) is { MemberId: { } atBiz } && !parties.Contains(atBiz)) parties.Add(atBiz);
            if (await step.LocationAsync(_conn, _tx, _e.ReadPointDigitalLink, ct) is { MemberId: { } atRead } && !parties.Contains(atRead)) parties.Add(atRead);
            foreach (var sd in _e.Sources)
                if (await step.PartyAsync(_conn, _tx, sd.Value, ct) is { } m && !parties.Contains(m)) parties.Add(m);
            foreach (var sd in _e.Destinations)
                if (await step.PartyAsync(_conn, _tx, sd.Value, ct) is { } m && !parties.Contains(m)) parties.Add(m);

            var owners = new List<string>(2);
            foreach (var g in _extraGtins) await AddOwnerAsync(g);
            foreach (var u in _touched.Values)
                if (u.Gtin is not null && !_extraGtins.Contains(u.Gtin)) await AddOwnerAsync(u.Gtin);

            const string insert = "INSERT INTO event_parties (sequence, member_id, kind) VALUES (@s, @m, @k) ON CONFLICT DO NOTHING";
            foreach (var member in parties) await context.ExecAsync(insert, ct, ("@s", _seq), ("@m", member), ("@k", "party"));
            foreach (var owner in owners) await context.ExecAsync(insert, ct, ("@s", _seq), ("@m", owner), ("@k", "owner"));

            async Task AddOwnerAsync(string gtin)
            {
                if (gtin.Length == 14 && await step.OwnerAsync(_conn, _tx, gtin, ct) is { Length: > 0 } o && !owners.Contains(o)) owners.Add(o);
            }
        }

        private async Task RecordLotsAsync(CancellationToken ct)
        {
            var counts = new Dictionary<(string Gtin, string Lot), long>();
            foreach (var u in _touched.Values)
                if (u.IsItem && u.Lot is not null) counts[(u.Gtin!, u.Lot)] = counts.GetValueOrDefault((u.Gtin!, u.Lot)) + 1;
            foreach (var (gtin, lot, quantity) in _classQuantities) counts[(gtin, lot)] = counts.GetValueOrDefault((gtin, lot)) + quantity;
            foreach (var ((gtin, lot), quantity) in counts)
                await context.ExecAsync("INSERT INTO event_lots (gtin, lot, sequence, quantity) VALUES (@g, @l, @s, @q) ON CONFLICT DO NOTHING", ct,
                    ("@g", gtin), ("@l", lot), ("@s", _seq), ("@q", quantity));
        }

        /// <summary>The member a shipment goes to: its owning party, else its possessing party, else its destination location's member.</summary>
        private async Task<string?> DestinationMemberAsync(CancellationToken ct)
        {
            foreach (var type in new[] { "SDT-owning_party", "SDT-possessing_party", "SDT-location" })
                foreach (var d in _e.Destinations.Where(d => d.Type == Cbv + type))
                    if (await step.PartyAsync(_conn, _tx, d.Value, ct) is { } m) return m;
            return null;
        }
    }

    // ---- master data, cached for the length of one capture -----------------------------------------------------------

    private async Task<LocationInfo?> LocationAsync(DbConnection conn, DbTransaction tx, string? id, CancellationToken ct)
    {
        if (id is null) return null;
        if (_locations.TryGetValue(id, out var known)) return known;
        var found = (await Sql.ListAsync(conn, tx, "SELECT id, member_id, region_code FROM locations WHERE id = @i",
            r => new LocationInfo(r.GetString(0), r.Str(1), r.GetString(2)), ct, ("@i", id))).FirstOrDefault();
        return _locations[id] = found;
    }

    private async Task<string?> OwnerAsync(DbConnection conn, DbTransaction tx, string gtin, CancellationToken ct)
    {
        if (_owners.TryGetValue(gtin, out var known)) return known;
        var rows = await Sql.ListAsync(conn, tx, "SELECT owner_member_id FROM products WHERE gtin = @g", r => r.Str(0) ?? "", ct, ("@g", gtin));
        // "" marks a product without owner (created by the admin); null an unknown GTIN.
        return _owners[gtin] = rows.Count == 0 ? null : rows[0];
    }

    private async Task<bool> ProductKnownAsync(DbConnection conn, DbTransaction tx, string gtin, CancellationToken ct)
    {
        await OwnerAsync(conn, tx, gtin, ct);
        return _owners[gtin] is not null;
    }

    /// <summary>The member behind a source/destination value: a location of its, or its GLN (SGLN or PGLN).</summary>
    private async Task<string?> PartyAsync(DbConnection conn, DbTransaction tx, string value, CancellationToken ct)
    {
        if (!Gs1Identifiers.TryToCanonicalDigitalLink(value, out var dl)) return null;
        if (await LocationAsync(conn, tx, dl, ct) is { MemberId: { } m }) return m;
        var at = dl.IndexOf("/414/", StringComparison.Ordinal) is var i and >= 0 ? i : dl.IndexOf("/417/", StringComparison.Ordinal);
        if (at < 0 || dl.Length < at + 5 + 13) return null;
        var gln = dl.Substring(at + 5, 13);
        if (_membersByGln.TryGetValue(gln, out var known)) return known;
        var found = (await Sql.ListAsync(conn, tx, "SELECT id FROM members WHERE gln = @g", r => r.GetString(0), ct, ("@g", gln))).FirstOrDefault();
        return _membersByGln[gln] = found;
    }
}
