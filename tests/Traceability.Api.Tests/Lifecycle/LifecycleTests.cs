using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Traceability.Api.Tests.Consumer;
using Traceability.Api.Tests.Support;
using Traceability.Chain;
using Traceability.Verifier;

namespace Traceability.Api.Tests.Lifecycle;

/// <summary>A clock the test moves: the service's TimeProvider (record times, rule versions, due dates, the consumer page).</summary>
public sealed class TestClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;
    public override DateTimeOffset GetUtcNow() => _now;
    public void Set(DateTimeOffset now) => _now = now;
}

/// <summary>
/// Control points and after-sales service over HTTP, on a real SQLite file and a real Hardhat node: a manufacturer sets
/// its rules (recorded on the ledger), capture is judged by the version in force at each event's time; an extinguisher
/// is installed, inspected, falls overdue as the clock moves, raises one alert, warns on the consumer page, and is
/// cleared by the next inspection.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class LifecycleTests(ChainFixture chain)
{
    private const string Building = "urn:epc:id:sgln:0614141.00999.0"; // Shanghai Xuhui (310104)
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<(ConsumerSetup Setup, TestClock Clock)> StartAsync(ChainFixture chain, DateTimeOffset now, bool postgres = false)
    {
        var clock = new TestClock(now);
        var settings = postgres ? new Dictionary<string, string> { ["TRACE_DB"] = await Postgres.NewDatabaseAsync() } : null;
        var setup = await ConsumerSetup.StartAsync(chain, settings, b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        return (setup, clock);
    }

    private static string Doc(params JsonObject[] events) => new JsonObject
    {
        ["@context"] = new JsonArray(EpcisDocs.Context, new JsonObject { ["ex"] = "https://example.com/fire/" }),
        ["type"] = "EPCISDocument",
        ["schemaVersion"] = "2.0",
        ["creationDate"] = "2026-11-01T08:00:00.000Z",
        ["epcisBody"] = new JsonObject { ["eventList"] = new JsonArray(events.Select(e => (JsonNode)e).ToArray()) },
    }.ToJsonString();

    private static DateTimeOffset At(string s) => DateTimeOffset.Parse(s);

    private static async Task<JsonNode> PutRulesAsync(HttpClient client, string gtin, object rules, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var r = await client.PutAsJsonAsync($"/api/v1/products/{gtin}/rules", new { rules });
        var body = await r.Content.ReadAsStringAsync();
        r.StatusCode.Should().Be(expected, body);
        return JsonNode.Parse(body)!;
    }

    private static async Task<JsonNode> CaptureAsync(HttpClient client, HttpStatusCode expected, params JsonObject[] events)
    {
        var r = await TraceService.CaptureAsync(client, Doc(events));
        var body = await r.Content.ReadAsStringAsync();
        r.StatusCode.Should().Be(expected, body);
        return JsonNode.Parse(body)!;
    }

    private static JsonObject Commission(string epc, DateTimeOffset at, string lot, string? line)
    {
        var e = ConsumerSetup.Event(epc, "commissioning", ConsumerSetup.Factory, at);
        var ilmd = new JsonObject { ["cbvmda:lotNumber"] = lot };
        if (line is not null) ilmd["ex:productionLine"] = line;
        e["ilmd"] = ilmd;
        return e;
    }

    private static JsonObject Ship(string epc, DateTimeOffset at, double? temperature = null)
    {
        var e = ConsumerSetup.Event(epc, "shipping", ConsumerSetup.Factory, at, "in_transit");
        if (temperature is { } t)
            e["sensorElementList"] = new JsonArray(new JsonObject
            {
                ["sensorMetadata"] = new JsonObject { ["time"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz") },
                ["sensorReport"] = new JsonArray(new JsonObject { ["type"] = "gs1:Temperature", ["value"] = t, ["uom"] = "CEL" }),
            });
        return e;
    }

    private static JsonNode Error(JsonNode problem) => problem["errors"]!.AsArray().Single()!;

    [Fact]
    public Task RulesAreOnTheLedgerAndEachEventIsJudgedByTheVersionInForceAtItsTime() => RulesScenarioAsync(postgres: false);

    [PostgresFact]
    public Task OnPostgresRulesAreJudgedByTheVersionInForce() => RulesScenarioAsync(postgres: true);

    private async Task RulesScenarioAsync(bool postgres)
    {
        var (setup, clock) = await StartAsync(chain, At("2026-11-10T00:00:00Z"), postgres);
        await using var _ = setup.Service;
        var maker = setup.Maker;
        var gtin = setup.Gtin;

        // another member may not set the product's rules; a bad rule is refused naming its field
        var (other, _) = await setup.Service.MemberAsync("manufacturer", "Other Co.");
        (await other.PutAsJsonAsync($"/api/v1/products/{gtin}/rules", new { rules = Array.Empty<object>() })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var bad = await PutRulesAsync(maker, gtin, new[] { new { name = "x", kind = "requires", step = "shipping" } }, HttpStatusCode.BadRequest);
        bad.ToJsonString().Should().Contain("rules[0].after");

        var v1 = await PutRulesAsync(maker, gtin, new object[]
        {
            new { name = "ship-after-qc", kind = "requires", step = "shipping", after = "inspecting", disposition = "conformant", scope = "lot" },
            new { name = "line-recorded", kind = "field", step = "commissioning", field = "ilmd.productionLine" },
        });
        var version1 = (long)v1["version"]!;
        ((long)v1["eventSequence"]!).Should().Be(version1);
        ((string)v1["sha256"]!).Should().HaveLength(64);

        var codes = await setup.IssueAsync(3, "LOT-A");
        var (u1, u2, u3) = ((string)codes[0]!["epc"]!, (string)codes[1]!["epc"]!, (string)codes[2]!["epc"]!);

        // a required field missing: refused naming the field, the rule and its version
        var missing = await CaptureAsync(maker, HttpStatusCode.UnprocessableEntity, Commission(u1, At("2026-11-11T08:00:00+08:00"), "LOT-A", null));
        ((string)Error(missing)["field"]!).Should().Be("ilmd.productionLine");
        ((string)Error(missing)["rule"]!).Should().Be($"line-recorded@{version1}");
        await CaptureAsync(maker, HttpStatusCode.Created,
            Commission(u1, At("2026-11-11T08:00:00+08:00"), "LOT-A", "L3"), Commission(u2, At("2026-11-11T08:00:01+08:00"), "LOT-A", "L3"));

        // the lot ships only after an inspection marked conformant
        var early = await CaptureAsync(maker, HttpStatusCode.UnprocessableEntity, Ship(u1, At("2026-11-12T09:00:00+08:00")));
        ((string)Error(early)["rule"]!).Should().Be($"ship-after-qc@{version1}");
        ((string)Error(early)["epc"]!).Should().Contain("/21/");
        ((string)Error(early)["message"]!).Should().Contain($"version {version1}");
        await CaptureAsync(maker, HttpStatusCode.Created,
            ConsumerSetup.Event(u1, "inspecting", ConsumerSetup.Factory, At("2026-11-12T10:00:00+08:00"), "conformant"));
        await CaptureAsync(maker, HttpStatusCode.Created, Ship(u1, At("2026-11-12T11:00:00+08:00")));

        // a stricter version later: shipping needs a temperature between 2 and 8 °C
        clock.Set(At("2026-11-20T00:00:00Z"));
        var v2 = await PutRulesAsync(maker, gtin, new object[]
        {
            new { name = "ship-after-qc", kind = "requires", step = "shipping", after = "inspecting", disposition = "conformant", scope = "lot" },
            new { name = "line-recorded", kind = "field", step = "commissioning", field = "ilmd.productionLine" },
            new { name = "cold-chain", kind = "field", step = "shipping", field = "sensor.Temperature", min = 2, max = 8 },
        });
        var version2 = (long)v2["version"]!;
        version2.Should().BeGreaterThan(version1);

        // an event from before the change is judged by the rules then in force (accepted without a reading) ...
        await CaptureAsync(maker, HttpStatusCode.Created, Ship(u2, At("2026-11-13T09:00:00+08:00")));
        // ... a later one by the new version
        await CaptureAsync(maker, HttpStatusCode.Created, Commission(u3, At("2026-11-21T08:00:00+08:00"), "LOT-A", "L3"));
        var warm = await CaptureAsync(maker, HttpStatusCode.UnprocessableEntity, Ship(u3, At("2026-11-21T09:00:00+08:00"), temperature: 11));
        ((string)Error(warm)["rule"]!).Should().Be($"cold-chain@{version2}");
        ((string)Error(warm)["field"]!).Should().Be("sensor.Temperature");
        await CaptureAsync(maker, HttpStatusCode.Created, Ship(u3, At("2026-11-21T09:00:00+08:00"), temperature: 5));

        // the versions, each with the event that recorded it
        var list = await TraceService.JsonAsync(await setup.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/v1/products/{gtin}/rules")
            { Headers = { { "X-Api-Key", TraceService.AdminKey } } }));
        list["versions"]!.AsArray().Select(v => (long)v!["version"]!).Should().Equal(version1, version2);
        ((long)list["inForce"]!["version"]!).Should().Be(version2);
        ((string)list["defaultRules"]![0]!["name"]!).Should().Be("quality-hold");
        ((bool)list["effective"]!["defaultHoldRule"]!).Should().BeTrue("its versions set no hold rule: the default one stays");

        // the rule change is an anchored event: its proof bundle verifies against the chain
        (await setup.Service.AnchorAsync()).Status.Should().Be(200);
        var bundle = await TraceService.JsonAsync(await setup.Service.Admin.GetAsync($"/api/v1/events/{version1}/proof"));
        bundle.ToJsonString().Should().Contain("controlRulesSha256").And.Contain((string)v1["sha256"]!);
        var verified = await new BundleVerifier(Http).VerifyAsync(bundle, new ChainOptions(chain.Node.RpcUrl));
        verified.Verified.Should().BeTrue(verified.Reason);
    }

    [Fact]
    public Task AnExtinguisherIsInstalledInspectedFallsOverdueRaisesOneAlertAndIsClearedByTheNextInspection() => ExtinguisherScenarioAsync(postgres: false);

    [PostgresFact]
    public Task OnPostgresAnExtinguisherFallsOverdueAndIsCleared() => ExtinguisherScenarioAsync(postgres: true);

    private async Task ExtinguisherScenarioAsync(bool postgres)
    {
        var (setup, clock) = await StartAsync(chain, At("2026-11-10T00:00:00Z"), postgres);
        await using var _ = setup.Service;
        var gtin = setup.Gtin;
        (await setup.Maker.PostAsJsonAsync("/api/v1/products", new
        {
            gtin, name = "干粉灭火器 MFZ/ABC4 extinguisher", service = new { inspectionIntervalDays = 365, serviceLifeMonths = 120 },
        })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await setup.Maker.PostAsJsonAsync("/api/v1/products", new { gtin, name = "x", service = new { inspectionIntervalDays = 0 } }))
            .StatusCode.Should().Be(HttpStatusCode.BadRequest);

        var code = await setup.CommissionedAsync();
        var epc = (string)code["epc"]!;
        var canonical = $"https://id.gs1.org/01/{gtin}/21/{(string)code["serial"]!}";
        var (dealer, _) = await setup.ShipToDealerAsync("消防器材经销 Fire Dealer", ["310000"], "00555", "310101", code);
        var (installer, _) = await setup.Service.MemberAsync("service", "消防维保 Fire Service Co.");
        var (regulator, _) = await setup.Service.MemberAsync("regulator", "消防监督 Fire Regulator");
        (await installer.PostAsJsonAsync("/api/v1/locations", new { id = Building, name = "徐汇大厦 Xuhui Tower", regionCode = "310104" })).EnsureSuccessStatusCode();

        // a member that neither holds it nor services may not install it
        var (stranger, _) = await setup.Service.MemberAsync("logistics", "Stranger");
        var refused = await CaptureAsync(stranger, HttpStatusCode.UnprocessableEntity,
            ConsumerSetup.Event(epc, "installing", Building, At("2026-11-10T10:00:00+08:00")));
        refused.ToJsonString().Should().Contain("install-not-allowed");

        await CaptureAsync(installer, HttpStatusCode.Created, ConsumerSetup.Event(epc, "installing", Building, At("2026-11-10T10:00:00+08:00"), "in_progress"));
        await CaptureAsync(installer, HttpStatusCode.Created, ConsumerSetup.Event(epc, "inspecting", Building, At("2026-11-11T10:00:00+08:00"), "conformant"));
        var (_, installed) = await setup.ScanJsonAsync(ConsumerSetup.PathOf(code));
        ((string)installed["status"]!).Should().Be("installed");
        ((string)installed["service"]!["status"]!).Should().Be("ok");
        ((string)installed["service"]!["nextInspection"]!).Should().StartWith("2027-11-11");
        installed["warnings"]!.AsArray().Should().BeEmpty();
        (await Due(regulator, "status=overdue"))["items"]!.AsArray().Should().BeEmpty();

        // a year and some days later: overdue
        clock.Set(At("2027-11-20T00:00:00Z"));
        var overdue = (await Due(regulator, "status=overdue&region=31"))["items"]!.AsArray().Single()!;
        ((string)overdue["epc"]!).Should().Be(canonical);
        ((string)overdue["status"]!).Should().Be("overdue");
        ((string)overdue["dueDate"]!).Should().StartWith("2027-11-11");
        ((string)overdue["regionCode"]!).Should().Be("310104");
        ((string)overdue["site"]!["name"]!).Should().Be("徐汇大厦 Xuhui Tower");
        (await Due(regulator, "status=overdue&region=44"))["items"]!.AsArray().Should().BeEmpty();
        (await Due(setup.Maker, "status=overdue"))["items"]!.AsArray().Should().ContainSingle("the maker sees its own products");
        (await Due(installer, "status=overdue"))["items"]!.AsArray().Should().ContainSingle("the installer sees what it installed");

        var city = await TraceService.JsonAsync(await regulator.GetAsync("/api/v1/service/regions?level=city"));
        var shanghai = city["regions"]!.AsArray().Single(r => (string?)r!["regionCode"] == "310100")!;
        ((long)shanghai["installed"]!).Should().Be(1);
        ((long)shanghai["overdue"]!).Should().Be(1);
        ((long)shanghai["expired"]!).Should().Be(0);

        // the daily job raises the alert once
        ((int)(await TraceService.JsonAsync(await setup.Service.Admin.PostAsync("/api/v1/service/due/run", null)))["raised"]!).Should().Be(1);
        ((int)(await TraceService.JsonAsync(await setup.Service.Admin.PostAsync("/api/v1/service/due/run", null)))["raised"]!).Should().Be(0);
        var alerts = await setup.AlertsAsync("overdue");
        alerts.Should().ContainSingle();
        ((string)alerts[0]!["epc"]!).Should().Be(canonical);

        // the consumer page warns, in both languages
        var (_, late) = await setup.ScanJsonAsync(ConsumerSetup.PathOf(code));
        ((string)late["service"]!["status"]!).Should().Be("overdue");
        late["warnings"]!.AsArray().Select(w => (string)w!["type"]!).Should().Contain("overdue");
        var (_, html) = await setup.ScanHtmlAsync(ConsumerSetup.PathOf(code));
        html.Should().Contain("id=\"service-warning\"").And.Contain("overdue for inspection (due 2027-11-11)");
        var (_, zh) = await setup.ScanHtmlAsync(ConsumerSetup.PathOf(code), "zh-CN");
        zh.Should().Contain("已超过检验期限").And.Contain("维保记录");

        // the next inspection clears it
        await CaptureAsync(installer, HttpStatusCode.Created, ConsumerSetup.Event(epc, "inspecting", Building, At("2027-11-20T07:00:00+08:00"), "conformant"));
        var (_, cleared) = await setup.ScanJsonAsync(ConsumerSetup.PathOf(code));
        ((string)cleared["service"]!["status"]!).Should().Be("ok");
        cleared["warnings"]!.AsArray().Should().BeEmpty();
        (await Due(regulator, "status=overdue"))["items"]!.AsArray().Should().BeEmpty();
        ((int)(await TraceService.JsonAsync(await setup.Service.Admin.PostAsync("/api/v1/service/due/run", null)))["raised"]!).Should().Be(0);
        (await setup.AlertsAsync("overdue")).Should().ContainSingle();

        // ten years after production: past its service life
        clock.Set(At("2036-11-02T00:00:00Z"));
        ((string)(await Due(regulator, "status=expired"))["items"]![0]!["epc"]!).Should().Be(canonical);
        ((int)(await TraceService.JsonAsync(await setup.Service.Admin.PostAsync("/api/v1/service/due/run", null)))["raised"]!).Should().Be(1);
        (await setup.AlertsAsync("expired")).Should().ContainSingle();
    }

    private static async Task<JsonNode> Due(HttpClient client, string query)
    {
        var r = await client.GetAsync($"/api/v1/service/due?{query}");
        var body = await r.Content.ReadAsStringAsync();
        r.StatusCode.Should().Be(HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!;
    }
}
