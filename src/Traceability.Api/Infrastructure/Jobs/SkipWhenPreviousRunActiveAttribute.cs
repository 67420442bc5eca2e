using Hangfire.Common;
using Hangfire.Server;
using Hangfire.Storage;

namespace Traceability.Api.Infrastructure.Jobs;

/// <summary>
/// Hangfire's [DisableConcurrentExecution], but a run that finds the previous one still going is dropped (deleted,
/// "Canceled by filter") instead of waiting for it and then failing: with a short interval and a long run, waiting runs
/// would pile up. The lock is in the job storage, so it holds across every instance sharing a PostgreSQL database.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class SkipWhenPreviousRunActiveAttribute : JobFilterAttribute, IServerFilter
{
    private const string LockItem = "trace.run-lock";

    public void OnPerforming(PerformingContext context)
    {
        var resource = "trace:run:" + context.BackgroundJob.Job.Type.Name;
        try
        {
            context.Items[LockItem] = context.Connection.AcquireDistributedLock(resource, TimeSpan.Zero);
        }
        catch (DistributedLockTimeoutException)
        {
            context.Canceled = true;
        }
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(LockItem, out var held)) ((IDisposable)held).Dispose();
    }
}
