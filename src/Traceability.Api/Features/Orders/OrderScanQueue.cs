using System.Threading.Channels;
using Traceability.Api.Infrastructure.Auth;

namespace Traceability.Api.Features.Orders;

/// <summary>A scan request waiting for its answer: the order, the codes as sent, the caller.</summary>
public sealed class PendingScan(long orderId, IReadOnlyList<string> codes, Caller caller)
{
    private readonly TaskCompletionSource<OrderScanning.ScanResponse> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long OrderId { get; } = orderId;
    public IReadOnlyList<string> Codes { get; } = codes;
    public Caller Caller { get; } = caller;

    /// <summary>The answer: its verdicts once what it accepted is committed, or its refusal.</summary>
    public Task<OrderScanning.ScanResponse> Answer => _answer.Task;

    public void Succeed(OrderScanning.ScanResponse response) => _answer.TrySetResult(response);

    public void Fail(Exception e) => _answer.TrySetException(e);
}

/// <summary>
/// Group commit for small scans (at most <see cref="MaxCodesGrouped"/> codes, what a handheld sends): they wait here,
/// and one writer takes every scan waiting (up to <see cref="MaxGroup"/>), holds their orders' gates, and decides and
/// captures them together (<see cref="OrderScanning.ScanGroupAsync"/>: one read transaction, one capture transaction,
/// still an event and an answer per scan). While it works the next scans gather, so under load a group's fixed cost (a
/// transaction, the capture's setup, a scope) is shared, and a lone scan is taken at once. Why: docs/adr/0027-grouped-single-scans.md.
/// </summary>
public sealed class OrderScanQueue(IServiceScopeFactory scopes, OrderLocks locks, ILogger<OrderScanQueue> log) : BackgroundService
{
    /// <summary>Scans of at most this many codes are grouped; larger ones are decided and captured on their own.</summary>
    public const int MaxCodesGrouped = 32;

    /// <summary>At most this many scans in one group (one capture of at most as many events).</summary>
    public const int MaxGroup = 64;

    private readonly Channel<PendingScan> _waiting = Channel.CreateUnbounded<PendingScan>();

    private long _taken;

    /// <summary>How many scans wait for the writer now.</summary>
    public int Waiting => _waiting.Reader.Count;

    /// <summary>How many scans the writer has taken since the start.</summary>
    public long Taken => Interlocked.Read(ref _taken);

    /// <summary>Queues the scan; its answer, or its refusal. A caller that gives up does not take back a scan already queued.</summary>
    public Task<OrderScanning.ScanResponse> ScanAsync(PendingScan scan, CancellationToken ct)
    {
        if (!_waiting.Writer.TryWrite(scan)) throw new OperationCanceledException("The service is stopping; the scan was not taken.");
        return scan.Answer.WaitAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var group = new List<PendingScan>(MaxGroup);
        try
        {
            while (await _waiting.Reader.WaitToReadAsync(stoppingToken))
            {
                group.Clear();
                while (group.Count < MaxGroup && _waiting.Reader.TryRead(out var scan)) group.Add(scan);
                Interlocked.Add(ref _taken, group.Count);
                try
                {
                    // A group under way finishes even when the service stops: its scans get their answers.
                    using var held = await locks.AcquireAllAsync(group.Select(s => s.OrderId), CancellationToken.None);
                    await using var scope = scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<OrderScanning>().ScanGroupAsync(group, CancellationToken.None);
                }
                catch (Exception e)
                {
                    log.LogError(e, "A group of {Count} scans failed", group.Count);
                    foreach (var s in group) s.Fail(e);
                }
                foreach (var s in group)
                    if (!s.Answer.IsCompleted) s.Fail(new InvalidOperationException("the scan was left without an answer")); // none is: a safety net
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _waiting.Writer.TryComplete();
            while (_waiting.Reader.TryRead(out var scan)) scan.Fail(new OperationCanceledException("The service is stopping; the scan was not taken."));
        }
    }
}
