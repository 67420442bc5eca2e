using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Tests.Import;
using Traceability.Api.Tests.Support;
using Traceability.Verifier;

namespace Traceability.Api.Tests.Orders;

/// <summary>
/// A day of outbound scanning end to end, over HTTP on a real SQLite file and Hardhat: the dealer, the products and an
/// order of three lines imported from the ERP; 250 scans in every form a scanner sends (a right code, a wrong product, an
/// over-quantity, a recalled unit, another manufacturer's code, a duplicate, an unknown and an unreadable code, a case
/// SSCC), each with its exact verdict; the order completes; the dealer receives; stock and movements; the inspector's
/// lookup rows; the shipping events anchored and their bundles verified.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class OrdersScenarioTests(ChainFixture chain)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public sealed record LineView(int Line, string Gtin, string? Lot, long Expected, long Scanned, long Received);
    public sealed record OrderView(long Id, string Number, string Type, string MemberId, string ShipTo, string? ShipToLocation, string Status,
        long Expected, long Scanned, long Received, List<LineView> Lines);
    public sealed record CodeVerdict(int Index, string Code, string? Epc, string Verdict, string? Message, int Units);
    public sealed record ScanResult(long OrderId, string Status, int Accepted, int Refused, int UnitsShipped, long? EventSequence, string? EventHash,
        string? BizTransaction, List<CodeVerdict> Verdicts, List<LineView> Lines);
    public sealed record ReceiveResult(long OrderId, string Status, int UnitsReceived, long EventSequence, string EventHash, string BizTransaction, List<LineView> Lines);
    public sealed record StockRow(string Holder, string Gtin, string? Lot, string? Location, string? RegionCode, long Quantity);
    public sealed record StockView(string? Holder, long Total, bool Truncated, List<StockRow> Items);
    public sealed record MovementDay(string Day, long In, long Out);
    public sealed record MovementsView(string Holder, string From, string To, long In, long Out, List<MovementDay> Days);

    private static JsonObject Now(JsonObject e)
    {
        e["eventTime"] = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
        return e;
    }

    private static async Task<T> OkAsync<T>(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(expected, text);
        return System.Text.Json.JsonSerializer.Deserialize<T>(text, System.Text.Json.JsonSerializerOptions.Web)!;
    }

    [Fact]
    public async Task ImportsAnOrderFromTheErpScansItOutCodeByCodeThenTheDealerReceivesItAndStockFollows()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (maker, makerId) = await svc.MemberAsync("manufacturer", "Maker", TracingDocs.Gln("00900"));
        var (otherMaker, _) = await svc.MemberAsync("manufacturer", "Other maker");
        var (regulator, _) = await svc.MemberAsync("regulator");
        var plant = TracingDocs.Sgln("00001");
        var otherPlant = TracingDocs.Sgln("00002");
        var store = TracingDocs.Sgln("00010");
        var (a, b, c, d, x) = (TracingDocs.Gtin("00001"), TracingDocs.Gtin("00002"), TracingDocs.Gtin("00003"), TracingDocs.Gtin("00004"), TracingDocs.Gtin("00005"));

        // The ERP's master data, imported: the dealer (a member the maker registers; the operator issues its key when it
        // joins), the locations (each member its own), the products.
        var dealerGln = TracingDocs.Gln("00910");
        (await ImportTests.ResultAsync(await ImportTests.PostJsonAsync(maker, "dealers", new[] { new { gln = dealerGln, name = "Dealer Pudong", regionCodes = new[] { "310115" } } })))
            .Should().BeEquivalentTo(new { Rows = 1, Created = 1, Refused = 0 });
        var dealerId = svc.Text($"SELECT id FROM members WHERE gln = '{dealerGln}'");
        var issued = await svc.Admin.PostAsJsonAsync($"/api/v1/members/{dealerId}/keys", new { label = "store scanner" });
        issued.StatusCode.Should().Be(HttpStatusCode.Created);
        var dealer = svc.Client((string)(await TraceService.JsonAsync(issued))["apiKey"]!);
        (await ImportTests.ResultAsync(await ImportTests.PostCsvAsync(maker, "locations", $"id,name,regionCode\n{plant},Plant Suzhou,320506\n"))).Created.Should().Be(1);
        (await ImportTests.ResultAsync(await ImportTests.PostCsvAsync(dealer, "locations", $"id,name,regionCode\n{store},Store Pudong,310115\n"))).Created.Should().Be(1);
        (await ImportTests.ResultAsync(await ImportTests.PostCsvAsync(maker, "products", $"gtin,name\n{a},Milk 1 L\n{b},Milk 250 ml\n{c},Yoghurt\n{d},Butter\n")))
            .Should().BeEquivalentTo(new { Rows = 4, Created = 4, Refused = 0 });
        (await ImportTests.ResultAsync(await ImportTests.PostJsonAsync(otherMaker, "products", new[] { new { gtin = x, name = "Someone else's milk" } }))).Created.Should().Be(1);
        await TracingDocs.LocationAsync(otherMaker, otherPlant, "Other plant", "320506");

        string[] Units(string gtin, string prefix, int n) => Enumerable.Range(1, n).Select(i => TracingDocs.Unit(gtin, prefix + i.ToString("D4", CultureInfo.InvariantCulture))).ToArray();
        var ua = Units(a, "A", 110);
        var ub = Units(b, "B", 100);
        var uc = Units(c, "C", 40);
        var wrong = TracingDocs.Unit(d, "D0001");
        var recalled = TracingDocs.Unit(a, "R0001");
        var foreign = TracingDocs.Unit(x, "X0001");
        var caseEpc = docs.NextSscc();
        await TracingDocs.AcceptedAsync(maker, Now(docs.Commission("L1", plant, ua)), Now(docs.Commission("L2", plant, ub)), Now(docs.Commission("L3", plant, uc)),
            Now(docs.Commission("L1", plant, wrong)), Now(docs.Commission("LR", plant, recalled)), Now(docs.Pack(caseEpc, uc[..10])));
        await TracingDocs.AcceptedAsync(otherMaker, Now(docs.Commission("X1", otherPlant, foreign)));
        (await maker.PostAsJsonAsync("/api/v1/recalls", new { gtin = a, lot = "LR", reason = "seal damaged" })).StatusCode.Should().Be(HttpStatusCode.Created);

        // The order, imported as the ERP exports it: a row per line, the consignee by its GLN; three lines, one for any lot.
        var orderCsv = "number,type,shipTo,shipToLocation,gtin,lot,quantity\n" +
                       $"SO-2026-0001,outbound,{dealerGln},{store},{a},L1,100\n" +
                       $"SO-2026-0001,,,,{b},,100\n" +
                       $"SO-2026-0001,,,,{c},L3,30\n";
        (await ImportTests.ResultAsync(await ImportTests.PostCsvAsync(maker, "orders", orderCsv))).Should().BeEquivalentTo(new { Rows = 3, Created = 1, Refused = 0 });
        (await ImportTests.ResultAsync(await ImportTests.PostCsvAsync(maker, "orders", orderCsv))).Unchanged.Should().Be(1, "re-sending the ERP's file changes nothing");
        var imported = await OkAsync<JsonObject>(await maker.GetAsync($"/api/v1/orders?status=open&shipTo={dealerId}"));
        var order = await OkAsync<OrderView>(await maker.GetAsync($"/api/v1/orders/{(long)imported["items"]!.AsArray().Single()!["id"]!}"));
        (order.Number, order.ShipTo).Should().Be(("SO-2026-0001", dealerId));
        var bad = await maker.PostAsJsonAsync("/api/v1/orders", new { number = "SO-1", shipTo = dealerId, lines = new object[] { new { gtin = a, quantity = 0 }, new { gtin = "123", quantity = 1 } } });
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await TraceService.JsonAsync(bad))["errors"]!.AsArray().Select(e => (string)e!["field"]!).Should().Equal("lines[0].quantity", "lines[1].gtin");
        order.Status.Should().Be("open");
        order.ShipToLocation.Should().Be(TracingDocs.SglnDigitalLink("00010"));
        order.Lines.Select(l => (l.Line, l.Gtin, l.Lot, l.Expected, l.Scanned)).Should().Equal((1, a, "L1", 100L, 0L), (2, b, null, 100L, 0L), (3, c, "L3", 30L, 0L));
        (await maker.PostAsJsonAsync("/api/v1/orders", new { number = "SO-2026-0001", shipTo = dealerId, lines = new[] { new { gtin = a, quantity = 1 } } }))
            .StatusCode.Should().Be(HttpStatusCode.Conflict);
        var scans = $"/api/v1/orders/{order.Id}/scans";

        // Every form a scanner sends: Digital Link, EPC URN, bracketed and raw element strings behind a symbology identifier.
        string Form(string epc, string gtin, string lot, int i)
        {
            var serial = epc[(epc.LastIndexOf('/') + 1)..];
            return (i % 5) switch
            {
                0 => epc,
                1 => TracingDocs.SgtinUrn(gtin, serial),
                2 => $"(01){gtin}(10){lot}(21){serial}",
                3 => $"]d201{gtin}21{serial}\u001d10{lot}",
                _ => $"]Q301{gtin}10{lot}\u001d21{serial}",
            };
        }

        // First batch: 200 codes.
        var batch = new List<(string Code, string Verdict)>();
        batch.AddRange(ua[..100].Select((e, i) => (Form(e, a, "L1", i), "accepted")));
        batch.AddRange(ub[..90].Select((e, i) => (Form(e, b, "L2", i), "accepted")));
        batch.Add(($"(00){caseEpc[^18..]}", "accepted"));
        batch.AddRange(uc[10..12].Select((e, i) => (Form(e, c, "L3", i), "accepted")));
        batch.Add((wrong, "not-on-order"));
        batch.Add((TracingDocs.SgtinUrn(a, "R0001"), "recalled-unit"));
        batch.Add((foreign, "not-holder"));
        batch.Add(($"(01){a}(21)A0001", "duplicate"));
        batch.Add((Form(ua[100], a, "L1", 3), "line-complete"));
        batch.Add((TracingDocs.Unit(a, "NEVER1"), "unknown-code"));
        batch.Add(("(01)12345(21)X", "invalid-code"));
        batch.Should().HaveCount(200);
        var first = await OkAsync<ScanResult>(await maker.PostAsJsonAsync(scans, new { codes = batch.Select(s => s.Code) }));
        first.Verdicts.Select(v => (v.Code, v.Verdict)).Should().Equal(batch);
        first.Verdicts.Single(v => v.Code.StartsWith("(00)", StringComparison.Ordinal)).Units.Should().Be(10, "a case counts its contents");
        first.Verdicts.Where(v => v.Verdict != "accepted").Should().OnlyContain(v => !string.IsNullOrEmpty(v.Message));
        (first.Accepted, first.Refused, first.UnitsShipped, first.Status).Should().Be((193, 7, 202, "in_progress"));
        first.Lines.Select(l => l.Scanned).Should().Equal(100, 90, 12);
        first.BizTransaction.Should().Be($"urn:epcglobal:cbv:bt:{TracingDocs.Gln("00900")}:SO-2026-0001");

        // One code at a time, as a handheld sends it.
        var single = await OkAsync<ScanResult>(await maker.PostAsJsonAsync(scans, new { code = $"]d201{b}21B0091\u001d10L2" }));
        single.Verdicts.Should().ContainSingle().Which.Verdict.Should().Be("accepted");

        // Second batch: 49 codes, the rest of the order, scans repeated from the first batch, over-quantity.
        var rest = new List<(string Code, string Verdict)>();
        rest.AddRange(ub[91..100].Select(e => (e, "accepted")));
        rest.AddRange(uc[12..30].Select(e => (e, "accepted")));
        rest.AddRange(ua[..20].Select(e => (e, "duplicate")));
        rest.AddRange(ua[101..103].Select(e => (e, "line-complete")));
        (batch.Count + 1 + rest.Count).Should().Be(250);
        var second = await OkAsync<ScanResult>(await maker.PostAsJsonAsync(scans, new { codes = rest.Select(s => s.Code) }));
        second.Verdicts.Select(v => (v.Code, v.Verdict)).Should().Equal(rest);
        second.Status.Should().Be("completed");
        second.Lines.Select(l => (l.Expected, l.Scanned)).Should().Equal((100L, 100L), (100L, 100L), (30L, 30L));

        // Completed: nothing more is scanned, nor cancelled; the consignee and other members do not scan.
        (await maker.PostAsJsonAsync(scans, new { code = ua[105] })).StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await maker.PostAsync($"/api/v1/orders/{order.Id}/cancel", null)).StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await dealer.PostAsJsonAsync(scans, new { code = ua[105] })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await otherMaker.GetAsync($"/api/v1/orders/{order.Id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var listed = await OkAsync<JsonObject>(await dealer.GetAsync($"/api/v1/orders?status=completed&shipTo={dealerId}"));
        listed["items"]!.AsArray().Select(o => (long)o!["id"]!).Should().Equal(order.Id);

        // The units are on their way to the dealer, each shipping event names the order.
        var trace = (await TracingDocs.GetAsync(maker, $"/api/v1/batches/trace?gtin={a}&lot=L1")).Body!;
        ((int)trace["byStatus"]!["in_transit"]!).Should().Be(100);
        foreach (var sequence in new[] { first.EventSequence!.Value, single.EventSequence!.Value, second.EventSequence!.Value })
        {
            var e = (await TracingDocs.GetAsync(regulator, $"/api/v1/events/{sequence}")).Body!["event"]!;
            ((string)e["bizStep"]!).Should().EndWith("shipping");
            ((string)e["bizTransactionList"]![0]!["bizTransaction"]!).Should().Be(first.BizTransaction);
        }

        // The dealer receives: the case by scanning it, then everything else at once.
        (await maker.PostAsJsonAsync($"/api/v1/orders/{order.Id}/receive", new { })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var notShipped = await dealer.PostAsJsonAsync($"/api/v1/orders/{order.Id}/receive", new { codes = new[] { ua[105] } });
        notShipped.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        ((string)(await TraceService.JsonAsync(notShipped))["errors"]![0]!["epc"]!).Should().Be(ua[105]);
        var byCase = await OkAsync<ReceiveResult>(await dealer.PostAsJsonAsync($"/api/v1/orders/{order.Id}/receive", new { codes = new[] { caseEpc } }));
        byCase.UnitsReceived.Should().Be(10);
        byCase.Lines.Select(l => l.Received).Should().Equal(0, 0, 10);
        var all = await OkAsync<ReceiveResult>(await dealer.PostAsJsonAsync($"/api/v1/orders/{order.Id}/receive", new { }));
        all.UnitsReceived.Should().Be(220);
        all.Lines.Select(l => l.Received).Should().Equal(100, 100, 30);
        (await dealer.PostAsJsonAsync($"/api/v1/orders/{order.Id}/receive", new { })).StatusCode.Should().Be(HttpStatusCode.Conflict);
        var received = (await TracingDocs.GetAsync(regulator, $"/api/v1/events/{all.EventSequence}")).Body!["event"]!;
        ((string)received["bizStep"]!).Should().EndWith("receiving");
        ((string)received["bizTransactionList"]![0]!["bizTransaction"]!).Should().Be(first.BizTransaction);

        // The dealer sells five; stock by product, lot and location for each who may see it.
        await TracingDocs.AcceptedAsync(dealer, Now(docs.Sell(store, ua[..5])));
        var storeLink = TracingDocs.SglnDigitalLink("00010");
        var dealerStock = await OkAsync<StockView>(await dealer.GetAsync("/api/v1/stock"));
        dealerStock.Items.Select(r => (r.Holder, r.Gtin, r.Lot, r.Location, r.Quantity)).Should().Equal(
            (dealerId, a, "L1", storeLink, 95L), (dealerId, b, "L2", storeLink, 100L), (dealerId, c, "L3", storeLink, 30L));
        (await OkAsync<StockView>(await dealer.GetAsync($"/api/v1/stock?gtin={b}"))).Total.Should().Be(100);
        (await dealer.GetAsync($"/api/v1/stock?holder={makerId}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var makerStock = await OkAsync<StockView>(await maker.GetAsync($"/api/v1/stock?holder={makerId}"));
        makerStock.Items.Select(r => (r.Gtin, r.Lot, r.Quantity)).Should().Equal((a, "L1", 10L), (c, "L3", 10L), (d, "L1", 1L));
        (await OkAsync<StockView>(await maker.GetAsync($"/api/v1/stock?holder={dealerId}"))).Total.Should().Be(225, "a manufacturer sees its products at every holder");
        (await OkAsync<StockView>(await otherMaker.GetAsync($"/api/v1/stock?holder={dealerId}"))).Total.Should().Be(0);
        (await OkAsync<StockView>(await regulator.GetAsync("/api/v1/stock"))).Total.Should().Be(225 + 21 + 1);

        // Batch trace counts holders the same way, with the sold units apart.
        trace = (await TracingDocs.GetAsync(maker, $"/api/v1/batches/trace?gtin={a}&lot=L1")).Body!;
        trace["byHolder"]!.AsArray().Select(h => ((string)h!["memberId"]!, (int)h["count"]!, (int)h["sold"]!)).Should().Equal((dealerId, 95, 5), (makerId, 10, 0));

        // Movements per day: in and out.
        var day = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8));
        var period = $"from={day.AddDays(-1):yyyy-MM-dd}&to={day.AddDays(1):yyyy-MM-dd}";
        var dealerMoves = await OkAsync<MovementsView>(await dealer.GetAsync($"/api/v1/stock/movements?{period}"));
        (dealerMoves.In, dealerMoves.Out).Should().Be((230, 5));
        var makerMoves = await OkAsync<MovementsView>(await maker.GetAsync($"/api/v1/stock/movements?holder={makerId}&{period}"));
        (makerMoves.In, makerMoves.Out).Should().Be((252, 230));
        (await dealer.GetAsync($"/api/v1/stock/movements?holder={makerId}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await dealer.GetAsync("/api/v1/stock/movements?from=2026-13-01")).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        // The inspector's lookup of the scenario's codes: what was scanned out names its order, ship date and dealer (with its
        // territory); what was not names neither; another manufacturer's code and a code never issued are rows with a rule.
        var shipDate = DateTimeOffset.Parse((string)(await TracingDocs.GetAsync(regulator, $"/api/v1/events/{first.EventSequence}")).Body!["recordTime"]!,
            CultureInfo.InvariantCulture);
        var looked = await OkAsync<JsonObject>(await maker.PostAsJsonAsync("/api/v1/codes/lookup",
            new[] { ua[0], $"(01){a}(10)L1(21)A0006", uc[0], ua[105], recalled, foreign, TracingDocs.Unit(a, "NEVER1") }));
        var rows = looked["rows"]!.AsArray().Select(r => r!.AsObject()).ToList();
        rows.Select(r => ((string?)r["status"], (string?)r["holder"]?["id"], (string?)r["regionCode"], (string?)r["orderNumber"], (string?)r["dealer"]?["id"], (string?)r["rule"]))
            .Should().Equal(
                ("sold", dealerId, "310115", "SO-2026-0001", dealerId, null),
                ("at_holder", dealerId, "310115", "SO-2026-0001", dealerId, null),
                ("at_holder", dealerId, "310115", "SO-2026-0001", dealerId, null),
                ("commissioned", makerId, "320506", null, null, null),
                ("recalled", makerId, "320506", null, null, null),
                (null, null, null, null, null, "not-visible"),
                (null, null, null, null, null, "unknown-code"));
        rows.Take(3).Should().OnlyContain(r => DateTimeOffset.Parse((string)r["shipDate"]!, CultureInfo.InvariantCulture) == shipDate && !(bool)r["diverted"]!);
        ((string)rows[1]["product"]!["name"]!, (string)rows[1]["lot"]!, (string)rows[1]["serial"]!, (string)rows[1]["manufacturer"]!["id"]!)
            .Should().Be(("Milk 1 L", "L1", "A0006", makerId), "the product's name as the ERP import gave it");
        ((string)rows[1]["dealer"]!["gln"]!, rows[1]["dealer"]!["territory"]!.AsArray().Select(t => (string)t!).Single()).Should().Be((dealerGln, "310115"));

        // Anchored: the shipping events' bundles verify against the chain.
        (await svc.AnchorAsync()).Status.Should().Be(200);
        foreach (var sequence in new[] { first.EventSequence!.Value, single.EventSequence!.Value, second.EventSequence!.Value, all.EventSequence })
        {
            var bundle = await TraceService.JsonAsync(await svc.Admin.GetAsync($"/api/v1/events/{sequence}/proof"));
            var result = await new BundleVerifier(Http).VerifyAsync(bundle, new ChainOptions(chain.Node.RpcUrl));
            result.Verified.Should().BeTrue(result.ToLine());
        }
    }

    [Fact]
    public async Task RefusesBadScansAndCancelsAnOpenOrderWritingNothingHalfway()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (maker, _) = await svc.MemberAsync("manufacturer", "Maker");
        var (dealer, dealerId) = await svc.MemberAsync("dealer", "Dealer");
        var plant = TracingDocs.Sgln("00001");
        await TracingDocs.LocationAsync(maker, plant, "Plant", "320506");
        var gtin = TracingDocs.Gtin("00001");
        await TracingDocs.ProductAsync(maker, gtin, "Milk");
        var units = Enumerable.Range(1, 3).Select(i => TracingDocs.Unit(gtin, $"S{i}")).ToArray();
        await TracingDocs.AcceptedAsync(maker, Now(docs.Commission("L1", plant, units)));

        var refused = await maker.PostAsJsonAsync("/api/v1/orders", new { number = "SO-9", shipTo = "m_nobody", shipToLocation = TracingDocs.Sgln("00009"), lines = new[] { new { gtin, quantity = 1 } } });
        refused.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await TraceService.JsonAsync(refused))["errors"]!.AsArray().Select(e => (string)e!["field"]!).Should().Equal("shipTo", "shipToLocation");
        svc.Scalar("SELECT COUNT(*) FROM orders").Should().Be(0);

        var order = await OkAsync<OrderView>(await maker.PostAsJsonAsync("/api/v1/orders", new { number = "SO-10", shipTo = dealerId, lines = new[] { new { gtin, quantity = 2 } } }),
            HttpStatusCode.Created);
        var scans = $"/api/v1/orders/{order.Id}/scans";
        (await maker.PostAsJsonAsync(scans, new { })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await maker.PostAsJsonAsync(scans, new { codes = Enumerable.Repeat(units[0], 10_001) })).StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await maker.PostAsJsonAsync("/api/v1/orders/999999/scans", new { code = units[0] })).StatusCode.Should().Be(HttpStatusCode.NotFound);

        // Nothing accepted: no event, nothing counted.
        var events = svc.Scalar("SELECT COUNT(*) FROM events");
        var none = await OkAsync<ScanResult>(await maker.PostAsJsonAsync(scans, new { codes = new[] { "nonsense", TracingDocs.Unit(gtin, "NOPE") } }));
        none.Verdicts.Select(v => v.Verdict).Should().Equal("invalid-code", "unknown-code");
        none.EventSequence.Should().BeNull();
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(events);

        // Cancelled after one unit: the shipped unit stays shipped, nothing more is scanned.
        var partial = await OkAsync<ScanResult>(await maker.PostAsJsonAsync(scans, new { code = units[0] }));
        partial.Status.Should().Be("in_progress");
        var cancelled = await OkAsync<OrderView>(await maker.PostAsync($"/api/v1/orders/{order.Id}/cancel", null));
        cancelled.Status.Should().Be("cancelled");
        cancelled.Scanned.Should().Be(1);
        (await maker.PostAsJsonAsync(scans, new { code = units[1] })).StatusCode.Should().Be(HttpStatusCode.Conflict);
        svc.Scalar("SELECT COUNT(*) FROM order_units").Should().Be(1);
    }
}
