using Traceability.Api.Features.Capture;

namespace Traceability.Api.Tests.Epcis;

/// <summary>The signal a capture's commit gives the subscription dispatcher: remembered until the next wait, once.</summary>
public sealed class LedgerAppendsTests
{
    [Fact]
    public async Task ACommitBeforeTheWaitIsRememberedOnceAndNoCommitLetsTheWaitTimeOut()
    {
        var appends = new LedgerAppends();
        (await appends.WaitAsync(TimeSpan.FromMilliseconds(20), default)).Should().BeFalse("nothing was committed");
        appends.Appended();
        appends.Appended(); // two commits before a wait wake it once: it reads everything committed when it looks
        (await appends.WaitAsync(TimeSpan.FromSeconds(30), default)).Should().BeTrue();
        (await appends.WaitAsync(TimeSpan.FromMilliseconds(20), default)).Should().BeFalse();
    }

    [Fact]
    public async Task ACommitDuringTheWaitEndsIt()
    {
        var appends = new LedgerAppends();
        var waiting = appends.WaitAsync(TimeSpan.FromSeconds(30), default);
        waiting.IsCompleted.Should().BeFalse();
        appends.Appended();
        (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue();
    }
}
