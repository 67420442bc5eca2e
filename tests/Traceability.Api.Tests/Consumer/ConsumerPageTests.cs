using System.Net.Http.Json;
using System.Net;
using System.Numerics;
using System.Text.Json.Nodes;
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

        var (status, before) = await setup.ScanJsonAsync(path);
        status.Should().Be(200);
        ((bool)before["verified"]!).Should().BeFalse();
        ((string)before["verification"]!).Should().Be("pending");
        before["anchor"].Should().BeNull();
        ((string)before["product"]!["gtin"]!).Should().Be(setup.Gtin);
        ((string)before["product"]!["name"]!).Should().Be("有机纯牛奶 Organic Milk 250ml");
        ((string)before["lot"]!).Should().Be(ConsumerSetup.Lot);
        ((string)before["manufacturer"]!).Should().Be("华东乳业 Dairy Co.");
        ((string)before["productionDate"]!).Should().StartWith("2026-11-01T08:00:00+08:00");
        ((string)before["status"]!).Should().BeOneOf("commissioned", "at_holder");
        var step = before["journey"]!.AsArray().Single()!;
        ((string)step["step"]!).Should().Be("commissioning");
        ((string)step["label"]!).Should().Be("生产赋码", "without Accept-Language the labels are Chinese");
        ((string)step["place"]!["name"]!).Should().Be("浦东工厂 Pudong plant");
        ((string)step["place"]!["regionCode"]!).Should().Be("310115");
        step["anchor"].Should().BeNull();
        var (_, pendingHtml) = await setup.ScanHtmlAsync(path);
        pendingHtml.Should().Contain("data-state=\"pending\"").And.Contain("Recorded, awaiting anchoring").And.NotContain("Verified on chain");

        (await setup.Service.AnchorAsync()).Status.Should().Be(200);
        var (_, after) = await setup.ScanJsonAsync(path);
        ((bool)after["verified"]!).Should().BeTrue();
        var anchor = after["anchor"]!;
        ((long)anchor["blockNumber"]!).Should().BePositive();
        ((string)anchor["txHash"]!).Should().MatchRegex("^0x[0-9a-f]{64}$");
        ((string)anchor["contract"]!).Should().BeEquivalentTo(setup.Service.Registry.Contract);
        var verifiedStep = after["journey"]!.AsArray().Single()!;
        ((bool)verifiedStep["verified"]!).Should().BeTrue();
        ((string)verifiedStep["proof"]!).Should().Be($"{path}/proofs/{(long)verifiedStep["sequence"]!}");

        var (_, html) = await setup.ScanHtmlAsync(path);
        html.Should().Contain("data-state=\"verified\"").And.Contain("Verified on chain").And.Contain(((string)anchor["txHash"]!)[..10]);
        html.Should().Contain($"#{(long)anchor["blockNumber"]!}");
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
        var (_, body) = await setup.ScanJsonAsync(ConsumerSetup.ShortPath(setup.Gtin, code));
        ((bool)body["verified"]!).Should().BeFalse();
        ((string)body["verification"]!).Should().Be("mismatch");
        body["warnings"]!.AsArray().Select(w => (string)w!["type"]!).Should().Contain("tamper");
    }

    [Fact]
    public async Task ACodeWhoseEventsFailTheSelfAuditLosesItsBadgeEvenWhenItsVerdictWasCached()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync();
        (await setup.Service.AnchorAsync()).Status.Should().Be(200);
        var path = ConsumerSetup.ShortPath(setup.Gtin, code);
        ((bool)(await setup.ScanJsonAsync(path)).Body["verified"]!).Should().BeTrue("the page verified the proof against the chain and cached the verdict");

        var sequence = setup.Service.Scalar("SELECT MAX(sequence) FROM events");
        setup.Service.Execute($"UPDATE events SET json = replace(json, '2026-11-01T08:00:00', '2026-10-01T08:00:00') WHERE sequence = {sequence}").Should().Be(1);
        var audit = await TraceService.JsonAsync(await setup.Service.Admin.PostAsync("/api/v1/audit/run", null));
        ((string)audit["status"]!).Should().Be("failed");

        var (_, body) = await setup.ScanJsonAsync(path);
        ((bool)body["verified"]!).Should().BeFalse("an event that failed the self-audit takes the badge away wherever it is shown");
        body["warnings"]!.AsArray().Select(w => (string)w!["type"]!).Should().Contain("tamper");
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

        var (jsonStatus, json) = await setup.ScanJsonAsync($"/01/{setup.Gtin}/21/NEVERISSUED01");
        jsonStatus.Should().Be(404);
        ((bool)json["known"]!).Should().BeFalse();
        ((bool)json["verified"]!).Should().BeFalse();
        ((string)json["status"]!).Should().Be("unknown");
        json["warnings"]!.AsArray().Select(w => (string)w!["type"]!).Should().Contain("counterfeit");
        ((long)json["scans"]!["count"]!).Should().Be(2, "scans of unknown codes are recorded too");

        // The manufacturer learns that someone scans made-up serials of its product.
        var alerts = await setup.AlertsAsync("counterfeit");
        alerts.Select(a => (string)a!["detail"]!["reason"]!).Should().Equal("unknown-code", "unknown-code");

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
        json.ToJsonString().Should().NotContain("PO-77").And.NotContain(setup.MakerId);
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
        var (_, page) = await setup.ScanJsonAsync(path);
        var journey = page["journey"]!.AsArray();
        journey.Should().HaveCount(2);
        var commissioning = journey[0]!;
        var shipping = journey[1]!;
        shipping["proof"].Should().BeNull("the shipping event carries a purchase order: its bundle is for members only");

        var response = await setup.Anonymous.GetAsync((string)commissioning["proof"]!);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var bundle = await TraceService.JsonAsync(response);
        var sequence = (long)bundle["sequence"]!;
        var recomputed = EventHash.Compute(EpcisParser.ParseEventJson(bundle["event"]!.ToJsonString()));
        recomputed.Should().Be((string)bundle["eventHash"]!);
        var registry = new AnchorRegistryClient(new HttpRpcClient(new HttpClient(), chain.Node.RpcUrl), setup.Service.Registry.Contract);
        var onChain = await registry.GetAnchorAsync((long)bundle["anchor"]!["sequence"]!, CancellationToken.None);
        var proof = bundle["proof"]!.AsArray().Select(p => Convert.FromHexString(((string)p!)[2..])).ToList();
        var leaf = new MerkleLeaf((ulong)sequence, EventHash.Digest(recomputed));
        MerkleProofVerifier.Verify(onChain!.Root, leaf, proof).IsValid.Should().BeTrue();
        (await registry.VerifyAsync(new BigInteger((long)bundle["anchor"]!["sequence"]!), leaf.Hash(), proof, CancellationToken.None)).Should().BeTrue();

        (await setup.Anonymous.GetAsync($"{path}/proofs/{(long)shipping["sequence"]!}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var (_, otherPage) = await setup.ScanJsonAsync(ConsumerSetup.PathOf(other));
        var otherSequence = (long)otherPage["journey"]!.AsArray()[0]!["sequence"]!;
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
        var (_, page) = await setup.ScanJsonAsync(path);
        var journey = page["journey"]!.AsArray();
        var commissioning = (long)journey[0]!["sequence"]!;
        var shipping = (long)journey[1]!["sequence"]!;
        ((string)journey[0]!["proof"]!).Should().Be($"{path}/proofs/{commissioning}");

        var response = await setup.Anonymous.GetAsync($"{path}/proofs/{commissioning}");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var bundle = await TraceService.JsonAsync(response);
        var members = await TraceService.JsonAsync(await setup.Maker.GetAsync($"/api/v1/events/{commissioning}/proof"));
        bundle.ToJsonString().Should().Be(members.ToJsonString(), "the consumer gets the bundle the events API gives members");

        var recomputed = EventHash.Compute(EpcisParser.ParseEventJson(bundle["event"]!.ToJsonString()));
        recomputed.Should().Be((string)bundle["eventHash"]!);
        var leaf = new MerkleLeaf((ulong)commissioning, EventHash.Digest(recomputed));
        var proof = bundle["proof"]!.AsArray().Select(p => Convert.FromHexString(((string)p!)[2..])).ToList();
        var registry = new AnchorRegistryClient(new HttpRpcClient(new HttpClient(), chain.Node.RpcUrl), setup.Service.Registry.Contract);
        var onChain = await registry.GetAnchorAsync((long)bundle["anchor"]!["sequence"]!, CancellationToken.None);
        Convert.ToHexString(onChain!.Root).Should().BeEquivalentTo(((string)bundle["root"]!)[2..], "the bundle's root is the one on chain");
        MerkleProofVerifier.Verify(onChain.Root, leaf, proof, (int)(onChain.LastEventSequence - onChain.FirstEventSequence + 1)).IsValid.Should().BeTrue();

        var members403 = await setup.Anonymous.GetAsync($"{path}/proofs/{shipping}");
        members403.StatusCode.Should().Be(HttpStatusCode.Forbidden, "the shipping event names a purchase order");
        ((string)(await TraceService.JsonAsync(members403))["detail"]!).Should().Contain($"/api/v1/events/{shipping}/proof");
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
        var (_, before) = await setup.ScanJsonAsync(ConsumerSetup.PathOf(recalled));
        before["warnings"]!.AsArray().Should().BeEmpty();

        // The tracing feature's recall of the lot, and a failed inspection that puts the other lot on hold.
        (await setup.Maker.PostAsJsonAsync("/api/v1/recalls", new { gtin = setup.Gtin, lot = "LOT-RECALL", reason = "Listeria found in retained samples" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        var inspection = ConsumerSetup.Event((string)held["epc"]!, "inspecting", ConsumerSetup.Factory, DateTimeOffset.Parse("2026-11-02T08:00:00+08:00"), "non_conformant");
        (await TraceService.CaptureAsync(setup.Maker, EpcisDocs.Document(inspection))).StatusCode.Should().Be(HttpStatusCode.Created);

        var (_, html) = await setup.ScanHtmlAsync(ConsumerSetup.PathOf(recalled));
        html.Should().Contain("id=\"status-banner\"").And.Contain("has been recalled");
        html.IndexOf("id=\"status-banner\"", StringComparison.Ordinal).Should().BeLessThan(html.IndexOf("<main>", StringComparison.Ordinal));
        var (_, json) = await setup.ScanJsonAsync(ConsumerSetup.PathOf(recalled));
        ((string)json["status"]!).Should().Be("recalled");
        json["warnings"]!.AsArray().Select(w => (string)w!["type"]!).Should().Contain("recall");

        var (_, heldHtml) = await setup.ScanHtmlAsync(ConsumerSetup.PathOf(held));
        heldHtml.Should().Contain("data-status=\"on_hold\"").And.Contain("on hold");
    }
}
