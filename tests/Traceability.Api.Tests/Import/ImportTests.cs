using System.Net;
using System.Net.Http.Json;
using System.Text;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Import;

/// <summary>The ERP import over HTTP on a real SQLite file: dealers, products (JSON and CSV), an order of three lines, dry runs, bad rows, re-imports.</summary>
[Collection(ChainCollection.Name)]
public sealed class ImportTests(ChainFixture chain)
{
    internal sealed record RowError(int Row, string Field, string Message, string? Rule);
    internal sealed record ImportResult(string Kind, bool DryRun, int Rows, int Created, int Updated, int Unchanged, int Refused, int ErrorCount, IReadOnlyList<RowError> Errors);

    /// <summary>A GTIN-14 under company prefix 0614141 (or another) with its check digit.</summary>
    internal static string Gtin(int item, string prefix = "0614141") => WithCheckDigit("1" + prefix + item.ToString("D5"));

    internal static string WithCheckDigit(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++) sum += (digits[digits.Length - 1 - i] - '0') * (i % 2 == 0 ? 3 : 1);
        return digits + (char)('0' + (10 - sum % 10) % 10);
    }

    internal static Task<HttpResponseMessage> PostCsvAsync(HttpClient client, string kind, string csv, bool dryRun = false) =>
        client.PostAsync($"/api/v1/import/{kind}{(dryRun ? "?dryRun=true" : "")}", new StringContent(csv, Encoding.UTF8, "text/csv"));

    internal static Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string kind, object rows, bool dryRun = false) =>
        client.PostAsJsonAsync($"/api/v1/import/{kind}{(dryRun ? "?dryRun=true" : "")}", rows);

    internal static async Task<ImportResult> ResultAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        response.StatusCode.Should().Be(expected, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ImportResult>())!;
    }

    [Fact]
    public async Task ImportsDealersProductsAndAnOrderOfThreeLines()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, makerId) = await svc.MemberAsync("manufacturer", "Acme Dairy", "0614141000005");

        var dealers = await ResultAsync(await PostJsonAsync(maker, "dealers", new object[]
        {
            new { gln = "6901234000016", name = "杭州经销商 Hangzhou Dealer", regionCodes = new[] { "330100" }, address = "西湖区 1 号" },
            new { gln = "6901234000023", name = "深圳经销商 Shenzhen Dealer", regionCodes = new[] { "440300", "440100" } },
        }));
        dealers.Should().BeEquivalentTo(new { Kind = "dealers", Rows = 2, Created = 2, Updated = 0, Unchanged = 0, Refused = 0 });
        svc.Text("SELECT region_codes FROM members WHERE gln = '6901234000023'").Should().Be("440300,440100");
        svc.Text("SELECT registered_by FROM members WHERE gln = '6901234000016'").Should().Be(makerId);
        svc.Text("SELECT role FROM members WHERE gln = '6901234000016'").Should().Be("dealer");
        svc.Scalar("SELECT COUNT(*) FROM member_keys k JOIN members m ON m.id = k.member_id WHERE m.gln = '6901234000016'").Should().Be(0, "an imported dealer gets its key from the operator");

        var csv = "gtin,name,description,attributes\r\n" +
                  $"{Gtin(1)},UHT milk 1 L,\"Whole milk, 3.5% fat\",\"{{\"\"fat\"\":\"\"3.5%\"\"}}\"\r\n" +
                  $"{Gtin(2)},\"Yoghurt \"\"Plain\"\" 500 g\",\"two\nlines\",\r\n" +
                  $"{Gtin(3)},Butter 250 g,,\r\n";
        var products = await ResultAsync(await PostCsvAsync(maker, "products", csv));
        products.Should().BeEquivalentTo(new { Kind = "products", Rows = 3, Created = 3, Refused = 0 });
        svc.Text($"SELECT name FROM products WHERE gtin = '{Gtin(2)}'").Should().Be("Yoghurt \"Plain\" 500 g");
        svc.Text($"SELECT description FROM products WHERE gtin = '{Gtin(2)}'").Should().Be("two\nlines");
        svc.Text($"SELECT attributes_json FROM products WHERE gtin = '{Gtin(1)}'").Should().Be("""{"fat":"3.5%"}""");
        svc.Text($"SELECT owner_member_id FROM products WHERE gtin = '{Gtin(3)}'").Should().Be(makerId);

        var order = await ResultAsync(await PostJsonAsync(maker, "orders", new object[]
        {
            new
            {
                number = "SO-2026-0001", type = "outbound", shipTo = "6901234000016",
                lines = new object[] { new { gtin = Gtin(1), lot = "L1", quantity = 100 }, new { gtin = Gtin(2), quantity = 50 }, new { gtin = Gtin(3), lot = "B7", quantity = 20 } },
            },
        }));
        order.Should().BeEquivalentTo(new { Kind = "orders", Rows = 1, Created = 1, Refused = 0 });
        var dealerId = svc.Text("SELECT id FROM members WHERE gln = '6901234000016'");
        svc.Text("SELECT ship_to FROM orders WHERE number = 'SO-2026-0001'").Should().Be(dealerId, "shipTo by GLN is the dealer member");
        svc.Scalar("SELECT COUNT(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.number = 'SO-2026-0001'").Should().Be(3);
        svc.Scalar("SELECT SUM(quantity) FROM order_lines").Should().Be(170);

        // The same order as CSV rows, one per line: unchanged; a second order in CSV form is created.
        var orderCsv = "number,type,shipTo,gtin,lot,quantity\n" +
                       $"SO-2026-0001,outbound,{dealerId},{Gtin(1)},L1,100\n" +
                       $"SO-2026-0001,,,{Gtin(2)},,50\n" +
                       $"SO-2026-0001,,,{Gtin(3)},B7,20\n" +
                       $"SO-2026-0002,outbound,6901234000023,{Gtin(1)},L2,10\n";
        var again = await ResultAsync(await PostCsvAsync(maker, "orders", orderCsv));
        again.Should().BeEquivalentTo(new { Rows = 4, Created = 1, Unchanged = 1, Updated = 0, Refused = 0 });
    }

    [Fact]
    public async Task DryRunWritesNothingAndEveryBadRowIsNamedARefusedFileWritesNothing()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var rows = new object[]
        {
            new { gtin = Gtin(1), name = "Good 1" },
            new { gtin = "10614141000013", name = "Bad check digit" },
            new { gtin = Gtin(3) },
            new { gtin = Gtin(4), name = "Attributes not an object", attributes = new[] { 1, 2 } },
            new { gtin = Gtin(1), name = "Duplicate of row 1" },
            new { gtin = Gtin(6), name = "Unknown field", colour = "red" },
            new { gtin = Gtin(7), name = new string('n', 201) },
        };
        var dry = await ResultAsync(await PostJsonAsync(maker, "products", rows, dryRun: true));
        dry.DryRun.Should().BeTrue();
        dry.Should().BeEquivalentTo(new { Rows = 7, Created = 1, Refused = 6 });
        dry.Errors.Select(e => (e.Row, e.Field)).Should().BeEquivalentTo([(2, "gtin"), (3, "name"), (4, "attributes"), (5, "gtin"), (6, "colour"), (7, "name")]);
        dry.Errors.Single(e => e.Row == 5).Rule.Should().Be("duplicate");
        svc.Scalar("SELECT COUNT(*) FROM products").Should().Be(0, "a dry run writes nothing");

        var refused = await maker.PostAsJsonAsync("/api/v1/import/products", rows);
        refused.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        refused.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = await TraceService.JsonAsync(refused);
        ((int)problem["refused"]!).Should().Be(6);
        problem["errors"]!.AsArray().Select(e => ((int)e!["row"]!, (string)e["field"]!)).Should().Contain((4, "attributes"));
        svc.Scalar("SELECT COUNT(*) FROM products").Should().Be(0, "a file with a refused row is not applied at all");

        var good = await ResultAsync(await PostJsonAsync(maker, "products", new[] { rows[0] }, dryRun: true));
        good.Should().BeEquivalentTo(new { Created = 1, Refused = 0, ErrorCount = 0 });
        svc.Scalar("SELECT COUNT(*) FROM products").Should().Be(0);
    }

    [Fact]
    public async Task ReimportCountsUnchangedAndUpdatedAndFiveThousandRowsGoInOneFile()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var csv = new StringBuilder("gtin,name\n");
        for (var i = 0; i < 5_000; i++) csv.Append(Gtin(i)).Append(",Product ").Append(i).Append('\n');
        (await ResultAsync(await PostCsvAsync(maker, "products", csv.ToString()))).Should().BeEquivalentTo(new { Rows = 5_000, Created = 5_000, Refused = 0 });
        svc.Scalar("SELECT COUNT(*) FROM products").Should().Be(5_000);

        (await ResultAsync(await PostCsvAsync(maker, "products", csv.ToString()))).Should().BeEquivalentTo(new { Created = 0, Updated = 0, Unchanged = 5_000 });
        var changed = csv.ToString().Replace($"{Gtin(42)},Product 42\n", $"{Gtin(42)},Product 42 (new label)\n");
        (await ResultAsync(await PostCsvAsync(maker, "products", changed))).Should().BeEquivalentTo(new { Created = 0, Updated = 1, Unchanged = 4_999 });
        svc.Text($"SELECT name FROM products WHERE gtin = '{Gtin(42)}'").Should().Be("Product 42 (new label)");

        var locations = await ResultAsync(await PostJsonAsync(maker, "locations", new object[]
        {
            new { id = "urn:epc:id:sgln:0614141.00777.0", name = "Pudong plant", regionCode = "310115" },
            new { id = "https://id.gs1.org/414/0614141007783", name = "Warehouse", regionCode = "310112" },
        }));
        locations.Should().BeEquivalentTo(new { Created = 2, Refused = 0 });
        svc.Text("SELECT name FROM locations WHERE id = 'https://id.gs1.org/414/0614141007776'").Should().Be("Pudong plant");
        (await ResultAsync(await PostJsonAsync(maker, "locations", new object[]
        {
            new { id = "https://id.gs1.org/414/0614141007776", name = "Pudong plant", regionCode = "310115" },
        }))).Unchanged.Should().Be(1, "an SGLN URN and its Digital Link are one location");
    }

    [Fact]
    public async Task AMemberImportsItsOwnMasterDataOnly()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer", "Acme");
        var created = await svc.Admin.PostAsJsonAsync("/api/v1/members", new { name = "Prefixed Co.", role = "manufacturer", companyPrefixes = new[] { "0614142" } });
        using var prefixed = svc.Client((string)(await TraceService.JsonAsync(created))["apiKey"]!);
        (await ResultAsync(await PostJsonAsync(maker, "products", new[] { new { gtin = Gtin(1), name = "Acme milk" } }))).Created.Should().Be(1);

        var other = await ResultAsync(await PostJsonAsync(prefixed, "products", new object[]
        {
            new { gtin = Gtin(1), name = "Not mine" },
            new { gtin = Gtin(2), name = "Outside my prefix" },
            new { gtin = Gtin(3, "0614142"), name = "Mine" },
        }), HttpStatusCode.UnprocessableEntity);
        other.Errors.Select(e => (e.Row, e.Field, e.Rule)).Should().BeEquivalentTo([(1, "gtin", "owner"), (2, "gtin", "company-prefix")]);
        svc.Scalar($"SELECT COUNT(*) FROM products WHERE gtin = '{Gtin(3, "0614142")}'").Should().Be(0);

        // Dealers: one registered by the maker is the maker's to change; the other manufacturer may not change it.
        (await ResultAsync(await PostJsonAsync(maker, "dealers", new[] { new { gln = "6901234000016", name = "Hangzhou Dealer", regionCodes = "330100" } }))).Created.Should().Be(1);
        (await ResultAsync(await PostJsonAsync(prefixed, "dealers", new[] { new { gln = "6901234000016", name = "Hangzhou Dealer", regionCodes = "330100" } })))
            .Unchanged.Should().Be(1, "saying the same about another's dealer changes nothing");
        var takeover = await ResultAsync(await PostJsonAsync(prefixed, "dealers", new[] { new { gln = "6901234000016", name = "Renamed", regionCodes = "330100" } }),
            HttpStatusCode.UnprocessableEntity);
        takeover.Errors.Should().ContainSingle().Which.Rule.Should().Be("owner");
        var bad = await ResultAsync(await PostJsonAsync(maker, "dealers", new object[]
        {
            new { gln = "6901234000018", name = "Bad check digit", regionCodes = "330100" },
            new { gln = "6901234000030", name = "No territory" },
            new { gln = "6901234000047", name = "Unknown region", regionCodes = "330100;999999" },
        }, dryRun: true));
        bad.Errors.Select(e => (e.Row, e.Field)).Should().BeEquivalentTo([(1, "gln"), (2, "regionCodes"), (3, "regionCodes")]);

        var (dealer, _) = await svc.MemberAsync("dealer");
        (await PostJsonAsync(dealer, "products", new[] { new { gtin = Gtin(9), name = "x" } })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await PostJsonAsync(maker, "widgets", new[] { new { gtin = Gtin(9) } })).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await maker.PostAsync("/api/v1/import/products", new StringContent("<x/>", Encoding.UTF8, "application/xml"))).StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        var unknownColumn = await PostCsvAsync(maker, "products", "gtin,name,colour\n" + Gtin(9) + ",x,red\n");
        unknownColumn.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await TraceService.JsonAsync(unknownColumn))["errors"]![0]!["field"]!.GetValue<string>().Should().Be("colour");
        var notAnArray = await maker.PostAsync("/api/v1/import/products", new StringContent("{\"gtin\":1}", Encoding.UTF8, "application/json"));
        notAnArray.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }
}
