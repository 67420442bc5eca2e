using System.Net.Http.Json;
using System.Net;
using System.Numerics;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Audit;
using Traceability.Api.Features.Events;
using Traceability.Api.Tests.Support;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Api.Tests.Consumer;

[Collection(ChainCollection.Name)]
public sealed class ConsumerPageTests(ChainFixture chain)
{
    [Fact]
    public async Task ShowsPendingThenVerifiedOnChainWithTheAnchorsBlockAndTransaction()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync();
        var path = ConsumerSetup.PathOf(code);

        var (status, before) = await setup.ScanAsync(path);
        status.Should().Be(200);
        before.Verified.Should().BeFalse();
        before.Verification.Should().Be("pending");
        before.Anchor.Should().BeNull();
        before.Product.Gtin.Should().Be(setup.Gtin);
        before.Product.Name.Should().Be("有机纯牛奶 Organic Milk 250ml");
        before.Lot.Should().Be(ConsumerSetup.Lot);
        before.Manufacturer.Should().Be("华东乳业 Dairy Co.");
        before.ProductionDate.Should().Be(DateTimeOffset.Parse("2026-11-01T08:00:00+08:00"));
        before.ProductionDate!.Value.Offset.Should().Be(TimeSpan.FromHours(8), "the time as recorded, in China Standard Time");
        before.Status.Should().BeOneOf("commissioned", "at_holder");
        var step = before.Journey.Should().ContainSingle().Subject;
        step.Step.Should().Be("commissioning");
        step.Label.Should().Be("生产赋码", "without Accept-Language the labels are Chinese");
        step.Place!.Name.Should().Be("浦东工厂 Pudong plant");
        step.Place.RegionCode.Should().Be("310115");
        step.Anchor.Should().BeNull();
        var (_, pendingHtml) = await setup.ScanHtmlAsync(path);
        pendingHtml.Should().Contain("data-state=\"pending\"").And.Contain("Recorded, awaiting anchoring").And.NotContain("Verified on chain");

        (await setup.Service.AnchorAsync()).Status.Should().Be(200);
        var (_, after) = await setup.ScanAsync(path);
        after.Verified.Should().BeTrue();
        var anchor = after.Anchor!;
        anchor.BlockNumber.Should().BePositive();
        anchor.TxHash.Should().MatchRegex("^0x[0-9a-f]{64}$");
        anchor.Contract.Should().BeEquivalentTo(setup.Service.Registry.Contract);
        var verifiedStep = after.Journey.Should().ContainSingle().Subject;
        verifiedStep.Verified.Should().BeTrue();
        verifiedStep.Proof.Should().Be($"{path}/proofs/{verifiedStep.Sequence}");

