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
