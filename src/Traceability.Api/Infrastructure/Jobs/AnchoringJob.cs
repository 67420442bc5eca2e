using Hangfire;
using Traceability.Api.Features.Anchoring;

namespace Traceability.Api.Infrastructure.Jobs;

/// <summary>Every TRACE_ANCHOR_INTERVAL seconds: anchor what is pending, unless the chain is down and its backoff has not elapsed.</summary>
[SkipWhenPreviousRunActive]
[AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)] // the next run is the retry
public sealed class AnchoringJob(AnchorPendingEvents handler, ChainHealth health)
{
    public const string Id = "anchoring";

    public async Task RunAsync(CancellationToken ct)
    {
        if (health.ShouldAttempt) await handler.RunAsync(ct);
    }
}
