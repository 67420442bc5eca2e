using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Consumer;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Consumer;

[Collection(ChainCollection.Name)]
public sealed class ScanRulesTests(ChainFixture chain)
{
    [Fact]
    public async Task CountsScansAndWarnsOfACounterfeitWhenMoreClientsThanTheScanLimitScanRaisingOneAlert()
    {
        var setup = await ConsumerSetup.StartAsync(chain, new Dictionary<string, string> { ["TRACE_SCAN_LIMIT"] = "3" });
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync();
        var path = ConsumerSetup.PathOf(code);
        HttpClient From(int n) => setup.Service.ClientFrom(IPAddress.Parse($"198.51.100.{n}"));

        DateTimeOffset? first = null;
        for (var i = 1; i <= 3; i++)
        {
            var (_, body) = await setup.ScanAsync(path, client: From(i));
            body.Scans.Count.Should().Be(i);
            first ??= body.Scans.First;
            body.Scans.First.Should().NotBeNull().And.Be(first!.Value);
            body.Warnings.Should().BeEmpty();
        }
        var (_, again) = await setup.ScanAsync(path, client: From(1));
        again.Warnings.Should().BeEmpty("a client scanning again is not one more scanner");
        var (_, fifth) = await setup.ScanAsync(path, client: From(4));
        fifth.Warnings.Select(w => w.Type).Should().Equal("counterfeit");
        var (_, html) = await setup.ScanHtmlAsync(path);
        html.Should().Contain("id=\"counterfeit-warning\"").And.Contain("scanned 6 times");
        html.Should().Contain("id=\"scan-count\">6<");

        var alerts = await setup.AlertListAsync("counterfeit");
        alerts.Should().HaveCount(1, "one counterfeit alert per code, however often it is scanned");
        // An alert's detail is free-form JSON, per alert type.
        alerts[0].Detail.GetProperty("reason").GetString().Should().Be("scan-limit");
        alerts[0].Detail.GetProperty("scanners").GetInt32().Should().Be(4);
        alerts[0].Gtin.Should().Be(setup.Gtin);
        alerts[0].Lot.Should().Be(ConsumerSetup.Lot);

        var rows = setup.Service.Scalar("SELECT COUNT(*) FROM scans WHERE ua_family = 'Other' AND length(ip_hash) = 64");
        rows.Should().Be(6, "every scan is recorded with a hashed address and a browser family");
    }

    [Fact]
    public async Task OneClientReloadingAGenuineUnitsPageNeverTurnsItCounterfeit()
    {
        var setup = await ConsumerSetup.StartAsync(chain, new Dictionary<string, string> { ["TRACE_SCAN_LIMIT"] = "2" });
        await using var _ = setup.Service;
        var path = ConsumerSetup.PathOf(await setup.CommissionedAsync());
        using var phone = setup.Service.ClientFrom(IPAddress.Parse("203.0.113.7"));
        for (var i = 1; i <= 10; i++)
        {
            var (status, body) = await setup.ScanAsync(path, client: phone);
            status.Should().Be(200);
            body.Scans.Count.Should().Be(i);
            body.Warnings.Should().BeEmpty($"reload {i} comes from the same client");
        }
        (await setup.AlertListAsync("counterfeit")).Should().BeEmpty();
    }

    [Fact]
    public async Task ScansFromThreeCitiesWithin24HoursWarnOfACounterfeit()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync();
        var path = ConsumerSetup.ShortPath(setup.Gtin, code);

