using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Codes;
using Traceability.Api.Tests.Consumer;
using Traceability.Api.Tests.Support;
using static Traceability.Api.Features.Inspection.CodeLookup;

namespace Traceability.Api.Tests.Codes;

/// <summary>The inspector's lookup over HTTP on a real SQLite file: each code's row (a diverted one among them), errors as rows, lookup counts, the lookups list.</summary>
[Collection(ChainCollection.Name)]
public sealed class CodeLookupTests(ChainFixture chain)
{
    [Fact]
    public async Task LooksUpCodesRowByRowWithTheDivertedOneAndKeepsEachLookup()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var svc = setup.Service;
        var (c1, c2, c3) = (await setup.CommissionedAsync(), await setup.CommissionedAsync(), await setup.CommissionedAsync());
        var (_, dealerId) = await setup.ShipToDealerAsync("杭州经销商 Hangzhou Dealer", ["330100"], "00990", "330106", c1, c2);
        (await setup.ScanJsonAsync(ConsumerSetup.PathOf(c2), region: "440304")).Status.Should().Be(200); // a consumer in Shenzhen: outside Hangzhou

        // The outbound scanning records which order shipped a unit (order_units); here the order is imported and the row written as it would.
        var order = await setup.Maker.PostAsJsonAsync("/api/v1/import/orders", new[]
        {
            new { number = "SO-7", shipTo = dealerId, lines = new[] { new { gtin = setup.Gtin, quantity = 2 } } },
        });
        order.StatusCode.Should().Be(HttpStatusCode.OK, await order.Content.ReadAsStringAsync());
        svc.Execute("INSERT INTO order_units (order_id, epc, line_no, code, shipped_sequence, shipped_at) SELECT id, @e, 1, @c, 4, '2026-11-02T01:30:00.000Z' FROM orders WHERE number = 'SO-7'",
            ("@e", Canonical(c1)), ("@c", (string)c1["epc"]!));

