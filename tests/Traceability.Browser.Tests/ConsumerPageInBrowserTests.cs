using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Traceability.Ledger.Epcis;

namespace Traceability.Browser.Tests;

/// <summary>The consumer page as a phone's browser shows it: badge, pending state, counterfeit warning, recall banner, unknown code.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ConsumerPageInBrowserTests(BrowserFixture fixture) : IAsyncLifetime
{
    private static int _product = 500;
    private string Factory = null!; // each test's maker has its own plant: a location belongs to the member that registered it
    private HttpClient _maker = null!;
    private string _gtin = null!;

    public async Task InitializeAsync()
    {
        if (fixture.Service is null) return;
        (_maker, _) = await fixture.Service.MemberAsync("manufacturer", "华东乳业 Dairy Co.", "0614141000005");
        var body = "1061414" + Interlocked.Increment(ref _product).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        _gtin = body + Gs1Identifiers.CheckDigit(body);
        Factory = $"urn:epc:id:sgln:0614141.{_product % 100_000:D5}.0";
        (await _maker.PostAsJsonAsync("/api/v1/products", new { gtin = _gtin, name = "有机纯牛奶 Organic Milk 250ml", description = "UHT whole milk" })).EnsureSuccessStatusCode();
        (await _maker.PostAsJsonAsync("/api/v1/locations", new { id = Factory, name = "浦东工厂 Pudong plant", regionCode = "310115" })).EnsureSuccessStatusCode();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<JsonNode> CommissionedCodeAsync(string lot = "LOT-2026-11")
    {
        var r = await _maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = _gtin, lot, count = 1 });
        r.EnsureSuccessStatusCode();
        var code = JsonNode.Parse(await r.Content.ReadAsStringAsync())!["codes"]![0]!;
        var doc = new JsonObject
        {
            ["@context"] = new JsonArray("https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"),
            ["type"] = "EPCISDocument", ["schemaVersion"] = "2.0", ["creationDate"] = "2026-11-01T08:00:00.000Z",
            ["epcisBody"] = new JsonObject
            {
                ["eventList"] = new JsonArray(new JsonObject
                {
                    ["type"] = "ObjectEvent", ["eventTime"] = "2026-11-01T08:00:00.000+08:00", ["eventTimeZoneOffset"] = "+08:00",
                    ["epcList"] = new JsonArray((string)code["epc"]!), ["action"] = "ADD", ["bizStep"] = "commissioning", ["disposition"] = "active",
                    ["readPoint"] = new JsonObject { ["id"] = Factory }, ["bizLocation"] = new JsonObject { ["id"] = Factory },
                    ["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = lot },
                }),
            },
        };
        var capture = await _maker.PostAsync("/api/v1/capture", new StringContent(doc.ToJsonString(), Encoding.UTF8, "application/ld+json"));
        capture.StatusCode.Should().Be(HttpStatusCode.Created, await capture.Content.ReadAsStringAsync());
        return code;
    }

    private async Task AnchorAsync() =>
        (await fixture.Service.Admin.PostAsync("/api/v1/anchors/run", null)).StatusCode.Should().Be(HttpStatusCode.OK);

    private static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotDir, name + ".png"), FullPage = true });

    [BrowserFact]
    public async Task AnAnchoredCodeShowsTheVerifiedOnChainBadgeAndItsProofDownloads()
    {
        var code = await CommissionedCodeAsync();
        await AnchorAsync();
        var page = await fixture.PhoneAsync();
        var response = await page.GotoAsync((string)code["digitalLink"]!);
        response!.Status.Should().Be(200);

        var badge = page.Locator("#badge");
        (await badge.GetAttributeAsync("data-state")).Should().Be("verified");
        (await badge.InnerTextAsync()).Should().Contain("Verified on chain").And.Contain("Block #");
        (await badge.IsVisibleAsync()).Should().BeTrue();
        (await page.Locator("#product-name").InnerTextAsync()).Should().Be("有机纯牛奶 Organic Milk 250ml");
        (await page.Locator("#lot").InnerTextAsync()).Should().Be("LOT-2026-11");
        (await page.Locator("#production-date").InnerTextAsync()).Should().Be("2026-11-01");
        (await page.Locator("#manufacturer").InnerTextAsync()).Should().Be("华东乳业 Dairy Co.");
        (await page.Locator("#journey li").CountAsync()).Should().Be(1);
        (await page.Locator("#journey li").First.InnerTextAsync()).Should().Contain("Produced").And.Contain("Pudong plant").And.Contain("Shanghai (310115)");
        (await page.Locator("#scan-count").InnerTextAsync()).Should().Be("1");
        await ScreenshotAsync(page, "verified-badge-en");

        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("a.proof").First.ClickAsync());
        var file = await download.PathAsync();
        var bundle = JsonNode.Parse(await File.ReadAllTextAsync(file!))!;
        ((string)bundle["anchor"]!["status"]!).Should().Be("confirmed");
        bundle["proof"]!.AsArray().Should().NotBeNull();
        ((string)bundle["eventHash"]!).Should().Be(EventHash.Compute(EpcisParser.ParseEventJson(bundle["event"]!.ToJsonString())));

        var zh = await fixture.PhoneAsync("zh-CN");
        await zh.GotoAsync((string)code["digitalLink"]!);
        (await zh.Locator("#badge").InnerTextAsync()).Should().Contain("已通过区块链验证");
        (await zh.Locator("html").GetAttributeAsync("lang")).Should().Be("zh-CN");
        await ScreenshotAsync(zh, "verified-badge-zh");
    }

    [BrowserFact]
    public async Task AFreshCodeShowsRecordedAwaitingAnchoring()
    {
        var code = await CommissionedCodeAsync();
        var page = await fixture.PhoneAsync("zh-CN");
        (await page.GotoAsync((string)code["digitalLink"]!))!.Status.Should().Be(200);
        (await page.Locator("#badge").GetAttributeAsync("data-state")).Should().Be("pending");
        (await page.Locator("#badge").InnerTextAsync()).Should().Contain("已记录，等待上链锚定");
        (await page.Locator("#journey").InnerTextAsync()).Should().Contain("等待上链");
        (await page.Locator("a.proof").CountAsync()).Should().Be(0);
        await ScreenshotAsync(page, "pending-zh");
    }

    [BrowserFact]
    public async Task TooManyScansShowTheCounterfeitWarning()
    {
        var code = await CommissionedCodeAsync();
        var page = await fixture.PhoneAsync();
        await page.GotoAsync((string)code["digitalLink"]!);
        await page.GotoAsync((string)code["digitalLink"]!);
        (await page.Locator("#counterfeit-warning").CountAsync()).Should().Be(0, "one phone reloading the page is one scanner");
        for (var i = 2; i <= BrowserFixture.ScanLimit; i++)
        {
            await page.SetExtraHTTPHeadersAsync(new Dictionary<string, string> { ["X-Forwarded-For"] = $"198.51.100.{i}" });
            await page.GotoAsync((string)code["digitalLink"]!);
            (await page.Locator("#counterfeit-warning").CountAsync()).Should().Be(0, $"scanner {i} is within the limit");
        }
        await page.SetExtraHTTPHeadersAsync(new Dictionary<string, string> { ["X-Forwarded-For"] = "198.51.100.99" });
        await page.GotoAsync((string)code["digitalLink"]!);
        var warning = page.Locator("#counterfeit-warning");
        (await warning.IsVisibleAsync()).Should().BeTrue();
        (await warning.InnerTextAsync()).Should().Contain($"scanned {BrowserFixture.ScanLimit + 2} times").And.Contain("counterfeit");
        (await page.Locator("#scan-count").InnerTextAsync()).Should().Be($"{BrowserFixture.ScanLimit + 2}");
        await ScreenshotAsync(page, "counterfeit-warning-en");
    }

    [BrowserFact]
    public async Task ARecalledUnitShowsTheRecallBannerAboveEverything()
    {
        var code = await CommissionedCodeAsync("LOT-RECALLED");
        await AnchorAsync();
        var recall = await _maker.PostAsJsonAsync("/api/v1/recalls", new { gtin = _gtin, lot = "LOT-RECALLED", reason = "Listeria found in retained samples" });
        recall.StatusCode.Should().Be(HttpStatusCode.Created, await recall.Content.ReadAsStringAsync());
        var page = await fixture.PhoneAsync();
        await page.GotoAsync((string)code["digitalLink"]!);
        var banner = page.Locator("#status-banner");
        (await banner.IsVisibleAsync()).Should().BeTrue();
        (await banner.GetAttributeAsync("data-status")).Should().Be("recalled");
        (await banner.InnerTextAsync()).Should().Contain("recalled");
        var bannerBox = await banner.BoundingBoxAsync();
        var titleBox = await page.Locator("#product-name").BoundingBoxAsync();
        bannerBox!.Y.Should().BeLessThan(titleBox!.Y, "the banner comes above everything");
        bannerBox.Y.Should().BeLessThan(5);
        await ScreenshotAsync(page, "recall-banner-en");
    }

    [BrowserFact]
    public async Task AnUnknownCodeShowsThatItMayBeCounterfeit()
    {
        var page = await fixture.PhoneAsync("zh-CN");
        var response = await page.GotoAsync(new Uri(fixture.Service.BaseUrl, $"/01/{_gtin}/21/NEVERISSUED77").ToString());
        response!.Status.Should().Be(404);
        var unknown = page.Locator("#unknown-code");
        (await unknown.IsVisibleAsync()).Should().BeTrue();
        (await unknown.InnerTextAsync()).Should().Contain("假冒");
        (await page.Locator("#product-name").InnerTextAsync()).Should().Be("未知编码");
        (await page.Locator("#badge").CountAsync()).Should().Be(0);
        await ScreenshotAsync(page, "unknown-code-zh");

        var en = await fixture.PhoneAsync();
        await en.GotoAsync(new Uri(fixture.Service.BaseUrl, $"/01/{_gtin}/21/NEVERISSUED77").ToString());
        (await en.Locator("#unknown-code").InnerTextAsync()).Should().Contain("may be counterfeit");
        await ScreenshotAsync(en, "unknown-code-en");
    }
}
