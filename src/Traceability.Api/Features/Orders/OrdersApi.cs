using Microsoft.AspNetCore.Http.HttpResults;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Orders;

/// <summary>Shipping orders: created by the issuing member (or its ERP import), scanned out, received by the consignee.</summary>
public static class OrdersApi
{
    public const int MaxPage = 200;

    public sealed record LineRequest(string? Gtin, string? Lot, long? Quantity);
    public sealed record CreateOrderRequest(string? Number, string? Type, string? ShipTo, string? ShipToLocation, IReadOnlyList<LineRequest>? Lines);
    public sealed record LineResponse(int Line, string Gtin, string? Lot, long Expected, long Scanned, long Received)
    {
        public static LineResponse Of(OrderLine l) => new(l.Line, l.Gtin, l.Lot, l.Quantity, l.Scanned, l.Received);
    }
    public sealed record OrderResponse(long Id, string Number, string Type, string MemberId, string ShipTo, string? ShipToLocation, string Status,
        long Expected, long Scanned, long Received, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<LineResponse> Lines)
    {
        public static OrderResponse Of(Order o) => new(o.Id, o.Number, o.Type, o.MemberId, o.ShipTo, o.ShipToLocation, o.Status,
            o.Lines.Sum(l => l.Quantity), o.Lines.Sum(l => l.Scanned), o.Lines.Sum(l => l.Received), o.CreatedAt, o.UpdatedAt, o.Lines.Select(LineResponse.Of).ToList());
    }
    public sealed record OrderList(IReadOnlyList<OrderResponse> Items, long? NextBefore);
    /// <summary>One code (<c>code</c>) or a batch (<c>codes</c>), as the scanner sends them.</summary>
    public sealed record ScanRequest(string? Code, IReadOnlyList<string>? Codes);
    public sealed record ReceiveRequest(IReadOnlyList<string>? Codes, string? Location);

