using Traceability.Api.Infrastructure.Reliability;

namespace Traceability.Api.Tests.Reliability;

/// <summary>TRACE_CRASH_AT: a testing setting, refused unless TRACE_TESTING is on, naming a known point and hit.</summary>
public sealed class CrashPointSettingTests
{
    [Theory]
    [InlineData(null, true, null, 0)]
    [InlineData("", false, null, 0)]
    [InlineData("anchor.before-send", true, "anchor.before-send", 1)]
    [InlineData(" capture.after-validate:3 ", true, "capture.after-validate", 3)]
    public void AcceptedSettings(string? setting, bool testing, string? point, int hit)
    {
        var parsed = CrashPoints.Parse(setting, testing);
        if (point is null) parsed.Should().BeNull();
        else parsed.Should().Be((point, hit));
    }

    [Theory]
    [InlineData("anchor.before-send", false, "refused unless TRACE_TESTING is on")]
    [InlineData("anchor.before-sending", true, "point one of capture.after-validate")]
    [InlineData("anchor.before-send:0", true, "n ≥ 1")]
    [InlineData("anchor.before-send:-1", true, "n ≥ 1")]
    [InlineData("anchor.before-send:1:2", true, "<point>[:<n>]")]
    public void RefusedSettingsNameTheProblem(string setting, bool testing, string message)
    {
        var parse = () => CrashPoints.Parse(setting, testing);
        parse.Should().Throw<InvalidOperationException>().WithMessage($"*{message}*");
    }
}
