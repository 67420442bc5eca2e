using System.Net;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Anchoring;
using Traceability.Api.Features.Audit;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Events;
using Traceability.Api.Features.Platform;
using Traceability.Api.Tests.Support;
using Traceability.Chain;
using Traceability.Ledger.Merkle;

namespace Traceability.Api.Tests;

[Collection(ChainCollection.Name)]
public sealed class AnchoringTests(ChainFixture chain)
{
    private static async Task<List<JsonNode>> BundlesAsync(TraceService svc, long from, long to)
    {
        var bundles = new List<JsonNode>();
        for (var s = from; s <= to; s++)
        {
            var r = await svc.Admin.GetAsync($"/api/v1/events/{s}/proof");
            r.StatusCode.Should().Be(HttpStatusCode.OK);
            bundles.Add(await TraceService.JsonAsync(r));
        }
        return bundles;
    }

    private AnchorRegistryClient Registry(TraceService svc) => new(new HttpRpcClient(new HttpClient(), chain.Node.RpcUrl), svc.Registry.Contract);

    [SharedFact]
    public async Task AnchorsOfficialExamplesAndEveryProofVerifiesWithOpenZeppelinJsAndTheContract()
    {
        await using var svc = await chain.StartServiceAsync(new Dictionary<string, string> { ["TRACE_ANCHOR_MAX_EVENTS"] = "20" });
        var (regulator, _) = await svc.MemberAsync("regulator");
        foreach (var file in Directory.EnumerateFiles(RepoPaths.SharedPath("conformance", "epcis-examples"), "*.jsonld", SearchOption.AllDirectories).Order())
        {
            // Without their stale eventIDs (see ConformanceCaptureTests): the events, and so their hashes, are the official ones.
            var response = await TraceService.CaptureAsync(regulator, EpcisDocs.WithoutEventIds(await File.ReadAllTextAsync(file)));
            response.StatusCode.Should().Be(HttpStatusCode.Created, file);
        }
        var total = svc.Scalar("SELECT COUNT(*) FROM events");
        total.Should().BeGreaterThan(40);

        var anchor = await svc.AnchoredAsync();
        anchor.Status.Should().Be("confirmed");
        anchor.LastEventSequence.Should().Be(total);
        var anchors = (await svc.Admin.GetAnswerAsync<AnchorsApi.AnchorPage>("/api/v1/anchors")).Items;
        anchors.Count.Should().Be((int)((total + 19) / 20), "a backlog larger than TRACE_ANCHOR_MAX_EVENTS is anchored in several batches");

        var bundles = await BundlesAsync(svc, 1, total);
        var registry = Registry(svc);
        var jsAnchors = new List<JsonNode>();
        foreach (var a in anchors)
        {
            var seq = a.Sequence;
            var onChain = await registry.GetAnchorAsync(seq, CancellationToken.None);
            onChain.Should().NotBeNull();
            // The leaves and bundles go to OpenZeppelin's JavaScript as the service sent them.
            var leaves = await TraceService.JsonAsync(await svc.Admin.GetAsync($"/api/v1/anchors/{seq}/leaves"));
            jsAnchors.Add(new JsonObject { ["sequence"] = seq, ["root"] = "0x" + Convert.ToHexStringLower(onChain!.Root), ["leaves"] = leaves });
        }
        var js = await OpenZeppelinJs.CheckAsync(bundles, jsAnchors);
        js["bundles"]!.AsArray().Should().HaveCount((int)total).And.OnlyContain(b => (bool)b!["verified"]!);
        js["anchors"]!.AsArray().Should().OnlyContain(a => (bool)a!["matches"]!);

        foreach (var b in bundles.Select(b => b.Deserialize<EventsApi.ProofBundle>(ApiAnswers.Json)!))
        {
            var leaf = new MerkleLeaf(ulong.Parse(b.Leaf.Value[0]), Convert.FromHexString(b.Leaf.Value[1][2..]));
            var proof = b.Proof!.Select(p => Convert.FromHexString(p[2..])).ToList();
            (await registry.VerifyAsync(new BigInteger(b.Anchor!.Sequence), leaf.Hash(), proof, CancellationToken.None))
                .Should().BeTrue($"event {b.Sequence} verifies with the contract");
            b.Anchor.Status.Should().Be("confirmed");
            b.Anchor.Contract.Should().BeEquivalentTo(svc.Registry.Contract);
        }
    }

