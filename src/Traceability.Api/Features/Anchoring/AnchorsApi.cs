using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Requests;
using Traceability.Chain;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Anchoring;

public static class AnchorsApi
{
    public sealed record AnchorResponse(long Sequence, string Root, long FirstEventSequence, long LastEventSequence, int Count,
        string Status, string? TxHash, long? BlockNumber, long ChainId, string Contract, DateTimeOffset CreatedAt,
        DateTimeOffset? ConfirmedAt, string? LastError)
    {
        public static AnchorResponse From(Anchor a) => new(a.Sequence, a.Root, a.FirstEventSequence, a.LastEventSequence, a.Count,
            a.Status.ToString().ToLowerInvariant(), a.TxHash, a.BlockNumber, a.ChainId, a.Contract, a.CreatedAt, a.ConfirmedAt, a.LastError);

        /// <summary>On <c>GET /api/v1/anchors/{n}</c>: the anchor's cosigners and finality, read from the contract (absent when the chain cannot be read).</summary>
        [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        public Consortium.WitnessView? Witnesses { get; init; }
    }

    public sealed record AnchorPage(IReadOnlyList<AnchorResponse> Items, int Total, int Offset, int Limit);
    public sealed record LeavesResponse(IReadOnlyList<string> Encoding, IReadOnlyList<string[]> Values);
    public static readonly string[] LeafEncoding = ["uint256", "bytes32"];

    /// <summary>An event's leaf as @openzeppelin/merkle-tree values: [sequence as a decimal string, 0x digest of its ni: hash].</summary>
    public static string[] LeafValue(long sequence, string eventHash) =>
        [sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), Hex.Encode(EventHash.Digest(eventHash))];

