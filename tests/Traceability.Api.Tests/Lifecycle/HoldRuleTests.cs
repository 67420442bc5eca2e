using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Lifecycle;

/// <summary>
/// The hold rule as data over HTTP, on a real SQLite file and a real Hardhat node: a manufacturer names its own hold and
/// release dispositions in a version of its product's rules; an inspection with its hold disposition holds the lot and
/// shipping is refused, the default dispositions no longer hold or release it, only the owner, a holder of its units or
/// a regulator releases it with the release disposition, and each inspection is judged by the version in force at its
/// eventTime. The default set (CustodyRulesTests) is unchanged.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class HoldRuleTests(ChainFixture chain)
{
    private const string Quarantined = "https://fire.example/disp/quarantined";
    private const string Released = "https://fire.example/disp/released";

    [Fact]
    public async Task ACustomHoldDispositionHoldsTheLotAndACustomReleaseReleasesIt()
    {
        var clock = new TestClock(DateTimeOffset.Parse("2026-11-01T00:00:00Z"));
        await using var svc = await chain.StartServiceAsync(configure: b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        var docs = new TracingDocs();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var (rival, _) = await svc.MemberAsync("manufacturer", "Rival");
        var (dealer, _) = await svc.MemberAsync("dealer");
        var plant = TracingDocs.Sgln("00031");
        var rivalPlant = TracingDocs.Sgln("00032");
        var store = TracingDocs.Sgln("00033");
        await TracingDocs.LocationAsync(maker, plant, "Plant", "320506");
        await TracingDocs.LocationAsync(rival, rivalPlant, "Rival plant", "320506");
        await TracingDocs.LocationAsync(dealer, store, "Store", "310115");
        var gtin = TracingDocs.Gtin("00031");
        var plain = TracingDocs.Gtin("00032");
        await TracingDocs.ProductAsync(maker, gtin, "Extinguisher");
        await TracingDocs.ProductAsync(maker, plain, "Hose");

        // before any version: the product is judged by the default set, listed as such
        var rules = await RulesAsync(maker, gtin);
        ((bool)rules["effective"]!["default"]!).Should().BeTrue();
        ((string)rules["effective"]!["rules"]![0]!["name"]!).Should().Be("quality-hold");
        rules["effective"]!["rules"]![0]!["holdDispositions"]!.AsArray().Select(d => (string)d!).Should().Equal("non_conformant", "damaged");

        // a bad hold rule is refused naming its field; then the maker's own dispositions
        var bad = await maker.PutAsJsonAsync($"/api/v1/products/{gtin}/rules",
            new { rules = new[] { new { name = "quarantine", kind = "hold", holdDispositions = new[] { "quarantined" }, releaseDispositions = new[] { Released } } } });
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.Content.ReadAsStringAsync()).Should().Contain("rules[0].holdDispositions[0]");
        var put = await maker.PutAsJsonAsync($"/api/v1/products/{gtin}/rules",
            new { rules = new[] { new { name = "quarantine", kind = "hold", holdDispositions = new[] { Quarantined }, releaseDispositions = new[] { Released } } } });
        put.StatusCode.Should().Be(HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        var version = (long)(await TraceService.JsonAsync(put))["version"]!;
        rules = await RulesAsync(maker, gtin);
        ((bool)rules["effective"]!["default"]!).Should().BeFalse();
        ((bool)rules["effective"]!["defaultHoldRule"]!).Should().BeFalse();
        ((long)rules["effective"]!["version"]!).Should().Be(version);
        ((string)rules["effective"]!["rules"]![0]!["step"]!).Should().Be("inspecting");
        ((string)rules["defaultRules"]![0]!["name"]!).Should().Be("quality-hold");

        var u = Enumerable.Range(1, 3).Select(i => TracingDocs.Unit(gtin, "Q" + i)).ToArray();
        var h = TracingDocs.Unit(plain, "P1");
        await TracingDocs.AcceptedAsync(maker, docs.Commission("Q1", plant, u), docs.Commission("P1", plant, h), docs.Ship(plant, store, "PO-1", u[2]));
        await TracingDocs.AcceptedAsync(dealer, docs.Receive(store, u[2]));

        // the default dispositions no longer hold this product (they still hold the other)
        await TracingDocs.AcceptedAsync(maker, docs.Observe("inspecting", "damaged", plant, u[0]));
        (await TraceAsync(maker, gtin, "Q1"))["hold"].Should().BeNull("damaged is not among its hold dispositions");
        await TracingDocs.AcceptedAsync(maker, docs.Observe("inspecting", Quarantined, plant, h));
        (await TraceAsync(maker, plain, "P1"))["hold"].Should().BeNull("quarantined means nothing under the default set");

        // its own hold disposition holds the whole lot, wherever its units are; shipping and selling are refused
        await TracingDocs.AcceptedAsync(maker, docs.Observe("inspecting", Quarantined, plant, u[0]));
        var trace = await TraceAsync(maker, gtin, "Q1");
        ((int)trace["byStatus"]!["on_hold"]!).Should().Be(3);
        ((string)trace["hold"]!["disposition"]!).Should().Be(Quarantined);
        await TracingDocs.RefusedAsync(maker, "on-hold-unit", u[1], docs.Ship(plant, store, "PO-2", u[1]));
        await TracingDocs.RefusedAsync(dealer, "on-hold-unit", u[2], docs.Sell(store, u[2]));
        var alerts = (await TracingDocs.GetAsync(maker, "/api/v1/alerts?type=hold")).Body!["items"]!.AsArray();
        alerts.Should().ContainSingle();

        // conformant no longer releases it; the release disposition does, from the owner, a holder of its units or a regulator only
        await TracingDocs.AcceptedAsync(maker, docs.Observe("inspecting", "conformant", plant, u[0]));
        ((int)(await TraceAsync(maker, gtin, "Q1"))["byStatus"]!["on_hold"]!).Should().Be(3, "conformant is not its release disposition");
        await TracingDocs.RefusedAsync(rival, "hold-not-allowed", $"https://id.gs1.org/01/{gtin}/10/Q1", docs.InspectLot(Released, rivalPlant, gtin, "Q1"));
        await TracingDocs.AcceptedAsync(dealer, docs.InspectLot(Released, store, gtin, "Q1"));
        trace = await TraceAsync(maker, gtin, "Q1");
        trace["hold"].Should().BeNull();
        ((int)trace["byStatus"]!["commissioned"]!).Should().Be(2);
        ((int)trace["byStatus"]!["at_holder"]!).Should().Be(1);
        await TracingDocs.AcceptedAsync(maker, docs.Ship(plant, store, "PO-3", u[1]));

        // a new version without a hold rule: events from its time on are judged by the default set again, an inspection
        // dated before it by the maker's rule
        clock.Set(DateTimeOffset.Parse("2026-11-20T00:00:00Z"));
        var back = await maker.PutAsJsonAsync($"/api/v1/products/{gtin}/rules", new { rules = Array.Empty<object>() });
        back.StatusCode.Should().Be(HttpStatusCode.OK, await back.Content.ReadAsStringAsync());
        rules = await RulesAsync(maker, gtin);
        ((bool)rules["effective"]!["defaultHoldRule"]!).Should().BeTrue();
        var late = docs.Observe("inspecting", Quarantined, plant, u[0]);
        late["eventTime"] = "2026-11-21T08:00:00.000+08:00";
        await TracingDocs.AcceptedAsync(maker, late);
        (await TraceAsync(maker, gtin, "Q1"))["hold"].Should().BeNull("on 21 November quarantined means nothing any more");
        var early = docs.Observe("inspecting", Quarantined, plant, u[0]);
        early["eventTime"] = "2026-11-10T08:00:00.000+08:00";
        await TracingDocs.AcceptedAsync(maker, early);
        ((string)(await TraceAsync(maker, gtin, "Q1"))["hold"]!["disposition"]!).Should().Be(Quarantined, "on 10 November the maker's rule was in force");
        var now = docs.Observe("inspecting", "conformant", plant, u[0]);
        now["eventTime"] = "2026-11-21T09:00:00.000+08:00";
        await TracingDocs.AcceptedAsync(maker, now);
        (await TraceAsync(maker, gtin, "Q1"))["hold"].Should().BeNull("conformant releases under the default set again");
    }

    private static async Task<JsonNode> RulesAsync(HttpClient client, string gtin)
    {
        var (status, body) = await TracingDocs.GetAsync(client, $"/api/v1/products/{gtin}/rules");
        status.Should().Be(200);
        return body!;
    }

    private static async Task<JsonNode> TraceAsync(HttpClient client, string gtin, string lot)
    {
        var (status, body) = await TracingDocs.GetAsync(client, $"/api/v1/batches/trace?gtin={gtin}&lot={lot}");
        status.Should().Be(200);
        return body!;
    }
}
