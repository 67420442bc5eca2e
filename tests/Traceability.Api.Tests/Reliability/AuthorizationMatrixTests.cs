using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Reliability;

/// <summary>
/// The authorization matrix, generated from the OpenAPI document: every operation in /swagger/v1/swagger.json is
/// called by every role (anonymous, the resource's owner — a manufacturer —, another manufacturer, logistics, a dealer,
/// a regulator and the admin), and the answer is checked against authorization-matrix.json, one row per operation:
/// <c>allow</c> (past authorization: neither 401, 403 nor 404, and no 5xx), <c>deny</c> (401 without a key, 403 for a
/// member whose role may not), <c>hidden</c> (404: the resource is there, but not shown to this caller) or
/// <c>conflict</c> (409: refused because the resource named in the body belongs to another member). An operation
/// in the OpenAPI document without a row fails the test, naming the rows to add; so does a row for an operation gone.
/// A row may give the query string and the JSON body (with $name for the world's values: gtin, lot, epc, ...); without
/// them a request carries <c>{}</c>: what is tested is who gets past the door, not what the endpoint does.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class AuthorizationMatrixTests(ChainFixture chain)
{
    public static readonly string[] Roles = ["anonymous", "manufacturer", "other-manufacturer", "logistics", "dealer", "regulator", "admin"];
    private static string MatrixPath => Path.Combine(AppContext.BaseDirectory, "Reliability", "authorization-matrix.json");

    private sealed record Row(string Operation, Dictionary<string, string> Expect, Dictionary<string, string>? Params, string? Query, string? Body);

    private static List<Row> LoadMatrix()
    {
        var root = JsonNode.Parse(File.ReadAllText(MatrixPath))!;
        return [.. root["operations"]!.AsArray().Select(r => new Row(
            (string)r!["operation"]!,
            Roles.ToDictionary(role => role, role => (string?)r[role] ?? throw new InvalidOperationException($"{r["operation"]}: no cell for role {role}")),
            r["params"]?.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!), (string?)r["query"], r["body"]?.ToJsonString()))];
    }

    private static async Task<List<string>> OperationsAsync(TraceService svc)
    {
        var doc = JsonNode.Parse(await svc.Client().GetStringAsync("/swagger/v1/swagger.json"))!;
        return [.. doc["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(m => $"{m.Key.ToUpperInvariant()} {p.Key}")).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task EveryOperationInTheOpenApiDocumentHasARowAndEveryRowAnOperation()
    {
        await using var svc = await chain.StartServiceAsync();
        var operations = await OperationsAsync(svc);
        var rows = LoadMatrix().Select(r => r.Operation).ToList();
        rows.Should().OnlyHaveUniqueItems();
        var missing = operations.Except(rows).ToList();
        var template = string.Join(",\n", missing.Select(o =>
            $"    {{ \"operation\": \"{o}\", " + string.Join(", ", Roles.Select(r => $"\"{r}\": \"?\"")) + " }"));
        missing.Should().BeEmpty($"every operation in /swagger/v1/swagger.json needs a row in tests/Traceability.Api.Tests/Reliability/authorization-matrix.json " +
            $"(allow, deny or hidden for each role); add:\n{template}\n");
        rows.Except(operations).Should().BeEmpty("a row for an operation that is no longer in the OpenAPI document is stale: remove it");
    }

    [Fact]
    public async Task EachRoleIsAllowedOrRefusedAsTheMatrixSays()
    {
        await using var svc = await chain.StartServiceAsync();
        var world = await WorldAsync(svc);
        var operations = (await OperationsAsync(svc)).ToHashSet();
        var failures = new List<string>();
        var observed = new List<string>();
        foreach (var row in LoadMatrix().Where(r => operations.Contains(r.Operation)))
        {
            var (method, template) = (row.Operation.Split(' ')[0], row.Operation.Split(' ', 2)[1]);
            var path = Fill(template, row.Params, world.Params) + (row.Query is { } q ? "?" + Tokens(q, world.Params) : "");
            var cells = new List<string>();
            foreach (var role in Roles)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PATCH" or "PUT") request.Content = new StringContent(row.Body is { } b ? Tokens(b, world.Params) : "{}", Encoding.UTF8, "application/json");
                var response = await world.Clients[role].SendAsync(request);
                var status = (int)response.StatusCode;
                var expected = row.Expect[role];
                var outcome = status is 401 or 403 ? "deny" : status == 404 ? "hidden" : status == 409 && expected == "conflict" ? "conflict" : "allow";
                cells.Add($"\"{role}\": \"{outcome}\"");
                var ok = status < 500 && expected switch
                {
                    "allow" => outcome == "allow",
                    "deny" => status == (role == "anonymous" ? 401 : 403),
                    "hidden" => status == 404,
                    "conflict" => status == 409,
                    _ => false,
                };
                if (!ok) failures.Add($"{row.Operation} ({path}) as {role}: expected {expected}, got {status} {Truncate(await response.Content.ReadAsStringAsync())}");
            }
            observed.Add($"    {{ \"operation\": \"{row.Operation}\", {string.Join(", ", cells)} }}");
        }
        failures.Should().BeEmpty($"the matrix is the authorization policy.\n{failures.Count} differences:\n{string.Join("\n", failures)}\nWhat was observed, as rows:\n{string.Join(",\n", observed)}\n");
    }

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";

    /// <summary>The path with each {parameter} replaced: the row's own value first, else the world's by name.</summary>
    private static string Fill(string template, Dictionary<string, string>? own, Dictionary<string, string> world) =>
        System.Text.RegularExpressions.Regex.Replace(template, @"\{([^}:]+)(:[^}]*)?\}", m =>
        {
            var name = m.Groups[1].Value;
            var value = own?.GetValueOrDefault(name) is { } v ? v : world.GetValueOrDefault(name)
                ?? throw new InvalidOperationException($"{template}: no value for {{{name}}}; give the row \"params\": {{\"{name}\": ...}}");
            return Tokens(value, world);
        });

    /// <summary>Each $name replaced by the world's value of that name.</summary>
    private static string Tokens(string text, Dictionary<string, string> world) =>
        System.Text.RegularExpressions.Regex.Replace(text, @"\$([A-Za-z]+)", m => world.TryGetValue(m.Groups[1].Value, out var v) ? v
            : throw new InvalidOperationException($"'{text}': the test world has no ${m.Groups[1].Value}"));

    private sealed record World(Dictionary<string, HttpClient> Clients, Dictionary<string, string> Params);

    /// <summary>
    /// The resources the requests name, owned by the manufacturer: a product and plant, one commissioned unit (event 1),
    /// anchored, a recall of its lot (and its alert), an EPCIS capture job; a spare member for the member operations.
    /// </summary>
    private static async Task<World> WorldAsync(TraceService svc)
    {
        var (maker, _) = await svc.MemberAsync("manufacturer", "Owner");
        var (otherMaker, _) = await svc.MemberAsync("manufacturer", "Other maker");
        var (logistics, _) = await svc.MemberAsync("logistics", "Carrier");
        var (dealer, _) = await svc.MemberAsync("dealer", "Dealer", regions: ["310115"]);
        var (regulator, _) = await svc.MemberAsync("regulator", "Regulator");
        var (_, spareId) = await svc.MemberAsync("dealer", "Spare");
        var clients = new Dictionary<string, HttpClient>
        {
            ["anonymous"] = svc.Client(), ["manufacturer"] = maker, ["other-manufacturer"] = otherMaker, ["logistics"] = logistics,
            ["dealer"] = dealer, ["regulator"] = regulator, ["admin"] = svc.Admin,
        };

        var plant = TracingDocs.Sgln("00001");
        await TracingDocs.LocationAsync(maker, plant, "Plant", "320506");
        var gtin = TracingDocs.Gtin("00005");
        await TracingDocs.ProductAsync(maker, gtin, "Rice wine");
        var unit = TracingDocs.Unit(gtin, "M1");
        var (status, body) = await TracingDocs.CaptureAsync(maker, new TracingDocs().Commission("LM", plant, unit));
        status.Should().Be(201, body.ToJsonString());
        var eventId = (string)body["receipts"]![0]!["eventId"]!;
        (await svc.AnchorAsync()).Status.Should().Be(200);
        var recall = await TraceService.JsonAsync(await maker.PostAsJsonAsync("/api/v1/recalls", new { gtin, lot = "LM", reason = "matrix" }));
        var alerts = await TraceService.JsonAsync(await svc.Admin.GetAsync("/api/v1/alerts"));
        (await svc.Admin.PostAsync("/api/v1/audit/run", null)).EnsureSuccessStatusCode();
        (await maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin, lot = "LM", count = 1 })).EnsureSuccessStatusCode(); // labels to print
        var job = await maker.PostAsync("/epcis/capture", new StringContent(EpcisDocs.Commissioning(1), Encoding.UTF8, "application/ld+json"));
        var jobId = job.Headers.Location!.ToString().Split('/')[^1];
        var serial = unit.Split('/')[^1];

        return new World(clients, new Dictionary<string, string>
        {
            ["sequence"] = "1", ["gtin"] = gtin, ["lot"] = "LM", ["serial"] = serial, ["eventID"] = Uri.EscapeDataString(eventId),
            ["eventType"] = "ObjectEvent", ["bizStep"] = "commissioning", ["disposition"] = "active", ["path"] = "events",
            ["captureID"] = jobId, ["recall"] = recall["id"]!.ToString(), ["alert"] = alerts["items"]![0]!["id"]!.ToString(), ["member"] = spareId,
            ["epc"] = Uri.EscapeDataString(unit), ["location"] = Uri.EscapeDataString(plant),
        });
    }
}