    public static RouteGroupBuilder MapAnchorsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/anchors").WithTags("Anchoring");
        group.MapPost("run", RunAsync).RequireRoles(MemberRole.Regulator)
            .WithSummary("Anchor every pending event now: 200 with the newest anchor, 204 when nothing is pending")
            .ProducesProblem(503);
        group.MapPost("reanchor", ReanchorAsync).RequireRoles(MemberRole.Admin)
            .WithSummary("After the chain lost anchors the ledger confirmed (see /health): write them again with the same sequence numbers, ranges and roots; 200 with what was re-anchored, 409 with the reason when nothing can be")
            .ProducesProblem(409).ProducesProblem(503);
        group.MapGet("", ListAsync).WithSummary("Anchors, oldest first, with paging (offset, limit ≤ 1000)");
        group.MapGet("{sequence:long}", GetAsync).WithSummary("One anchor").ProducesProblem(404);
        // Any member: witnesses rebuild the root from these (a leaf is an event's sequence and the digest of its hash, no content).
        group.MapGet("{sequence:long}/leaves", LeavesAsync).RequireRoles()
            .WithSummary("Every leaf of the anchor's tree, in event order, as @openzeppelin/merkle-tree values").ProducesProblem(404);
        return group;
    }

    /// <summary>Anchors, oldest first.</summary>
    public sealed record ListAnchors(int Offset, int Limit) : IQuery<AnchorPage>, IValidate
    {
        public static string Invalid => "Invalid paging";

        public IEnumerable<FieldError> Validate()
        {
            if (Offset < 0) yield return new("offset", "offset must be 0 or more.");
            if (Limit is < 1 or > 1000) yield return new("limit", "limit must be between 1 and 1000.");
        }

        public sealed class Handler(TraceDbContext db) : IQueryHandler<ListAnchors, AnchorPage>
        {
            public async ValueTask<AnchorPage> Handle(ListAnchors query, CancellationToken ct)
            {
                var total = await db.Anchors.CountAsync(ct);
                var items = await db.Anchors.AsNoTracking().OrderBy(a => a.Sequence).Skip(query.Offset).Take(query.Limit).ToListAsync(ct);
                return new AnchorPage(items.Select(AnchorResponse.From).ToList(), total, query.Offset, query.Limit);
            }
        }
    }

    public sealed record GetAnchor(long Sequence) : IQuery<AnchorResponse>
    {
        public sealed class Handler(TraceDbContext db) : IQueryHandler<GetAnchor, AnchorResponse>
        {
            public async ValueTask<AnchorResponse> Handle(GetAnchor query, CancellationToken ct) =>
                AnchorResponse.From(await db.Anchors.AsNoTracking().FirstOrDefaultAsync(a => a.Sequence == query.Sequence, ct)
                    ?? throw new NotFoundException($"Anchor {query.Sequence}"));
        }
    }

    /// <summary>Every leaf of an anchor's tree, in event order.</summary>
    public sealed record GetAnchorLeaves(long Sequence) : IQuery<LeavesResponse>
    {
        public sealed class Handler(TraceDbContext db) : IQueryHandler<GetAnchorLeaves, LeavesResponse>
        {
            public async ValueTask<LeavesResponse> Handle(GetAnchorLeaves query, CancellationToken ct)
            {
                var anchor = await db.Anchors.AsNoTracking().FirstOrDefaultAsync(a => a.Sequence == query.Sequence, ct) ?? throw new NotFoundException($"Anchor {query.Sequence}");
                var rows = await db.Events.AsNoTracking()
                    .Where(e => e.Sequence >= anchor.FirstEventSequence && e.Sequence <= anchor.LastEventSequence)
                    .OrderBy(e => e.Sequence).Select(e => new { e.Sequence, e.EventHash }).ToListAsync(ct);
                return new LeavesResponse(LeafEncoding, rows.Select(r => LeafValue(r.Sequence, r.EventHash)).ToList());
            }
        }
    }

    private static async Task<Results<Ok<AnchorResponse>, NoContent, ProblemHttpResult>> RunAsync(IMediator mediator, CancellationToken ct)
    {
        var result = await mediator.Send(new RunAnchoring(), ct);
        if (result.Anchors.Count == 0)
            return result.Problem is null ? TypedResults.NoContent()
                : TypedResults.Problem(statusCode: 503, title: "The chain is unavailable", detail: result.Problem, type: ProblemDetailsExceptionHandler.TypeBase + "chain-unavailable");
        var newest = result.Anchors[^1];
        if (newest.Status is not (AnchorStatus.Confirmed or AnchorStatus.Submitted) && result.Problem is not null)
            return TypedResults.Problem(statusCode: 503, title: "Anchoring could not finish", detail: result.Problem,
                type: ProblemDetailsExceptionHandler.TypeBase + "chain-unavailable", extensions: new Dictionary<string, object?> { ["anchor"] = AnchorResponse.From(newest) });
        return TypedResults.Ok(AnchorResponse.From(newest));
    }

    public sealed record ReanchorResponse(long AnchorsOnChainBefore, IReadOnlyList<AnchorResponse> Reanchored, string? Unfinished);

    private static async Task<Results<Ok<ReanchorResponse>, ProblemHttpResult>> ReanchorAsync(AnchorPendingEvents handler, CancellationToken ct)
    {
        var result = await handler.ReanchorAsync(ct);
        if (result.ChainUnavailable)
            return TypedResults.Problem(statusCode: 503, title: "The chain is unavailable", detail: result.Refused,
                type: ProblemDetailsExceptionHandler.TypeBase + "chain-unavailable");
        if (result.Reanchored.Count == 0)
            return TypedResults.Problem(statusCode: 409, title: "Nothing was re-anchored", detail: result.Refused,
                type: ProblemDetailsExceptionHandler.TypeBase + "reanchor-refused");
        return TypedResults.Ok(new ReanchorResponse(result.AnchorsOnChainBefore, result.Reanchored.Select(AnchorResponse.From).ToList(), result.Refused));
    }

    private static async Task<Ok<AnchorPage>> ListAsync(IMediator mediator, CancellationToken ct, int offset = 0, int limit = 100) =>
        TypedResults.Ok(await mediator.Send(new ListAnchors(offset, limit), ct));

    private static async Task<Ok<AnchorResponse>> GetAsync(long sequence, IMediator mediator, Consortium.AnchorWitnesses witnesses, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new GetAnchor(sequence), ct) with { Witnesses = await witnesses.GetAsync(sequence, ct) });

    private static async Task<Ok<LeavesResponse>> LeavesAsync(long sequence, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new GetAnchorLeaves(sequence), ct));
}
