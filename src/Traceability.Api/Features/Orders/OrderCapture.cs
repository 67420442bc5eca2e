using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Orders;

/// <summary>One unit a scan ships (or a receipt receives) against an order: its line, the code as scanned, the case it came in.</summary>
public sealed record OrderUnitRow(string Epc, int Line, string Code, string? Container);

/// <summary>What the order step writes with the event a scan or a receipt captures.</summary>
public sealed record PendingOrderWrite(long OrderId, bool Receiving, IReadOnlyList<OrderUnitRow> Units);

/// <summary>
/// The order write of the current request (scoped): set by the scanning handler, read by <see cref="OrderStep"/> inside the
/// capture; <see cref="Written"/> is the order as that capture's transaction left it (its counts and status), so the
/// answer needs no read of its own after the commit.
/// </summary>
public sealed class OrderCapture
{
    public PendingOrderWrite? Pending { get; set; }
    public Order? Written { get; set; }
}

/// <summary>
/// Scans of one order run one at a time in this process, so two scanners cannot both take a line's last place. A fixed
/// set of gates, an order's chosen by its id: one gate per order ever scanned would keep growing with the orders. Two
/// orders that share a gate only wait for each other's scan, and a request holds one gate at a time.
/// </summary>
public sealed class OrderLocks
{
    private const int Gates = 256;
    private readonly SemaphoreSlim[] _locks = [.. Enumerable.Range(0, Gates).Select(_ => new SemaphoreSlim(1, 1))];

    public async Task<IDisposable> AcquireAsync(long orderId, CancellationToken ct)
    {
        var gate = _locks[(int)((ulong)orderId % Gates)];
        await gate.WaitAsync(ct);
        return new Releaser(gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;
        public void Dispose() { if (Interlocked.Exchange(ref _released, 1) == 0) gate.Release(); }
    }
}

/// <summary>
/// The capture step that keeps orders with the ledger: when the request that captures is a scan or a receipt against an
/// order, it writes the order's units, lines and status in the capture's transaction, so the shipping (or receiving)
/// event and the order's counts commit together or not at all. Its checks repeat the decision's in the database (a unit
/// once per order, a line never over its quantity, an order still open) and refuse the capture when another writer got
/// there first. A capture that is not an order's does nothing here.
/// </summary>
public sealed class OrderStep(OrderCapture capture) : ICaptureStep
{
    private long? _sequence;

    public ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
    {
        if (capture.Pending is not null && appended.Validated.Index == 0) _sequence = appended.Sequence;
        return ValueTask.CompletedTask;
    }

    public async ValueTask CompleteAsync(CaptureContext context, CancellationToken ct)
    {
        var pending = capture.Pending;
        if (pending is null || context.Violations.Count > 0) return;
        if (_sequence is not { } sequence)
        {
            context.Violations.Add(new FieldError("codes", "the order's event was captured before; nothing was recorded against the order.", 0, "duplicate"));
            return;
        }
        var at = DbTime.Format(context.RecordTime);
        var o = pending.OrderId;
        if (!pending.Receiving)
        {
            foreach (var u in pending.Units)
                if (await context.ExecAsync("INSERT INTO order_units (order_id, epc, line_no, code, container_epc, shipped_sequence, shipped_at) " +
                        "VALUES (@o, @e, @l, @c, @p, @s, @t) ON CONFLICT DO NOTHING", ct,
                        ("@o", o), ("@e", u.Epc), ("@l", u.Line), ("@c", u.Code), ("@p", u.Container), ("@s", sequence), ("@t", at)) == 0)
                    context.Violations.Add(new FieldError("codes", $"{u.Epc} was shipped against this order by another scan.", 0, ScanDecision.Duplicate, u.Epc));
            foreach (var g in pending.Units.GroupBy(u => u.Line))
                if (await context.ExecAsync("UPDATE order_lines SET scanned = scanned + @n WHERE order_id = @o AND line_no = @l AND scanned + @n <= quantity", ct,
                        ("@n", (long)g.Count()), ("@o", o), ("@l", g.Key)) == 0)
                    context.Violations.Add(new FieldError($"lines[{g.Key - 1}]", $"line {g.Key} was filled by another scan.", 0, ScanDecision.LineComplete));
            if (await context.ExecAsync(
                    "UPDATE orders SET status = CASE WHEN EXISTS (SELECT 1 FROM order_lines WHERE order_id = @o AND scanned < quantity) THEN 'in_progress' ELSE 'completed' END, " +
                    "updated_at = @t WHERE id = @o AND status IN ('open', 'in_progress')", ct, ("@o", o), ("@t", at)) == 0)
                context.Violations.Add(new FieldError("id", "the order was completed or cancelled meanwhile.", 0, "order-closed"));
            await ReadBackAsync(context, o, ct);
            return;
        }

        foreach (var u in pending.Units)
            if (await context.ExecAsync("UPDATE order_units SET received_sequence = @s, received_at = @t WHERE order_id = @o AND epc = @e AND received_sequence IS NULL", ct,
                    ("@s", sequence), ("@t", at), ("@o", o), ("@e", u.Epc)) == 0)
                context.Violations.Add(new FieldError("codes", $"{u.Epc} was received against this order before.", 0, "already-received", u.Epc));
        foreach (var g in pending.Units.GroupBy(u => u.Line))
            await context.ExecAsync("UPDATE order_lines SET received = received + @n WHERE order_id = @o AND line_no = @l", ct,
                ("@n", (long)g.Count()), ("@o", o), ("@l", g.Key));
        await context.ExecAsync("UPDATE orders SET updated_at = @t WHERE id = @o", ct, ("@t", at), ("@o", o));
        await ReadBackAsync(context, o, ct);
    }

    private async Task ReadBackAsync(CaptureContext context, long orderId, CancellationToken ct)
    {
        if (context.Violations.Count == 0) capture.Written = await OrderStore.GetAsync(context.Connection, context.Transaction, orderId, ct);
    }
}