        (await setup.ScanAsync(path, "310115")).Body.Warnings.Should().BeEmpty();
        (await setup.ScanAsync(path, "310104")).Body.Warnings.Should().BeEmpty("two counties of one city are one city");
        (await setup.ScanAsync(path, "440000")).Body.Warnings.Should().BeEmpty("a province alone names no city");
        (await setup.ScanAsync(path, "440305")).Body.Warnings.Should().BeEmpty("two cities");
        var (_, third) = await setup.ScanAsync(path, "110101");
        third.Warnings.Select(w => w.Message).Should().ContainSingle().Which.Should().Contain("3");
        var alert = (await setup.AlertListAsync("counterfeit")).Should().ContainSingle().Subject;
        alert.Detail.GetProperty("reason").GetString().Should().Be("cities");
        alert.Detail.GetProperty("citiesIn24Hours").GetInt32().Should().Be(3);
    }

    [Fact]
    public async Task ALabelCarryingAnotherLotThanTheCodeWasIssuedForWarnsOfACounterfeitAndRaisesOneAlert()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync();
        var serial = (string)code["serial"]!;

        (await setup.ScanAsync($"/01/{setup.Gtin}/10/{ConsumerSetup.Lot}/21/{serial}")).Body.Warnings.Should().BeEmpty("the lot it was issued for");
        (await setup.ScanAsync(ConsumerSetup.ShortPath(setup.Gtin, code))).Body.Warnings.Should().BeEmpty("a link without a lot names no other lot");
        (await setup.AlertListAsync("counterfeit")).Should().BeEmpty();

        var copied = $"/01/{setup.Gtin}/10/LOT-2025-01/21/{serial}";
        var (status, body) = await setup.ScanAsync(copied);
        status.Should().Be(200, "the code is known: the page still shows its journey");
        body.Lot.Should().Be(ConsumerSetup.Lot, "the page shows the issued lot, not the label's");
        var warning = body.Warnings.Should().ContainSingle().Subject;
        warning.Type.Should().Be("counterfeit");
        warning.Message.Should().Contain("标签上的批次与登记批次不符", "the JSON speaks Chinese unless asked otherwise");
        var (_, html) = await setup.ScanHtmlAsync(copied);
        html.Should().Contain("id=\"counterfeit-warning\"").And.Contain("not the lot this code was issued for");

        var alert = (await setup.AlertListAsync("counterfeit")).Should().ContainSingle("one counterfeit alert per code").Subject;
        alert.Detail.GetProperty("reason").GetString().Should().Be("lot-mismatch");
        alert.Detail.GetProperty("labelLot").GetString().Should().Be("LOT-2025-01");
        alert.Detail.GetProperty("issuedLot").GetString().Should().Be(ConsumerSetup.Lot);
        alert.Lot.Should().Be(ConsumerSetup.Lot);
        alert.Epc.Should().EndWith($"/21/{serial}");
    }

    [Fact]
    public async Task TheRateLimitAnswers429WithRetryAfterAndRefusedScansAreNotCounted()
    {
        var setup = await ConsumerSetup.StartAsync(chain, new Dictionary<string, string> { ["TRACE_CONSUMER_RATE_LIMIT"] = "4", ["TRACE_SCAN_LIMIT"] = "100" });
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync();
        var path = ConsumerSetup.PathOf(code);
        for (var i = 0; i < 4; i++) (await setup.ScanAsync(path)).Status.Should().Be(200);

        var refused = await setup.Anonymous.GetAsync(path);
        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeInRange(1, 60);
        (await refused.ReadAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>(HttpStatusCode.TooManyRequests)).Type.Should().EndWith("too-many-requests");
        (await setup.Anonymous.GetAsync($"{path}/proofs/1")).StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "proof downloads are consumer endpoints too");
        setup.Service.Scalar("SELECT COUNT(*) FROM scans").Should().Be(4, "refused requests never reach the handler");

        (await setup.Maker.GetAsync("/api/v1/alerts")).StatusCode.Should().Be(HttpStatusCode.OK, "member endpoints are not limited");
    }

    [Fact]
    public async Task AScanOutsideTheDealersTerritoryRaisesADiversionAlertTheConsumerDoesNotSee()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync();
        var (_, dealerId) = await setup.ShipToDealerAsync("广州经销商 Guangzhou Dealer", ["440100", "440300"], "00970", "440104", code);
        var path = ConsumerSetup.PathOf(code);

        (await setup.ScanAsync(path, "440104")).Body.Warnings.Should().BeEmpty();   // Guangzhou: inside
        (await setup.ScanAsync(path, "440000")).Body.Warnings.Should().BeEmpty();   // province only: not definitely outside
        (await setup.AlertListAsync("diversion")).Should().BeEmpty();

        var (_, outside) = await setup.ScanJsonAsync(path, "330106");                                 // Hangzhou
        outside.Deserialize<ConsumerApi.ConsumerJson>(ApiAnswers.Json)!.Warnings.Should().BeEmpty("the consumer is not told about diversion");
        // The whole answer as sent: nothing in it tells of the diversion.
        outside.ToJsonString().Should().NotContain("diversion").And.NotContain(dealerId);
        var alert = (await setup.AlertListAsync("diversion")).Should().ContainSingle().Subject;
        alert.Epc.Should().Contain($"/01/{setup.Gtin}/21/{(string)code["serial"]!}");
        var detail = alert.Detail;
        detail.GetProperty("source").GetString().Should().Be("scan");
        detail.GetProperty("dealer").GetProperty("id").GetString().Should().Be(dealerId);
        detail.GetProperty("dealer").GetProperty("name").GetString().Should().Be("广州经销商 Guangzhou Dealer");
        detail.GetProperty("expectedRegions").EnumerateArray().Select(r => r.GetString()).Should().Equal("440100", "440300");
        detail.GetProperty("actualRegion").GetString().Should().Be("330106");

        await setup.ScanJsonAsync(path, "330106");
        (await setup.AlertListAsync("diversion")).Should().HaveCount(1, "the same code, dealer and region alert once");
    }

    [Fact]
    public async Task ASaleOutsideTheDealersTerritoryRaisesADiversionAlertInTheCapture()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var inside = await setup.CommissionedAsync();
        var outside = await setup.CommissionedAsync();
        var (dealer, dealerId) = await setup.ShipToDealerAsync("杭州经销商 Hangzhou Dealer", ["330100"], "00990", "330106", inside, outside);
        const string hangzhouShop = "urn:epc:id:sgln:0614141.00991.0", shenzhenShop = "urn:epc:id:sgln:0614141.00992.0";
        (await dealer.PostAsJsonAsync("/api/v1/locations", new { id = hangzhouShop, name = "西湖店", regionCode = "330106" })).EnsureSuccessStatusCode();
        (await dealer.PostAsJsonAsync("/api/v1/locations", new { id = shenzhenShop, name = "福田店", regionCode = "440304" })).EnsureSuccessStatusCode();

        var at = DateTimeOffset.Parse("2026-11-05T10:00:00+08:00");
        var sales = EpcisDocs.Document(
            ConsumerSetup.Event((string)inside["epc"]!, "retail_selling", hangzhouShop, at, "retail_sold"),
            ConsumerSetup.Event((string)outside["epc"]!, "retail_selling", shenzhenShop, at, "retail_sold"));
        var captured = await TraceService.CaptureAsync(dealer, sales);
        captured.StatusCode.Should().Be(HttpStatusCode.Created, "a diversion is reported, never refused: " + await captured.Content.ReadAsStringAsync());

        var alert = (await setup.AlertListAsync("diversion")).Should().ContainSingle().Subject;
        alert.Epc.Should().EndWith((string)outside["serial"]!);
        alert.Detail.GetProperty("source").GetString().Should().Be("sale");
        alert.Detail.GetProperty("dealer").GetProperty("id").GetString().Should().Be(dealerId);
        alert.Detail.GetProperty("expectedRegions").EnumerateArray().Select(r => r.GetString()).Should().Equal("330100");
        alert.Detail.GetProperty("actualRegion").GetString().Should().Be("440304");
        alert.Detail.GetProperty("eventSequence").GetInt64().Should().BePositive();
        alert.Gtin.Should().Be(setup.Gtin);
        alert.Lot.Should().Be(ConsumerSetup.Lot);
    }

    [Fact]
    public async Task AlertsAreListedNewestFirstWithPagingToTheOwnerAndRegulatorsOnly()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        for (var i = 0; i < 3; i++) await setup.ScanJsonAsync($"/01/{setup.Gtin}/21/FAKE{i}");
        var (regulator, _) = await setup.Service.MemberAsync("regulator");
        var (otherMaker, _) = await setup.Service.MemberAsync("manufacturer", "Other");
        var (dealer, _) = await setup.Service.MemberAsync("dealer");

        var page = await setup.Maker.GetAnswerAsync<AlertsApi.AlertPage>("/api/v1/alerts?type=counterfeit&offset=0&limit=2");
        page.Total.Should().Be(3);
        page.Items.Select(a => a.Epc).Should().Equal(
            [$"https://id.gs1.org/01/{setup.Gtin}/21/FAKE2", $"https://id.gs1.org/01/{setup.Gtin}/21/FAKE1"]);
        (await setup.Maker.GetAnswerAsync<AlertsApi.AlertPage>("/api/v1/alerts?type=counterfeit&offset=2&limit=2")).Items.Should().ContainSingle();

        (await regulator.GetAnswerAsync<AlertsApi.AlertPage>("/api/v1/alerts")).Total.Should().Be(3);
        (await otherMaker.GetAnswerAsync<AlertsApi.AlertPage>("/api/v1/alerts")).Total.Should().Be(0);
        (await dealer.GetAsync("/api/v1/alerts")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await setup.Anonymous.GetAsync("/api/v1/alerts")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    /// <summary>The issue's "Checked by": one code scanned from several regions over HTTP, then the alerts read back.</summary>
    [Fact]
    public async Task ScenarioACodeScannedFromSeveralRegionsRaisesCounterfeitAndDiversionAlerts()
    {
        var setup = await ConsumerSetup.StartAsync(chain, new Dictionary<string, string> { ["TRACE_SCAN_LIMIT"] = "10" });
        await using var _ = setup.Service;
        var code = await setup.CommissionedAsync();
        var (_, dealerId) = await setup.ShipToDealerAsync("上海经销商 Shanghai Dealer", ["310000"], "00980", "310104", code);
        (await setup.Service.AnchorAsync()).Status.Should().Be(200);
        var path = ConsumerSetup.PathOf(code);

        var regions = new[] { "310115", "310101", "320500", "330100" };   // Shanghai ×2, Suzhou, Hangzhou
        var responses = new List<ConsumerApi.ConsumerJson>();
        foreach (var region in regions) responses.Add((await setup.ScanAsync(path, region)).Body);

        responses.Take(2).Should().OnlyContain(r => r.Warnings.Count == 0);
        responses[2].Warnings.Should().BeEmpty("two cities so far");
        responses[3].Warnings.Select(w => w.Type).Should().Equal("counterfeit");
        responses.Should().OnlyContain(r => r.Verified, "the badge stays: the events are genuine, the label may be copied");
        responses[3].Scans.Count.Should().Be(4);

        var counterfeit = (await setup.AlertListAsync("counterfeit")).Should().ContainSingle().Subject;
        counterfeit.Detail.GetProperty("reason").GetString().Should().Be("cities");
        var diversions = await setup.AlertListAsync("diversion");
        diversions.Select(a => a.Detail.GetProperty("actualRegion").GetString()).Should().BeEquivalentTo(["320500", "330100"]);
        diversions.Should().OnlyContain(a => a.Detail.GetProperty("dealer").GetProperty("id").GetString() == dealerId);
        (await setup.Maker.GetAnswerAsync<AlertsApi.AlertPage>("/api/v1/alerts")).Total.Should().Be(3);
    }
}
