using System.Data.Common;
using System.Text.Json;
using Mediator;
using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
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
/// </summary>
public sealed class OrderScanning(TraceDbContext db, IMediator mediator, OrderCapture capture, OrderLocks locks, TimeProvider time)
{
    public const int MaxCodes = 10_000;

    /// <summary>The business transaction type the order's events carry (a despatch advice).</summary>
    public const string TransactionType = "desadv";

    public sealed record ScanVerdict(int Index, string Code, string? Epc, string Verdict, string? Message, int Units);
    public sealed record ScanResponse(long OrderId, string Status, int Accepted, int Refused, int UnitsShipped, long? EventSequence, string? EventHash,
        string? BizTransaction, IReadOnlyList<ScanVerdict> Verdicts, IReadOnlyList<OrdersApi.LineResponse> Lines);
    public sealed record ReceiveResponse(long OrderId, string Status, int UnitsReceived, long EventSequence, string EventHash, string BizTransaction,
        IReadOnlyList<OrdersApi.LineResponse> Lines);

    public async Task<ScanResponse> ScanAsync(long orderId, IReadOnlyList<string> codes, Caller caller, CancellationToken ct)
    {
        if (codes.Count == 0) throw RequestValidationException.ForField("codes", "send at least one code.");
        if (codes.Count > MaxCodes) throw new PayloadTooLargeException($"{codes.Count} codes; at most {MaxCodes} are accepted in one scan request.");
        using var held = await locks.AcquireAsync(orderId, ct);
        var conn = await Sql.OpenAsync(db, ct);
        Order order;
        List<ScanDecision.Verdict> verdicts;
        Dictionary<string, string?> glns;
        // Everything the decision reads, in one read transaction: one snapshot, and on SQLite one refresh of the
        // connection's page cache and memory map rather than one per statement (SQLite drops both when a read begins after
        // another connection committed, which with scanners in flight is before almost every statement).
        await using (var read = await BeginReadAsync(conn, ct))
        {
            order = await OrderStore.GetAsync(conn, read, orderId, ct) ?? throw new NotFoundException($"Order {orderId}");
            if (order.MemberId != caller.MemberId && caller.Role != MemberRole.Admin)
            {
                if (order.ShipTo == caller.MemberId || caller.SeesEverything) throw new ForbiddenException("Only the member that issued the order scans against it.");
                throw new NotFoundException($"Order {orderId}");
            }
            if (order.Status is OrderStatus.Completed or OrderStatus.Cancelled)
                throw new ConflictException($"Order {order.Number} is {order.Status}; nothing more is scanned against it.");
            verdicts = ScanDecision.Decide(order.Lines, await FactsAsync(conn, read, order, codes, caller, ct));
            glns = verdicts.Any(v => v.IsAccepted)
                ? (await Sql.ListInAsync(conn, read, "SELECT id, gln FROM members WHERE id IN ({in})", [order.MemberId, order.ShipTo], r => (Id: r.GetString(0), Gln: r.Str(1)), ct))
                    .ToDictionary(m => m.Id, m => m.Gln, StringComparer.Ordinal)
                : [];
            await read.CommitAsync(ct);
        }

        var accepted = verdicts.Where(v => v.IsAccepted).ToList();
        CaptureReceipt? receipt = null;
        string? transaction = null;
        var after = order;
        if (accepted.Count > 0)
        {
            transaction = TransactionId(order, glns.GetValueOrDefault(order.MemberId));
            var rows = accepted.SelectMany(v => v.Lines.Select(l => new OrderUnitRow(l.Epc, l.Line, v.Code, l.Epc == v.Epc ? null : v.Epc))).ToList();
            var destinations = new List<(string Type, string Value)>();
            if (order.ShipToLocation is { } location) destinations.Add(("location", location));
            if (glns.GetValueOrDefault(order.ShipTo) is { Length: 13 } consigneeGln) destinations.Add(("owning_party", $"https://id.gs1.org/417/{consigneeGln}"));
            (receipt, after) = await CaptureAsync(new PendingOrderWrite(orderId, false, rows),
                Document("shipping", "in_transit", accepted.Select(v => v.Epc!).ToList(), transaction, destinations, null), caller, ct);
        }

        return new ScanResponse(orderId, after.Status, accepted.Count, verdicts.Count - accepted.Count, accepted.Sum(v => v.Lines.Count), receipt?.Sequence, receipt?.EventHash,
            transaction, verdicts.Select(v => new ScanVerdict(v.Index, v.Code, v.Epc, v.Result, v.Message, v.Lines.Count)).ToList(),
            after.Lines.Select(OrdersApi.LineResponse.Of).ToList());
    }

