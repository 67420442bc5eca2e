using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Traceability.Api.Features.Members;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests;

[Collection(ChainCollection.Name)]
public sealed class MembersTests(ChainFixture chain)
{
    [Fact]
    public async Task CreatesMemberWithRoleAndReturnsItsKeyOnceStoredHashed()
    {
        await using var svc = await chain.StartServiceAsync();
        var body = await (await svc.Admin.PostAsJsonAsync("/api/v1/members", new { name = "Acme Dairy", role = "manufacturer", gln = "0614141000005", regionCodes = new[] { "310000" } }))
            .ReadAsync<MembersApi.CreateMemberResponse>(HttpStatusCode.Created);
        var key = body.ApiKey;
        body.Role.Should().Be("manufacturer");

        var stored = svc.Scalar($"SELECT COUNT(*) FROM member_keys WHERE key_hash = '{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}'");
        stored.Should().Be(1);
        svc.Scalar($"SELECT COUNT(*) FROM member_keys WHERE key_hash = '{key}'").Should().Be(0);
    }

    [Fact]
    public async Task AnswersUnauthorizedWithoutKeyAndForbiddenForWrongRole()
    {
        await using var svc = await chain.StartServiceAsync();
        using var anonymous = svc.Client();
        (await anonymous.PostAsJsonAsync("/api/v1/members", new { name = "x", role = "dealer" })).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        using var wrongKey = svc.Client("tk_not-a-key");
        (await TraceService.CaptureAsync(wrongKey, EpcisDocs.Commissioning(1))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        var (dealer, _) = await svc.MemberAsync("dealer");
        var forbidden = await dealer.PostAsJsonAsync("/api/v1/members", new { name = "x", role = "dealer" });
        forbidden.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await forbidden.Content.ReadAsStringAsync()).Should().Contain("dealer");
        (await dealer.PostAsJsonAsync("/api/v1/products", new { gtin = "00614141107346", name = "Milk" })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await dealer.PostAsync("/api/v1/anchors/run", null)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("""{"name":"","role":"dealer"}""", "name")]
    [InlineData("""{"name":"x","role":"wizard"}""", "role")]
    [InlineData("""{"name":"x","role":"dealer","gln":"12"}""", "gln")]
    [InlineData("""{"name":"x","role":"dealer","regionCodes":["31"]}""", "regionCodes")]
    public async Task RefusesBadMemberNamingTheField(string json, string field)
    {
        await using var svc = await chain.StartServiceAsync();
        var response = await svc.Admin.PostAsync("/api/v1/members", new StringContent(json, Encoding.UTF8, "application/json"));
        (await response.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors.Select(e => e.Field).Should().Contain(field);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task KeepsProductsAndLocationsMasterData()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, makerId) = await svc.MemberAsync("manufacturer");
        var product = await maker.PostAsJsonAsync("/api/v1/products", new { gtin = "10614141107343", name = "UHT Milk 1L", description = "Whole milk", attributes = new { fat = "3.5%" } });
        product.StatusCode.Should().Be(HttpStatusCode.Created);
        (await maker.PostAsJsonAsync("/api/v1/products", new { gtin = "10614141107344", name = "bad check digit" })).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        var body = await (await maker.PostAsJsonAsync("/api/v1/locations", new { id = "urn:epc:id:sgln:0614141.00777.0", name = "Plant 1", regionCode = "310115" }))
            .ReadAsync<MembersApi.LocationResponse>(HttpStatusCode.Created);
        body.Id.Should().Be("https://id.gs1.org/414/0614141007776");
        body.MemberId.Should().Be(makerId);
        var bad = await maker.PostAsJsonAsync("/api/v1/locations", new { id = "urn:epc:id:sgtin:0614141.107346.1", name = "x", regionCode = "3101" });
        (await bad.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors.Select(e => e.Field).Should().BeEquivalentTo(["id", "regionCode"]);
    }
}
