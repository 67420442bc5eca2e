using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests;

/// <summary>
/// Every endpoint that returns events or units, for every role (admin, regulator, the product's
/// manufacturer, another manufacturer, a dealer that took part, one that did not, a logistics member that carried the
/// goods, and no key): allowed or forbidden, and which fields appear.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class VisibilityMatrixTests(ChainFixture chain)
{
    private const string Admin = "admin", Regulator = "regulator", Owner = "owner", OtherMaker = "other-maker",
        DealerInvolved = "dealer-involved", DealerNotInvolved = "dealer-not-involved", Logistics = "logistics", NoKey = "no-key";

    private static readonly string[] Roles = [Admin, Regulator, Owner, OtherMaker, DealerInvolved, DealerNotInvolved, Logistics, NoKey];

    [Fact]
    public async Task EachEndpointShowsEachRoleWhatTheVisibilityRulesAllow()
    {
        await using var svc = await chain.StartServiceAsync();
        var docs = new TracingDocs();
        var (maker, _) = await svc.MemberAsync("manufacturer", "Maker");
        var (otherMaker, _) = await svc.MemberAsync("manufacturer", "Other maker");
        var (dealerA, dealerAId) = await svc.MemberAsync("dealer", "Dealer A", regions: ["310115"]);
        var (dealerB, _) = await svc.MemberAsync("dealer", "Dealer B", regions: ["440305"]);
        var (logistics, _) = await svc.MemberAsync("logistics", "Carrier", TracingDocs.Gln("00950"));
        var (regulator, _) = await svc.MemberAsync("regulator");
        var clients = new Dictionary<string, HttpClient>
        {
            [Admin] = svc.Admin, [Regulator] = regulator, [Owner] = maker, [OtherMaker] = otherMaker,
            [DealerInvolved] = dealerA, [DealerNotInvolved] = dealerB, [Logistics] = logistics, [NoKey] = svc.Client(),
        };

        var plant = TracingDocs.Sgln("00001");
        var storeA = TracingDocs.Sgln("00010");
        await TracingDocs.LocationAsync(maker, plant, "Plant", "320506");
        await TracingDocs.LocationAsync(dealerA, storeA, "Store A", "310115");
        await TracingDocs.LocationAsync(dealerB, TracingDocs.Sgln("00020"), "Store B", "440305");
        var gtin = TracingDocs.Gtin("00005");
        await TracingDocs.ProductAsync(maker, gtin, "Rice wine");
        var unit = TracingDocs.Unit(gtin, "V1");

        var commission = docs.Commission("LV", plant, unit);
        var ship = docs.Ship(plant, storeA, "PO-7001", unit);
        ship["destinationList"]!.AsArray().Add(new JsonObject { ["type"] = "possessing_party", ["destination"] = TracingDocs.Pgln("00950") });
        var receive = docs.Receive(storeA, unit);
        receive["bizTransactionList"] = new JsonArray(new JsonObject { ["type"] = "desadv", ["bizTransaction"] = "urn:epcglobal:cbv:bt:6901234000109:DN-55" });
        receive["example:receivedPrice"] = "13.00";
        var seq = new Dictionary<string, long>();
        seq["commission"] = await CaptureOneAsync(maker, commission);
        seq["ship"] = await CaptureOneAsync(maker, ship);
        seq["receive"] = await CaptureOneAsync(dealerA, receive);
        (await svc.AnchorAsync()).Status.Should().Be(200);
        var recallId = (string)(await TraceService.JsonAsync(await maker.PostAsJsonAsync("/api/v1/recalls", new { gtin, lot = "LV", reason = "label" })))["id"]!;

        // Expected per role for each event: F = in full, R = redacted (no bizTransactionList, no extensions), - = not shown.
        var eventViews = new Dictionary<string, (char Commission, char Ship, char Receive)>
        {
            [Admin] = ('F', 'F', 'F'), [Regulator] = ('F', 'F', 'F'), [Owner] = ('F', 'F', 'R'), [OtherMaker] = ('-', '-', '-'),
            [DealerInvolved] = ('-', 'F', 'F'), [DealerNotInvolved] = ('-', '-', '-'), [Logistics] = ('-', 'F', '-'), [NoKey] = ('-', '-', '-'),
        };
        var seesLot = new HashSet<string> { Admin, Regulator, Owner };

        foreach (var role in Roles)
        {
            var client = clients[role];
            var because = $"role {role}";
            var (c, s, r) = eventViews[role];

            // GET /api/v1/events/{sequence}
            foreach (var (name, expected) in new[] { ("commission", c), ("ship", s), ("receive", r) })
            {
                var (status, body) = await TracingDocs.GetAsync(client, $"/api/v1/events/{seq[name]}");
                if (role == NoKey) { status.Should().Be(401, because); continue; }
                if (expected == '-') { status.Should().Be(404, $"{because}, {name}"); continue; }
                status.Should().Be(200, $"{because}, {name}");
                AssertView(body!["event"]!, expected, $"{because}, {name}");
                ((string)body["view"]!).Should().Be(expected == 'F' ? "full" : "redacted");
                (body["submitterId"] is not null).Should().Be(expected == 'F', $"{because}, {name}: internal ids only in full");

                // GET /api/v1/events/{sequence}/proof: the whole event or nothing.
                var proof = await TracingDocs.GetAsync(client, $"/api/v1/events/{seq[name]}/proof");
                proof.Status.Should().Be(expected == 'F' ? 200 : 403, $"{because}, proof of {name}");
                if (expected == 'F') AssertView(proof.Body!["event"]!, 'F', $"{because}, proof of {name}");
            }

            // GET /api/v1/codes/history
            var history = await TracingDocs.GetAsync(client, $"/api/v1/codes/history?epc={Uri.EscapeDataString(unit)}");
            if (role == NoKey) history.Status.Should().Be(401, because);
            else if ((c, s, r) == ('-', '-', '-')) history.Status.Should().Be(404, because);
            else
            {
                history.Status.Should().Be(200, because);
                var events = history.Body!["events"]!.AsArray();
                var expectedSequences = new[] { (seq["commission"], c), (seq["ship"], s), (seq["receive"], r) }.Where(x => x.Item2 != '-').Select(x => x.Item1);
                events.Select(e => (long)e!["sequence"]!).Should().StartWith(expectedSequences, because);
                foreach (var e in events.Where(e => (long)e!["sequence"]! <= seq["receive"]))
                {
                    var expected = (long)e!["sequence"]! == seq["commission"] ? c : (long)e["sequence"]! == seq["ship"] ? s : r;
                    AssertView(e["event"]!, expected, $"{because}, history event {e["sequence"]}");
                    ((string)e["anchor"]!["status"]!).Should().Be("confirmed");
                }
                var state = history.Body["state"]!;
                ((string)state["status"]!).Should().Be("recalled");
                var custodian = role is Admin or Regulator or Owner or DealerInvolved;
                ((string?)state["holderMemberId"]).Should().Be(custodian ? dealerAId : null, $"{because}: where a unit is now, only for its custodians");
                ((string?)state["regionCode"]).Should().Be(custodian ? "310115" : null, because);
                ((string)history.Body["product"]!["name"]!).Should().Be("Rice wine", "public product information");
            }

            // GET /api/v1/batches/trace, GET /api/v1/recalls/{id}, GET /api/v1/recalls/{id}/export.csv
            var lotStatus = role == NoKey ? 401 : seesLot.Contains(role) ? 200 : 403;
            var trace = await TracingDocs.GetAsync(client, $"/api/v1/batches/trace?gtin={gtin}&lot=LV");
            trace.Status.Should().Be(lotStatus, $"{because}, trace");
            if (lotStatus == 200)
            {
                var u = trace.Body!["units"]!.AsArray().Should().ContainSingle().Subject!;
                ((string)u["holderMemberId"]!).Should().Be(dealerAId);
                ((string)u["status"]!).Should().Be("recalled");
            }
            var recall = await TracingDocs.GetAsync(client, $"/api/v1/recalls/{recallId}");
            recall.Status.Should().Be(lotStatus, $"{because}, recall");
            if (lotStatus == 200) ((string)recall.Body!["byHolder"]![0]!["memberId"]!).Should().Be(dealerAId);
            var export = await client.GetAsync($"/api/v1/recalls/{recallId}/export.csv");
            ((int)export.StatusCode).Should().Be(lotStatus, $"{because}, export");
            if (lotStatus == 200)
            {
                var csv = await export.Content.ReadAsStringAsync();
                csv.Should().Contain("PO-7001", "the owner and regulators took part in or see the shipment");
                csv.Contains("DN-55").Should().Be(role != Owner, $"{because}: the receiver's delivery note is hidden from the manufacturer, who did not take part");
            }

            // GET /api/v1/alerts
            var alerts = await TracingDocs.GetAsync(client, "/api/v1/alerts?type=recall");
            alerts.Status.Should().Be(role == NoKey ? 401 : role is DealerInvolved or DealerNotInvolved or Logistics ? 403 : 200, $"{because}, alerts");
            if (alerts.Status == 200) alerts.Body!["items"]!.AsArray().Count.Should().Be(role == OtherMaker ? 0 : 1, because);
        }

        // POST /api/v1/recalls (last: it changes the ledger)
        foreach (var role in Roles)
        {
            var post = await clients[role].PostAsJsonAsync("/api/v1/recalls", new { gtin, lot = "LV", reason = "matrix " + role });
            ((int)post.StatusCode).Should().Be(role == NoKey ? 401 : seesLot.Contains(role) ? 201 : 403, $"role {role}, recall");
        }
    }

    private static void AssertView(JsonNode e, char view, string because)
    {
        var fields = e.AsObject().Select(p => p.Key).ToList();
        if (view == 'F')
        {
            fields.Should().Contain("epcList", because);
            if (fields.Contains("destinationList") || (string?)e["bizStep"] is { } b && b.EndsWith("receiving", StringComparison.Ordinal))
            {
                fields.Should().Contain("bizTransactionList", because);
                fields.Should().Contain(f => f.StartsWith("example:", StringComparison.Ordinal) || f.Contains("example.com", StringComparison.Ordinal), because);
            }
        }
        else
        {
            fields.Should().Contain("epcList", because);
            fields.Should().NotContain("bizTransactionList", because);
            fields.Should().OnlyContain(f => !f.Contains(':', StringComparison.Ordinal) || f == "@context", because);
        }
    }

    private static async Task<long> CaptureOneAsync(HttpClient client, JsonObject e)
    {
        var (status, body) = await TracingDocs.CaptureAsync(client, e);
        status.Should().Be(201, body.ToJsonString());
        return (long)body["receipts"]![0]!["sequence"]!;
    }
}
