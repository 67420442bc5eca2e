using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Hostile;

/// <summary>Findings of the hostile test of the running service, each tried again over HTTP (beyond the corpus' status checks).</summary>
[Collection(ChainCollection.Name)]
public sealed class HostileFindingsTests(ChainFixture chain)
{
    private const string Plant = "urn:epc:id:sgln:0614141.00777.0";

    [Fact]
    public async Task AMemberCannotTakeOverAnotherMembersLocationByPostingItsId()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, makerId) = await svc.MemberAsync("manufacturer");
        var (rival, _) = await svc.MemberAsync("manufacturer");
        var (dealer, _) = await svc.MemberAsync("dealer");
        (await maker.PostAsJsonAsync("/api/v1/locations", new { id = Plant, name = "Pudong plant", regionCode = "310115" })).StatusCode.Should().Be(HttpStatusCode.Created);

        foreach (var attacker in new[] { rival, dealer })
        {
            var takeover = await attacker.PostAsJsonAsync("/api/v1/locations", new { id = Plant, name = "mine now", regionCode = "440300" });
            (await takeover.ReadProblemAsync(HttpStatusCode.Conflict)).Problem.Detail.Should().Contain("another member");
        }
        svc.Text("SELECT member_id || '|' || name || '|' || region_code FROM locations").Should().Be($"{makerId}|Pudong plant|310115");
        (await maker.PostAsJsonAsync("/api/v1/locations", new { id = Plant, name = "Pudong plant 2", regionCode = "310115" })).StatusCode.Should().Be(HttpStatusCode.OK, "the owner updates its own");
        (await svc.Admin.PostAsJsonAsync("/api/v1/locations", new { id = Plant, name = "Pudong plant", regionCode = "310115", memberId = makerId }))
            .StatusCode.Should().Be(HttpStatusCode.OK, "the operator keeps the register");
    }

    [Fact]
    public async Task AMemberThatDeclaredCompanyPrefixesRegistersKeysUnderThemOnly()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, makerId) = await svc.MemberAsync("manufacturer");
        var (rival, rivalId) = await svc.MemberAsync("manufacturer");
        (await maker.PatchAsJsonAsync($"/api/v1/members/{makerId}", new { companyPrefixes = new[] { "0614141" } })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await rival.PatchAsJsonAsync($"/api/v1/members/{makerId}", new { companyPrefixes = Array.Empty<string>() })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await rival.PatchAsJsonAsync($"/api/v1/members/{rivalId}", new { companyPrefixes = new[] { "06141410" } })).StatusCode.Should().Be(HttpStatusCode.Conflict, "one member per prefix");

        (await maker.PostAsJsonAsync("/api/v1/products", new { gtin = "10614141073464", name = "UHT milk" })).StatusCode.Should().Be(HttpStatusCode.Created);
        var outside = await maker.PostAsJsonAsync("/api/v1/products", new { gtin = "10614143000000", name = "not ours" });
        var (_, errors) = await outside.ReadProblemAsync(HttpStatusCode.UnprocessableEntity);
        errors[0].Field.Should().Be("gtin");
        errors[0].Rule.Should().Be("company-prefix");
        (await maker.PostAsJsonAsync("/api/v1/locations", new { id = "urn:epc:id:sgln:0614143.00001.0", name = "x", regionCode = "310115" }))
            .StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await maker.PostAsJsonAsync("/api/v1/locations", new { id = Plant, name = "plant", regionCode = "310115" })).StatusCode.Should().Be(HttpStatusCode.Created);

        var under = await rival.PostAsJsonAsync("/api/v1/products", new { gtin = "10614141000002", name = "under the maker's prefix" });
        under.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity, "a member without prefixes still cannot register under another's");
        svc.Scalar("SELECT COUNT(*) FROM products").Should().Be(1);
        svc.Text($"SELECT company_prefixes FROM members WHERE id = '{makerId}'").Should().Be("0614141");
    }

    [Fact]
    public async Task CsvCellsThatASpreadsheetWouldRunAreNeutralised()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        (await maker.PostAsJsonAsync("/api/v1/products", new { gtin = "10614141073464", name = "=HYPERLINK(\"http://evil\")" })).EnsureSuccessStatusCode();
        (await maker.PostAsJsonAsync("/api/v1/locations", new { id = Plant, name = "@SUM(A1:A9)", regionCode = "310115" })).EnsureSuccessStatusCode();
        var e = HostileWorld.Event("urn:epc:id:sgtin:0614141.107346.CSV1");
        e["bizTransactionList"] = new JsonArray(new JsonObject { ["type"] = "po", ["bizTransaction"] = "urn:epcglobal:cbv:bt:0614141000005:-1+1" });
        (await TraceService.CaptureAsync(maker, HostileWorld.Document(e).ToJsonString())).StatusCode.Should().Be(HttpStatusCode.Created);
        var recall = await (await maker.PostAsJsonAsync("/api/v1/recalls", new { gtin = "10614141073464", lot = "L1", reason = "+cmd" }))
            .ReadAsync<Traceability.Api.Features.Recall.RecallLot.RecallResponse>(HttpStatusCode.Created);

        var csv = await maker.GetStringAsync($"/api/v1/recalls/{recall.Id}/export.csv");
        var row = csv.Split('\n')[1];
        row.Should().Contain("'=HYPERLINK").And.Contain("'@SUM(A1:A9)");
        foreach (var cell in row.Split(',')) cell.TrimStart('"').Should().NotMatchRegex("^[=+@\t\r]", row);
    }

    [Fact]
    public async Task HealthShowsBusinessCountsOnlyToAdminAndRegulators()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var (regulator, _) = await svc.MemberAsync("regulator");
        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(2))).EnsureSuccessStatusCode();

        foreach (var client in new[] { svc.Client(), maker })
        {
            var health = await client.GetAnswerAsync<Traceability.Api.Features.Platform.PlatformApi.HealthResponse>("/health");
            health.Database.Status.Should().Be("ok");
            health.Database.Detail.Should().BeNull();
            (await client.GetStringAsync("/health")).Should().NotContain("events", "the whole answer as sent");
        }
        foreach (var client in new[] { svc.Admin, regulator })
            (await client.GetAnswerAsync<Traceability.Api.Features.Platform.PlatformApi.HealthResponse>("/health")).Database.Detail.Should().Be("2 events");
    }

    [Fact]
    public async Task HtmlAnswersCarryTheSecurityHeadersAndEveryAnswerNoSniff()
    {
        await using var svc = await chain.StartServiceAsync();
        using var anonymous = svc.Client();
        foreach (var path in new[] { "/01/10614141073464/21/NO-SUCH-CODE", "/swagger/index.html" })
        {
            var page = await anonymous.GetAsync(path);
            page.Content.Headers.ContentType!.MediaType.Should().Be("text/html", path);
            var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
            csp.Should().Contain("frame-ancestors 'none'").And.Contain("default-src 'self'").And.Contain("object-src 'none'");
            page.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
            page.Headers.GetValues("Referrer-Policy").Should().Equal("no-referrer");
            page.Headers.GetValues("X-Frame-Options").Should().Equal("DENY");
        }
        var json = await anonymous.GetAsync("/health");
        json.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
        json.Headers.Contains("Content-Security-Policy").Should().BeFalse("a JSON answer is not a page");
    }
}