        var (_, html) = await setup.ScanHtmlAsync(path);
        html.Should().Contain("data-state=\"verified\"").And.Contain("Verified on chain").And.Contain(anchor.TxHash![..10]);
        html.Should().Contain($"#{anchor.BlockNumber}");
    }

    [Fact]
    public async Task TheBadgeNeedsTheChainsRootAnEventTamperedWithInTheDatabaseShowsAMismatch()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync();
        (await setup.Service.AnchorAsync()).Status.Should().Be(200);
        var sequence = setup.Service.Scalar("SELECT MAX(sequence) FROM events");
        // Edit the stored event after anchoring (a database operator changing history): its hash no longer matches.
        using (var conn = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={setup.Service.DatabasePath};Pooling=False"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = $"UPDATE events SET json = replace(json, '2026-11-01T08:00:00', '2026-10-01T08:00:00') WHERE sequence = {sequence}";
            cmd.ExecuteNonQuery().Should().Be(1);
        }
        var (_, body) = await setup.ScanAsync(ConsumerSetup.ShortPath(setup.Gtin, code));
        body.Verified.Should().BeFalse();
        body.Verification.Should().Be("mismatch");
        body.Warnings.Select(w => w.Type).Should().Contain("tamper");
    }

    [Fact]
    public async Task ACodeWhoseEventsFailTheSelfAuditLosesItsBadgeEvenWhenItsVerdictWasCached()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync();
        (await setup.Service.AnchorAsync()).Status.Should().Be(200);
        var path = ConsumerSetup.ShortPath(setup.Gtin, code);
        (await setup.ScanAsync(path)).Body.Verified.Should().BeTrue("the page verified the proof against the chain and cached the verdict");

        var sequence = setup.Service.Scalar("SELECT MAX(sequence) FROM events");
        setup.Service.Execute($"UPDATE events SET json = replace(json, '2026-11-01T08:00:00', '2026-10-01T08:00:00') WHERE sequence = {sequence}").Should().Be(1);
        (await (await setup.Service.Admin.PostAsync("/api/v1/audit/run", null)).ReadAsync<AuditApi.AuditRunResponse>()).Status.Should().Be("failed");

        var (_, body) = await setup.ScanAsync(path);
        body.Verified.Should().BeFalse("an event that failed the self-audit takes the badge away wherever it is shown");
        body.Warnings.Select(w => w.Type).Should().Contain("tamper");
        var (_, html) = await setup.ScanHtmlAsync(path);
        html.Should().NotContain("Verified on chain");
    }

    [Fact]
    public async Task AnUnknownCodeGets404WithAPageSayingItMayBeCounterfeit()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var (status, html) = await setup.ScanHtmlAsync($"/01/{setup.Gtin}/21/NEVERISSUED01");
        status.Should().Be(404);
        html.Should().Contain("id=\"unknown-code\"").And.Contain("Unknown code").And.Contain("counterfeit");
        html.Should().NotContain("id=\"badge\"");

        var (zhStatus, zh) = await setup.ScanHtmlAsync($"/01/{setup.Gtin}/21/NEVERISSUED02", "zh-CN,zh;q=0.9,en;q=0.8");
        zhStatus.Should().Be(404);
        zh.Should().Contain("lang=\"zh-CN\"").And.Contain("未知编码").And.Contain("假冒");

        var (jsonStatus, json) = await setup.ScanAsync($"/01/{setup.Gtin}/21/NEVERISSUED01");
        jsonStatus.Should().Be(404);
        json.Known.Should().BeFalse();
        json.Verified.Should().BeFalse();
        json.Status.Should().Be("unknown");
        json.Warnings.Select(w => w.Type).Should().Contain("counterfeit");
        json.Scans.Count.Should().Be(2, "scans of unknown codes are recorded too");

        // The manufacturer learns that someone scans made-up serials of its product (an alert's detail is free-form JSON).
        var alerts = await setup.AlertListAsync("counterfeit");
        alerts.Select(a => a.Detail.GetProperty("reason").GetString()).Should().Equal("unknown-code", "unknown-code");

        (await setup.ScanHtmlAsync("/01/12345678901234/21/ABC")).Status.Should().Be(404, "a GTIN with a bad check digit is unknown too");
    }

    [Fact]
    public async Task SpeaksChineseOrEnglishByAcceptLanguageAndShowsOnlyPublicSteps()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync(shipWithPurchaseOrder: true);
        var path = ConsumerSetup.PathOf(code);

        var (_, zh) = await setup.ScanHtmlAsync(path, "zh-CN,zh;q=0.9,en;q=0.8");
        zh.Should().Contain("<html lang=\"zh-CN\"").And.Contain("生产赋码").And.Contain("发货").And.Contain("上海市 (310115)").And.Contain("已记录，等待上链锚定");
        var (_, en) = await setup.ScanHtmlAsync(path, "en-GB,en;q=0.9,zh;q=0.5");
        en.Should().Contain("<html lang=\"en\"").And.Contain("Produced").And.Contain("Shipped").And.Contain("Shanghai (310115)");
        var (_, fr) = await setup.ScanHtmlAsync(path, "fr-FR,fr;q=0.9,en;q=0.3");
        fr.Should().Contain("<html lang=\"en\"");

        foreach (var html in new[] { zh, en })
        {
            html.Should().NotContain("PO-77", "business transactions are never shown");
            html.Should().NotContain(setup.MakerId, "member-internal IDs are never shown");
            html.Should().NotContainAny("<script", "<link", "src=\"http", "href=\"http");
            html.Should().Contain("<style>").And.Contain("<svg");
        }
        var (_, json) = await setup.ScanJsonAsync(path);
        json.ToJsonString().Should().NotContain("PO-77").And.NotContain(setup.MakerId); // the whole answer as sent
    }

    [Fact]
    public async Task PublicProofBundlesVerifyAgainstTheChainAndAreOfferedOnlyForThisCodesPublicEvents()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync(shipWithPurchaseOrder: true);
        var other = await setup.CommissionedAsync();
        (await setup.Service.AnchorAsync()).Status.Should().Be(200);
        var path = ConsumerSetup.PathOf(code);
        var (_, page) = await setup.ScanAsync(path);
        var journey = page.Journey;
        journey.Should().HaveCount(2);
        var commissioning = journey[0];
        var shipping = journey[1];
        shipping.Proof.Should().BeNull("the shipping event carries a purchase order: its bundle is for members only");

        var bundle = await setup.Anonymous.GetAnswerAsync<EventsApi.ProofBundle>(commissioning.Proof!);
        var sequence = bundle.Sequence;
        // The event as signed and hashed: its JSON-LD, as sent.
        var recomputed = EventHash.Compute(EpcisParser.ParseEventJson(bundle.Event.ToJsonString()));
        recomputed.Should().Be(bundle.EventHash);
        var registry = new AnchorRegistryClient(new HttpRpcClient(new HttpClient(), chain.Node.RpcUrl), setup.Service.Registry.Contract);
        var onChain = await registry.GetAnchorAsync(bundle.Anchor!.Sequence, CancellationToken.None);
        var proof = bundle.Proof!.Select(p => Convert.FromHexString(p[2..])).ToList();
        var leaf = new MerkleLeaf((ulong)sequence, EventHash.Digest(recomputed));
        MerkleProofVerifier.Verify(onChain!.Root, leaf, proof).IsValid.Should().BeTrue();
        (await registry.VerifyAsync(new BigInteger(bundle.Anchor.Sequence), leaf.Hash(), proof, CancellationToken.None)).Should().BeTrue();

        (await setup.Anonymous.GetAsync($"{path}/proofs/{shipping.Sequence}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var (_, otherPage) = await setup.ScanAsync(ConsumerSetup.PathOf(other));
        var otherSequence = otherPage.Journey[0].Sequence;
        (await setup.Anonymous.GetAsync($"{path}/proofs/{otherSequence}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "another code's event is not in this journey");
    }

    [Fact]
    public async Task TheProofRouteWithoutTheLotServesThePublicStepsBundleAsMembersGetIt()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync(shipWithPurchaseOrder: true);
        (await setup.Service.AnchorAsync()).Status.Should().Be(200);
        var path = ConsumerSetup.ShortPath(setup.Gtin, code);
        var (_, page) = await setup.ScanAsync(path);
        var journey = page.Journey;
        var commissioning = journey[0].Sequence;
        var shipping = journey[1].Sequence;
        journey[0].Proof.Should().Be($"{path}/proofs/{commissioning}");

        var text = await setup.Anonymous.GetStringAsync($"{path}/proofs/{commissioning}");
        text.Should().Be(await setup.Maker.GetStringAsync($"/api/v1/events/{commissioning}/proof"), "the consumer gets the bundle the events API gives members, byte for byte");
        var bundle = System.Text.Json.JsonSerializer.Deserialize<EventsApi.ProofBundle>(text, ApiAnswers.Json)!;

        var recomputed = EventHash.Compute(EpcisParser.ParseEventJson(bundle.Event.ToJsonString()));
        recomputed.Should().Be(bundle.EventHash);
        var leaf = new MerkleLeaf((ulong)commissioning, EventHash.Digest(recomputed));
        var proof = bundle.Proof!.Select(p => Convert.FromHexString(p[2..])).ToList();
        var registry = new AnchorRegistryClient(new HttpRpcClient(new HttpClient(), chain.Node.RpcUrl), setup.Service.Registry.Contract);
        var onChain = await registry.GetAnchorAsync(bundle.Anchor!.Sequence, CancellationToken.None);
        Convert.ToHexString(onChain!.Root).Should().BeEquivalentTo(bundle.Root![2..], "the bundle's root is the one on chain");
        MerkleProofVerifier.Verify(onChain.Root, leaf, proof, (int)(onChain.LastEventSequence - onChain.FirstEventSequence + 1)).IsValid.Should().BeTrue();

        var members403 = await setup.Anonymous.GetAsync($"{path}/proofs/{shipping}");
        (await members403.ReadProblemAsync(HttpStatusCode.Forbidden)).Problem.Detail.Should().Contain($"/api/v1/events/{shipping}/proof", "the shipping event names a purchase order");
        var unknown = await setup.Anonymous.GetAsync($"{path}/proofs/999999");
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        unknown.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await setup.Anonymous.GetAsync($"/01/{setup.Gtin}/21/NOSUCHCODE/proofs/{commissioning}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ARecalledOrHeldUnitShowsABannerAboveEverything()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var recalled = await setup.CommissionedAsync(lot: "LOT-RECALL");
        var held = await setup.CommissionedAsync(lot: "LOT-HOLD");
        var (_, before) = await setup.ScanAsync(ConsumerSetup.PathOf(recalled));
        before.Warnings.Should().BeEmpty();

        // The tracing feature's recall of the lot, and a failed inspection that puts the other lot on hold.
        (await setup.Maker.PostAsJsonAsync("/api/v1/recalls", new { gtin = setup.Gtin, lot = "LOT-RECALL", reason = "Listeria found in retained samples" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        var inspection = ConsumerSetup.Event((string)held["epc"]!, "inspecting", ConsumerSetup.Factory, DateTimeOffset.Parse("2026-11-02T08:00:00+08:00"), "non_conformant");
        (await TraceService.CaptureAsync(setup.Maker, EpcisDocs.Document(inspection))).StatusCode.Should().Be(HttpStatusCode.Created);

        var (_, html) = await setup.ScanHtmlAsync(ConsumerSetup.PathOf(recalled));
        html.Should().Contain("id=\"status-banner\"").And.Contain("has been recalled");
        html.IndexOf("id=\"status-banner\"", StringComparison.Ordinal).Should().BeLessThan(html.IndexOf("<main>", StringComparison.Ordinal));
        var (_, json) = await setup.ScanAsync(ConsumerSetup.PathOf(recalled));
        json.Status.Should().Be("recalled");
        json.Warnings.Select(w => w.Type).Should().Contain("recall");

        var (_, heldHtml) = await setup.ScanHtmlAsync(ConsumerSetup.PathOf(held));
        heldHtml.Should().Contain("data-status=\"on_hold\"").And.Contain("on hold");
    }
}
