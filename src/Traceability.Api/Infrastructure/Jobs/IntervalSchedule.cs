using System.Globalization;

namespace Traceability.Api.Infrastructure.Jobs;

/// <summary>
/// A "run every N seconds" setting as the cron expression Hangfire keeps (six fields, seconds first, in UTC).
/// A cron field repeats evenly only with a step that divides its range, so the intervals kept exactly are: 1, 2, 3, 4,
/// 5, 6, 10, 12, 15, 20 or 30 seconds; the same numbers of minutes; 1, 2, 3, 4, 6, 8 or 12 hours; a day; a week.
/// Any other interval runs on the nearest of these (the shorter one on a tie, so a run is never later than asked);
/// longer than a week runs weekly. Runs fall on the clock's boundaries (every 60 s: at second 0 of each minute; daily:
/// at 00:00 UTC), so a restart does not postpone them.
/// </summary>
public sealed record IntervalSchedule(int RequestedSeconds, int Seconds, string Cron)
{
    private static readonly int[] Divisors60 = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
    private static readonly int[] Divisors24 = [1, 2, 3, 4, 6, 8, 12];
    private const int Day = 86_400;
    private const int Week = 7 * Day;

    /// <summary>Every interval a cron schedule keeps exactly, shortest first, with its expression.</summary>
    public static readonly IReadOnlyList<(int Seconds, string Cron)> Exact =
    [
        .. Divisors60.Select(s => (s, s == 1 ? "* * * * * *" : $"*/{s} * * * * *")),
        .. Divisors60.Select(m => (m * 60, m == 1 ? "0 * * * * *" : $"0 */{m} * * * *")),
        .. Divisors24.Select(h => (h * 3600, h == 1 ? "0 0 * * * *" : $"0 0 */{h} * * *")),
        (Day, "0 0 0 * * *"),
        (Week, "0 0 0 * * 0"),
    ];

    public bool IsExact => Seconds == RequestedSeconds;

    /// <summary>The schedule for an interval of <paramref name="seconds"/> (1 or more).</summary>
    public static IntervalSchedule For(int seconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seconds, 1);
        var best = Exact[0];
        foreach (var candidate in Exact)
            if (Math.Abs((long)candidate.Seconds - seconds) < Math.Abs((long)best.Seconds - seconds)) best = candidate;
        return new IntervalSchedule(seconds, best.Seconds, best.Cron);
    }

    /// <summary>"every 60 s (cron 0 * * * * *)", and what was asked when it differs.</summary>
    public string Describe(string setting) => IsExact
        ? $"every {Seconds.ToString(CultureInfo.InvariantCulture)} s (cron {Cron})"
        : $"every {Seconds.ToString(CultureInfo.InvariantCulture)} s (cron {Cron}): {setting}={RequestedSeconds.ToString(CultureInfo.InvariantCulture)} is not an interval a cron schedule keeps, so the nearest one is used";
}
