using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Traceability.Api.Tests.Support;
using Traceability.Testing;

namespace Traceability.Api.Tests.Members;

/// <summary>Several API keys per member over HTTP on a real SQLite file: issue, list, revoke, deactivate, and the keys of a database made before.</summary>
[Collection(ChainCollection.Name)]
public sealed class MemberKeysTests(ChainFixture chain)
{
    private sealed record IssuedKey(string Id, string Label, DateTimeOffset CreatedAt, string ApiKey);
    private sealed record KeyInfo(string Id, string Label, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);
    private sealed record KeyList(string MemberId, IReadOnlyList<KeyInfo> Keys);
    private sealed record DeactivatedMember(string Id, string Name, string Role, DateTimeOffset DeactivatedAt, int KeysRefused);

    [Fact]
    public async Task MemberIssuesListsAndRevokesItsKeysARevokedKeyIsRefusedOnTheNextRequest()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, makerId) = await svc.MemberAsync("manufacturer");
        (await maker.GetAsync("/api/v1/alerts")).StatusCode.Should().Be(HttpStatusCode.OK); // the first key, used

        var issued = await maker.PostAsJsonAsync($"/api/v1/members/{makerId}/keys", new { label = "ERP sync" });
        issued.StatusCode.Should().Be(HttpStatusCode.Created);
        var second = (await issued.Content.ReadFromJsonAsync<IssuedKey>())!;
        second.Label.Should().Be("ERP sync");
        second.ApiKey.Should().StartWith("tk_");
        svc.Scalar($"SELECT COUNT(*) FROM member_keys WHERE key_hash = '{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(second.ApiKey)))}'").Should().Be(1);
        svc.Scalar($"SELECT COUNT(*) FROM member_keys WHERE key_hash = '{second.ApiKey}'").Should().Be(0, "keys are kept hashed");

        using var erp = svc.Client(second.ApiKey);
        (await erp.GetAsync("/api/v1/alerts")).StatusCode.Should().Be(HttpStatusCode.OK);

        var list = (await maker.GetFromJsonAsync<KeyList>($"/api/v1/members/{makerId}/keys"))!;
        list.Keys.Select(k => k.Label).Should().Equal("first key", "ERP sync");
        list.Keys.Should().OnlyContain(k => k.LastUsedAt != null && k.RevokedAt == null);
        list.Keys.Should().NotContain(k => k.Id == second.ApiKey);
        (await TraceService.JsonAsync(await maker.GetAsync($"/api/v1/members/{makerId}/keys"))).ToJsonString().Should().NotContain("tk_");

        var (other, otherId) = await svc.MemberAsync("manufacturer", "Other Co.");
        (await other.GetAsync($"/api/v1/members/{makerId}/keys")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await other.DeleteAsync($"/api/v1/members/{makerId}/keys/{second.Id}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await other.DeleteAsync($"/api/v1/members/{otherId}/keys/{second.Id}")).StatusCode.Should().Be(HttpStatusCode.NotFound, "a key is revoked under its own member");
        (await svc.Admin.GetAsync($"/api/v1/members/{makerId}/keys")).StatusCode.Should().Be(HttpStatusCode.OK);

        var revoked = await maker.DeleteAsync($"/api/v1/members/{makerId}/keys/{second.Id}");
        revoked.StatusCode.Should().Be(HttpStatusCode.OK);
        (await revoked.Content.ReadFromJsonAsync<KeyInfo>())!.RevokedAt.Should().NotBeNull();
        (await erp.GetAsync("/api/v1/alerts")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a revoked key is refused from the next request on");
        (await maker.GetAsync("/api/v1/alerts")).StatusCode.Should().Be(HttpStatusCode.OK, "the member's other key still works");
        (await maker.GetFromJsonAsync<KeyList>($"/api/v1/members/{makerId}/keys"))!.Keys.Single(k => k.Id == second.Id).RevokedAt.Should().NotBeNull();

        var longLabel = await maker.PostAsJsonAsync($"/api/v1/members/{makerId}/keys", new { label = new string('x', 101) });
        (await longLabel.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors[0].Field.Should().Be("label");
    }

    [Fact]
    public async Task DeactivatingAMemberRefusesAllItsKeysAtOnce()
    {
        await using var svc = await chain.StartServiceAsync();
        var (dealer, dealerId) = await svc.MemberAsync("dealer");
        var second = (await (await dealer.PostAsJsonAsync($"/api/v1/members/{dealerId}/keys", new { label = "PDA" })).Content.ReadFromJsonAsync<IssuedKey>())!;
        using var pda = svc.Client(second.ApiKey);
        (await dealer.GetAsync($"/api/v1/members/{dealerId}/keys")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await pda.GetAsync($"/api/v1/members/{dealerId}/keys")).StatusCode.Should().Be(HttpStatusCode.OK);

        (await dealer.PostAsync($"/api/v1/members/{dealerId}/deactivate", null)).StatusCode.Should().Be(HttpStatusCode.Forbidden, "only the operator deactivates");
        var deactivated = await svc.Admin.PostAsync($"/api/v1/members/{dealerId}/deactivate", null);
        deactivated.StatusCode.Should().Be(HttpStatusCode.OK);
        (await deactivated.Content.ReadFromJsonAsync<DeactivatedMember>())!.KeysRefused.Should().Be(2);

        (await dealer.GetAsync($"/api/v1/members/{dealerId}/keys")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await pda.GetAsync($"/api/v1/members/{dealerId}/keys")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await svc.Admin.PostAsJsonAsync($"/api/v1/members/{dealerId}/keys", new { label = "again" })).StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await svc.Admin.PostAsync("/api/v1/members/m_nobody/deactivate", null)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    /// <summary>A database written before keys had a table of their own: each member's one key keeps working, and is listed.</summary>
    [Fact]
    public async Task KeysOfADatabaseMadeBeforeKeepWorking()
    {
        var dir = chain.Folders.Create("trace-keys-day2-");
        const string oldKey = "tk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        var migrations = Path.Combine(RepoPaths.Root, "src", "Traceability.Api", "Infrastructure", "Persistence", "Migrations", "Sqlite");
        using (var conn = new SqliteConnection($"Data Source={Path.Combine(dir, "traceability.db")};Pooling=False"))
        {
            conn.Open();
            void Exec(string sql)
            {
                using var cmd = conn.CreateCommand();
                cmd.CommandText = sql;
                cmd.ExecuteNonQuery();
            }
            Exec("CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)");
            foreach (var file in Directory.GetFiles(migrations, "*.sql").Order(StringComparer.Ordinal).Where(f => string.CompareOrdinal(Path.GetFileName(f), "0035") < 0))
            {
                Exec(File.ReadAllText(file));
                Exec($"INSERT INTO schema_migrations VALUES ('{Path.GetFileNameWithoutExtension(file)}', '2026-11-01T00:00:00.000Z')");
            }
            Exec($"INSERT INTO members (id, name, role, gln, region_codes, api_key_hash, created_at, company_prefixes) VALUES " +
                 $"('m_day1', 'Day-one Dairy', 'manufacturer', '0614141000005', '310000', '{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(oldKey)))}', '2026-11-01T08:00:00.000Z', '0614141')");
        }

        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        await using var svc = chain.Start(dir, registry);
        using var maker = svc.Client(oldKey);
        (await maker.PostAsJsonAsync("/api/v1/products", new { gtin = "10614141073464", name = "UHT milk 1 L" })).StatusCode.Should().Be(HttpStatusCode.Created);
        var list = (await maker.GetFromJsonAsync<KeyList>("/api/v1/members/m_day1/keys"))!;
        list.Keys.Should().ContainSingle().Which.Label.Should().Be("first key");
        svc.Text("SELECT company_prefixes FROM members WHERE id = 'm_day1'").Should().Be("0614141", "the members table keeps its other columns");
    }
}
