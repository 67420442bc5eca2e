using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Audit;

/// <summary>POST /api/v1/audit/run and GET /api/v1/audit/latest (admin, regulator).</summary>
public static class AuditApi
{
    /// <summary>The most findings one answer lists; <c>findingsStored</c> says how many the run stored.</summary>
    public const int FindingsListed = 1000;

    public sealed record FindingResponse(long? AnchorSequence, long? EventSequence, string Kind, string Detail, long? FirstEventSequence, long? LastEventSequence);

    public sealed record AuditRunResponse(long Id, string Status, string Trigger, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt,
        long Anchors, long AnchorsOnChain, long Events, long EventsChecked, long Mismatches, string? Summary,
        int FindingsStored, IReadOnlyList<FindingResponse> Findings)
    {
        public static AuditRunResponse From(AuditRun r, IReadOnlyList<AuditFinding> findings, int stored) => new(
            r.Id, r.Status, r.Trigger, r.StartedAt, r.FinishedAt, r.Anchors, r.AnchorsOnChain, r.Events, r.EventsChecked, r.Mismatches, r.Summary,
            stored, findings.Take(FindingsListed).Select(f => new FindingResponse(f.AnchorSequence, f.EventSequence, f.Kind, f.Detail, f.FirstEventSequence, f.LastEventSequence)).ToList());
    }

    public static RouteGroupBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/audit").WithTags("Audit");
        group.MapPost("run", RunAsync).RequireRoles(MemberRole.Regulator)
            .WithSummary("Audit the whole ledger now: every event rehashed, every anchor's root rebuilt and compared with the chain; 200 with the run (ok or failed), 503 when it could not finish")
            .ProducesProblem(503);
        group.MapGet("latest", LatestAsync).RequireRoles(MemberRole.Regulator)
            .WithSummary("The latest finished audit run with its findings (the first 1000)").ProducesProblem(404);
        return group;
    }

    /// <summary>The latest finished audit run with its first findings.</summary>
    public sealed record GetLatestAudit : IQuery<AuditRunResponse>
    {
        public sealed class Handler(TraceDbContext db) : IQueryHandler<GetLatestAudit, AuditRunResponse>
        {
            public async ValueTask<AuditRunResponse> Handle(GetLatestAudit query, CancellationToken ct)
            {
                var run = await db.AuditRuns.AsNoTracking().Where(r => r.FinishedAt != null).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct)
                          ?? throw new NotFoundException("An audit run");
                var stored = await db.AuditFindings.CountAsync(f => f.RunId == run.Id, ct);
                var findings = await db.AuditFindings.AsNoTracking().Where(f => f.RunId == run.Id).OrderBy(f => f.Id).Take(FindingsListed).ToListAsync(ct);
                return AuditRunResponse.From(run, findings, stored);
            }
        }
    }

    private static async Task<Results<Ok<AuditRunResponse>, ProblemHttpResult>> RunAsync(IMediator mediator, CancellationToken ct)
    {
        var (run, findings) = await mediator.Send(new RunAudit(AuditLedger.TriggerApi), ct);
        var response = AuditRunResponse.From(run, findings, findings.Count);
        if (run.Status == AuditRunStatus.Error)
            return TypedResults.Problem(statusCode: 503, title: "The audit could not finish", detail: run.Summary,
                type: ProblemDetailsExceptionHandler.TypeBase + "audit-error", extensions: new Dictionary<string, object?> { ["run"] = response });
        return TypedResults.Ok(response);
    }

    private static async Task<Ok<AuditRunResponse>> LatestAsync(IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new GetLatestAudit(), ct));
}
