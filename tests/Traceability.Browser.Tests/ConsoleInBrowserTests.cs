using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Traceability.Ledger.Epcis;

namespace Traceability.Browser.Tests;

/// <summary>
/// The members' console in Debian's chromium against the service on Kestrel: sign-in, the dashboard against the API,
/// the map coloured by the seeded sales with drill-down, a recall started from the page, a dealer's narrower view, no
/// JavaScript errors, and the Content-Security-Policy.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ConsoleInBrowserTests(BrowserFixture fixture) : IAsyncLifetime
{
    // each test seeds its own plant: a location belongs to the member that registered it
    private string _factory = null!;
    private static int _product = 700;
    private HttpClient _maker = null!, _dealerB = null!;
    private string _makerKey = null!, _dealerBKey = null!, _gtin = null!, _dealerBId = null!, _dealerBWarehouse = null!;
    private const string Lot = "LOT-CONSOLE";

    public async Task InitializeAsync()
    {
        if (fixture.Service is null) return;
        var svc = fixture.Service;
        (_maker, _) = await svc.MemberAsync("manufacturer", "控制台乳业 Console Dairy", "0614141000005");
        _makerKey = _maker.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        var n = Interlocked.Increment(ref _product);
        _factory = $"urn:epc:id:sgln:0614141.9{n % 10000:D4}.0";
        var body = "1061414" + n.ToString("D6", CultureInfo.InvariantCulture);
        _gtin = body + Gs1Identifiers.CheckDigit(body);
        (await _maker.PostAsJsonAsync("/api/v1/products", new { gtin = _gtin, name = "控制台牛奶 Console Milk", description = "UHT" })).EnsureSuccessStatusCode();
        (await _maker.PostAsJsonAsync("/api/v1/locations", new { id = _factory, name = "浦东工厂 Pudong plant", regionCode = "310115" })).EnsureSuccessStatusCode();

        var codes = new List<string>();
        var r = await _maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = _gtin, lot = Lot, count = 3 });
        r.EnsureSuccessStatusCode();
        foreach (var c in JsonNode.Parse(await r.Content.ReadAsStringAsync())!["codes"]!.AsArray()) codes.Add((string)c!["epc"]!);
        var commission = Event("commissioning", "ADD", _factory, "active", codes.ToArray());
        commission["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = Lot };
        await CaptureAsync(_maker, commission);

        // Dealer A (Hangzhou) gets two units and sells one in Hangzhou and one in Shenzhen; dealer B (Shenzhen) sells one in Nanshan.
        var (dealerA, _) = await svc.MemberAsync("dealer", "杭州经销商 Hangzhou Dealer", null, ["330100"]);
        (_dealerB, _dealerBId) = await svc.MemberAsync("dealer", "深圳经销商 Shenzhen Dealer", null, ["440300"]);
        _dealerBKey = _dealerB.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        var p = Interlocked.Increment(ref _product);
        string Sgln(int n) => $"urn:epc:id:sgln:0614141.{p % 100:D2}{n:D3}.0";
        await Place(dealerA, Sgln(1), "330106");
        await Place(dealerA, Sgln(2), "330106");
        await Place(dealerA, Sgln(3), "440304");
        await Place(_dealerB, Sgln(4), "440304");
        _dealerBWarehouse = Sgln(4);
        await Place(_dealerB, Sgln(5), "440305");
        await ShipAsync(dealerA, Sgln(1), codes[0], codes[1]);
        await ShipAsync(_dealerB, Sgln(4), codes[2]);
        await CaptureAsync(dealerA, Event("retail_selling", "OBSERVE", Sgln(2), "retail_sold", codes[0]), Event("retail_selling", "OBSERVE", Sgln(3), "retail_sold", codes[1]));
        await CaptureAsync(_dealerB, Event("retail_selling", "OBSERVE", Sgln(5), "retail_sold", codes[2]));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static Task Place(HttpClient member, string id, string region) => ConsoleSeeding.PlaceAsync(member, id, "店 " + region, region);

    private async Task ShipAsync(HttpClient dealer, string warehouse, params string[] epcs)
    {
        var ship = Event("shipping", "OBSERVE", _factory, "in_transit", epcs);
        ship.Remove("bizLocation");
        ship["destinationList"] = new JsonArray(new JsonObject { ["type"] = "owning_party", ["destination"] = warehouse });
        await CaptureAsync(_maker, ship);
        await CaptureAsync(dealer, Event("receiving", "OBSERVE", warehouse, "in_progress", epcs));
    }

    // this test's events happened five minutes ago
    private static JsonObject Event(string bizStep, string action, string place, string disposition, params string[] epcs) =>
        ConsoleSeeding.Event(bizStep, action, place, disposition, DateTimeOffset.UtcNow.AddMinutes(-5), epcs);

    private static Task CaptureAsync(HttpClient client, params JsonObject[] events) => ConsoleSeeding.CaptureAsync(client, events);

    private Task<(IPage Page, List<string> Errors)> PageAsync(string locale = "en-US") => ConsoleSeeding.PageAsync(fixture, locale);

    private async Task<IResponse> SignInAsync(IPage page, string key, string hash = "")
    {
        var response = await page.GotoAsync(new Uri(fixture.Service.BaseUrl, "/console" + hash).ToString());
        await page.Locator("#api-key").FillAsync(key);
        await page.Locator("#sign-in-form button[type=submit]").ClickAsync();
        await page.Locator("#sign-out").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible });
        return response!;
    }

    private static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotDir, name + ".png"), FullPage = true });

    private async Task<JsonNode> ApiAsync(HttpClient client, string path)
    {
        var r = await client.GetAsync(path);
        r.StatusCode.Should().Be(HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
        return JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
    }

    [BrowserFact]
    public async Task SignsInWithACookieAndTheDashboardShowsTheApisNumbersUnderAStrictCsp()
    {
        var (page, errors) = await PageAsync();
        var response = await SignInAsync(page, _makerKey);
        response.Headers["content-security-policy"].Should().StartWith("default-src 'self'").And.Contain("script-src 'self';").And.NotContain("unsafe-inline");
        await page.Locator("#events-today").WaitForAsync();

        var overview = await ApiAsync(_maker, "/api/v1/analytics/overview");
        (await page.Locator("#events-today").InnerTextAsync()).Should().Be(((long)overview["eventsToday"]!).ToString("N0", CultureInfo.InvariantCulture));
        (await page.Locator("#units-total").InnerTextAsync()).Should().Be(((long)overview["units"]!).ToString(CultureInfo.InvariantCulture));
        (await page.Locator("#awaiting-anchor").InnerTextAsync()).Should().Be(((long)overview["eventsAwaitingAnchor"]!).ToString("N0", CultureInfo.InvariantCulture));
        (await page.Locator("#open-alerts").InnerTextAsync()).Should().Be(((long)overview["openAlerts"]!).ToString(CultureInfo.InvariantCulture));
        (await page.Locator("#units-by-status tr[data-status=sold] td.num").InnerTextAsync()).Should().Be(((long)overview["unitsByStatus"]!["sold"]!).ToString(CultureInfo.InvariantCulture));
        (await page.Locator("#view h1").InnerTextAsync()).Should().Be("Dashboard", "Accept-Language: en");

        var cookies = await page.Context.CookiesAsync();
        var session = cookies.Should().ContainSingle(c => c.Name == "trace_console").Subject;
        session.HttpOnly.Should().BeTrue();
        session.SameSite.Should().Be(SameSiteAttribute.Strict);
        session.Value.Should().NotContain(_makerKey);

        await page.Locator("#lang-toggle").ClickAsync();
        await page.Locator("#view h1", new() { HasText = "概览" }).WaitForAsync();
        await page.Locator("#sign-out").ClickAsync();
        await page.Locator("#sign-in").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible });
        errors.Should().BeEmpty();
    }

    [BrowserFact]
    public async Task TheMapColoursTheProvincesSoldInAndDrillsDownToACityAndItsCounties()
    {
        var (page, errors) = await PageAsync();
        await SignInAsync(page, _makerKey, "#/map");
        await page.WaitForFunctionAsync("() => document.querySelector('#map')?.dataset.level === 'province'");
        var coloured = (await page.Locator("#map").GetAttributeAsync("data-coloured"))!.Split(',');
        coloured.Should().BeEquivalentTo(["330000", "440000"], "the maker's product was sold in Zhejiang and Guangdong");
        (await page.Locator("#map canvas").CountAsync()).Should().BeGreaterThan(0);
        await ScreenshotAsync(page, "console-map-china");

        await page.Locator("#regions button.drill[data-code='440000']").ClickAsync();
        await page.WaitForFunctionAsync("() => document.querySelector('#map')?.dataset.region === '44'");
        (await page.Locator("#map").GetAttributeAsync("data-coloured")).Should().Be("440300", "Shenzhen, on Guangdong's map");
        await ScreenshotAsync(page, "console-map-guangdong");

        await page.Locator("#regions button.drill[data-code='440300']").ClickAsync();
        await page.WaitForFunctionAsync("() => document.querySelector('#map')?.dataset.region === '4403'");
        (await page.Locator("#map").GetAttributeAsync("data-level")).Should().Be("county");
        (await page.Locator("#map").GetAttributeAsync("data-coloured")).Should().Be("440304,440305", "Futian and Nanshan, where the two dealers sold, on Shenzhen's county map");
        (await page.Locator("#map-note").InnerTextAsync()).Should().BeEmpty("the counties are drawn as shapes, not bars");
        (await page.Locator("#regions tbody tr").AllInnerTextsAsync()).Should().HaveCount(2)
            .And.Contain(t => t.Contains("440304") && t.Contains('1')).And.Contain(t => t.Contains("440305"));
        await ScreenshotAsync(page, "console-map-shenzhen-counties");
        errors.Should().BeEmpty();
    }

    [BrowserFact]
    public async Task OrdersShowTheirScanningProgressAndStockEqualsTheApi()
    {
        var r = await _maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = _gtin, lot = Lot, count = 2 });
        r.EnsureSuccessStatusCode();
        var codes = JsonNode.Parse(await r.Content.ReadAsStringAsync())!["codes"]!.AsArray().Select(c => (string)c!["epc"]!).ToArray();
        var commission = Event("commissioning", "ADD", _factory, "active", codes);
        commission["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = Lot };
        await CaptureAsync(_maker, commission);
        var number = "SO-CONSOLE-" + Interlocked.Increment(ref _product).ToString(CultureInfo.InvariantCulture);
        r = await _maker.PostAsJsonAsync("/api/v1/orders", new
        {
            number, type = "outbound", shipTo = _dealerBId, shipToLocation = _dealerBWarehouse, lines = new[] { new { gtin = _gtin, lot = Lot, quantity = 2 } },
        });
        r.StatusCode.Should().Be(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        var order = (long)JsonNode.Parse(await r.Content.ReadAsStringAsync())!["id"]!;
        (await _maker.PostAsJsonAsync($"/api/v1/orders/{order}/scans", new { code = codes[0] })).EnsureSuccessStatusCode();

        var (page, errors) = await PageAsync();
        await SignInAsync(page, _makerKey, "#/operations");
        var row = page.Locator($"#orders-table tr[data-order='{order}']:not(.line)");
        await row.WaitForAsync();
        (await row.GetAttributeAsync("data-status")).Should().Be("in_progress", "one of the order's two units was scanned out");
        (await row.Locator(".scanned").InnerTextAsync()).Trim().Should().Be("1 / 2");
        (await page.Locator($"#orders-table tr.line[data-order='{order}']").CountAsync()).Should().Be(1);
        await page.Locator("#stock-total").WaitForAsync();
        var stock = await ApiAsync(_maker, "/api/v1/stock");
        (await page.Locator("#stock-total").InnerTextAsync()).Should().Be(((long)stock["total"]!).ToString("N0", CultureInfo.InvariantCulture));
        await ScreenshotAsync(page, "console-orders-and-stock");

        // The consignee sees the order it receives; another member's console does not list it.
        var (dealerPage, dealerErrors) = await PageAsync();
        await SignInAsync(dealerPage, _dealerBKey, "#/operations");
        await dealerPage.Locator($"#orders-table tr[data-order='{order}']:not(.line)").WaitForAsync();
        var (otherPage, otherErrors) = await PageAsync();
        var (other, _) = await fixture.Service.MemberAsync("dealer", "别家经销商 Other Dealer", null, ["440300"]);
        await SignInAsync(otherPage, other.DefaultRequestHeaders.GetValues("X-Api-Key").Single(), "#/operations");
        await otherPage.Locator("#orders-none").WaitForAsync();
        errors.Concat(dealerErrors).Concat(otherErrors).Should().BeEmpty();
    }

    [BrowserFact]
    public async Task ARecallStartedFromTheConsoleShowsUpInTheApi()
    {
        var (page, errors) = await PageAsync("zh-CN");
        await SignInAsync(page, _makerKey, "#/recalls");
        await page.Locator("#recall-form input[name=gtin]").FillAsync(_gtin);
        await page.Locator("#recall-form input[name=lot]").FillAsync(Lot);
        await page.Locator("#recall-form input[name=reason]").FillAsync("控制台召回 console recall");
        await page.Locator("#recall-form button[type=submit]").ClickAsync();
        await page.Locator("#recall-id").WaitForAsync();
        var id = await page.Locator("#recall-id").InnerTextAsync();

        var recall = await ApiAsync(_maker, $"/api/v1/recalls/{id}");
        ((string)recall["gtin"]!).Should().Be(_gtin);
        ((string)recall["reason"]!).Should().Be("控制台召回 console recall");
        (await page.Locator("#recall-units").InnerTextAsync()).Should().Be(((int)recall["units"]!).ToString(CultureInfo.InvariantCulture));
        (await page.Locator("#recall-csv").GetAttributeAsync("href")).Should().Be($"/api/v1/recalls/{id}/export.csv");
        errors.Should().BeEmpty();
    }

    [BrowserFact]
    public async Task ADealersConsoleShowsOnlyItsOwnSales()
    {
        var (page, errors) = await PageAsync();
        await SignInAsync(page, _dealerBKey, "#/map");
        await page.WaitForFunctionAsync("() => document.querySelector('#map')?.dataset.level === 'province'");
        (await page.Locator("#map").GetAttributeAsync("data-total")).Should().Be("1", "dealer B sold one unit; dealer A's two are not its business");
        (await page.Locator("#map").GetAttributeAsync("data-coloured")).Should().Be("440000");
        (await page.Locator("#regions").InnerTextAsync()).Should().NotContain("330000");
        var api = await ApiAsync(_dealerB, "/api/v1/analytics/sales?level=province");
        ((long)api["total"]!).Should().Be(1);

        // The alerts inbox is the makers' and regulators': a dealer is not offered it, and asking for it shows the dashboard
        // without a refused request; the recall page lets it open a recall, not start one.
        (await page.Locator("nav a[href='#/alerts']").IsHiddenAsync()).Should().BeTrue();
        await page.GotoAsync(new Uri(fixture.Service.BaseUrl, "/console#/alerts").ToString());
        await page.Locator("#events-today").WaitForAsync();
        await page.GotoAsync(new Uri(fixture.Service.BaseUrl, "/console#/recalls").ToString());
        await page.Locator("#recall-open").WaitForAsync();
        (await page.Locator("#recall-form").CountAsync()).Should().Be(0);
        errors.Should().BeEmpty("no page asks the API for what a dealer may not see");
    }
}
