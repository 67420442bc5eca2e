using Cronos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Jobs;

namespace Traceability.Api.Tests.Jobs;

/// <summary>How TRACE_ANCHOR_INTERVAL / TRACE_AUDIT_INTERVAL become a Hangfire cron schedule, and the on/off settings.</summary>
public sealed class IntervalScheduleTests
{
    [Theory]
    [InlineData(1, 1, "* * * * * *")]
    [InlineData(2, 2, "*/2 * * * * *")]
    [InlineData(7, 6, "*/6 * * * * *")]        // 6 and 10 are kept; 6 is nearer
    [InlineData(8, 6, "*/6 * * * * *")]        // a tie goes to the shorter interval
    [InlineData(30, 30, "*/30 * * * * *")]
    [InlineData(45, 30, "*/30 * * * * *")]     // tie between 30 s and 60 s
    [InlineData(50, 60, "0 * * * * *")]
    [InlineData(60, 60, "0 * * * * *")]        // the default: every minute at second 0
    [InlineData(90, 60, "0 * * * * *")]
    [InlineData(100, 120, "0 */2 * * * *")]
    [InlineData(300, 300, "0 */5 * * * *")]
    [InlineData(1800, 1800, "0 */30 * * * *")]
    [InlineData(3600, 3600, "0 0 * * * *")]
    [InlineData(5400, 3600, "0 0 * * * *")]
    [InlineData(7200, 7200, "0 0 */2 * * *")]
    [InlineData(36_000, 28_800, "0 0 */8 * * *")] // tie between 8 h and 12 h
    [InlineData(40_000, 43_200, "0 0 */12 * * *")]
    [InlineData(86_400, 86_400, "0 0 0 * * *")]  // the audit's default: daily at 00:00 UTC
    [InlineData(172_800, 86_400, "0 0 0 * * *")]
    [InlineData(604_800, 604_800, "0 0 0 * * 0")]
    [InlineData(31_536_000, 604_800, "0 0 0 * * 0")] // longer than a week: weekly
    public void RoundsToTheNearestIntervalACronScheduleKeeps(int requested, int seconds, string cron)
    {
        var schedule = IntervalSchedule.For(requested);
        (schedule.Seconds, schedule.Cron, schedule.IsExact).Should().Be((seconds, cron, seconds == requested));
    }

    [Fact]
    public void EveryExactIntervalIsKeptByItsCronExpression()
    {
        var from = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);
        foreach (var (seconds, cron) in IntervalSchedule.Exact)
        {
            var expression = CronExpression.Parse(cron, CronFormat.IncludeSeconds); // Cronos: the parser Hangfire uses
            var occurrences = expression.GetOccurrences(from, from.AddSeconds(Math.Max(10L * seconds, 3L * 604_800)), TimeZoneInfo.Utc).Take(10).ToList();
            occurrences.Zip(occurrences.Skip(1), (a, b) => (b - a).TotalSeconds).Should().OnlyContain(gap => gap == seconds, cron);
        }
    }

    [Theory]
    [InlineData("0", false)]
    [InlineData("off", false)]
    [InlineData("OFF", false)]
    [InlineData("false", false)]
    [InlineData("no", false)]
    [InlineData("1", true)]
    [InlineData("on", true)]
    [InlineData("True", true)]
    [InlineData("yes", true)]
    public void ScheduleSwitchesReadOnAndOff(string value, bool on)
    {
        var o = Bind(new() { ["TRACE_ANCHOR_SCHEDULE"] = value, ["TRACE_AUDIT_SCHEDULE"] = value });
        (o.AnchorSchedule, o.AuditSchedule).Should().Be((on, on));
    }

    [Theory]
    [InlineData("TRACE_ANCHOR_SCHEDULE", "sometimes", "*TRACE_ANCHOR_SCHEDULE must be on or off*'sometimes'*")]
    [InlineData("TRACE_AUDIT_SCHEDULE", "2", "*TRACE_AUDIT_SCHEDULE must be on or off*'2'*")]
    [InlineData("TRACE_LOG_FORMAT", "xml", "*TRACE_LOG_FORMAT must be 'text' or 'json'*'xml'*")]
    public void NonsenseIsRefusedNamingTheVariable(string variable, string value, string message)
    {
        var bind = () => Bind(new() { [variable] = value });
        bind.Should().Throw<OptionsValidationException>().WithMessage(message);
    }

    [Fact]
    public void PollsAQuarterOfTheShortestIntervalWithinOneToFifteenSeconds()
    {
        JobsSetup.PollingInterval(Bind(new() { ["TRACE_ANCHOR_INTERVAL"] = "1" })).Should().Be(TimeSpan.FromSeconds(1));
        JobsSetup.PollingInterval(Bind(new() { ["TRACE_ANCHOR_INTERVAL"] = "20" })).Should().Be(TimeSpan.FromSeconds(5));
        JobsSetup.PollingInterval(Bind(new())).Should().Be(TimeSpan.FromSeconds(15));
        JobsSetup.PollingInterval(Bind(new() { ["TRACE_ANCHOR_SCHEDULE"] = "off", ["TRACE_AUDIT_INTERVAL"] = "4" })).Should().Be(TimeSpan.FromSeconds(1));
    }

    private static TraceOptions Bind(Dictionary<string, string?> settings)
    {
        var o = new TraceOptions();
        TraceOptions.Bind(o, new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return o;
    }
}