    [Fact]
    public async Task BundleBeforeAnchoringHasNullProofRootAndAnchor()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(1));
        var bundle = await svc.Admin.GetAnswerAsync<EventsApi.ProofBundle>("/api/v1/events/1/proof");
        bundle.Anchor.Should().BeNull();
        bundle.Proof.Should().BeNull();
        bundle.Root.Should().BeNull();
        bundle.Leaf.Value[0].Should().Be("1");
        (await svc.AnchorAsync()).Status.Should().Be(200);
        (await svc.AnchorAsync()).Status.Should().Be(204, "nothing is pending any more");
    }

    [Fact]
    public async Task RestartLosesNothingAndContinuesTheSequence()
    {
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        var dir = chain.Folders.Create("trace-restart-");
        string makerKey;
        await using (var first = chain.Start(dir, registry))
        {
            var (maker, _) = await first.MemberAsync("manufacturer");
            makerKey = maker.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
            await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(3));
            (await first.AnchorAsync()).Status.Should().Be(200);
            await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(2));
        }
        await using var second = chain.Start(dir, registry);
        var again = second.Client(makerKey);
        var receipts = (await (await TraceService.CaptureAsync(again, EpcisDocs.Commissioning(2))).ReadAsync<CaptureApi.CaptureResponse>(HttpStatusCode.Created)).Receipts;
        receipts.Select(r => r.Sequence).Should().Equal(6, 7);
        var anchor = await second.AnchoredAsync();
        anchor.Sequence.Should().Be(2);
        anchor.FirstEventSequence.Should().Be(4);
        anchor.LastEventSequence.Should().Be(7);
        (await Registry(second).AnchorCountAsync(CancellationToken.None)).Should().Be(2);
    }

    /// <summary>
    /// The chain cut off (the proxy stopped: connections refused) while four members keep capturing and the recurring job
    /// runs every second: every capture is acknowledged, anchoring fails and says so (503 on /anchors/run, /health
    /// degraded with the chain down, trace_chain_errors_total{kind="unavailable"} counting), nothing is half-anchored;
    /// once the chain is back the job anchors the whole backlog, each range once, and the self-audit is clean.
    /// </summary>
    [Fact]
    public async Task ChainOutageUnderLoadKeepsCaptureGoingAndRecoveryAnchorsTheBacklogOnce()
    {
        await using var svc = await chain.StartServiceAsync(new Dictionary<string, string> { ["TRACE_ANCHOR_SCHEDULE"] = "on", ["TRACE_ANCHOR_INTERVAL"] = "1" });
        var makers = new List<HttpClient>();
        for (var i = 0; i < 4; i++) makers.Add((await svc.MemberAsync("manufacturer", $"Maker {i}")).Client);
        (await TraceService.CaptureAsync(makers[0], EpcisDocs.Commissioning(2))).StatusCode.Should().Be(HttpStatusCode.Created);
        await WaitUntilAnchoredAsync(svc, 2);
        var anchorsBefore = svc.Scalar("SELECT COUNT(*) FROM anchors");

        chain.Proxy.Stop();
        var acknowledged = 2;
        try
        {
            // four members capturing at once, for as long as the job keeps failing a few times
            var load = makers.Select(async maker =>
            {
                var n = 0;
                for (var round = 0; round < 6; round++)
                {
                    var response = await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(5));
                    response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
                    n += 5;
                }
                return n;
            }).ToList();
            acknowledged += (await Task.WhenAll(load)).Sum();
            await Task.Delay(TimeSpan.FromSeconds(2)); // the job's runs meet the outage

            var problem = await (await svc.Admin.PostAsync("/api/v1/anchors/run", null)).ReadAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>(HttpStatusCode.ServiceUnavailable);
            problem.Detail.Should().Contain("chain unavailable");
            var health = await (await svc.Client().GetAsync("/health")).ReadAsync<PlatformApi.HealthResponse>(HttpStatusCode.ServiceUnavailable);
            health.Status.Should().Be("degraded");
            health.Chain.Status.Should().Be("down");
            (await svc.Admin.GetStringAsync("/metrics")).Should().MatchRegex(@"trace_chain_errors_total\{[^}]*kind=""unavailable""[^}]*\} [1-9]");
            svc.Scalar("SELECT COUNT(*) FROM anchors WHERE status = 'confirmed'").Should().Be(anchorsBefore, "nothing is confirmed without the chain");
        }
        finally
        {
            chain.Proxy.Start();
        }

        await WaitUntilAnchoredAsync(svc, acknowledged); // the job, not a manual run, brings the backlog forward
        (await svc.Client().GetAsync("/health")).StatusCode.Should().Be(HttpStatusCode.OK);
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(acknowledged, "every acknowledged event is stored once");
        var registry = Registry(svc);
        var count = (long)await registry.AnchorCountAsync(CancellationToken.None);
        count.Should().Be(svc.Scalar("SELECT COUNT(*) FROM anchors"));
        var next = BigInteger.One;
        for (var a = 1; a <= count; a++)
        {
            var onChain = (await registry.GetAnchorAsync(a, CancellationToken.None))!;
            onChain.FirstEventSequence.Should().Be(next, $"anchor {a} starts where the previous one ended: no range skipped or anchored twice");
            next = onChain.LastEventSequence + 1;
        }
        next.Should().Be(acknowledged + 1);
        var audit = await (await svc.Admin.PostAsync("/api/v1/audit/run", null)).ReadAsync<AuditApi.AuditRunResponse>();
        audit.Status.Should().Be("ok", audit.Summary);
    }

    private static async Task WaitUntilAnchoredAsync(TraceService svc, long lastEvent)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120); // the job retries with a backoff (1, 2, 4 ... s): at most about as long as the outage lasted
        while (svc.Scalar("SELECT COALESCE(MAX(last_event_sequence), 0) FROM anchors WHERE status = 'confirmed'") < lastEvent)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"events up to {lastEvent} were not anchored within 120 s");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task RestartAfterCrashBetweenSendAndRecordAdoptsTheChainsAnchorInsteadOfSendingAgain()
    {
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        var dir = chain.Folders.Create("trace-crash-");
        string root;
        await using (var svc = chain.Start(dir, registry))
        {
            var (maker, _) = await svc.MemberAsync("manufacturer");
            await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(3));
            (await svc.AnchorAsync()).Status.Should().Be(200);
            await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(5));
            chain.Proxy.Stop();
            try
            {
                (await svc.AnchorAsync()).Status.Should().Be(503);
            }
            finally
            {
                chain.Proxy.Start();
            }
            var pending = await svc.Admin.GetAnswerAsync<AnchorsApi.AnchorResponse>("/api/v1/anchors/2");
            pending.Status.Should().Be("pending", "the row, with range and root, is written before the transaction is sent");
            root = pending.Root;
        }

        // The process "crashed" after its transaction reached the chain but before it recorded it: send it as it would have.
        using var http = new HttpClient();
        var asAnchorer = new AnchorRegistryClient(new HttpRpcClient(http, chain.Node.RpcUrl), registry.Contract, registry.Anchorer);
        var tx = await asAnchorer.SendAnchorAsync(2, Convert.FromHexString(root[2..]), 4, 8, CancellationToken.None);
        await asAnchorer.WaitForReceiptAsync(tx, TimeSpan.FromSeconds(30), CancellationToken.None);

        await using var restarted = chain.Start(dir, registry);
        var anchor = await restarted.AnchoredAsync();
        anchor.Status.Should().Be("confirmed");
        anchor.TxHash.Should().Be(tx);
        anchor.Sequence.Should().Be(2);
        (await asAnchorer.AnchorCountAsync(CancellationToken.None)).Should().Be(2, "the range was not anchored twice");
    }
}
