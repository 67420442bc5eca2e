using Quartz;
using Traceability.Api.Features.Audit;

namespace Traceability.Api.Infrastructure.Jobs;

/// <summary>Every TRACE_AUDIT_INTERVAL seconds (daily by default): the self-audit.</summary>
[DisallowConcurrentExecution]
public sealed class AuditJob(AuditLedger handler) : IJob
{
    public static readonly JobKey Key = new("audit");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct) => await handler.RunAsync(AuditLedger.TriggerSchedule, ct);
}
