namespace Traceability.Api.Features.Anchoring;

/// <summary>
/// What the service last learnt about the chain: up, or down since when and why. Drives /health ("degraded" with the
/// reason) and the anchoring job's backoff (1 s, 2 s, 4 s ... up to 5 minutes between attempts while the chain is down).
/// </summary>
public sealed class ChainHealth(TimeProvider time)
{
    private readonly Lock _lock = new();
    private int _failures;

    public string? Problem { get; private set; }
    public DateTimeOffset? DownSince { get; private set; }
    public DateTimeOffset NextAttemptAt { get; private set; } = DateTimeOffset.MinValue;

    public bool ShouldAttempt => time.GetUtcNow() >= NextAttemptAt;

    public void Up()
    {
        lock (_lock)
        {
            _failures = 0;
            Problem = null;
            DownSince = null;
            NextAttemptAt = DateTimeOffset.MinValue;
        }
    }

    private static readonly TimeSpan LedgerCheckTtl = TimeSpan.FromSeconds(5);
    private (string? Problem, DateTimeOffset At)? _ledgerCheck;

    /// <summary>
    /// The result of <see cref="ChainLedgerCheck"/>, run through <paramref name="check"/> at most every 5 seconds
    /// (so /health stays cheap under polling), or now when <paramref name="fresh"/>.
    /// </summary>
    public async Task<string?> LostAnchorsAsync(Func<CancellationToken, Task<string?>> check, bool fresh, CancellationToken ct)
    {
        var cached = _ledgerCheck;
        if (!fresh && cached is { } c && time.GetUtcNow() - c.At < LedgerCheckTtl) return c.Problem;
        var problem = await check(ct);
        _ledgerCheck = (problem, time.GetUtcNow());
        return problem;
    }

    /// <summary>Forgets the cached <see cref="LostAnchorsAsync"/> result (after a re-anchoring).</summary>
    public void ForgetLedgerCheck() => _ledgerCheck = null;

    public void Down(string problem)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            DownSince ??= now;
            Problem = problem;
            _failures++;
            NextAttemptAt = now + TimeSpan.FromSeconds(Math.Min(300, Math.Pow(2, Math.Min(_failures - 1, 9))));
        }
    }
}
