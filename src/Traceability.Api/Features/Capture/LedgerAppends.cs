namespace Traceability.Api.Features.Capture;

/// <summary>
/// Tells the readers of the ledger in this process that a capture committed new events, so that they need not poll
/// often (the subscription dispatcher delivers within milliseconds of the commit instead of within its poll interval).
/// A commit between two waits is remembered: the next wait returns at once.
/// </summary>
public sealed class LedgerAppends
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <summary>Called after a capture's transaction committed at least one new event.</summary>
    public void Appended()
    {
        try { _signal.Release(); }
        catch (SemaphoreFullException) { } // already signalled, not yet waited for
    }

    /// <summary>Waits until the next commit, or <paramref name="timeout"/>; true when a commit woke it.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}