        var (other, _) = await svc.MemberAsync("manufacturer", "Other Foods");
        var otherGtin = ConsumerSetup.NewGtin();
        (await other.PostAsJsonAsync("/api/v1/products", new { gtin = otherGtin, name = "Other juice" })).EnsureSuccessStatusCode();
        var foreign = (await (await other.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = otherGtin, lot = "X1", count = 1 })).ReadAsync<CodesApi.GenerateResponse>()).Codes[0];

        var text = string.Join(";", (string)c1["epc"]!, (string)c2["digitalLink"]!) + "\n" +
                   $"(01){setup.Gtin}(21){(string)c3["serial"]!}\r\n" +
                   $"https://id.gs1.org/01/{setup.Gtin}/21/NEVERISSUED1;hello;{foreign.Epc}\n";
        var first = await (await setup.Maker.PostAsync("/api/v1/codes/lookup", new StringContent(text, Encoding.UTF8, "text/plain"))).ReadAsync<LookupResponse>();
        first.Count.Should().Be(6);
        var rows = first.Rows;

        rows[0].Should().BeEquivalentTo(new
        {
            Position = 1, Error = (string?)null, Epc = Canonical(c1), Lot = ConsumerSetup.Lot, Serial = (string)c1["serial"]!, Status = "at_holder",
            OrderNumber = "SO-7", Diverted = false, PreviousLookups = 0,
        });
        rows[0].Product!.Gtin.Should().Be(setup.Gtin);
        rows[0].Product!.Name.Should().Contain("Organic Milk");
        rows[0].ProductionDate.Should().Be(DateTimeOffset.Parse("2026-11-01T08:00:00+08:00"));
        rows[0].ProductionDate!.Value.Offset.Should().Be(TimeSpan.FromHours(8));
        rows[0].Manufacturer!.Id.Should().Be(setup.MakerId);
        rows[0].Dealer.Should().BeEquivalentTo(new { Id = dealerId, Territory = new[] { "330100" } });
        rows[0].Holder!.Id.Should().Be(dealerId);
        rows[0].ShipDate.Should().Be(DateTimeOffset.Parse("2026-11-02T09:30:00+08:00"));
        rows[0].RegionsLastScanned.Should().BeEmpty();

        rows[1].Diverted.Should().BeTrue("a consumer scanned it in Shenzhen, outside the Hangzhou dealer's territory");
        rows[1].RegionsLastScanned.Should().Equal("440304");
        rows[1].Diversion.Should().Contain("440304");
        rows[1].OrderNumber.Should().BeNull();

        rows[2].Should().BeEquivalentTo(new { Error = (string?)null, Dealer = (DealerInfo?)null, Diverted = false, Status = "commissioned" });
        rows[2].Holder!.Id.Should().Be(setup.MakerId);
        rows[3].Rule.Should().Be("unknown-code");
        rows[4].Rule.Should().Be("unreadable");
        rows[4].Error.Should().NotBeNullOrEmpty();
        rows[5].Should().BeEquivalentTo(new { Rule = "not-visible", Product = (ProductInfo?)null, Dealer = (DealerInfo?)null });

        // Found in Shenzhen by the inspector: diverted, a diversion alert raised, and the earlier lookup counted.
        var second = await (await setup.Maker.PostAsJsonAsync("/api/v1/codes/lookup?region=440304", new[] { (string)c1["epc"]!, (string)c3["epc"]! }))
            .ReadAsync<LookupResponse>();
        second.Rows[0].Should().BeEquivalentTo(new { Diverted = true, PreviousLookups = 1 });
        second.Rows[1].Should().BeEquivalentTo(new { Diverted = false, PreviousLookups = 1 }, "a unit shipped to no dealer has no territory to leave");
        (await setup.AlertsAsync("diversion")).Select(a => ((string)a!["epc"]!, (string)a["detail"]!["source"]!)).Should().Contain((Canonical(c1), "lookup"));

        var (regulator, _) = await svc.MemberAsync("regulator", "SAMR");
        var asRegulator = await regulator.PostAsJsonAsync("/api/v1/codes/lookup", new[] { foreign.Epc });
        (await asRegulator.ReadAsync<LookupResponse>()).Rows[0].Should().BeEquivalentTo(new { Error = (string?)null, Status = "issued", PreviousLookups = 1 });

        var makerList = await setup.Maker.GetAnswerAsync<LookupPage>("/api/v1/codes/lookups");
        makerList.Items.Select(l => l.Id).Should().Equal(second.LookupId, first.LookupId);
        makerList.Items[1].Items.Select(i => i.Position).Should().Equal([1, 2, 3, 4], "a manufacturer sees its own products' codes of each lookup");
        makerList.Items[1].By.Id.Should().Be(setup.MakerId);
        var otherList = await other.GetAnswerAsync<LookupPage>("/api/v1/codes/lookups");
        otherList.Items.Should().HaveCount(2).And.OnlyContain(l => l.Items.Count == 1 && l.Items[0].Epc == Canonical(foreign.Epc));
        (await regulator.GetAnswerAsync<LookupPage>("/api/v1/codes/lookups")).Items.Should().HaveCount(3);

        var (dealerClient, _) = await svc.MemberAsync("dealer", "Some dealer");
        (await dealerClient.PostAsJsonAsync("/api/v1/codes/lookup", new[] { "x" })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var tooMany = await setup.Maker.PostAsJsonAsync("/api/v1/codes/lookup", Enumerable.Range(0, 501).Select(i => $"code{i}").ToArray());
        (await tooMany.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors[0].Field.Should().Be("codes");
    }

    private static string Canonical(JsonNode code) => Canonical((string)code["epc"]!);

    private static string Canonical(string epc) => Traceability.Ledger.Epcis.Gs1Identifiers.ToCanonicalDigitalLink(epc);
}
