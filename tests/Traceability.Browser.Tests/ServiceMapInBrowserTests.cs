using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Traceability.Ledger.Epcis;

namespace Traceability.Browser.Tests;

/// <summary>
/// The console's service map (installed, overdue and expired units by region) in Debian's chromium against the service
/// on Kestrel: three fire extinguishers installed by a service company in Hangzhou (two) and Shenzhen (one), the one in
/// Xihu installed more than a year ago with a yearly inspection, so overdue by its dates alone (no test clock: the
/// service runs as its own process). The page's counts equal the API's at every level, the drill-down goes to Zhejiang's
/// cities and Hangzhou's counties, no JavaScript errors, and each member sees what the API lets it see.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ServiceMapInBrowserTests(BrowserFixture fixture)
{
    private sealed record Seed(string MakerKey, string RegulatorKey, string DealerKey, string OtherMakerKey, HttpClient Maker, HttpClient Regulator);

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Seed? _seed;
    private static int _n = 300;

    private async Task<Seed> SeedAsync()
    {
        await Gate.WaitAsync();
        try { return _seed ??= await CreateAsync(); } finally { Gate.Release(); }
    }

    private static string Key(HttpClient client) => client.DefaultRequestHeaders.GetValues("X-Api-Key").Single();

    private async Task<Seed> CreateAsync()
    {
        var svc = fixture.Service;
        var n = Interlocked.Increment(ref _n);
        var (maker, _) = await svc.MemberAsync("manufacturer", "消防器材厂 Fire Extinguisher Works");
        var (otherMaker, _) = await svc.MemberAsync("manufacturer", "别家厂 Other Works");
        var (dealer, _) = await svc.MemberAsync("dealer", "消防经销 Fire Dealer", null, ["330100"]);
        var (installer, _) = await svc.MemberAsync("service", "消防维保 Fire Service Co.");
        var (regulator, _) = await svc.MemberAsync("regulator", "消防监督 Fire Regulator");

        var body = "1061416" + n.ToString("D6", CultureInfo.InvariantCulture);
        var gtin = body + Gs1Identifiers.CheckDigit(body);
        (await maker.PostAsJsonAsync("/api/v1/products", new
        {
            gtin, name = "干粉灭火器 MFZ/ABC4 extinguisher", service = new { inspectionIntervalDays = 365, serviceLifeMonths = 120 },
        })).EnsureSuccessStatusCode();
        string Sgln(int i) => $"urn:epc:id:sgln:0614141.7{n % 100:D2}{i:D2}.0";
        var (plant, warehouse) = (Sgln(1), Sgln(2));
        await Place(maker, plant, "嘉兴工厂 Jiaxing plant", "330402");
        await Place(dealer, warehouse, "杭州仓库 Hangzhou warehouse", "330105");
        var sites = new[] { (Sgln(3), "西湖大厦 Xihu Tower", "330106"), (Sgln(4), "上城大厦 Shangcheng Tower", "330102"), (Sgln(5), "福田大厦 Futian Tower", "440304") };
        foreach (var (id, name, region) in sites) await Place(installer, id, name, region);

        var r = await maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin, lot = "LOT-FIRE", count = 3 });
        r.EnsureSuccessStatusCode();
        var codes = JsonNode.Parse(await r.Content.ReadAsStringAsync())!["codes"]!.AsArray().Select(c => (string)c!["epc"]!).ToArray();

        // Made two years ago, delivered to the dealer; the first installed 400 days ago (its yearly inspection is past
        // due), the others ten days ago.
        var now = DateTimeOffset.UtcNow;
        var commission = Event("commissioning", "ADD", plant, "active", now.AddDays(-730), codes);
        commission["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = "LOT-FIRE" };
        await CaptureAsync(maker, commission);
        var ship = Event("shipping", "OBSERVE", plant, "in_transit", now.AddDays(-700), codes);
        ship.Remove("bizLocation");
        ship["destinationList"] = new JsonArray(new JsonObject { ["type"] = "owning_party", ["destination"] = warehouse });
        await CaptureAsync(maker, ship);
        await CaptureAsync(dealer, Event("receiving", "OBSERVE", warehouse, "in_progress", now.AddDays(-699), codes));
        await CaptureAsync(installer, Event("installing", "OBSERVE", sites[0].Item1, "in_progress", now.AddDays(-400), codes[0]));
        await CaptureAsync(installer, Event("installing", "OBSERVE", sites[1].Item1, "in_progress", now.AddDays(-10), codes[1]));
        await CaptureAsync(installer, Event("installing", "OBSERVE", sites[2].Item1, "in_progress", now.AddDays(-10), codes[2]));
        return new Seed(Key(maker), Key(regulator), Key(dealer), Key(otherMaker), maker, regulator);
    }

    private static Task Place(HttpClient member, string id, string name, string region) => ConsoleSeeding.PlaceAsync(member, id, name, region);

    private static JsonObject Event(string bizStep, string action, string place, string disposition, DateTimeOffset at, params string[] epcs) =>
        ConsoleSeeding.Event(bizStep, action, place, disposition, at, epcs);

    private static Task CaptureAsync(HttpClient client, params JsonObject[] events) => ConsoleSeeding.CaptureAsync(client, events);

    private Task<(IPage Page, List<string> Errors)> PageAsync(string locale = "en-US") => ConsoleSeeding.PageAsync(fixture, locale);

    private async Task SignInAsync(IPage page, string key)
    {
        await page.GotoAsync(new Uri(fixture.Service.BaseUrl, "/console#/service").ToString());
        await page.Locator("#api-key").FillAsync(key);
        await page.Locator("#sign-in-form button[type=submit]").ClickAsync();
        await page.Locator("#sign-out").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible });
    }

    private static async Task<JsonNode> ApiAsync(HttpClient client, string path)
    {
        var r = await client.GetAsync(path);
        r.StatusCode.Should().Be(HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
        return JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
    }

    private static string N(JsonNode? n) => ((long)n!).ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>The totals and every row of the page's table equal the API's answer for the same level and region.</summary>
    private static async Task ShowsTheApisCountsAsync(IPage page, JsonNode api)
    {
        foreach (var m in new[] { "installed", "overdue", "expired" })
            (await page.Locator($"#svc-{m}").InnerTextAsync()).Should().Be(N(api[m]), $"the {m} total");
        var rows = api["regions"]!.AsArray();
        (await page.Locator("#service-regions tbody tr").CountAsync()).Should().Be(rows.Count);
        foreach (var row in rows)
        {
            var tr = page.Locator($"#service-regions tbody tr[data-code='{(string?)row!["regionCode"] ?? ""}']");
            foreach (var m in new[] { "installed", "overdue", "expired" })
                (await tr.Locator($"td.{m}").InnerTextAsync()).Should().Be(N(row[m]), $"{m} in {(string?)row["regionCode"]}");
        }
    }

    private static Task WaitForAsync(IPage page, string level, string region) =>
        page.WaitForFunctionAsync($"() => {{ const m = document.querySelector('#service-map'); return m?.dataset.level === '{level}' && m.dataset.region === '{region}'; }}");

    [BrowserFact]
    public async Task TheRegulatorSeesInstalledAndOverdueUnitsByProvinceAndDrillsDownToACityAndItsCounties()
    {
        var seed = await SeedAsync();
        var (page, errors) = await PageAsync();
        await SignInAsync(page, seed.RegulatorKey);
        await WaitForAsync(page, "province", "");
        var china = await ApiAsync(seed.Regulator, "/api/v1/service/regions?level=province");
        await ShowsTheApisCountsAsync(page, china);
        var zhejiang = china["regions"]!.AsArray().Single(r => (string?)r!["regionCode"] == "330000")!;
        ((long)zhejiang["installed"]!).Should().BeGreaterThanOrEqualTo(2);
        ((long)zhejiang["overdue"]!).Should().BeGreaterThanOrEqualTo(1, "the extinguisher in Xihu is past its yearly inspection");
        (await page.Locator("#service-map").GetAttributeAsync("data-coloured"))!.Split(',').Should().Contain("330000", "coloured by overdue units")
            .And.NotContain("440000", "Shenzhen's was installed ten days ago");
        (await page.Locator("#service-map canvas").CountAsync()).Should().BeGreaterThan(0);
        var width = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        width.Should().BeLessThanOrEqualTo(390, "the page fits a phone's width");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotDir, "console-service-china.png"), FullPage = true });

        await page.Locator("#service-regions button.drill[data-code='330000']").ClickAsync();
        await WaitForAsync(page, "city", "33");
        await ShowsTheApisCountsAsync(page, await ApiAsync(seed.Regulator, "/api/v1/service/regions?level=city&region=33"));
        (await page.Locator("#service-map").GetAttributeAsync("data-coloured"))!.Split(',').Should().Contain("330100");

        await page.Locator("#service-regions button.drill[data-code='330100']").ClickAsync();
        await WaitForAsync(page, "county", "3301");
        await ShowsTheApisCountsAsync(page, await ApiAsync(seed.Regulator, "/api/v1/service/regions?level=county&region=3301"));
        (await page.Locator("#service-map").GetAttributeAsync("data-coloured"))!.Split(',').Should().Contain("330106").And.NotContain("330102");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotDir, "console-service-hangzhou.png"), FullPage = true });

        // coloured by installed units instead, then in Chinese
        await page.Locator("#service-form select[name=measure]").SelectOptionAsync("installed");
        await page.WaitForFunctionAsync("() => document.querySelector('#service-map')?.dataset.measure === 'installed'");
        (await page.Locator("#service-map").GetAttributeAsync("data-coloured"))!.Split(',').Should().Contain(["330106", "330102"]);
        await page.Locator("#lang-toggle").ClickAsync();
        await page.Locator("#view h1", new() { HasText = "维保监管" }).WaitForAsync();
        await WaitForAsync(page, "county", "3301");
        (await page.Locator("#service-regions thead").InnerTextAsync()).Should().Contain("逾期未检");
        errors.Should().BeEmpty();
    }

    [BrowserFact]
    public async Task EachMemberSeesWhatTheApiLetsItSee()
    {
        var seed = await SeedAsync();

        // the maker: its own products' units, exactly the three it made
        var (page, errors) = await PageAsync("zh-CN");
        await SignInAsync(page, seed.MakerKey);
        await WaitForAsync(page, "province", "");
        var own = await ApiAsync(seed.Maker, "/api/v1/service/regions?level=province");
        ((long)own["installed"]!).Should().Be(3);
        ((long)own["overdue"]!).Should().Be(1);
        await ShowsTheApisCountsAsync(page, own);
        (await page.Locator("#view h1").InnerTextAsync()).Should().Be("维保监管");

        // another manufacturer: none of them
        var (other, otherErrors) = await PageAsync();
        await SignInAsync(other, seed.OtherMakerKey);
        await WaitForAsync(other, "province", "");
        (await other.Locator("#svc-installed").InnerTextAsync()).Should().Be("0");
        (await other.Locator("#service-regions tbody tr").CountAsync()).Should().Be(0);

        // a dealer: the API refuses it (403), so the console does not offer the page; asked for it, it shows the dashboard
        var (dealer, dealerErrors) = await PageAsync();
        await SignInAsync(dealer, seed.DealerKey);
        await dealer.Locator("#events-today").WaitForAsync();
        (await dealer.Locator("nav a[href='#/service']").IsHiddenAsync()).Should().BeTrue();
        (await dealer.Locator("#service-map").CountAsync()).Should().Be(0);
        errors.Concat(otherErrors).Concat(dealerErrors).Should().BeEmpty("no page asks the API for what its member may not see");
    }
}
