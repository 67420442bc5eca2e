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
            .WithSummary("The units of a lot with their current state, a page at a time; byHolder, byStatus, input and output lots")
            .WithDescription($"count, byStatus and byHolder cover the whole lot. units is one page of at most limit units (default {BatchTrace.DefaultLimit:N0}, " +
                $"at most {BatchTrace.MaxLimit:N0}) in EPC order; when more follow, nextAfter is the EPC to pass as after for the next page (null on the last). " +
                "A limit that is not a number from 1 to the maximum, or an empty or over-long after, is a 400 naming the parameter.")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404);
        return app;
    }

    private static async Task<Ok<ItemHistory.HistoryResponse>> HistoryAsync(string? epc, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new ItemHistory.Query(epc, http.Caller()), ct));

    // limit is read as text so that "abc" is refused with the rule like 0 or 9999 are, not by the binder.
    private static async Task<Ok<BatchTrace.TraceResponse>> TraceAsync(string? gtin, string? lot, string? limit, string? after, HttpContext http, IMediator mediator,
        CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new BatchTrace.Query(gtin, lot, http.Caller(), limit, after), ct));
}
