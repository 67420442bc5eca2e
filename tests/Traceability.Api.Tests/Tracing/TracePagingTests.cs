using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Tracing;

/// <summary>
/// The batch trace's bound: a lot of 2,345 units (and a neighbouring lot whose EPCs sort among them) through the API on a
/// real SQLite file. The answer lists at most <c>limit</c> units (1,000 when absent); following <c>nextAfter</c> covers the
/// lot, each unit once, in EPC order, while the counts are always the whole lot's; bad paging parameters are 400s naming them.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class TracePagingTests(ChainFixture chain)
{
    private const int LotSize = 2_345;

    [Fact]
    public async Task ALargeLotIsListedAPageAtATimeAndTheCursorCoversEachUnitOnce()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (maker, _) = await svc.MemberAsync("manufacturer", "Maker", TracingDocs.Gln("00900"));
        var plant = TracingDocs.Sgln("00001");
        await TracingDocs.LocationAsync(maker, plant, "Plant Suzhou", "320506");
        var gtin = TracingDocs.Gtin("00001");
        await TracingDocs.ProductAsync(maker, gtin, "Baijiu 500 ml");

        // Lot P1: serials A00001..; lot P2: B..., and a few of P1's neighbours in EPC order ("A00001x").
        var lot = Enumerable.Range(1, LotSize).Select(i => TracingDocs.Unit(gtin, "A" + i.ToString("D5"))).ToArray();
        var other = Enumerable.Range(1, 30).Select(i => TracingDocs.Unit(gtin, "A" + i.ToString("D5") + "x")).ToArray();
        await TracingDocs.AcceptedAsync(maker, docs.Commission("P1", plant, lot[..1200]), docs.Commission("P2", plant, other));
        await TracingDocs.AcceptedAsync(maker, docs.Commission("P1", plant, lot[1200..]));
        await TracingDocs.AcceptedAsync(maker, docs.Sell(plant, lot[..7]));

        // No limit: the first 1,000 units, the counts of all 2,345.
        var first = await TraceAsync(maker, $"gtin={gtin}&lot=P1");
        ((int)first["count"]!).Should().Be(LotSize);
        ((int)first["byStatus"]!["sold"]!).Should().Be(7);
        ((int)first["byStatus"]!["commissioned"]!).Should().Be(LotSize - 7);
        first["byHolder"]!.AsArray().Sum(h => (int)h!["count"]! + (int)(h["sold"] ?? 0)).Should().Be(LotSize, "byHolder covers the whole lot too");
        ((int)first["limit"]!).Should().Be(BatchTrace.DefaultLimit);
        first["units"]!.AsArray().Should().HaveCount(BatchTrace.DefaultLimit);
        ((string)first["nextAfter"]!).Should().Be((string)first["units"]![BatchTrace.DefaultLimit - 1]!["epc"]!);

        // Pages of 700 after the cursor: 700, 700, 700, 245, the last without nextAfter.
        var listed = new List<string>();
        var sizes = new List<int>();
        string? after = null;
        do
        {
            var page = await TraceAsync(maker, $"gtin={gtin}&lot=P1&limit=700" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after)));
            ((int)page["count"]!).Should().Be(LotSize, "every page counts the whole lot");
            var units = page["units"]!.AsArray().Select(u => (string)u!["epc"]!).ToList();
            sizes.Add(units.Count);
            listed.AddRange(units);
            after = (string?)page["nextAfter"];
        }
        while (after is not null && sizes.Count < 10);
        sizes.Should().Equal(700, 700, 700, 245);
        listed.Should().OnlyHaveUniqueItems().And.HaveCount(LotSize).And.BeInAscendingOrder(StringComparer.Ordinal);
        listed.Select(e => e[^6..]).Should().BeEquivalentTo(lot.Select(u => u[^6..]), "the pages hold lot P1's units and only those");

        // The largest page holds the whole lot; a cursor past the last unit gives an empty last page.
        var whole = await TraceAsync(maker, $"gtin={gtin}&lot=P1&limit={BatchTrace.MaxLimit}");
        whole["units"]!.AsArray().Select(u => (string)u!["epc"]!).Should().Equal(listed);
        whole["nextAfter"].Should().BeNull();
        var past = await TraceAsync(maker, $"gtin={gtin}&lot=P1&after=" + Uri.EscapeDataString(listed[^1]));
        past["units"]!.AsArray().Should().BeEmpty();
        past["nextAfter"].Should().BeNull();
        ((int)past["count"]!).Should().Be(LotSize);

        // Bad paging parameters: 400 ProblemDetails naming the parameter.
        foreach (var (query, field) in new[]
        {
            ("limit=0", "limit"), ("limit=-1", "limit"), ($"limit={BatchTrace.MaxLimit + 1}", "limit"), ("limit=abc", "limit"), ("limit=", "limit"),
            ("limit=99999999999", "limit"), ("limit=%D9%A1", "limit"), ("after=", "after"), ("after=" + new string('x', BatchTrace.MaxAfterLength + 1), "after"),
        })
        {
            var (status, problem) = await TracingDocs.GetAsync(maker, $"/api/v1/batches/trace?gtin={gtin}&lot=P1&{query}");
            status.Should().Be(400, query);
            ((string)problem!["type"]!).Should().EndWith("/validation", query);
            problem["errors"]!.AsArray().Select(e => (string)e!["field"]!).Should().Equal([field], query);
        }
        (await TracingDocs.GetAsync(maker, $"/api/v1/batches/trace?gtin={gtin}&lot=NOPE&limit=10")).Status.Should().Be(404);
    }

    /// <summary>
    /// The counts are kept between pages while the ledger does not move: each capture that changes the lot (a sale, a
    /// shipment, a quality hold, a recall) shows in the next page's counts, and a refused capture changes nothing.
    /// </summary>
    [Fact]
    public async Task TheCountsFollowEachCaptureBetweenPages()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (maker, makerId) = await svc.MemberAsync("manufacturer", "Maker", TracingDocs.Gln("00901"));
        var (dealer, dealerId) = await svc.MemberAsync("dealer", "Dealer", TracingDocs.Gln("00902"), regions: ["310115"]);
        var plant = TracingDocs.Sgln("00001");
        var store = TracingDocs.Sgln("00010");
        await TracingDocs.LocationAsync(maker, plant, "Plant", "320506");
        await TracingDocs.LocationAsync(dealer, store, "Store", "310115");
        var gtin = TracingDocs.Gtin("00002");
        await TracingDocs.ProductAsync(maker, gtin, "Vinegar 500 ml");
        var lot = Enumerable.Range(1, 12).Select(i => TracingDocs.Unit(gtin, "C" + i.ToString("D3"))).ToArray();
        await TracingDocs.AcceptedAsync(maker, docs.Commission("C1", plant, lot));

        async Task<(Dictionary<string, int> ByStatus, List<(string? Member, int Count, int? Sold)> ByHolder)> CountsAsync()
        {
            // the second page's counts, after the first page's: both are the whole lot's, and the same
            var first = await TracingDocs.TraceAsync(maker, gtin, "C1");
            var page = await TraceAsync(maker, $"gtin={gtin}&lot=C1&limit=5&after={Uri.EscapeDataString(lot[4])}");
            var byStatus = page["byStatus"]!.AsObject().ToDictionary(kv => kv.Key, kv => (int)kv.Value!);
            var byHolder = page["byHolder"]!.AsArray().Select(h => ((string?)h!["memberId"], (int)h["count"]!, (int?)h["sold"])).ToList();
            first.ByStatus.Should().Equal(byStatus);
            first.ByHolder.Select(h => (h.MemberId, h.Count, h.Sold)).Should().Equal(byHolder);
            ((int)page["count"]!).Should().Be(lot.Length);
            return (byStatus, byHolder);
        }

        var counts = await CountsAsync();
        counts.ByStatus.Should().Equal(new Dictionary<string, int> { ["commissioned"] = 12 });
        counts.ByHolder.Should().Equal((makerId, 12, 0));

        await TracingDocs.AcceptedAsync(maker, docs.Sell(plant, lot[..2]));
        counts = await CountsAsync();
        counts.ByStatus.Should().Equal(new Dictionary<string, int> { ["commissioned"] = 10, ["sold"] = 2 });
        counts.ByHolder.Should().Equal((makerId, 10, 2));

        await TracingDocs.AcceptedAsync(maker, docs.Ship(plant, TracingDocs.Pgln("00902"), "PO-1", lot[2..6]));
        await TracingDocs.AcceptedAsync(dealer, docs.Receive(store, lot[2..6]));
        counts = await CountsAsync();
        counts.ByStatus.Should().Equal(new Dictionary<string, int> { ["at_holder"] = 4, ["commissioned"] = 6, ["sold"] = 2 });
        counts.ByHolder.Should().Equal((makerId, 6, 2), (dealerId, 4, 0));

        // refused (the dealer sells units it does not hold): nothing is stored, the counts stay
        (await TracingDocs.CaptureAsync(dealer, docs.Sell(store, lot[7]))).Status.Should().Be(422);
        (await CountsAsync()).ByStatus.Should().Equal(counts.ByStatus);

        (await maker.PostAsJsonAsync("/api/v1/recalls", new { gtin, lot = "C1", reason = "label" })).StatusCode.Should().Be(System.Net.HttpStatusCode.Created);
        counts = await CountsAsync();
        counts.ByStatus.Should().Equal(new Dictionary<string, int> { ["recalled"] = 12 });
        counts.ByHolder.Should().Equal(new (string?, int, int?)[] { (dealerId, 4, 0) },
            "recalled units out at the dealer are held, those with the maker are not, and sold ones are recalled too");
    }

    [Theory]
    [InlineData(null, 1_000)]
    [InlineData("1", 1)]
    [InlineData("5000", 5_000)]
    [InlineData("0", null)]
    [InlineData("5001", null)]
    [InlineData("-5", null)]
    [InlineData("+5", null)]
    [InlineData(" 5", null)]
    [InlineData("5.0", null)]
    [InlineData("", null)]
    [InlineData("٥", null)]
    [InlineData("99999999999999", null)]
    public void ALimitIsAWholeNumberFromOneToTheMaximum(string? limit, int? expected) =>
        BatchTrace.ParseLimit(limit).Should().Be(expected);

    private static async Task<JsonNode> TraceAsync(HttpClient client, string query)
    {
        var (status, body) = await TracingDocs.GetAsync(client, "/api/v1/batches/trace?" + query);
        status.Should().Be(200, body?.ToJsonString());
        return body!;
    }
}