    /// <summary>
    /// What is known about each code (<see cref="ScanDecision.ScanFacts"/>): read, the units it names (a case: everything
    /// inside, at any depth), whether each is on this order already, and the custody rule shipping it would break.
    /// </summary>
    private static async Task<List<ScanDecision.ScanFacts>> FactsAsync(DbConnection conn, DbTransaction tx, Order order, IReadOnlyList<string> codes, Caller caller,
        CancellationToken ct)
    {
        var parsed = new List<(Gs1ScannedCode? Code, string? Problem)>(codes.Count);
        foreach (var c in codes) parsed.Add(Gs1ScannedCode.TryParse(c, out var code, out var problem) ? (code, null) : (null, problem));
        var epcs = parsed.Select(p => p.Code?.Epc).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
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
        var onOrder = (await Sql.ListInAsync(conn, tx, "SELECT epc FROM order_units WHERE order_id = @o AND epc IN ({in})", itemEpcs, r => r.GetString(0), ct, ("@o", order.Id)))
            .ToHashSet(StringComparer.Ordinal);
        var owners = (await Sql.ListInAsync(conn, tx, "SELECT gtin, owner_member_id FROM products WHERE gtin IN ({in})",
                units.Values.Select(u => u.Gtin).OfType<string>(), r => (r.GetString(0), r.Str(1) ?? ""), ct))
            .ToDictionary(x => x.Item1, x => x.Item2, StringComparer.Ordinal);

        var facts = new List<ScanDecision.ScanFacts>(codes.Count);
        for (var i = 0; i < codes.Count; i++)
        {
            var (code, problem) = parsed[i];
            if (code is null) { facts.Add(new(codes[i], null, problem, false, false, [])); continue; }
            if (!units.TryGetValue(code.Epc, out var unit)) { facts.Add(new(codes[i], code.Epc, null, false, code.IsSscc, [])); continue; }
            var inside = contents.GetValueOrDefault(code.Epc) ?? [];
            var items = (code.IsSscc ? inside.Select(e => units[e]) : [unit]).Where(u => u.IsItem)
                .Select(u => new ScanDecision.ItemFact(u.Epc, u.Gtin!, u.Lot, u.EffectiveStatus == UnitStatus.InTransit, onOrder.Contains(u.Epc))).ToList();
            var custody = CustodyRules.Decide(
                new CustodyEvent(EventKind.Ship, 0, null, [code.Epc], null, [], [], [], [], [], [], null, "bizLocation.id", "in_transit"),
                new CustodyFacts { Caller = caller, Units = units, Contents = inside, ProductOwners = owners });
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
        var (receipt, after) = await CaptureAsync(new PendingOrderWrite(orderId, true, receiving), Document("receiving", "in_progress", targets, transaction, [], where), caller, ct);
        return new ReceiveResponse(orderId, after.Status, receiving.Count, receipt.Sequence, receipt.EventHash, transaction, after.Lines.Select(OrdersApi.LineResponse.Of).ToList());
    }

    /// <summary>Captures the order's event with its order write (<see cref="OrderStep"/>); its receipt and the order as that capture left it.</summary>
    private async Task<(CaptureReceipt Receipt, Order Order)> CaptureAsync(PendingOrderWrite write, EpcisDocument document, Caller caller, CancellationToken ct)
    {
        capture.Pending = write;
        capture.Written = null;
        try
        {
            var receipt = (await mediator.Send(new CaptureEpcisDocument.Command(document, caller), ct))[0];
            return (receipt, capture.Written ?? throw new InvalidOperationException($"the capture of sequence {receipt.Sequence} did not write order {write.OrderId}"));
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

    /// <summary>The EPCIS 2.0 document of one ObjectEvent OBSERVE, written as a client would send it and parsed by the capture's own parser.</summary>
    private EpcisDocument Document(string bizStep, string disposition, IReadOnlyList<string> epcs, string transaction, IReadOnlyList<(string Type, string Value)> destinations,
        string? bizLocation)
    {
        var now = time.GetUtcNow();
        var stamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("@context"); w.WriteStringValue("https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"); w.WriteEndArray();
            w.WriteString("type", "EPCISDocument");
            w.WriteString("schemaVersion", "2.0");
            w.WriteString("creationDate", stamp);
            w.WriteStartObject("epcisBody");
            w.WriteStartArray("eventList");
            w.WriteStartObject();
            w.WriteString("type", "ObjectEvent");
            w.WriteString("eventTime", stamp);
            w.WriteString("eventTimeZoneOffset", "+00:00");
            w.WriteStartArray("epcList");
            foreach (var e in epcs) w.WriteStringValue(e);
            w.WriteEndArray();
            w.WriteString("action", "OBSERVE");
            w.WriteString("bizStep", bizStep);
            w.WriteString("disposition", disposition);
            if (bizLocation is not null)
            {
                w.WriteStartObject("readPoint"); w.WriteString("id", bizLocation); w.WriteEndObject();
                w.WriteStartObject("bizLocation"); w.WriteString("id", bizLocation); w.WriteEndObject();
            }
            w.WriteStartArray("bizTransactionList");
            w.WriteStartObject(); w.WriteString("type", TransactionType); w.WriteString("bizTransaction", transaction); w.WriteEndObject();
            w.WriteEndArray();
            if (destinations.Count > 0)
            {
                w.WriteStartArray("destinationList");
                foreach (var (type, value) in destinations) { w.WriteStartObject(); w.WriteString("type", type); w.WriteString("destination", value); w.WriteEndObject(); }
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return EpcisParser.ParseJson(buffer.ToArray());
    }

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
