using System.Text.Json.Nodes;
using Traceability.Chain;
using Traceability.Testing;
using Traceability.Verifier.Audit;

namespace Traceability.Verifier.Tests;

/// <summary>
/// The audit's HTTP side against <see cref="FakeApi"/> serving the documented JSON of real anchored data, and its
/// chain side against the real node. <see cref="VerifierFixture.Other"/> holds events 1..8, anchors 1 (1..3) and 2 (4..7).
/// </summary>
[Collection(VerifierCollection.Name)]
public sealed class LedgerAuditorTests(VerifierFixture fixture)
{
    private async Task<AuditReport> AuditAsync(TestLedger ledger, Action<FakeApi>? tamper = null, string? apiKey = FakeApi.ApiKey,
        ChainOptions? chain = null, StringWriter? progress = null)
    {
        await using var api = new FakeApi(ledger, pageSize: 1);
        tamper?.Invoke(api);
        return await new LedgerAuditor(fixture.Http, progress).AuditAsync(
            new AuditOptions(api.Url, apiKey, chain ?? new ChainOptions(fixture.RpcUrl, ledger.Contract), Concurrency: 4));
    }

    [Fact]
    public async Task ReportsOkWithCountsGivenAnHonestLedger()
    {
        var progress = new StringWriter();
        var report = await AuditAsync(fixture.Other, progress: progress);

        report.Aborted.Should().BeNull();
        report.Ok.Should().BeTrue(string.Join("\n", report.Findings));
        report.Anchors.Should().Be(2);
        report.AnchorsOnChain.Should().Be(2);
        report.Events.Should().Be(7);
        report.LeavesChecked.Should().Be(7);
        report.EventsChecked.Should().Be(7);
        report.Mismatches.Should().Be(0);
        report.SummaryLine().Should().Be(
            $"AUDIT OK: 2 anchors (2 on chain), 7 events, 7 leaves checked, 7 events rehashed, 0 mismatches; contract {fixture.Other.Contract} on chain 31337");
        progress.ToString().Should().Contain("anchor 1/2 (events 1..3)").And.Contain("anchor 2/2 (events 4..7)");
    }

    [Fact]
    public async Task AuditsTheContractTheApiNamesGivenNoContractOption()
    {
        var progress = new StringWriter();
        var report = await AuditAsync(fixture.Other, chain: new ChainOptions(fixture.RpcUrl), progress: progress);
        report.Ok.Should().BeTrue(report.SummaryLine());
        report.Contract.Should().Be(fixture.Other.Contract);
        progress.ToString().Should().Contain("no --contract given");
    }

    [Fact]
    public async Task NamesTheAnchorAndEventGivenAnEditedEvent()
    {
        var report = await AuditAsync(fixture.Other, api => api.TamperEvent = (seq, record) =>
        {
            if (seq == 5) record["event"]!["eventTime"] = "2001-01-01T00:00:00.000Z";
        });

        report.Ok.Should().BeFalse();
        report.Mismatches.Should().Be(1);
        report.Findings[0].Should().BeEquivalentTo(new { Anchor = 2UL, Event = 5UL, Check = LedgerAuditor.Event });
        report.Findings[0].Reason.Should().Contain("the event hashes to ni:///sha-256;").And.Contain("the API says " + fixture.Other.Event(5).Hash);
        report.SummaryLine().Should().StartWith("AUDIT FAILED: anchor 2, event 5: event: the event hashes to");
    }

    [Fact]
    public async Task ReportsRootAndEventGivenAnEditedLeaf()
    {
        var report = await AuditAsync(fixture.Other, api => api.TamperLeaves = (anchor, leaves) =>
        {
            if (anchor == 1) leaves["values"]![1]![1] = Hex.Encode(fixture.Other.Event(3).Digest);
        });

        report.Findings.Select(f => (f.Anchor, f.Event, f.Check)).Should().Equal(
            (1UL, (ulong?)null, Checks.Root),
            (1UL, 2UL, LedgerAuditor.Event));
        report.Findings[0].Reason.Should().Contain("the leaves rebuild to root");
        report.Findings[1].Reason.Should().Contain("but its leaf holds digest " + Hex.Encode(fixture.Other.Event(3).Digest));
    }

