using System.Net;
using System.Net.Http.Json;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Traceability.Api.Features.Anchoring;
using Traceability.Api.Infrastructure.Jobs;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Jobs;

/// <summary>The recurring anchoring job on Hangfire, against a real SQLite file and a real Hardhat node; nothing calls /anchors/run.</summary>
[Collection(ChainCollection.Name)]
public sealed class ScheduledAnchoringTests(ChainFixture chain)
{
    private static readonly Dictionary<string, string> EverySecond = new() { ["TRACE_ANCHOR_SCHEDULE"] = "on", ["TRACE_ANCHOR_INTERVAL"] = "1" };

    [Fact]
    public async Task ScheduledJobAnchorsCapturedEventsWithoutBeingAsked()
    {
        await using var svc = await chain.StartServiceAsync(EverySecond);
        var (maker, _) = await svc.MemberAsync("manufacturer");
        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(3))).StatusCode.Should().Be(HttpStatusCode.Created);

        var first = await WaitForAnchorAsync(svc, a => a.Status == "confirmed" && a.LastEventSequence == 3);
        (first.Sequence, first.FirstEventSequence).Should().Be((1, 1));

        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(2))).StatusCode.Should().Be(HttpStatusCode.Created);
        var second = await WaitForAnchorAsync(svc, a => a.Status == "confirmed" && a.LastEventSequence == 5);
        (second.Sequence, second.FirstEventSequence).Should().Be((2, 4), "a later run anchors what was captured since");

        (await svc.Admin.GetAnswerAsync<Traceability.Api.Features.Events.EventsApi.ProofBundle>("/api/v1/events/5/proof")).Root.Should().Be(second.Root);
        svc.Scalar("SELECT COUNT(*) FROM anchors").Should().Be(2);
        var runs = svc.Services.GetRequiredService<JobStorage>().GetMonitoringApi().SucceededListCount();
        runs.Should().BeGreaterThanOrEqualTo(2, "the anchors were made by Hangfire runs of the recurring job");
    }

    [Fact]
    public async Task AnchorStaysSubmittedUntilTheConfiguredConfirmationsThenIsConfirmed()
    {
        await using var svc = await chain.StartServiceAsync(new Dictionary<string, string>(EverySecond) { ["TRACE_CONFIRMATIONS"] = "3" });
        var (maker, _) = await svc.MemberAsync("manufacturer");
        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(2))).StatusCode.Should().Be(HttpStatusCode.Created);

        var submitted = await WaitForAnchorAsync(svc, a => a.Status == "submitted" && a.TxHash is not null);
        var block = RawRpc.Quantity((await RawRpc.ReceiptAsync(chain.Node.RpcUrl, submitted.TxHash!))["blockNumber"]);
        (await RawRpc.BlockNumberAsync(chain.Node.RpcUrl) - block + 1).Should().Be(1, "mined, but only its own block so far");

        await RawRpc.MineAsync(chain.Node.RpcUrl, 1); // two confirmations of three
        await Task.Delay(TimeSpan.FromSeconds(2)); // the run polls the chain every 250 ms; the job runs every second
        (await AnchorAsync(svc, 1)).Status.Should().Be("submitted", "two blocks are fewer than TRACE_CONFIRMATIONS=3");

        await RawRpc.MineAsync(chain.Node.RpcUrl, 1);
        var confirmed = await WaitForAnchorAsync(svc, a => a.Status == "confirmed");
        confirmed.BlockNumber.Should().Be(block);
        confirmed.TxHash.Should().Be(submitted.TxHash, "confirmed, not sent again");
        confirmed.ConfirmedAt.Should().NotBeNull();
        svc.Scalar("SELECT attempts FROM anchors WHERE sequence = 1").Should().Be(1);
    }

    [Theory]
    [InlineData("0", false)]
    [InlineData("off", false)]
    [InlineData("on", true)]
    public async Task TheScheduleSettingRegistersOrRemovesTheRecurringJob(string value, bool registered)
    {
        await using var svc = await chain.StartServiceAsync(new Dictionary<string, string> { ["TRACE_ANCHOR_SCHEDULE"] = value, ["TRACE_ANCHOR_INTERVAL"] = "300" });
        using var connection = svc.Services.GetRequiredService<JobStorage>().GetConnection();
        var jobs = connection.GetRecurringJobs();
        if (registered) jobs.Should().ContainSingle(j => j.Id == AnchoringJob.Id).Which.Cron.Should().Be("0 */5 * * * *");
        else jobs.Should().NotContain(j => j.Id == AnchoringJob.Id);
    }

    [Theory]
    [InlineData("TRACE_ANCHOR_SCHEDULE")]
    [InlineData("TRACE_AUDIT_SCHEDULE")]
    public async Task ANonsenseScheduleValueStopsTheStartNamingTheVariable(string variable)
    {
        var start = async () => { await using var _ = await chain.StartServiceAsync(new Dictionary<string, string> { [variable] = "sometimes" }); };
        (await start.Should().ThrowAsync<Exception>()).Which.ToString().Should().Contain($"{variable} must be on or off").And.Contain("'sometimes'");
    }

    private static async Task<AnchorsApi.AnchorResponse> AnchorAsync(TraceService svc, long sequence) =>
        (await svc.Admin.GetFromJsonAsync<AnchorsApi.AnchorResponse>($"/api/v1/anchors/{sequence}"))!;

    /// <summary>Polls GET /api/v1/anchors until an anchor matches (30 s at most).</summary>
    private static async Task<AnchorsApi.AnchorResponse> WaitForAnchorAsync(TraceService svc, Func<AnchorsApi.AnchorResponse, bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        AnchorsApi.AnchorPage? page = null;
        while (DateTime.UtcNow < deadline)
        {
            page = await svc.Admin.GetFromJsonAsync<AnchorsApi.AnchorPage>("/api/v1/anchors");
            if (page!.Items.FirstOrDefault(match) is { } found) return found;
            await Task.Delay(200);
        }
        throw new TimeoutException($"no matching anchor within 30 s; anchors: {System.Text.Json.JsonSerializer.Serialize(page?.Items)}");
    }
}
