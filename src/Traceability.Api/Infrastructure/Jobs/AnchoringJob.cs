using Quartz;
using Traceability.Api.Features.Anchoring;

namespace Traceability.Api.Infrastructure.Jobs;

/// <summary>Every TRACE_ANCHOR_INTERVAL seconds: anchor what is pending, unless the chain is down and its backoff has not elapsed.</summary>
[DisallowConcurrentExecution]
public sealed class AnchoringJob(AnchorPendingEvents handler, ChainHealth health) : IJob
{
    public static readonly JobKey Key = new("anchoring");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct)
    {
        if (health.ShouldAttempt) await handler.RunAsync(ct);
    }
}
