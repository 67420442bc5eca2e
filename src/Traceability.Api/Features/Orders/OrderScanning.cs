using System.Data.Common;
using System.Text.Json;
using Mediator;
using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;
using Unit = Traceability.Api.Domain.Unit;

namespace Traceability.Api.Features.Orders;

/// <summary>
/// Scanning out against an order and receiving against it. A scan reads every code (<see cref="Gs1ScannedCode"/>), loads
/// the units they name (a case: everything inside), asks the custody rules whether each may be shipped by the caller
/// (<see cref="CustodyRules.Decide"/>, the same table capture applies), decides the order's verdicts
/// (<see cref="ScanDecision.Decide"/>), and ships the accepted codes as one EPCIS ObjectEvent (OBSERVE, shipping,
/// in_transit) naming the order in its bizTransactionList, through the capture request itself: the event is validated,
/// hashed, sequenced and later anchored like any other, and the order's counts are written in its transaction
/// (<see cref="OrderStep"/>).
/// <para>
/// Scans of a few codes wait in <see cref="OrderScanQueue"/>, whose writer decides the scans waiting together and
/// captures their events (still one per scan) in one capture (docs/adr/0027-grouped-single-scans.md); a larger scan is
/// decided and captured on its own (<see cref="ScanAloneAsync"/>). Both go through <see cref="ScanGroupAsync"/>.
/// </para>
/// </summary>
public sealed class OrderScanning(TraceDbContext db, IMediator mediator, OrderCapture capture, OrderLocks locks, IServiceScopeFactory scopes, TimeProvider time,
    CaptureWriteLock writeLock, TraceOptions options)
{
    public const int MaxCodes = 10_000;

    /// <summary>The business transaction type the order's events carry (a despatch advice).</summary>
    public const string TransactionType = "desadv";

    public sealed record ScanVerdict(int Index, string Code, string? Epc, string Verdict, string? Message, int Units);
    public sealed record ScanResponse(long OrderId, string Status, int Accepted, int Refused, int UnitsShipped, long? EventSequence, string? EventHash,
        string? BizTransaction, IReadOnlyList<ScanVerdict> Verdicts, IReadOnlyList<OrdersApi.LineResponse> Lines);
    public sealed record ReceiveResponse(long OrderId, string Status, int UnitsReceived, long EventSequence, string EventHash, string BizTransaction,
        IReadOnlyList<OrdersApi.LineResponse> Lines);

    /// <summary>The request's own limits: at least one code, at most <see cref="MaxCodes"/>.</summary>
    public static void Check(IReadOnlyList<string> codes)
    {
        if (codes.Count == 0) throw RequestValidationException.ForField("codes", "send at least one code.");
        if (codes.Count > MaxCodes) throw new PayloadTooLargeException($"{codes.Count} codes; at most {MaxCodes} are accepted in one scan request.");
    }

    /// <summary>A scan decided and captured on its own, on the request (a larger scan: see <see cref="OrderScanQueue"/> for the small ones).</summary>
    public async Task<ScanResponse> ScanAloneAsync(PendingScan scan, CancellationToken ct)
    {
        Check(scan.Codes);
        using (await locks.AcquireAsync(scan.OrderId, ct)) await ScanGroupAsync([scan], ct);
        return await scan.Answer;
    }

    /// <summary>What the decision of one scan found: the order as read, a verdict per code, and the event to capture (none when nothing was accepted).</summary>
    private sealed record ScanPlan(Order Order, List<ScanDecision.Verdict> Verdicts, string? Transaction, PendingOrderWrite? Write, EventSpec? Event);

    /// <summary>
    /// Decides and captures a group of scans, answering each (<see cref="PendingScan.Answer"/>); the caller holds the gates
    /// of their orders. What the scans need is read once for the group, in one read transaction, and each is decided as
    /// if alone: a scan of an order already in the group, or naming a unit another scan of the group reads, waits for the
    /// group's commit and is decided after it, so no decision depends on another not yet written. The accepted ones are
    /// captured as one document per caller, an event per scan, in one transaction; if that capture is refused (a rule the
    /// capture checks again, broken since the decision) each scan of it is decided and captured again alone, and answered
    /// by that. Nothing is answered before the commit that wrote it.
    /// </summary>
    public async Task ScanGroupAsync(IReadOnlyList<PendingScan> scans, CancellationToken ct)
    {
        var planned = new List<(PendingScan Scan, ScanPlan Plan)>(scans.Count);
        var later = new List<PendingScan>();
        var orders = new HashSet<long>();
        var touched = new HashSet<string>(StringComparer.Ordinal);
        var codes = scans.Select(s => Parse(s.Codes)).ToList();
        GroupReads reads;
        // Everything the decisions read, in one read transaction and a few statements for the whole group: one snapshot.
        // On SQLite it is read in a turn of the capture lock, through the connection the captures write with: SQLite
        // drops a connection's page cache when another connection has committed since its last transaction, so a pooled
        // connection read every page again after each group's capture; the capture's connection keeps them.
        using (options.UsesPostgres ? null : await writeLock.AcquireAsync(ct))
        {
            var conn = options.UsesPostgres ? await Sql.OpenAsync(db, ct) : await writeLock.ConnectionAsync(db, ct);
            await using var read = await BeginReadAsync(conn, ct);
            reads = await ReadAsync(conn, read, scans, codes, ct);
            await read.CommitAsync(ct);
        }
        for (var i = 0; i < scans.Count; i++)
        {
            var scan = scans[i];
            // what a scan that waits reads is kept too, so that a later scan sharing it waits behind it
            var units = reads.UnitsOf(codes[i]);
            var waits = units.Overlaps(touched);
            waits |= !orders.Add(scan.OrderId);
            touched.UnionWith(units);
            if (waits) { later.Add(scan); continue; }
            try
            {
                var plan = Plan(scan, codes[i], reads);
                if (plan.Event is null) scan.Succeed(Response(scan.OrderId, plan, null, plan.Order));
                else planned.Add((scan, plan));
            }
            catch (Exception e)
            {
                scan.Fail(e);
            }
        }

        foreach (var part in planned.GroupBy(p => (p.Scan.Caller.MemberId, p.Scan.Caller.Role, p.Scan.Caller.KeyId)))
        {
            var members = part.ToList();
            try
            {
                var (receipts, written) = await CaptureAsync(members.Select(m => m.Plan.Write!).ToList(),
                    Document(members.Select(m => m.Plan.Event!).ToList()), members[0].Scan.Caller, ct);
                for (var i = 0; i < members.Count; i++)
                    members[i].Scan.Succeed(Response(members[i].Scan.OrderId, members[i].Plan, receipts[i], written[i]));
            }
            catch (Exception) when (members.Count > 1)
            {
                foreach (var (scan, _) in members) await AgainAsync([scan], ct);
            }
            catch (Exception e)
            {
                members[0].Scan.Fail(e);
            }
        }
        if (later.Count > 0) await AgainAsync(later, ct);
    }

    /// <summary>Scans decided again after the group's capture, in a scope of their own (the capture steps keep state per capture).</summary>
    private async Task AgainAsync(IReadOnlyList<PendingScan> scans, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<OrderScanning>().ScanGroupAsync(scans, ct);
    }

    private static ScanResponse Response(long orderId, ScanPlan plan, CaptureReceipt? receipt, Order after)
    {
        var accepted = plan.Verdicts.Where(v => v.IsAccepted).ToList();
        return new ScanResponse(orderId, after.Status, accepted.Count, plan.Verdicts.Count - accepted.Count, accepted.Sum(v => v.Lines.Count), receipt?.Sequence,
            receipt?.EventHash, plan.Transaction, plan.Verdicts.Select(v => new ScanVerdict(v.Index, v.Code, v.Epc, v.Result, v.Message, v.Lines.Count)).ToList(),
            after.Lines.Select(OrdersApi.LineResponse.Of).ToList());
    }

    /// <summary>Each code as read (<see cref="Gs1ScannedCode"/>), or why it does not read.</summary>
    private static List<(Gs1ScannedCode? Code, string? Problem)> Parse(IReadOnlyList<string> codes)
    {
        var parsed = new List<(Gs1ScannedCode? Code, string? Problem)>(codes.Count);
        foreach (var c in codes) parsed.Add(Gs1ScannedCode.TryParse(c, out var code, out var problem) ? (code, null) : (null, problem));
        return parsed;
    }

    /// <summary>
    /// What a group's decisions read, once for all its scans: the orders with their lines, the units the codes name and
    /// everything inside the cases among them (at any depth), which of those items are on which order already, the
    /// products' owners and the orders' members' GLNs.
    /// </summary>
    private sealed record GroupReads(Dictionary<long, Order> Orders, Dictionary<string, Unit> Units, Dictionary<string, List<string>> Contents,
        HashSet<(long Order, string Epc)> OnOrders, Dictionary<string, string> Owners, Dictionary<string, string?> Glns)
    {
        /// <summary>The codes and units a scan reads: each code, the unit it names, what is inside a case.</summary>
        public HashSet<string> UnitsOf(List<(Gs1ScannedCode? Code, string? Problem)> codes)
        {
            var read = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (code, _) in codes)
            {
                if (code is null) continue;
                read.Add(code.Epc);
                if (Contents.TryGetValue(code.Epc, out var inside)) read.UnionWith(inside);
            }
            return read;
        }
    }

    private static async Task<GroupReads> ReadAsync(DbConnection conn, DbTransaction tx, IReadOnlyList<PendingScan> scans,
        List<List<(Gs1ScannedCode? Code, string? Problem)>> codes, CancellationToken ct)
    {
        var orders = await OrderStore.GetManyAsync(conn, tx, scans.Select(s => s.OrderId), ct);
        var epcs = codes.SelectMany(c => c).Select(p => p.Code?.Epc).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var units = (await ReadUnitsAsync(conn, tx, "epc IN ({in})", epcs, ct)).ToDictionary(u => u.Epc, StringComparer.Ordinal);

        // what is inside the cases, at any depth
        var contents = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var caseEpc in epcs.Where(e => units.ContainsKey(e) && e.Contains("/00/", StringComparison.Ordinal)))
        {
            var inside = new List<string>();
            var level = new List<string> { caseEpc };
            for (var depth = 0; level.Count > 0 && depth < 16; depth++)
            {
                var next = await ReadUnitsAsync(conn, tx, "parent_epc IN ({in})", level, ct);
                foreach (var u in next) { units.TryAdd(u.Epc, u); inside.Add(u.Epc); }
                level = next.Select(u => u.Epc).ToList();
            }
            contents[caseEpc] = inside;
        }

        var itemEpcs = units.Values.Where(u => u.IsItem).Select(u => u.Epc).ToList();
        var onOrders = (await Sql.ListInAsync(conn, tx, "SELECT order_id, epc FROM order_units WHERE epc IN ({in})", itemEpcs, r => (r.GetInt64(0), r.GetString(1)), ct))
            .ToHashSet();
        var owners = (await Sql.ListInAsync(conn, tx, "SELECT gtin, owner_member_id FROM products WHERE gtin IN ({in})",
                units.Values.Select(u => u.Gtin).OfType<string>(), r => (r.GetString(0), r.Str(1) ?? ""), ct))
            .ToDictionary(x => x.Item1, x => x.Item2, StringComparer.Ordinal);
        var glns = (await Sql.ListInAsync(conn, tx, "SELECT id, gln FROM members WHERE id IN ({in})", orders.Values.SelectMany(o => new[] { o.MemberId, o.ShipTo }),
                r => (Id: r.GetString(0), Gln: r.Str(1)), ct))
            .ToDictionary(m => m.Id, m => m.Gln, StringComparer.Ordinal);
        return new GroupReads(orders, units, contents, onOrders, owners, glns);
    }

    /// <summary>The decision on one scan from what its group read; throws the scan's refusal (404, 403, 409).</summary>
    private static ScanPlan Plan(PendingScan scan, List<(Gs1ScannedCode? Code, string? Problem)> parsed, GroupReads reads)
    {
        var (orderId, codes, caller) = (scan.OrderId, scan.Codes, scan.Caller);
        var order = reads.Orders.GetValueOrDefault(orderId) ?? throw new NotFoundException($"Order {orderId}");
        if (order.MemberId != caller.MemberId && caller.Role != MemberRole.Admin)
        {
            if (order.ShipTo == caller.MemberId || caller.SeesEverything) throw new ForbiddenException("Only the member that issued the order scans against it.");
            throw new NotFoundException($"Order {orderId}");
        }
        if (order.Status is OrderStatus.Completed or OrderStatus.Cancelled)
            throw new ConflictException($"Order {order.Number} is {order.Status}; nothing more is scanned against it.");
        var verdicts = ScanDecision.Decide(order.Lines, Facts(order, codes, parsed, caller, reads));
        var accepted = verdicts.Where(v => v.IsAccepted).ToList();
        if (accepted.Count == 0) return new ScanPlan(order, verdicts, null, null, null);

        var transaction = TransactionId(order, reads.Glns.GetValueOrDefault(order.MemberId));
        var rows = accepted.SelectMany(v => v.Lines.Select(l => new OrderUnitRow(l.Epc, l.Line, v.Code, l.Epc == v.Epc ? null : v.Epc))).ToList();
        var destinations = new List<(string Type, string Value)>();
        if (order.ShipToLocation is { } location) destinations.Add(("location", location));
        if (reads.Glns.GetValueOrDefault(order.ShipTo) is { Length: 13 } consigneeGln) destinations.Add(("owning_party", $"https://id.gs1.org/417/{consigneeGln}"));
        return new ScanPlan(order, verdicts, transaction, new PendingOrderWrite(orderId, false, rows),
            new EventSpec("shipping", "in_transit", accepted.Select(v => v.Epc!).ToList(), transaction, destinations, null));
    }

    /// <summary>
    /// What is known about each code (<see cref="ScanDecision.ScanFacts"/>): read, the units it names (a case: everything
    /// inside, at any depth), whether each is on this order already, and the custody rule shipping it would break.
    /// </summary>
    private static List<ScanDecision.ScanFacts> Facts(Order order, IReadOnlyList<string> codes, List<(Gs1ScannedCode? Code, string? Problem)> parsed, Caller caller,
        GroupReads reads)
    {
        var units = reads.Units;
        var facts = new List<ScanDecision.ScanFacts>(codes.Count);
        for (var i = 0; i < codes.Count; i++)
        {
            var (code, problem) = parsed[i];
            if (code is null) { facts.Add(new(codes[i], null, problem, false, false, [])); continue; }
            if (!units.TryGetValue(code.Epc, out var unit)) { facts.Add(new(codes[i], code.Epc, null, false, code.IsSscc, [])); continue; }
            var inside = reads.Contents.GetValueOrDefault(code.Epc) ?? [];
            var items = (code.IsSscc ? inside.Select(e => units[e]) : [unit]).Where(u => u.IsItem)
                .Select(u => new ScanDecision.ItemFact(u.Epc, u.Gtin!, u.Lot, u.EffectiveStatus == UnitStatus.InTransit, reads.OnOrders.Contains((order.Id, u.Epc)))).ToList();
            var custody = CustodyRules.Decide(
                new CustodyEvent(EventKind.Ship, 0, null, [code.Epc], null, [], [], [], [], [], [], null, "bizLocation.id", "in_transit"),
                new CustodyFacts { Caller = caller, Units = units, Contents = inside, ProductOwners = reads.Owners });
            var broken = custody.Violations.FirstOrDefault();
            facts.Add(new(codes[i], code.Epc, null, true, code.IsSscc, items, broken?.Rule, broken?.Epc, broken?.Message));
        }
        return facts;
    }

    /// <summary>
    /// The consignee receives what was shipped against the order: everything not yet received, or the codes named (items
    /// or the cases they were shipped in). One receiving event (bizStep receiving, disposition in_progress) at the
    /// consignee's location, naming the order. Codes not shipped against the order, or received before, refuse the whole
    /// request (422, each code named).
    /// </summary>
    public async Task<ReceiveResponse> ReceiveAsync(long orderId, IReadOnlyList<string>? codes, string? location, Caller caller, CancellationToken ct)
    {
        if (codes is { Count: > MaxCodes }) throw new PayloadTooLargeException($"{codes.Count} codes; at most {MaxCodes} are accepted in one request.");
        using var held = await locks.AcquireAsync(orderId, ct);
        var conn = await Sql.OpenAsync(db, ct);
        var order = await OrderStore.GetAsync(conn, null, orderId, ct) ?? throw new NotFoundException($"Order {orderId}");
        if (order.ShipTo != caller.MemberId && caller.Role != MemberRole.Admin)
        {
            if (order.MemberId == caller.MemberId || caller.SeesEverything) throw new ForbiddenException("Only the order's consignee receives against it.");
            throw new NotFoundException($"Order {orderId}");
        }
        if (order.Status == OrderStatus.Cancelled) throw new ConflictException($"Order {order.Number} is cancelled.");

        string? where = null;
        if (!string.IsNullOrWhiteSpace(location))
        {
            if (!Gs1Identifiers.TryCanonicalId(location.Trim(), out var id, out _) || !id.Contains("/414/", StringComparison.Ordinal))
                throw RequestValidationException.ForField("location", "location must be an SGLN (urn:epc:id:sgln:... or a GS1 Digital Link with /414/).");
            where = id;
        }
        where ??= order.ShipToLocation ?? throw RequestValidationException.ForField("location", "the order names no shipToLocation: send the location the goods are received at.");

        var open = await Sql.ListAsync(conn, null, "SELECT epc, line_no, code, container_epc FROM order_units WHERE order_id = @o AND received_sequence IS NULL",
            r => new OrderUnitRow(r.GetString(0), Convert.ToInt32(r.GetValue(1), System.Globalization.CultureInfo.InvariantCulture), r.GetString(2), r.Str(3)), ct, ("@o", orderId));
        List<OrderUnitRow> receiving;
        List<string> targets;
        if (codes is null || codes.Count == 0)
        {
            if (open.Count == 0) throw new ConflictException($"Nothing shipped against order {order.Number} is waiting to be received.");
            receiving = open;
            targets = [.. open.Where(u => u.Container is not null).Select(u => u.Container!).Distinct(StringComparer.Ordinal), .. open.Where(u => u.Container is null).Select(u => u.Epc)];
        }
        else
        {
            var errors = new List<FieldError>();
            receiving = [];
            targets = [];
            // by the unit and by the case it was shipped in: a lookup per code, not a pass over the order's units
            var byCode = open.Select(u => (Key: u.Epc, Row: u)).Concat(open.Where(u => u.Container is not null).Select(u => (Key: u.Container!, Row: u)))
                .ToLookup(x => x.Key, x => x.Row, StringComparer.Ordinal);
            var taken = new HashSet<string>(StringComparer.Ordinal);
            var added = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < codes.Count; i++)
            {
                if (!Gs1ScannedCode.TryParse(codes[i], out var code, out var problem)) { errors.Add(new("codes", problem, i, ScanDecision.InvalidCode)); continue; }
                var rows = byCode[code.Epc].ToList();
                if (rows.Count == 0) { errors.Add(new("codes", $"{code.Epc} is not waiting to be received against this order.", i, "not-on-order", code.Epc)); continue; }
                if (!taken.Add(code.Epc)) continue; // scanned twice: received once
                targets.Add(code.Epc);
                receiving.AddRange(rows.Where(r => added.Add(r.Epc)));
            }
            if (errors.Count > 0) throw new RequestValidationException($"{errors.Count} of {codes.Count} codes cannot be received; nothing was received", errors, unprocessable: true) { Type = "rule-violation" };
        }

        var issuerGln = (await Sql.ListAsync(conn, null, "SELECT gln FROM members WHERE id = @m", r => r.Str(0), ct, ("@m", order.MemberId))).FirstOrDefault();
        var transaction = TransactionId(order, issuerGln);
        var (receipts, written) = await CaptureAsync([new PendingOrderWrite(orderId, true, receiving)],
            Document([new EventSpec("receiving", "in_progress", targets, transaction, [], where)]), caller, ct);
        var (receipt, after) = (receipts[0], written[0]);
        return new ReceiveResponse(orderId, after.Status, receiving.Count, receipt.Sequence, receipt.EventHash, transaction, after.Lines.Select(OrdersApi.LineResponse.Of).ToList());
    }

    /// <summary>
    /// Captures the orders' events (event i with write i, <see cref="OrderStep"/>) in one capture; the receipts and each
    /// order as its event's writes left it.
    /// </summary>
    private async Task<(IReadOnlyList<CaptureReceipt> Receipts, Order[] Orders)> CaptureAsync(IReadOnlyList<PendingOrderWrite> writes, EpcisDocument document, Caller caller,
        CancellationToken ct)
    {
        var written = new Order?[writes.Count];
        capture.Pending = writes;
        capture.Written = written;
        try
        {
            var receipts = await mediator.Send(new CaptureEpcisDocument.Command(document, caller), ct);
            return (receipts, writes.Select((w, i) => written[i]
                ?? throw new InvalidOperationException($"the capture of sequence {receipts[i].Sequence} did not write order {w.OrderId}")).ToArray());
        }
        finally
        {
            capture.Pending = null;
            capture.Written = null;
        }
    }

    /// <summary>
    /// The order as a business transaction: <c>urn:epcglobal:cbv:bt:{issuer GLN}:{number}</c> (CBV 2.0's form for a
    /// transaction identified by the party's GLN), or, for an issuer without a GLN,
    /// <c>https://traceability.example/orders/{order id}</c>.
    /// </summary>
    private static string TransactionId(Order order, string? issuerGln) =>
        issuerGln is { Length: 13 } ? $"urn:epcglobal:cbv:bt:{issuerGln}:{Uri.EscapeDataString(order.Number)}" : $"https://traceability.example/orders/{order.Id}";

    /// <summary>One ObjectEvent OBSERVE of an order: its step, disposition, EPCs, the order as business transaction, destinations, location.</summary>
    private sealed record EventSpec(string BizStep, string Disposition, IReadOnlyList<string> Epcs, string Transaction,
        IReadOnlyList<(string Type, string Value)> Destinations, string? BizLocation);

    /// <summary>The EPCIS 2.0 document of these ObjectEvents, written as a client would send it and parsed by the capture's own parser.</summary>
    private EpcisDocument Document(IReadOnlyList<EventSpec> events) =>
        EpcisParser.ParseJson(ObserveDocument.Write(time.GetUtcNow(), events, e => new ObserveDocument.Head(e.Epcs, e.BizStep, e.Disposition), (w, e) =>
        {
            if (e.BizLocation is not null)
            {
                w.WriteStartObject("readPoint"); w.WriteString("id", e.BizLocation); w.WriteEndObject();
                w.WriteStartObject("bizLocation"); w.WriteString("id", e.BizLocation); w.WriteEndObject();
            }
            w.WriteStartArray("bizTransactionList");
            w.WriteStartObject(); w.WriteString("type", TransactionType); w.WriteString("bizTransaction", e.Transaction); w.WriteEndObject();
            w.WriteEndArray();
            if (e.Destinations.Count > 0)
            {
                w.WriteStartArray("destinationList");
                foreach (var (type, value) in e.Destinations) { w.WriteStartObject(); w.WriteString("type", type); w.WriteString("destination", value); w.WriteEndObject(); }
                w.WriteEndArray();
            }
        }));

    /// <summary>A transaction that only reads: deferred on SQLite (no write lock until the capture's own transaction takes it).</summary>
    private static async Task<DbTransaction> BeginReadAsync(DbConnection conn, CancellationToken ct) =>
        conn is Microsoft.Data.Sqlite.SqliteConnection sqlite ? sqlite.BeginTransaction(deferred: true) : await conn.BeginTransactionAsync(ct);

    private static async Task<List<Unit>> ReadUnitsAsync(DbConnection conn, DbTransaction tx, string condition, IEnumerable<string> keys, CancellationToken ct) =>
        await Sql.ListInAsync(conn, tx,
            "SELECT epc, gtin, lot, serial, status, status_before_hold, holder_member_id, location_id, region_code, parent_epc, shipped_to_member_id, " +
            $"commissioned_sequence, last_event_sequence FROM units WHERE {condition}", keys,
            r => new Unit
            {
                Epc = r.GetString(0), Gtin = r.Str(1), Lot = r.Str(2), Serial = r.Str(3), Status = r.GetString(4), StatusBeforeHold = r.Str(5),
                HolderMemberId = r.Str(6), LocationId = r.Str(7), RegionCode = r.Str(8), ParentEpc = r.Str(9), ShippedToMemberId = r.Str(10),
                CommissionedSequence = r.Long(11), LastEventSequence = r.GetInt64(12),
            }, ct);
}
