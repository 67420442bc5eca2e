using Hangfire;
using Traceability.Api.Features.Audit;

namespace Traceability.Api.Infrastructure.Jobs;

/// <summary>Every TRACE_AUDIT_INTERVAL seconds (daily by default): the self-audit.</summary>
[SkipWhenPreviousRunActive]
[AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)] // the next run is the retry
public sealed class AuditJob(AuditLedger handler)
{
    public const string Id = "audit";

    public async Task RunAsync(CancellationToken ct) => await handler.RunAsync(AuditLedger.TriggerSchedule, ct);
}
