using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;

namespace Traceability.Api.Features.Tracing;

/// <summary>Item history and batch trace.</summary>
public static class TracingApi
{
    public static IEndpointRouteBuilder MapTracingApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1").WithTags("Tracing");
        group.MapGet("codes/history", HistoryAsync).RequireRoles()
            .WithSummary("An item's events (its own, its containers' while it was inside, its transformation inputs), anchor status and current state")
            .ProducesProblem(400).ProducesProblem(404);
        group.MapGet("batches/trace", TraceAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Regulator)
            .WithSummary("Every unit of a lot with its current state; byHolder, byStatus, input and output lots")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404);
        return app;
    }

    private static async Task<Ok<ItemHistory.HistoryResponse>> HistoryAsync(string? epc, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new ItemHistory.Query(epc, http.Caller()), ct));

    private static async Task<Ok<BatchTrace.TraceResponse>> TraceAsync(string? gtin, string? lot, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new BatchTrace.Query(gtin, lot, http.Caller()), ct));
}
