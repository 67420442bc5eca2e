using System.Net;
using System.Net.Http.Json;
using System.Text;
using Traceability.Api.Tests.Support;
using Traceability.Testing;
using static Traceability.Api.Tests.Import.ImportTests;

namespace Traceability.Api.Tests.Import;

/// <summary>The import, the keys and the lookup on PostgreSQL (TRACE_DB): the same SQL, and revocation without the SQLite cache.</summary>
[Collection(ChainCollection.Name)]
public sealed class ErpOnPostgresTests(ChainFixture chain)
{
    private sealed record IssuedKey(string Id, string Label, DateTimeOffset CreatedAt, string ApiKey);

    [PostgresFact]
    public async Task ImportsRevokesAndLooksUpOnPostgres()
    {
        var database = await Postgres.NewDatabaseAsync();
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        await using var svc = chain.Start(chain.Folders.Create("trace-pg-erp-"), registry, new Dictionary<string, string> { ["TRACE_DB"] = database });
        var (maker, makerId) = await svc.MemberAsync("manufacturer");

        var csv = new StringBuilder("gtin,name,attributes\n");
        for (var i = 0; i < 1_200; i++) csv.Append(Gtin(i)).Append(",Product ").Append(i).Append(i % 2 == 0 ? ",\"{\"\"a\"\":1}\"\n" : ",\n");
        (await ResultAsync(await PostCsvAsync(maker, "products", csv.ToString()))).Should().BeEquivalentTo(new { Created = 1_200, Refused = 0 });
        (await ResultAsync(await PostCsvAsync(maker, "products", csv.ToString()))).Unchanged.Should().Be(1_200);
        (await Postgres.ScalarAsync(database, "SELECT COUNT(*) FROM products")).Should().Be(1_200);
        (await ResultAsync(await PostJsonAsync(maker, "dealers", new[] { new { gln = "6901234000016", name = "Hangzhou Dealer", regionCodes = "330100" } }))).Created.Should().Be(1);
        (await ResultAsync(await PostJsonAsync(maker, "orders", new[] { new { number = "SO-1", shipTo = "6901234000016", lines = new[] { new { gtin = Gtin(1), quantity = 3 } } } })))
            .Created.Should().Be(1);
        var refused = await PostJsonAsync(maker, "products", new[] { new { gtin = Gtin(5_000), name = "new" }, new { gtin = "123", name = "bad" } });
        refused.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await Postgres.ScalarAsync(database, "SELECT COUNT(*) FROM products")).Should().Be(1_200);

        var second = (await (await maker.PostAsJsonAsync($"/api/v1/members/{makerId}/keys", new { label = "erp" })).Content.ReadFromJsonAsync<IssuedKey>())!;
        using var erp = svc.Client(second.ApiKey);
        (await erp.GetAsync("/api/v1/alerts")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await maker.DeleteAsync($"/api/v1/members/{makerId}/keys/{second.Id}")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await erp.GetAsync("/api/v1/alerts")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        var generated = await TraceService.JsonAsync(await maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = Gtin(1), lot = "L1", count = 1 }));
        var lookup = await TraceService.JsonAsync(await maker.PostAsJsonAsync("/api/v1/codes/lookup", new[] { (string)generated["codes"]![0]!["epc"]!, "nonsense" }));
        ((string)lookup["rows"]![0]!["status"]!).Should().Be("issued");
        ((string)lookup["rows"]![1]!["rule"]!).Should().Be("unreadable");
        (await TraceService.JsonAsync(await maker.GetAsync("/api/v1/codes/lookups")))["items"]!.AsArray().Should().HaveCount(1);
    }
}
