using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests;

/// <summary>Quality holds, transformation lineage, and the rules the scenario test does not reach.</summary>
[Collection(ChainCollection.Name)]
public sealed class CustodyRulesTests(ChainFixture chain)
{
    [Fact]
    public async Task NonConformantInspectionHoldsTheWholeLotUntilAConformantOneReleasesIt()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var (dealer, dealerId) = await svc.MemberAsync("dealer");
        var (regulator, _) = await svc.MemberAsync("regulator");
        var plant = TracingDocs.Sgln("00001");
        var store = TracingDocs.Sgln("00010");
        await TracingDocs.LocationAsync(maker, plant, "Plant", "320506");
        await TracingDocs.LocationAsync(dealer, store, "Store", "310115");
        var gtin = TracingDocs.Gtin("00002");
        await TracingDocs.ProductAsync(maker, gtin, "Tea");
        var u = Enumerable.Range(1, 4).Select(i => TracingDocs.Unit(gtin, "H" + i)).ToArray();
        await TracingDocs.AcceptedAsync(maker, docs.Commission("L2", plant, u), docs.Ship(plant, store, "PO-1", u[3]));
        await TracingDocs.AcceptedAsync(dealer, docs.Receive(store, u[3]));

        await TracingDocs.RefusedAsync(dealer, "holder-only", u[0], docs.Observe("inspecting", "non_conformant", store, u[0]));
        await TracingDocs.AcceptedAsync(regulator, docs.Observe("inspecting", "damaged", plant, u[0]));
        var trace = (await TracingDocs.GetAsync(maker, $"/api/v1/batches/trace?gtin={gtin}&lot=L2")).Body!;
        ((int)trace["byStatus"]!["on_hold"]!).Should().Be(4, "one bad unit holds the whole lot, wherever its units are");
        ((string)trace["hold"]!["disposition"]!).Should().Be("damaged");
        await TracingDocs.RefusedAsync(maker, "on-hold-unit", u[1], docs.Ship(plant, store, "PO-2", u[1]));
        await TracingDocs.RefusedAsync(dealer, "on-hold-unit", u[3], docs.Sell(store, u[3]));

        // A second bad inspection in the same episode raises no second alert.
        await TracingDocs.AcceptedAsync(maker, docs.Observe("inspecting", "non_conformant", plant, u[1]));
        var holds = (await TracingDocs.GetAsync(maker, "/api/v1/alerts?type=hold")).Body!["items"]!.AsArray();
        holds.Should().ContainSingle();
        ((string)holds[0]!["lot"]!).Should().Be("L2");

        await TracingDocs.AcceptedAsync(maker, docs.Observe("inspecting", "conformant", plant, u[0]));
        trace = (await TracingDocs.GetAsync(maker, $"/api/v1/batches/trace?gtin={gtin}&lot=L2")).Body!;
        ((int)trace["byStatus"]!["commissioned"]!).Should().Be(3, "released units resume the status they had");
        ((int)trace["byStatus"]!["at_holder"]!).Should().Be(1);
        trace["hold"].Should().BeNull();
        await TracingDocs.AcceptedAsync(dealer, docs.Sell(store, u[3]));
        ((string)trace["units"]!.AsArray().First(x => (string)x!["epc"]! == u[3])!["holderMemberId"]!).Should().Be(dealerId);

        // A new hold episode raises a new alert.
        await TracingDocs.AcceptedAsync(maker, docs.Observe("inspecting", "non_conformant", plant, u[2]));
        (await TracingDocs.GetAsync(maker, "/api/v1/alerts?type=hold")).Body!["items"]!.AsArray().Should().HaveCount(2);
    }

    [Fact]
    public async Task TraceFollowsTransformationsBackwardAndForward()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var (dealer, dealerId) = await svc.MemberAsync("dealer");
        var plant = TracingDocs.Sgln("00001");
        var store = TracingDocs.Sgln("00010");
        await TracingDocs.LocationAsync(maker, plant, "Plant", "320506");
        await TracingDocs.LocationAsync(dealer, store, "Store", "310115");
        var leaf = TracingDocs.Gtin("00003");
        var blend = TracingDocs.Gtin("00004");
        await TracingDocs.ProductAsync(maker, leaf, "Tea leaf");
        await TracingDocs.ProductAsync(maker, blend, "Tea blend");
        var inputs = new[] { TracingDocs.Unit(leaf, "T1"), TracingDocs.Unit(leaf, "T2") };
        var outputs = new[] { TracingDocs.Unit(blend, "B1"), TracingDocs.Unit(blend, "B2") };
        var foreign = TracingDocs.Unit(leaf, "T9");
        await TracingDocs.AcceptedAsync(maker, docs.Commission("RAW-7", plant, inputs));
        await TracingDocs.RefusedAsync(maker, "not-commissioned", foreign, docs.Transform("BL-1", plant, [foreign], outputs));
        await TracingDocs.AcceptedAsync(maker, docs.Transform("BL-1", plant, inputs, outputs), docs.Ship(plant, store, "PO-9", outputs));
        await TracingDocs.AcceptedAsync(dealer, docs.Receive(store, outputs));

        var raw = (await TracingDocs.GetAsync(maker, $"/api/v1/batches/trace?gtin={leaf}&lot=RAW-7")).Body!;
        var output = raw["outputLots"]!.AsArray().Should().ContainSingle().Subject!;
        ((string)output["lot"]!).Should().Be("BL-1");
        ((string)output["byHolder"]![0]!["memberId"]!).Should().Be(dealerId);
        ((int)output["count"]!).Should().Be(2);
        var blended = (await TracingDocs.GetAsync(maker, $"/api/v1/batches/trace?gtin={blend}&lot=BL-1")).Body!;
        blended["inputLots"]!.AsArray().Select(l => ((string)l!["gtin"]!, (string)l["lot"]!)).Should().Equal((leaf, "RAW-7"));

        var history = (await TracingDocs.GetAsync(maker, $"/api/v1/codes/history?epc={Uri.EscapeDataString(outputs[0])}")).Body!;
        history["inputs"]!.AsArray().Select(i => (string)i!["epc"]!).Should().BeEquivalentTo(inputs);
        ((string)history["state"]!["lot"]!).Should().Be("BL-1");
    }

    [Fact]
    public async Task CodesOfProductsOutsideTheMasterDataAreNotPolicedButTracked()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var unknown = TracingDocs.Unit(TracingDocs.Gtin("00777"), "X1");
        await TracingDocs.AcceptedAsync(maker, docs.Ship(TracingDocs.Sgln("00001"), TracingDocs.Sgln("00010"), "PO-1", unknown));
        await TracingDocs.AcceptedAsync(maker, docs.Commission("L", TracingDocs.Sgln("00001"), unknown));
        svc.Scalar($"SELECT COUNT(*) FROM units WHERE epc = '{unknown}' AND status = 'commissioned'").Should().Be(1);
        (await TracingDocs.GetAsync(maker, "/api/v1/codes/history?epc=not-a-code")).Status.Should().Be(400);
    }
}