    [Fact]
    public async Task ReportsRootGivenTheApiListsAnotherRoot()
    {
        var report = await AuditAsync(fixture.Other, api => api.TamperAnchors = items => items[1]["root"] = Hex.Encode(fixture.Other.Anchors[0].Tree.Root));
        report.Findings.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Anchor = 2UL, Event = (ulong?)null, Check = Checks.Root });
        report.Findings[0].Reason.Should().StartWith("the API lists root ");
    }

    [Fact]
    public async Task ReportsCoverageGivenAGapBetweenAnchors()
    {
        var report = await AuditAsync(fixture.Other, api => api.TamperAnchors = items =>
        {
            items[1]["firstEventSequence"] = 5;
            items[1]["count"] = 3;
        });

        report.Ok.Should().BeFalse();
        report.Findings[0].Should().BeEquivalentTo(new { Anchor = 2UL, Check = LedgerAuditor.Coverage });
        report.Findings[0].Reason.Should().Be("events 4..4 are in no anchor (gap)");
        report.Findings.Should().Contain(f => f.Check == Checks.Range && f.Reason.Contains("the chain's range is 4..7, the API's 5..7"));
    }

    [Fact]
    public async Task ReportsCoverageGivenOverlappingAnchors()
    {
        var report = await AuditAsync(fixture.Other, api => api.TamperAnchors = items =>
        {
            items[1]["firstEventSequence"] = 3;
            items[1]["count"] = 5;
        });
        report.Findings[0].Reason.Should().Be("anchor starts at event 3, but events up to 3 are in earlier anchors (overlap)");
    }

    [Fact]
    public async Task ReportsCoverageGivenTheApiHidesAnAnchorTheChainHolds()
    {
        var report = await AuditAsync(fixture.Other, api => api.TamperAnchors = items => items.RemoveAt(1));
        report.Findings.Should().ContainSingle().Which.Reason.Should().Be("the contract holds 2 anchors, the API lists 1 of them as on chain (1 in all)");
    }

    [Fact]
    public async Task ReportsLeavesGivenATreeHoldingAnEventOutsideItsRange()
    {
        // Main's anchor 3 claims events 12..13, but its tree holds events 12 and 14
        var report = await AuditAsync(fixture.Main);
        report.Findings.Should().Contain(f => f.Anchor == 3 && f.Check == LedgerAuditor.Leaves && f.Reason == "leaf 1 is event 14, expected event 13 (leaves must be the range in order)");
        report.LeavesChecked.Should().Be(13);
    }

    [Fact]
    public async Task AbortsWithTheStatusGivenNoApiKey()
    {
        var report = await AuditAsync(fixture.Other, apiKey: null);
        report.Ok.Should().BeFalse();
        report.Aborted.Should().Contain("401").And.Contain("--api-key");
    }

    [Fact]
    public async Task AbortsGivenAnUnreachableChain()
    {
        var report = await AuditAsync(fixture.Other, chain: new ChainOptions(new Uri($"http://127.0.0.1:{HardhatNode.FreePort()}"), fixture.Other.Contract));
        report.Aborted.Should().StartWith("chain unreachable: ").And.Contain("127.0.0.1");
        report.SummaryLine().Should().StartWith("AUDIT FAILED: chain unreachable");
    }

    [Fact]
    public async Task AbortsGivenAnUnreachableApi()
    {
        var report = await new LedgerAuditor(fixture.Http).AuditAsync(
            new AuditOptions(new Uri($"http://127.0.0.1:{HardhatNode.FreePort()}/"), FakeApi.ApiKey, new ChainOptions(fixture.RpcUrl, fixture.Other.Contract)));
        report.Aborted.Should().Contain("cannot be reached");
    }

    [Fact]
    public async Task ProgramExitsZeroThenOneGivenACleanThenATamperedApi()
    {
        await using (var api = new FakeApi(fixture.Other))
        {
            var (exit, stdout, stderr) = await ProgramTests.RunAsync("--audit", "--api", api.Url.ToString(), "--api-key", FakeApi.ApiKey,
                "--rpc", fixture.RpcUrl.ToString(), "--contract", fixture.Other.Contract);
            exit.Should().Be(0, stdout + stderr);
            stdout.Should().StartWith("AUDIT OK: 2 anchors (2 on chain), 7 events, 7 leaves checked");
            stderr.Should().Contain("anchor 2/2");
        }

        await using (var api = new FakeApi(fixture.Other))
        {
            api.TamperEvent = (seq, record) => { if (seq == 6) record["event"]!["action"] = "DELETE"; };
            var (exit, stdout, _) = await ProgramTests.RunAsync("--audit", "--api", api.Url.ToString(), "--api-key", FakeApi.ApiKey,
                "--rpc", fixture.RpcUrl.ToString(), "--json");
            exit.Should().Be(1);
            var json = JsonNode.Parse(stdout)!;
            json["ok"]!.GetValue<bool>().Should().BeFalse();
            json["mismatches"]!.GetValue<int>().Should().Be(1);
            json["findings"]![0]!["anchor"]!.GetValue<ulong>().Should().Be(2);
            json["findings"]![0]!["event"]!.GetValue<ulong>().Should().Be(6);
        }
    }
}