    public static IServiceCollection AddOrders(this IServiceCollection services)
    {
        services.AddScoped<OrderCapture>();
        services.AddScoped<OrderScanning>();
        services.AddSingleton<OrderLocks>();
        services.AddSingleton<OrderScanQueue>();
        services.AddHostedService(sp => sp.GetRequiredService<OrderScanQueue>());
        return services;
    }

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/orders").WithTags("Orders");
        group.MapPost("", CreateAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer)
            .WithSummary("Create a shipping order {number, type, shipTo, shipToLocation, lines:[{gtin, lot?, quantity}]}; numbers are unique per member")
            .ProducesProblem(400).ProducesProblem(409).ProducesProblem(422);
        group.MapGet("", ListAsync).RequireRoles()
            .WithSummary("Orders the caller issued or is the consignee of (regulators: all), newest first; ?status=&shipTo=&before=&limit=").ProducesProblem(400);
        group.MapGet("{id:long}", GetAsync).RequireRoles()
            .WithSummary("An order with each line's expected, scanned and received counts").ProducesProblem(404);
        group.MapPost("{id:long}/cancel", CancelAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer)
            .WithSummary("Cancel an order that is not completed; units already shipped stay shipped").ProducesProblem(404).ProducesProblem(409);
        group.MapPost("{id:long}/scans", ScanAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer)
            .WithSummary("Scan codes out against the order: a verdict per code; the accepted ones shipped in one EPCIS shipping event naming the order")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409).ProducesProblem(413).ProducesProblem(422);
        group.MapPost("{id:long}/receive", ReceiveAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer)
            .WithSummary("The consignee receives what was shipped against the order (all of it, or the codes sent) in one receiving event")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409).ProducesProblem(413).ProducesProblem(422);
        return app;
    }

    private static async Task<Created<OrderResponse>> CreateAsync(CreateOrderRequest? request, HttpContext http, TraceDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (request is null) throw RequestValidationException.ForField("body", "send the order as a JSON object.");
        var caller = http.Caller();
        var (order, errors) = OrderRules.Check(new OrderDraft(request.Number, request.Type, request.ShipTo, request.ShipToLocation,
            request.Lines?.Select(l => l is null ? null! : new OrderLineDraft(l.Gtin, l.Lot, l.Quantity)).ToList()));
        if (order is null) throw new RequestValidationException("Invalid order", errors);
        var conn = await Sql.OpenAsync(db, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await OrderStore.FindAsync(conn, tx, caller.MemberId, order.Number, ct) is not null)
            throw new ConflictException($"Order {order.Number} exists; an order number is used once per member.");
        var result = await OrderStore.UpsertAsync(conn, tx, caller.MemberId, order, time.GetUtcNow(), ct);
        if (result.Outcome == UpsertOutcome.Refused) throw new RequestValidationException("Invalid order", result.Errors ?? [], unprocessable: true);
        await tx.CommitAsync(ct);
        var saved = await OrderStore.GetAsync(conn, null, result.Id!.Value, ct);
        return TypedResults.Created($"/api/v1/orders/{saved!.Id}", OrderResponse.Of(saved));
    }

    private static async Task<Ok<OrderList>> ListAsync(string? status, string? shipTo, long? before, int? limit, HttpContext http, TraceDbContext db, CancellationToken ct)
    {
        var caller = http.Caller();
        if (status is not null && !OrderStatus.All.Contains(status))
            throw RequestValidationException.ForField("status", $"status must be one of {string.Join(", ", OrderStatus.All)}.");
        if (limit is < 1 or > MaxPage) throw RequestValidationException.ForField("limit", $"limit must be 1 to {MaxPage}.");
        var take = limit ?? 50;
        var conn = await Sql.OpenAsync(db, ct);
        var orders = await OrderStore.ListAsync(conn, caller.SeesEverything ? null : caller.MemberId, status, shipTo, before, take, ct);
        return TypedResults.Ok(new OrderList(orders.Select(OrderResponse.Of).ToList(), orders.Count == take ? orders[^1].Id : null));
    }

    private static async Task<Ok<OrderResponse>> GetAsync(long id, HttpContext http, TraceDbContext db, CancellationToken ct) =>
        TypedResults.Ok(OrderResponse.Of(await VisibleAsync(id, http.Caller(), db, ct)));

    private static async Task<Order> VisibleAsync(long id, Caller caller, TraceDbContext db, CancellationToken ct)
    {
        var order = await OrderStore.GetAsync(await Sql.OpenAsync(db, ct), null, id, ct);
        if (order is null || !(caller.SeesEverything || order.MemberId == caller.MemberId || order.ShipTo == caller.MemberId)) throw new NotFoundException($"Order {id}");
        return order;
    }

    private static async Task<Ok<OrderResponse>> CancelAsync(long id, HttpContext http, TraceDbContext db, OrderLocks locks, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        using var _ = await locks.AcquireAsync(id, ct);
        var order = await VisibleAsync(id, caller, db, ct);
        if (order.MemberId != caller.MemberId && caller.Role != MemberRole.Admin) throw new ForbiddenException("Only the member that issued the order cancels it.");
        if (order.Status is OrderStatus.Completed or OrderStatus.Cancelled) throw new ConflictException($"Order {order.Number} is {order.Status}; it cannot be cancelled.");
        var conn = await Sql.OpenAsync(db, ct);
        await Sql.ExecAsync(conn, null, "UPDATE orders SET status = 'cancelled', updated_at = @t WHERE id = @id AND status IN ('open', 'in_progress')", ct,
            ("@t", DbTime.Format(time.GetUtcNow())), ("@id", id));
        return TypedResults.Ok(OrderResponse.Of((await OrderStore.GetAsync(conn, null, id, ct))!));
    }

    /// <remarks>
    /// A small scan goes to the queue of grouped scans without resolving the scanning handler and its database context:
    /// under load most requests are single codes, and those are written by the queue's writer.
    /// </remarks>
    private static async Task<Ok<OrderScanning.ScanResponse>> ScanAsync(long id, ScanRequest? request, HttpContext http, OrderScanQueue queue, CancellationToken ct)
    {
        if (request is null || (request.Code is null && request.Codes is null))
            throw RequestValidationException.ForField("codes", "send {\"code\": \"...\"} or {\"codes\": [\"...\", ...]}.");
        if (request.Code is not null && request.Codes is not null) throw RequestValidationException.ForField("code", "send code or codes, not both.");
        var codes = request.Codes ?? [request.Code!];
        if (codes.Any(c => c is null)) throw RequestValidationException.ForField("codes", "a code is a string.");
        OrderScanning.Check(codes);
        var scan = new PendingScan(id, codes, http.Caller());
        return TypedResults.Ok(codes.Count <= OrderScanQueue.MaxCodesGrouped
            ? await queue.ScanAsync(scan, ct)
            : await http.RequestServices.GetRequiredService<OrderScanning>().ScanAloneAsync(scan, ct));
    }

    private static async Task<Ok<OrderScanning.ReceiveResponse>> ReceiveAsync(long id, ReceiveRequest? request, HttpContext http, OrderScanning scanning, CancellationToken ct)
    {
        if (request?.Codes is { } codes && codes.Any(c => c is null)) throw RequestValidationException.ForField("codes", "a code is a string.");
        return TypedResults.Ok(await scanning.ReceiveAsync(id, request?.Codes, request?.Location, http.Caller(), ct));
    }
}
