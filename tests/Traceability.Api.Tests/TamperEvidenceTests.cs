using System.Net;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Audit;
using Traceability.Api.Features.Events;
using Traceability.Api.Tests.Support;
using Traceability.Chain;
using Traceability.Verifier;
using Traceability.Verifier.Audit;

namespace Traceability.Api.Tests;

/// <summary>
/// Each kind of tampering, done to a real service's SQLite file (or to a bundle it served), caught by
/// the independent verifier (<see cref="BundleVerifier"/> for bundles, <see cref="LedgerAuditor"/> for the audit, reading
/// the real Hardhat node) and by the service's own audit (<c>POST /api/v1/audit/run</c>, with its findings, the events'
/// audit status and the tamper alerts).
/// The ledger: events 1..4 in anchor 1, 5..8 in anchor 2, event 9 not anchored.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class TamperEvidenceTests(ChainFixture chain)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private async Task<TraceService> LedgerAsync()
    {
        var svc = await chain.StartServiceAsync(new Dictionary<string, string> { ["TRACE_ANCHOR_MAX_EVENTS"] = "4" });
        var (maker, _) = await svc.MemberAsync("manufacturer");
        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(8))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await svc.AnchoredAsync()).Sequence.Should().Be(2);
        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(1))).StatusCode.Should().Be(HttpStatusCode.Created);
        return svc;
    }

    /// <summary>The bundle as sent: the verifier reads it as JSON, and the tests tamper with it as JSON.</summary>
    private static async Task<JsonNode> BundleAsync(TraceService svc, long sequence)
    {
        var response = await svc.Admin.GetAsync($"/api/v1/events/{sequence}/proof");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await TraceService.JsonAsync(response);
    }

    private static EventsApi.ProofBundle Read(JsonNode bundle) => bundle.Deserialize<EventsApi.ProofBundle>(ApiAnswers.Json)!;

    private static Task<EventsApi.EventResponse> EventAsync(TraceService svc, long sequence) =>
        svc.Admin.GetAnswerAsync<EventsApi.EventResponse>($"/api/v1/events/{sequence}");

    private Task<VerificationResult> VerifyAsync(JsonNode bundle) => new BundleVerifier(Http).VerifyAsync(bundle, new ChainOptions(chain.Node.RpcUrl));

    /// <summary>trace-verify --audit, in-process: the API through the test server's client, the chain directly, the contract from the deployment.</summary>
    private async Task<AuditReport> VerifierAuditAsync(TraceService svc)
    {
        using var api = svc.Client();
        return await new LedgerAuditor(api, Http).AuditAsync(
            new AuditOptions(api.BaseAddress!, TraceService.AdminKey, new ChainOptions(chain.Node.RpcUrl, svc.Registry.Contract), Concurrency: 4));
    }

    private static async Task<AuditApi.AuditRunResponse> SelfAuditAsync(TraceService svc) =>
        await (await svc.Admin.PostAsync("/api/v1/audit/run", null)).ReadAsync<AuditApi.AuditRunResponse>();

    private static async Task<IReadOnlyList<AlertsApi.AlertResponse>> TamperAlertsAsync(TraceService svc) =>
        (await svc.Admin.GetAnswerAsync<AlertsApi.AlertPage>("/api/v1/alerts?type=tamper&limit=500")).Items;

    private static bool Is(AuditApi.FindingResponse finding, string kind, long? anchor, long? @event) =>
        finding.Kind == kind && finding.AnchorSequence == anchor && finding.EventSequence == @event;

    /// <summary>Does a tamper alert name this event and kind of finding? (An alert's detail is free-form JSON, per alert type.)</summary>
    private static bool Names(AlertsApi.AlertResponse alert, long @event, string kind) =>
        alert.Detail.TryGetProperty("eventSequence", out var e) && e.ValueKind == JsonValueKind.Number && e.GetInt64() == @event
        && alert.Detail.TryGetProperty("kind", out var k) && k.GetString() == kind;

    [Fact]
    public async Task CleanLedgerPassesBothAuditsAndEventsCarryTheirAuditStatus()
    {
        await using var svc = await LedgerAsync();
        (await svc.Admin.GetAsync("/api/v1/audit/latest")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await EventAsync(svc, 1)).Audit.Status.Should().Be("not_audited");

        (await VerifyAsync(await BundleAsync(svc, 6))).Verified.Should().BeTrue();
        var report = await VerifierAuditAsync(svc);
        report.Ok.Should().BeTrue(report.SummaryLine());

        var run = await SelfAuditAsync(svc);
        run.Status.Should().Be("ok");
        run.Trigger.Should().Be("api");
        (run.Anchors, run.AnchorsOnChain, run.Events, run.EventsChecked, run.Mismatches).Should().Be((2L, 2L, 9L, 9L, 0L));
        run.Summary.Should().StartWith("AUDIT OK: 2 anchors (2 on chain), 9 events, 9 events rehashed, 0 mismatches; contract ");
        (await svc.Admin.GetAnswerAsync<AuditApi.AuditRunResponse>("/api/v1/audit/latest")).Id.Should().Be(run.Id);

        var bundle = await BundleAsync(svc, 6);
        // The wire form: no finding field at all when there is none.
        bundle["audit"]!.ToJsonString().Should().Be($$"""{"status":"ok","runId":{{run.Id}}}""");
        Read(bundle).Anchor!.Status.Should().Be("confirmed");
        (await VerifyAsync(bundle)).Verified.Should().BeTrue("the audit field is an addition the verifier ignores");
        (await EventAsync(svc, 9)).Audit.Status.Should().Be("ok", "unanchored events are rehashed too");

        var (maker, _) = await svc.MemberAsync("manufacturer", "Later Co.");
        await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(1));
        (await EventAsync(svc, 10)).Audit.Status.Should().Be("not_audited", "event 10 is newer than the run");
        (await TamperAlertsAsync(svc)).Should().BeEmpty();

        var (dealer, _) = await svc.MemberAsync("dealer");
        (await dealer.PostAsync("/api/v1/audit/run", null)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await dealer.GetAsync("/api/v1/audit/latest")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var (regulator, _) = await svc.MemberAsync("regulator");
        (await regulator.GetAsync("/api/v1/audit/latest")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task EditedEventJsonIsCaughtByTheVerifierAndTheSelfAudit()
    {
        await using var svc = await LedgerAsync();
        svc.Execute("UPDATE events SET json = json_set(json, '$.eventTime', '2000-01-01T00:00:00.000Z') WHERE sequence = 6").Should().Be(1);

        var result = await VerifyAsync(await BundleAsync(svc, 6));
        result.Verified.Should().BeFalse();
        result.Check.Should().Be(Checks.EventHash);
        result.ToLine().Should().StartWith("FAILED: event hash mismatch: the event hashes to ni:///sha-256;");
        (await VerifyAsync(await BundleAsync(svc, 5))).Verified.Should().BeTrue("only event 6 was changed");

        // The leaves endpoint serves the stored hashes, which still rebuild the chain's root: only rehashing the JSON catches it.
        var report = await VerifierAuditAsync(svc);
        report.Ok.Should().BeFalse();
        report.Findings.Should().ContainSingle();
        report.Findings[0].Should().BeEquivalentTo(new { Anchor = 2UL, Event = 6UL, Check = LedgerAuditor.Event });
        report.SummaryLine().Should().StartWith("AUDIT FAILED: anchor 2, event 6: event: the event hashes to ni:///sha-256;");

        var run = await SelfAuditAsync(svc);
        run.Status.Should().Be("failed");
        run.Summary.Should().StartWith("AUDIT FAILED: anchor 2, event 6: event-hash: event 6 hashes to ni:///sha-256;");
        run.Findings.Should().HaveCount(2);
        run.Findings.Should().Contain(f => Is(f, "event-hash", 2, 6));
        run.Findings.Should().Contain(f => Is(f, "root", 2, 6) && f.Detail.Contains("first bad leaf event 6"));

        var bundle = Read(await BundleAsync(svc, 6));
        bundle.Audit.Status.Should().Be("failed");
        bundle.Audit.Finding!.Kind.Should().Be("event-hash");
        bundle.Anchor!.Status.Should().Be("confirmed", "the anchor itself still matches the chain");
        (await EventAsync(svc, 6)).Audit.Status.Should().Be("failed");
        (await EventAsync(svc, 5)).Audit.Status.Should().Be("ok", "the other events of the anchor are still proven by the stored leaves");

        var alerts = await TamperAlertsAsync(svc);
        alerts.Should().HaveCount(2);
        alerts.Should().Contain(a => Names(a, 6, "event-hash")
                                     && a.Epc!.StartsWith("https://id.gs1.org/01/1061414107346") && a.Gtin!.StartsWith("1061414107346"));

        await SelfAuditAsync(svc);
        (await TamperAlertsAsync(svc)).Should().HaveCount(2, "the same mismatch found again raises no new alert");
    }

    [Fact]
    public async Task DeletedEventRowIsCaughtByTheVerifierAndTheSelfAudit()
    {
        await using var svc = await LedgerAsync();
        svc.Execute("DELETE FROM events WHERE sequence = 3").Should().Be(1);

        (await svc.Admin.GetAsync("/api/v1/events/3/proof")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var report = await VerifierAuditAsync(svc);
        report.Ok.Should().BeFalse();
        report.Findings[0].Should().BeEquivalentTo(new { Anchor = 1UL, Event = 3UL, Check = LedgerAuditor.Leaves });
        report.SummaryLine().Should().StartWith("AUDIT FAILED: anchor 1, event 3: leaves: 3 leaves for the events 1..4; event 3 is the first without its leaf");
        report.Findings.Should().Contain(f => f.Anchor == 1 && f.Check == Checks.Root);

        var run = await SelfAuditAsync(svc);
        run.Status.Should().Be("failed");
        run.Summary.Should().StartWith("AUDIT FAILED: anchor 1, event 3: event-missing: event 3 is missing from the database");
        run.Findings.Should().Contain(f => Is(f, "event-missing", 1, 3));
        run.Findings.Should().Contain(f => Is(f, "root", 1, 3) && f.FirstEventSequence == 1 && f.LastEventSequence == 4);

        var bundle = Read(await BundleAsync(svc, 2));
        bundle.Audit.Status.Should().Be("failed", "anchor 1 can no longer be rebuilt, so none of its events is shown as verified");
        bundle.Anchor!.Status.Should().Be("failed");
        (await EventAsync(svc, 5)).Audit.Status.Should().Be("ok");
        (await TamperAlertsAsync(svc)).Should().Contain(a => Names(a, 3, "event-missing") && a.Epc != null, "the deleted event's identifiers are still indexed");
    }

    [Fact]
    public async Task SwappedEventSequencesAreCaughtByTheVerifierAndTheSelfAudit()
    {
        await using var svc = await LedgerAsync();
        svc.Execute("UPDATE events SET sequence = -2 WHERE sequence = 2; UPDATE events SET sequence = 2 WHERE sequence = 3; UPDATE events SET sequence = 3 WHERE sequence = -2");

        var result = await VerifyAsync(await BundleAsync(svc, 2));
        result.Verified.Should().BeFalse();
        result.Check.Should().Be(Checks.Proof, "event 2's leaf now holds another event, which the anchored tree does not hold there");

        // Each row still hashes to its own stored hash: only the rebuilt root shows the swap, and no single leaf can be named.
        var report = await VerifierAuditAsync(svc);
        report.Ok.Should().BeFalse();
        report.Findings.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Anchor = 1UL, Event = (ulong?)null, Check = Checks.Root });
        report.SummaryLine().Should().StartWith("AUDIT FAILED: anchor 1: root: the leaves rebuild to root 0x");

        var run = await SelfAuditAsync(svc);
        run.Status.Should().Be("failed");
        run.Findings.Should().ContainSingle().Which.Should().Match<AuditApi.FindingResponse>(f => Is(f, "root", 1, null)
            && f.Detail.Contains("the leaves themselves differ from those anchored"));
        run.Summary.Should().StartWith("AUDIT FAILED: anchor 1: root: the events rebuild to root 0x");
        foreach (var s in new[] { 1L, 2, 3, 4 }) (await EventAsync(svc, s)).Audit.Status.Should().Be("failed");
        (await EventAsync(svc, 5)).Audit.Status.Should().Be("ok");
        (await TamperAlertsAsync(svc)).Should().ContainSingle().Which.Detail.GetProperty("anchorSequence").GetInt64().Should().Be(1);
    }

    [Fact]
    public async Task ChangedAnchorRootIsCaughtByTheVerifierAndTheSelfAudit()
    {
        await using var svc = await LedgerAsync();
        var forged = "0x" + string.Concat(Enumerable.Repeat("ab", 32));
        svc.Execute("UPDATE anchors SET root = @r WHERE sequence = 1", ("@r", forged)).Should().Be(1);

        var bundle = await BundleAsync(svc, 2);
        Read(bundle).Root.Should().Be(forged);
        var result = await VerifyAsync(bundle);
        result.Verified.Should().BeFalse();
        result.Check.Should().Be(Checks.Proof, "the proof leads to the anchored root, not to the forged one the bundle states");

        var report = await VerifierAuditAsync(svc);
        report.Findings.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Anchor = 1UL, Event = (ulong?)null, Check = Checks.Root });
        report.Findings[0].Reason.Should().StartWith($"the API lists root {forged}, the chain holds 0x");

        var run = await SelfAuditAsync(svc);
        run.Status.Should().Be("failed");
        run.Findings.Should().ContainSingle().Which.Should().Match<AuditApi.FindingResponse>(f => Is(f, "root", 1, null)
            && f.Detail.StartsWith($"the database holds root {forged}, the chain holds 0x"));
        var after = Read(await BundleAsync(svc, 2));
        after.Anchor!.Status.Should().Be("failed", "the stored anchor no longer matches the chain");
        after.Audit.Status.Should().Be("failed");
        (await EventAsync(svc, 6)).Anchor!.Status.Should().Be("confirmed");
        (await TamperAlertsAsync(svc)).Should().ContainSingle();
    }

    [Fact]
    public async Task AnchorRecordedOnAnotherContractIsCaughtByTheVerifierAndTheSelfAudit()
    {
        await using var svc = await LedgerAsync();
        var other = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        svc.Execute("UPDATE anchors SET contract = @c WHERE sequence = 2", ("@c", other.Contract)).Should().Be(1);

        var bundle = await BundleAsync(svc, 5);
        Read(bundle).Anchor!.Contract.Should().Be(other.Contract);
        var result = await VerifyAsync(bundle);
        result.Check.Should().Be(Checks.AnchorOnChain);
        result.ToLine().Should().StartWith("FAILED: unknown anchor: anchor 2 is not on contract ");
        result.Contract.Should().BeEquivalentTo(other.Contract);

        var report = await VerifierAuditAsync(svc);
        report.Findings.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Anchor = 2UL, Check = Checks.Contract });

        var run = await SelfAuditAsync(svc);
        run.Findings.Should().ContainSingle().Which.Should().Match<AuditApi.FindingResponse>(f => Is(f, "contract", 2, null));
        Read(await BundleAsync(svc, 5)).Anchor!.Status.Should().Be("failed");
        (await EventAsync(svc, 4)).Audit.Status.Should().Be("ok");
    }

    [Fact]
    public async Task BundlePointingToAnotherContractFailsTheVerifierWhileTheLedgerStaysClean()
    {
        await using var svc = await LedgerAsync();
        var other = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        // The other contract holds an anchor 1 over the same range, with another root.
        var asOther = new AnchorRegistryClient(new HttpRpcClient(Http, chain.Node.RpcUrl), other.Contract, other.Anchorer);
        var tx = await asOther.SendAnchorAsync(BigInteger.One, Enumerable.Repeat((byte)0xcd, 32).ToArray(), 1, 4, CancellationToken.None);
        await asOther.WaitForReceiptAsync(tx, TimeSpan.FromSeconds(30), CancellationToken.None);

        var bundle = await BundleAsync(svc, 2);
        bundle["anchor"]!["contract"] = other.Contract;
        var result = await VerifyAsync(bundle);
        result.Check.Should().Be(Checks.Root);
        result.ToLine().Should().StartWith("FAILED: root mismatch: anchor 1 on chain has root 0xcdcd");

        var later = await BundleAsync(svc, 6);
        later["anchor"]!["contract"] = other.Contract;
        (await VerifyAsync(later)).Check.Should().Be(Checks.AnchorOnChain);

        // The tampering happened to the bundle, outside the service: both audits find the ledger intact.
        (await VerifierAuditAsync(svc)).Ok.Should().BeTrue();
        (await SelfAuditAsync(svc)).Status.Should().Be("ok");
        (await TamperAlertsAsync(svc)).Should().BeEmpty();
    }

    [Fact]
    public async Task BundleWithATruncatedOrReorderedProofFailsTheVerifierWhileTheLedgerStaysClean()
    {
        await using var svc = await LedgerAsync();
        var bundle = await BundleAsync(svc, 2);
        var proof = Read(bundle).Proof!;
        proof.Should().HaveCount(2, "four leaves make a proof of two siblings");

        var truncated = bundle.DeepClone();
        truncated["proof"] = new JsonArray(JsonValue.Create(proof[0]));
        var reordered = bundle.DeepClone();
        reordered["proof"] = new JsonArray(JsonValue.Create(proof[1]), JsonValue.Create(proof[0]));
        var emptied = bundle.DeepClone();
        emptied["proof"] = new JsonArray();

        foreach (var tampered in new[] { truncated, reordered, emptied })
        {
            var result = await VerifyAsync(tampered);
            result.Check.Should().Be(Checks.Proof);
            result.ToLine().Should().StartWith("FAILED: proof does not lead to the bundle's root");
        }
        (await VerifyAsync(bundle)).Verified.Should().BeTrue();

        (await VerifierAuditAsync(svc)).Ok.Should().BeTrue();
        (await SelfAuditAsync(svc)).Status.Should().Be("ok");
    }
}
