using System.Net.Http.Json;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Events;
using Traceability.Api.Features.Recall;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests;

/// <summary>
/// The tracing story end to end: a lot is commissioned, packed into cases and pallets, shipped to dealers in three regions,
/// received, unpacked, sold and recalled; every answer is asserted, including each refusal.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class TracingScenarioTests(ChainFixture chain)
{
    [Fact]
    public async Task TracesALotFromCommissioningThroughDealersToRecallAndRefusesEachBrokenRule()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (maker, makerId) = await svc.MemberAsync("manufacturer", "Maker", TracingDocs.Gln("00900"));
        var (otherMaker, _) = await svc.MemberAsync("manufacturer", "Other maker");
        var (dealerA, dealerAId) = await svc.MemberAsync("dealer", "Dealer Shanghai", regions: ["310115"]);
        var (dealerB, dealerBId) = await svc.MemberAsync("dealer", "Dealer Shenzhen", regions: ["440305"]);
        var (dealerC, dealerCId) = await svc.MemberAsync("dealer", "Dealer Beijing", TracingDocs.Gln("00930"), ["110105"]);
        var (regulator, _) = await svc.MemberAsync("regulator");

        var plant = TracingDocs.Sgln("00001");
        var storeA = TracingDocs.Sgln("00010");
        var storeB = TracingDocs.Sgln("00020");
        var storeC = TracingDocs.Sgln("00030");
        await TracingDocs.LocationAsync(maker, plant, "Plant Suzhou", "320506");
        await TracingDocs.LocationAsync(dealerA, storeA, "Store Pudong", "310115");
        await TracingDocs.LocationAsync(dealerB, storeB, "Store Nanshan", "440305");
        await TracingDocs.LocationAsync(dealerC, storeC, "Store Chaoyang", "110105");
        var gtin = TracingDocs.Gtin("00001");
        await TracingDocs.ProductAsync(maker, gtin, "Baijiu 500 ml");

        var u = Enumerable.Range(1, 15).Select(i => TracingDocs.Unit(gtin, "S" + i.ToString("D4"))).ToArray();
        string[] Units(int from, int to) => u[(from - 1)..to];
        var (c1, c2, c3, p1, p2) = (docs.NextSscc(), docs.NextSscc(), docs.NextSscc(), docs.NextSscc(), docs.NextSscc());

        // Commissioning: only the product's owner; a code once.
        await TracingDocs.RefusedAsync(otherMaker, "product-owner-only", u[0], docs.Commission("L1", plant, u[0]));
        await TracingDocs.AcceptedAsync(maker, docs.Commission("L1", plant, u));
        await TracingDocs.RefusedAsync(maker, "already-commissioned", u[0], docs.Commission("L1", plant, u[0]));
        var stranger = TracingDocs.Unit(gtin, "NEVER");
        await TracingDocs.RefusedAsync(maker, "not-commissioned", stranger, docs.Ship(plant, storeA, "PO-0", stranger));

        // Packing: cases into pallets; a unit in one container only, no container inside itself.
        await TracingDocs.AcceptedAsync(maker, docs.Pack(c1, Units(1, 4)), docs.Pack(c2, Units(5, 8)), docs.Pack(c3, Units(9, 12)),
            docs.Pack(p1, c1, c2), docs.Pack(p2, c3));
        await TracingDocs.RefusedAsync(maker, "already-packed", u[0], docs.Pack(c2, u[0]));
        await TracingDocs.RefusedAsync(maker, "container-cycle", p1, docs.Pack(c1, p1));
        await TracingDocs.RefusedAsync(maker, "container-cycle", c1, docs.Pack(c1, c1));
        await TracingDocs.RefusedAsync(dealerA, "holder-only", p1, docs.Ship(storeA, storeA, "PO-X", p1));
        await TracingDocs.RefusedAsync(dealerA, "holder-only", u[12], docs.Pack(docs.NextSscc(), u[12]));

        // Shipping to three dealers in three regions (dealer C named by its party GLN).
        await TracingDocs.AcceptedAsync(maker, docs.Ship(plant, storeA, "PO-1001", p1), docs.Ship(plant, storeB, "PO-1002", p2),
            docs.Ship(plant, TracingDocs.Pgln("00930"), "PO-1003", Units(13, 15)));
        var trace = await TracingDocs.TraceAsync(maker, gtin, "L1");
        trace.ByStatus["in_transit"].Should().Be(15);
        var inTransit = (await TracingDocs.HistoryAsync(regulator, u[1])).State!;
        inTransit.ShippedToMemberId.Should().Be(dealerAId, "units inside a shipped pallet are shipped with it");
        trace.Units.First(x => x.Epc == u[13]).ShippedToMemberId.Should().Be(dealerCId);

        // Receiving: into one's own locations only, and only what was shipped.
        await TracingDocs.RefusedAsync(dealerB, "own-location", p2, docs.Receive(storeA, p2));
        await TracingDocs.AcceptedAsync(dealerA, docs.Receive(storeA, p1));
        await TracingDocs.AcceptedAsync(dealerB, docs.Receive(storeB, p2));
        await TracingDocs.AcceptedAsync(dealerC, docs.Receive(storeC, Units(13, 15)));
        await TracingDocs.RefusedAsync(dealerB, "not-shipped", p1, docs.Receive(storeB, p1));

        // Unpacking: by the holder; a named child must be inside.
        await TracingDocs.RefusedAsync(dealerB, "holder-only", p1, docs.Unpack(p1, c1));
        await TracingDocs.RefusedAsync(dealerA, "not-in-container", c3, docs.Unpack(p1, c3));
        await TracingDocs.AcceptedAsync(dealerA, docs.Unpack(p1, c1, c2), docs.Unpack(c1));
        // The empty case's later life is not part of its former contents' history.
        await TracingDocs.AcceptedAsync(dealerA, docs.Observe("storing", null, storeA, c1));

        // Selling: by the holder, once.
        await TracingDocs.RefusedAsync(dealerA, "holder-only", u[8], docs.Sell(storeA, u[8]));
        await TracingDocs.AcceptedAsync(dealerA, docs.Sell(storeA, u[0]));
        await TracingDocs.RefusedAsync(dealerA, "already-sold", u[0], docs.Sell(storeA, u[0]));

        // Item history: its own events, its case's and pallet's events while inside, current state; URN and Digital Link alike.
        var history = await TracingDocs.HistoryAsync(regulator, u[1]);
        (await regulator.GetStringAsync($"/api/v1/codes/history?epc={Uri.EscapeDataString(TracingDocs.SgtinUrn(gtin, "S0002"))}"))
            .Should().Be(await regulator.GetStringAsync($"/api/v1/codes/history?epc={Uri.EscapeDataString(u[1])}"), "the same answer, byte for byte");
        var steps = history.Events.Select(e => e.BizStep?.Split('-').Last() + "@" + (e.Via ?? "self")).ToList();
        steps.Should().Equal(
            "commissioning@self", $"packing@self", $"packing@{c1}", $"shipping@{p1}", $"receiving@{p1}", $"unpacking@{c1}", $"unpacking@{c1}");
        history.Containers.Select(c => c.Epc).Should().Equal(c1, p1);
        var state = history.State!;
        state.Status.Should().Be("at_holder");
        state.HolderMemberId.Should().Be(dealerAId);
        state.RegionCode.Should().Be("310115");
        state.ParentEpc.Should().BeNull();
        history.Product!.Name.Should().Be("Baijiu 500 ml");
        history.Events.Should().OnlyContain(e => e.Anchor == null);

        (await TracingDocs.HistoryAsync(dealerA, u[0])).State!.Status.Should().Be("sold");
        var inCase3 = (await TracingDocs.HistoryAsync(maker, u[8])).State!;
        inCase3.ParentEpc.Should().Be(c3);
        inCase3.HolderMemberId.Should().Be(dealerBId);

        // Batch trace: every unit, by holder and region, by status.
        trace = await TracingDocs.TraceAsync(maker, gtin, "L1");
        trace.Count.Should().Be(15);
        trace.Units.Should().HaveCount(15);
        trace.ByStatus["sold"].Should().Be(1);
        trace.ByStatus["at_holder"].Should().Be(14);
        Holders(trace.ByHolder).Should().BeEquivalentTo(new[] { (dealerAId, "310115", 7), (dealerBId, "440305", 4), (dealerCId, "110105", 3) }, "a sold unit is no longer held");
        trace.ByHolder.Select(h => h.Sold).Should().Equal(1, 0, 0);
        (await TracingDocs.GetAsync(otherMaker, $"/api/v1/batches/trace?gtin={gtin}&lot=L1")).Status.Should().Be(403);
        (await TracingDocs.GetAsync(dealerA, $"/api/v1/batches/trace?gtin={gtin}&lot=L1")).Status.Should().Be(403);
        (await TracingDocs.GetAsync(maker, $"/api/v1/batches/trace?gtin={gtin}&lot=NOPE")).Status.Should().Be(404);

        // Recall: only the owner or a regulator; the holder breakdown; recorded on the ledger; alerts; units recalled.
        (await otherMaker.PostAsJsonAsync("/api/v1/recalls", new { gtin, lot = "L1", reason = "x" })).StatusCode.Should().Be(System.Net.HttpStatusCode.Forbidden);
        (await dealerA.PostAsJsonAsync("/api/v1/recalls", new { gtin, lot = "L1", reason = "x" })).StatusCode.Should().Be(System.Net.HttpStatusCode.Forbidden);
        var eventsBefore = svc.Scalar("SELECT COUNT(*) FROM events");
        var recall = await (await maker.PostAsJsonAsync("/api/v1/recalls", new { gtin, lot = "L1", reason = "methanol above limit" }))
            .ReadAsync<RecallLot.RecallResponse>(System.Net.HttpStatusCode.Created);
        recall.Units.Should().Be(15, "sold units are recalled too");
        Holders(recall.ByHolder).Should().BeEquivalentTo(new[] { (dealerAId, "310115", 8), (dealerBId, "440305", 4), (dealerCId, "110105", 3) });
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(eventsBefore + 1);
        var recallEvent = await regulator.GetAnswerAsync<EventsApi.EventResponse>($"/api/v1/events/{recall.FirstEventSequence}");
        // The stored EPCIS event itself (JSON-LD), as captured.
        ((string)recallEvent.Event["disposition"]!).Should().Be("recalled");
        recallEvent.Event["epcList"]!.AsArray().Should().HaveCount(15);
        trace = await TracingDocs.TraceAsync(regulator, gtin, "L1");
        trace.ByStatus["recalled"].Should().Be(15);
        Holders(trace.ByHolder).Should().BeEquivalentTo(new[] { (dealerAId, "310115", 7), (dealerBId, "440305", 4), (dealerCId, "110105", 3) },
            "a unit sold before the recall is recalled, but still not held");
        trace.Recalls.Select(r => r.Id).Should().Equal(recall.Id);
        var alerts = (await maker.GetAnswerAsync<AlertsApi.AlertPage>("/api/v1/alerts?type=recall")).Items;
        alerts.Select(a => (a.Detail.GetProperty("holderMemberId").GetString(), a.Detail.GetProperty("units").GetInt32())).Should()
            .BeEquivalentTo(new[] { (dealerAId, 8), (dealerBId, 4), (dealerCId, 3) });
        // The inbox places each recall alert where its holder is, and filters by that region.
        var inShanghai = (await maker.GetAnswerAsync<Traceability.Api.Features.Analytics.InboxPage>("/api/v1/alerts/inbox?type=recall&region=31")).Items;
        inShanghai.Select(a => (a.RegionCode, a.Detail.GetProperty("holderMemberId").GetString())).Should().Equal(("310115", dealerAId));
        (await regulator.GetAnswerAsync<RecallLot.RecallResponse>($"/api/v1/recalls/{recall.Id}")).Units.Should().Be(15);

        // From then on the units show as recalled, and recalled units neither ship nor sell.
        (await TracingDocs.HistoryAsync(dealerA, u[1])).State!.Status.Should().Be("recalled");
        await TracingDocs.RefusedAsync(dealerB, "recalled-unit", u[8], docs.Ship(storeB, storeA, "PO-2001", p2));
        await TracingDocs.RefusedAsync(dealerA, "recalled-unit", u[1], docs.Sell(storeA, u[1]));

        // Anchored, the history shows each event's anchor.
        (await svc.AnchorAsync()).Status.Should().Be(200);
        history = await TracingDocs.HistoryAsync(regulator, u[1]);
        history.Events.Should().OnlyContain(e => e.Anchor!.Status == "confirmed");
        history.Events.Select(e => e.Disposition).Last().Should().EndWith("recalled");

        // The FSMA 204 export: one row per critical tracking event of the lot, with its quantity of the lot.
        var csv = await maker.GetStringAsync($"/api/v1/recalls/{recall.Id}/export.csv");
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        lines[0].Should().StartWith("Traceability Lot Code,Product Description,GTIN,Quantity,Unit of Measure,Critical Tracking Event,");
        var rows = lines.Skip(1).Select(l => l.Split(',')).Select(c => (Cte: c[5], Quantity: int.Parse(c[3]), Reference: c[14])).ToList();
        rows.Select(r => (r.Cte, r.Quantity)).Should().Equal(
            ("Initial Packing", 15), ("Shipping", 8), ("Shipping", 4), ("Shipping", 3), ("Receiving", 8), ("Receiving", 4), ("Receiving", 3));
        rows.Where(r => r.Cte == "Shipping").Select(r => r.Reference).Should().OnlyContain(r => r.Contains("PO-100"), "the maker took part in its shipments");
        var byQuantity = await regulator.GetStringAsync($"/api/v1/recalls/{recall.Id}/export.csv?sort=quantity");
        byQuantity.Split('\n')[1].Should().Contain(",15,");
        (await otherMaker.GetAsync($"/api/v1/recalls/{recall.Id}/export.csv")).StatusCode.Should().Be(System.Net.HttpStatusCode.Forbidden);
    }

    private static List<(string?, string?, int)> Holders(IEnumerable<BatchTrace.HolderCount> holders) =>
        holders.Select(h => (h.MemberId, h.RegionCode, h.Count)).ToList();
}
