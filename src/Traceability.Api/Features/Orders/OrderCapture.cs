using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Orders;

/// <summary>One unit a scan ships (or a receipt receives) against an order: its line, the code as scanned, the case it came in.</summary>
public sealed record OrderUnitRow(string Epc, int Line, string Code, string? Container);

/// <summary>What the order step writes with the event a scan or a receipt captures.</summary>
public sealed record PendingOrderWrite(long OrderId, bool Receiving, IReadOnlyList<OrderUnitRow> Units);

/// <summary>
/// The order writes of the current capture (scoped): set by the scanning handler, read by <see cref="OrderStep"/> inside
/// the capture, one per event of the document by its index (a group of scans captures one event per scan);
/// <see cref="Written"/>[i] is the order as event i's writes left it (its counts and status), so the answers need no read
/// of their own after the commit.
/// </summary>
public sealed class OrderCapture
{
    public IReadOnlyList<PendingOrderWrite>? Pending { get; set; }
    public Order?[]? Written { get; set; }
}

/// <summary>
/// Scans of one order run one at a time in this process, so two scanners cannot both take a line's last place. A fixed
/// set of gates, an order's chosen by its id: one gate per order ever scanned would keep growing with the orders. Two
/// orders that share a gate only wait for each other's scan. A request holds one gate at a time; the writer of grouped
/// scans (<see cref="OrderScanQueue"/>) holds the gates of its group's orders.
/// </summary>
public sealed class OrderLocks
{
    private const int Gates = 256;
    private readonly SemaphoreSlim[] _locks = [.. Enumerable.Range(0, Gates).Select(_ => new SemaphoreSlim(1, 1))];

    public async Task<IDisposable> AcquireAsync(long orderId, CancellationToken ct)
    {
        var gate = _locks[Gate(orderId)];
        await gate.WaitAsync(ct);
        return new Releaser(gate);
    }

    /// <summary>
    /// The gates of several orders (a group of scans), each once, taken in gate order. No deadlock with the requests that
    /// hold one gate: those never wait for a second.
    /// </summary>
    public async Task<IDisposable> AcquireAllAsync(IEnumerable<long> orderIds, CancellationToken ct)
    {
        var held = new Releasers();
        try
        {
            foreach (var gate in orderIds.Select(Gate).Distinct().Order())
            {
                await _locks[gate].WaitAsync(ct);
                held.Add(new Releaser(_locks[gate]));
            }
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    private static int Gate(long orderId) => (int)((ulong)orderId % Gates);

    private sealed class Releasers : List<IDisposable>, IDisposable
    {
        public void Dispose()
        {
            foreach (var r in this) r.Dispose();
            Clear();
        }
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;
        public void Dispose() { if (Interlocked.Exchange(ref _released, 1) == 0) gate.Release(); }
    }
}

/// <summary>
/// The capture step that keeps orders with the ledger: when the capture is of scans or a receipt against orders (an event
/// per scan), it writes each order's units, lines and status in the capture's transaction, so the shipping (or receiving)
/// events and the orders' counts commit together or not at all. Its checks repeat the decision's in the database (a unit
/// once per order, a line never over its quantity, an order still open) and refuse the capture when another writer got
/// there first. A capture that is not an order's does nothing here.
/// </summary>
public sealed class OrderStep(OrderCapture capture) : ICaptureStep
{
    // the sequence of each order event of the current capture, by its index in the document (a scope may capture more than once)
    private readonly Dictionary<int, long> _sequences = [];

    public ValueTask BeginAsync(CaptureContext context, IReadOnlyList<ValidatedEvent> events, CancellationToken ct)
    {
        _sequences.Clear();
        return ValueTask.CompletedTask;
    }

    public ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
    {
        if (capture.Pending is { } pending && appended.Validated.Index < pending.Count) _sequences[appended.Validated.Index] = appended.Sequence;
        return ValueTask.CompletedTask;
    }

    public async ValueTask CompleteAsync(CaptureContext context, CancellationToken ct)
    {
        var pending = capture.Pending;
        if (pending is null || context.Violations.Count > 0) return;
        for (var i = 0; i < pending.Count; i++)
        {
            if (!_sequences.TryGetValue(i, out var sequence))
            {
                context.Violations.Add(new FieldError("codes", "the order's event was captured before; nothing was recorded against the order.", i, "duplicate"));
                continue;
            }
            await WriteAsync(context, pending[i], i, sequence, ct);
        }
        if (context.Violations.Count > 0) return;
        // read back once for the capture (an order named by two of its events is read after both; a group of scans names each once)
        var written = capture.Written ??= new Order?[pending.Count];
        var orders = await OrderStore.GetManyAsync(context.Connection, context.Transaction, pending.Select(p => p.OrderId), ct);
        for (var i = 0; i < pending.Count; i++) written[i] = orders.GetValueOrDefault(pending[i].OrderId);
    }

    private static async Task WriteAsync(CaptureContext context, PendingOrderWrite pending, int index, long sequence, CancellationToken ct)
    {
        var at = DbTime.Format(context.RecordTime);
        var o = pending.OrderId;
        if (!pending.Receiving)
        {
            foreach (var u in pending.Units)
                if (await context.ExecAsync("INSERT INTO order_units (order_id, epc, line_no, code, container_epc, shipped_sequence, shipped_at) " +
                        "VALUES (@o, @e, @l, @c, @p, @s, @t) ON CONFLICT DO NOTHING", ct,
                        ("@o", o), ("@e", u.Epc), ("@l", u.Line), ("@c", u.Code), ("@p", u.Container), ("@s", sequence), ("@t", at)) == 0)
                    context.Violations.Add(new FieldError("codes", $"{u.Epc} was shipped against this order by another scan.", index, ScanDecision.Duplicate, u.Epc));
            foreach (var g in pending.Units.GroupBy(u => u.Line))
                if (await context.ExecAsync("UPDATE order_lines SET scanned = scanned + @n WHERE order_id = @o AND line_no = @l AND scanned + @n <= quantity", ct,
                        ("@n", (long)g.Count()), ("@o", o), ("@l", g.Key)) == 0)
                    context.Violations.Add(new FieldError($"lines[{g.Key - 1}]", $"line {g.Key} was filled by another scan.", index, ScanDecision.LineComplete));
            if (await context.ExecAsync(
                    "UPDATE orders SET status = CASE WHEN EXISTS (SELECT 1 FROM order_lines WHERE order_id = @o AND scanned < quantity) THEN 'in_progress' ELSE 'completed' END, " +
                    "updated_at = @t WHERE id = @o AND status IN ('open', 'in_progress')", ct, ("@o", o), ("@t", at)) == 0)
                context.Violations.Add(new FieldError("id", "the order was completed or cancelled meanwhile.", index, "order-closed"));
            return;
        }

        foreach (var u in pending.Units)
            if (await context.ExecAsync("UPDATE order_units SET received_sequence = @s, received_at = @t WHERE order_id = @o AND epc = @e AND received_sequence IS NULL", ct,
                    ("@s", sequence), ("@t", at), ("@o", o), ("@e", u.Epc)) == 0)
                context.Violations.Add(new FieldError("codes", $"{u.Epc} was received against this order before.", index, "already-received", u.Epc));
        foreach (var g in pending.Units.GroupBy(u => u.Line))
            await context.ExecAsync("UPDATE order_lines SET received = received + @n WHERE order_id = @o AND line_no = @l", ct,
                ("@n", (long)g.Count()), ("@o", o), ("@l", g.Key));
        await context.ExecAsync("UPDATE orders SET updated_at = @t WHERE id = @o", ct, ("@t", at), ("@o", o));
    }
}
