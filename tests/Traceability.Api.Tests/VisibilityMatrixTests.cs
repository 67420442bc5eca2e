using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Events;
using Traceability.Api.Features.Recall;
using Traceability.Api.Features.Tracing;
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
        var recallId = (await (await maker.PostAsJsonAsync("/api/v1/recalls", new { gtin, lot = "LV", reason = "label" }))
            .ReadAsync<RecallLot.RecallResponse>(System.Net.HttpStatusCode.Created)).Id;

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
                var (status, body) = await client.GetStatusAndAnswerAsync<EventsApi.EventResponse>($"/api/v1/events/{seq[name]}");
                if (role == NoKey) { status.Should().Be(401, because); continue; }
                if (expected == '-') { status.Should().Be(404, $"{because}, {name}"); continue; }
                status.Should().Be(200, $"{because}, {name}");
                AssertView(body!.Event, expected, $"{because}, {name}");
                body.View.Should().Be(expected == 'F' ? "full" : "redacted");
                (body.SubmitterId is not null).Should().Be(expected == 'F', $"{because}, {name}: internal ids only in full");

                // GET /api/v1/events/{sequence}/proof: the whole event or nothing.
                var proof = await client.GetStatusAndAnswerAsync<EventsApi.ProofBundle>($"/api/v1/events/{seq[name]}/proof");
                proof.Status.Should().Be(expected == 'F' ? 200 : 403, $"{because}, proof of {name}");
                if (expected == 'F') AssertView(proof.Body!.Event, 'F', $"{because}, proof of {name}");
            }

            // GET /api/v1/codes/history
            var history = await client.GetStatusAndAnswerAsync<ItemHistory.HistoryResponse>($"/api/v1/codes/history?epc={Uri.EscapeDataString(unit)}");
            if (role == NoKey) history.Status.Should().Be(401, because);
            else if ((c, s, r) == ('-', '-', '-')) history.Status.Should().Be(404, because);
            else
            {
                history.Status.Should().Be(200, because);
                var events = history.Body!.Events;
                var expectedSequences = new[] { (seq["commission"], c), (seq["ship"], s), (seq["receive"], r) }.Where(x => x.Item2 != '-').Select(x => x.Item1);
                events.Select(e => e.Sequence).Should().StartWith(expectedSequences, because);
                foreach (var e in events.Where(e => e.Sequence <= seq["receive"]))
                {
                    var expected = e.Sequence == seq["commission"] ? c : e.Sequence == seq["ship"] ? s : r;
                    AssertView(e.Event, expected, $"{because}, history event {e.Sequence}");
                    e.Anchor!.Status.Should().Be("confirmed");
                }
                var state = history.Body.State!;
                state.Status.Should().Be("recalled");
                var custodian = role is Admin or Regulator or Owner or DealerInvolved;
                state.HolderMemberId.Should().Be(custodian ? dealerAId : null, $"{because}: where a unit is now, only for its custodians");
                state.RegionCode.Should().Be(custodian ? "310115" : null, because);
                history.Body.Product!.Name.Should().Be("Rice wine", "public product information");
            }

            // GET /api/v1/batches/trace, GET /api/v1/recalls/{id}, GET /api/v1/recalls/{id}/export.csv
            var lotStatus = role == NoKey ? 401 : seesLot.Contains(role) ? 200 : 403;
            var trace = await client.GetStatusAndAnswerAsync<BatchTrace.TraceResponse>($"/api/v1/batches/trace?gtin={gtin}&lot=LV");
            trace.Status.Should().Be(lotStatus, $"{because}, trace");
            if (lotStatus == 200)
            {
                var u = trace.Body!.Units.Should().ContainSingle().Subject;
                u.HolderMemberId.Should().Be(dealerAId);
                u.Status.Should().Be("recalled");
            }
            var recall = await client.GetStatusAndAnswerAsync<RecallLot.RecallResponse>($"/api/v1/recalls/{recallId}");
            recall.Status.Should().Be(lotStatus, $"{because}, recall");
            if (lotStatus == 200) recall.Body!.ByHolder[0].MemberId.Should().Be(dealerAId);
            var export = await client.GetAsync($"/api/v1/recalls/{recallId}/export.csv");
            ((int)export.StatusCode).Should().Be(lotStatus, $"{because}, export");
            if (lotStatus == 200)
            {
                var csv = await export.Content.ReadAsStringAsync();
                csv.Should().Contain("PO-7001", "the owner and regulators took part in or see the shipment");
                csv.Contains("DN-55").Should().Be(role != Owner, $"{because}: the receiver's delivery note is hidden from the manufacturer, who did not take part");
            }

            // GET /api/v1/alerts
            var alerts = await client.GetStatusAndAnswerAsync<AlertsApi.AlertPage>("/api/v1/alerts?type=recall");
            alerts.Status.Should().Be(role == NoKey ? 401 : role is DealerInvolved or DealerNotInvolved or Logistics ? 403 : 200, $"{because}, alerts");
            if (alerts.Status == 200) alerts.Body!.Items.Count.Should().Be(role == OtherMaker ? 0 : 1, because);
        }

        // POST /api/v1/recalls (last: it changes the ledger)
        foreach (var role in Roles)
        {
            var post = await clients[role].PostAsJsonAsync("/api/v1/recalls", new { gtin, lot = "LV", reason = "matrix " + role });
            ((int)post.StatusCode).Should().Be(role == NoKey ? 401 : seesLot.Contains(role) ? 201 : 403, $"role {role}, recall");
        }
    }

    /// <summary>The event as sent (EPCIS JSON-LD): which of its fields a view keeps is a question of the wire format.</summary>
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
        var response = await TraceService.CaptureAsync(client, TracingDocs.Document(e));
        return (await response.ReadAsync<CaptureApi.CaptureResponse>(System.Net.HttpStatusCode.Created)).Receipts[0].Sequence;
    }
}
