using Traceability.Api.Features.Alerts;
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
        var trace = await TracingDocs.TraceAsync(maker, gtin, "L2");
        trace.ByStatus["on_hold"].Should().Be(4, "one bad unit holds the whole lot, wherever its units are");
        trace.Hold!.Disposition.Should().Be("damaged");
        await TracingDocs.RefusedAsync(maker, "on-hold-unit", u[1], docs.Ship(plant, store, "PO-2", u[1]));
        await TracingDocs.RefusedAsync(dealer, "on-hold-unit", u[3], docs.Sell(store, u[3]));

        // A second bad inspection in the same episode raises no second alert.
        await TracingDocs.AcceptedAsync(maker, docs.Observe("inspecting", "non_conformant", plant, u[1]));
        var holds = (await maker.GetAnswerAsync<AlertsApi.AlertPage>("/api/v1/alerts?type=hold")).Items;
        holds.Should().ContainSingle();
        holds[0].Lot.Should().Be("L2");

        await TracingDocs.AcceptedAsync(maker, docs.Observe("inspecting", "conformant", plant, u[0]));
        trace = await TracingDocs.TraceAsync(maker, gtin, "L2");
        trace.ByStatus["commissioned"].Should().Be(3, "released units resume the status they had");
        trace.ByStatus["at_holder"].Should().Be(1);
        trace.Hold.Should().BeNull();
        await TracingDocs.AcceptedAsync(dealer, docs.Sell(store, u[3]));
        trace.Units.First(x => x.Epc == u[3]).HolderMemberId.Should().Be(dealerId);

        // A new hold episode raises a new alert.
        await TracingDocs.AcceptedAsync(maker, docs.Observe("inspecting", "non_conformant", plant, u[2]));
        (await maker.GetAnswerAsync<AlertsApi.AlertPage>("/api/v1/alerts?type=hold")).Items.Should().HaveCount(2);
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

        var raw = await TracingDocs.TraceAsync(maker, leaf, "RAW-7");
        var output = raw.OutputLots.Should().ContainSingle().Subject;
        output.Lot.Should().Be("BL-1");
        output.ByHolder![0].MemberId.Should().Be(dealerId);
        output.Count.Should().Be(2);
        var blended = await TracingDocs.TraceAsync(maker, blend, "BL-1");
        blended.InputLots.Select(l => (l.Gtin, l.Lot)).Should().Equal((leaf, "RAW-7"));

        var history = await TracingDocs.HistoryAsync(maker, outputs[0]);
        history.Inputs.Select(i => i.Epc).Should().BeEquivalentTo(inputs);
        history.State!.Lot.Should().Be("BL-1");
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

    [Fact]
    public async Task OnlyTheLotsOwnerAHolderOfItsUnitsOrARegulatorHoldsOrReleasesALotNamedByClass()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var (otherMaker, _) = await svc.MemberAsync("manufacturer", "Other maker");
        var (dealer, _) = await svc.MemberAsync("dealer");
        var (regulator, _) = await svc.MemberAsync("regulator");
        var plant = TracingDocs.Sgln("00001");
        var rivalPlant = TracingDocs.Sgln("00002");
        var store = TracingDocs.Sgln("00010");
        await TracingDocs.LocationAsync(maker, plant, "Plant", "320506");
        await TracingDocs.LocationAsync(otherMaker, rivalPlant, "Rival plant", "320506");
        await TracingDocs.LocationAsync(dealer, store, "Store", "310115");
        var gtin = TracingDocs.Gtin("00005");
        await TracingDocs.ProductAsync(maker, gtin, "Vinegar");
        var u = Enumerable.Range(1, 2).Select(i => TracingDocs.Unit(gtin, "V" + i)).ToArray();
        await TracingDocs.AcceptedAsync(maker, docs.Commission("L5", plant, u));
        var lot = $"https://id.gs1.org/01/{gtin}/10/L5";
        Task<Traceability.Api.Features.Tracing.BatchTrace.TraceResponse> Trace() => TracingDocs.TraceAsync(maker, gtin, "L5");

        // Neither another manufacturer nor a member holding none of the lot puts it on hold.
        await TracingDocs.RefusedAsync(otherMaker, "hold-not-allowed", lot, docs.InspectLot("non_conformant", rivalPlant, gtin, "L5"));
        await TracingDocs.RefusedAsync(dealer, "hold-not-allowed", lot, docs.InspectLot("damaged", store, gtin, "L5"));
        (await Trace()).Hold.Should().BeNull();

        // A regulator does; then neither of them releases it, and the owner does.
        await TracingDocs.AcceptedAsync(regulator, docs.InspectLot("non_conformant", plant, gtin, "L5"));
        (await Trace()).ByStatus["on_hold"].Should().Be(2);
        await TracingDocs.RefusedAsync(otherMaker, "hold-not-allowed", lot, docs.InspectLot("conformant", rivalPlant, gtin, "L5"));
        await TracingDocs.RefusedAsync(dealer, "hold-not-allowed", lot, docs.InspectLot("conformant", store, gtin, "L5"));
        (await Trace()).ByStatus["on_hold"].Should().Be(2);
        await TracingDocs.AcceptedAsync(maker, docs.InspectLot("conformant", plant, gtin, "L5"));
        (await Trace()).Hold.Should().BeNull();

        // A member holding units of the lot may hold it (and release it).
        await TracingDocs.AcceptedAsync(maker, docs.Ship(plant, store, "PO-5", u[0]));
        await TracingDocs.AcceptedAsync(dealer, docs.Receive(store, u[0]));
        await TracingDocs.AcceptedAsync(dealer, docs.InspectLot("damaged", store, gtin, "L5"));
        (await Trace()).Hold!.Disposition.Should().Be("damaged");
        await TracingDocs.AcceptedAsync(dealer, docs.InspectLot("conformant", store, gtin, "L5"));
        (await Trace()).Hold.Should().BeNull();
    }

    [Fact]
    public async Task OnlyTheConsigneeReceivesAShipmentAndNobodyReceivesRecalledUnitsThatWereNotShippedToThem()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var (dealerA, dealerAId) = await svc.MemberAsync("dealer", "Dealer A");
        var (dealerB, _) = await svc.MemberAsync("dealer", "Dealer B");
        var plant = TracingDocs.Sgln("00001");
        var storeA = TracingDocs.Sgln("00010");
        var storeB = TracingDocs.Sgln("00020");
        await TracingDocs.LocationAsync(maker, plant, "Plant", "320506");
        await TracingDocs.LocationAsync(dealerA, storeA, "Store A", "310115");
        await TracingDocs.LocationAsync(dealerB, storeB, "Store B", "440305");
        var gtin = TracingDocs.Gtin("00006");
        await TracingDocs.ProductAsync(maker, gtin, "Soy sauce");
        var u = Enumerable.Range(1, 3).Select(i => TracingDocs.Unit(gtin, "R" + i)).ToArray();
        await TracingDocs.AcceptedAsync(maker, docs.Commission("L6", plant, u));

        await TracingDocs.AcceptedAsync(maker, docs.Ship(plant, storeA, "PO-6", u[0]));
        await TracingDocs.RefusedAsync(dealerB, "not-consignee", u[0], docs.Receive(storeB, u[0]));
        await TracingDocs.AcceptedAsync(dealerA, docs.Receive(storeA, u[0]));
        (await TracingDocs.HistoryAsync(maker, u[0])).State!.HolderMemberId.Should().Be(dealerAId);

        // Recalled at the plant, never shipped: nobody receives it; shipped to A before the recall: A does.
        await TracingDocs.AcceptedAsync(maker, docs.Ship(plant, storeA, "PO-7", u[2]));
        await TracingDocs.AcceptedAsync(maker, docs.Observe("holding", "recalled", plant, u[1], u[2]));
        await TracingDocs.RefusedAsync(dealerB, "recalled-unit", u[1], docs.Receive(storeB, u[1]));
        await TracingDocs.RefusedAsync(dealerB, "not-consignee", u[2], docs.Receive(storeB, u[2]));
        await TracingDocs.AcceptedAsync(dealerA, docs.Receive(storeA, u[2]));
        svc.Scalar($"SELECT COUNT(*) FROM units WHERE epc = '{u[1]}' AND holder_member_id IS NOT NULL AND status = 'recalled' AND holder_member_id <> '{dealerAId}'")
            .Should().Be(1, "the unit never shipped stays with the maker");
    }

    [Fact]
    public async Task ARawMaterialSupplierDoesNotSeeWhereItsCustomersFinishedGoodsWentNorTheirSerials()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (supplier, _) = await svc.MemberAsync("manufacturer", "Leaf supplier");
        var (maker, _) = await svc.MemberAsync("manufacturer", "Blender");
        var (dealer, dealerId) = await svc.MemberAsync("dealer");
        var farm = TracingDocs.Sgln("00003");
        var plant = TracingDocs.Sgln("00001");
        var store = TracingDocs.Sgln("00010");
        await TracingDocs.LocationAsync(supplier, farm, "Farm", "530102");
        await TracingDocs.LocationAsync(maker, plant, "Plant", "320506");
        await TracingDocs.LocationAsync(dealer, store, "Store", "310115");
        var leaf = TracingDocs.Gtin("00007");
        var blend = TracingDocs.Gtin("00008");
        await TracingDocs.ProductAsync(supplier, leaf, "Tea leaf");
        await TracingDocs.ProductAsync(maker, blend, "Tea blend");
        var inputs = new[] { TracingDocs.Unit(leaf, "T1"), TracingDocs.Unit(leaf, "T2") };
        var outputs = new[] { TracingDocs.Unit(blend, "B1"), TracingDocs.Unit(blend, "B2") };
        await TracingDocs.AcceptedAsync(supplier, docs.Commission("RAW-1", farm, inputs), docs.Ship(farm, plant, "PO-1", inputs));
        await TracingDocs.AcceptedAsync(maker, docs.Receive(plant, inputs));
        await TracingDocs.AcceptedAsync(maker, docs.Transform("BL-1", plant, inputs, outputs), docs.Ship(plant, store, "PO-2", outputs));
        await TracingDocs.AcceptedAsync(dealer, docs.Receive(store, outputs));

        // The supplier learns that its lot went into lot BL-1, not how much of it is where.
        var raw = await TracingDocs.TraceAsync(supplier, leaf, "RAW-1");
        var output = raw.OutputLots.Should().ContainSingle().Subject;
        output.Lot.Should().Be("BL-1");
        output.Count.Should().BeNull();
        output.ByHolder.Should().BeNull();
        (await supplier.GetStringAsync($"/api/v1/batches/trace?gtin={leaf}&lot=RAW-1")).Should().NotContain(dealerId, "the whole answer as sent");
        // The blender (the output's owner) and a regulator do.
        var own = await TracingDocs.TraceAsync(maker, blend, "BL-1");
        own.Count.Should().Be(2);

        // The item history of its own unit shows the transformation without the serials made from it.
        var history = await TracingDocs.HistoryAsync(supplier, inputs[0]);
        var transformation = history.Events.Single(e => e.Type == "TransformationEvent");
        transformation.View.Should().Be("redacted");
        // The event as the caller may see it (EPCIS JSON-LD), and the whole answer as sent: nothing of the outputs leaks.
        transformation.Event["inputEPCList"]!.AsArray().Select(x => (string)x!).Should().BeEquivalentTo(inputs);
        (await supplier.GetStringAsync($"/api/v1/codes/history?epc={Uri.EscapeDataString(inputs[0])}"))
            .Should().NotContain("/21/B1").And.NotContain("/21/B2").And.NotContain(dealerId);
        (await TracingDocs.GetAsync(supplier, $"/api/v1/codes/history?epc={Uri.EscapeDataString(outputs[0])}")).Status.Should().Be(404);
        // Nor through the event itself, or the EPCIS query interface.
        var sequence = transformation.Sequence;
        var single = await TracingDocs.GetAsync(supplier, $"/api/v1/events/{sequence}");
        single.Status.Should().Be(200);
        single.Body!.ToJsonString().Should().NotContain("/21/B1").And.NotContain(".B1\"").And.NotContain("/21/B2");
        var queried = await TracingDocs.GetAsync(supplier, $"/epcis/events?MATCH_anyEPC={Uri.EscapeDataString(inputs[0])}");
        queried.Status.Should().Be(200);
        queried.Body!.ToJsonString().Should().Contain("TransformationEvent").And.NotContain("/21/B1").And.NotContain(".B1\"").And.NotContain("/21/B2");
        // The blender sees its own transformation in full.
        var blender = await TracingDocs.HistoryAsync(maker, outputs[0]);
        blender.Events.Single(e => e.Type == "TransformationEvent").Event["outputEPCList"]!.AsArray().Should().HaveCount(2);
    }
}
