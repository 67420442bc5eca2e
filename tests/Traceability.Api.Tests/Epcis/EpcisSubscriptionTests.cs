using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Epcis;
using Traceability.Api.Tests.Consumer;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Epcis;

/// <summary>
/// Named queries and webhook subscriptions (/epcis/queries), and alert subscriptions, delivered to a real receiver on
/// Kestrel: every matching event exactly once across a restart, signed, retried, with the subscriber's visibility.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class EpcisSubscriptionTests(ChainFixture chain)
{
    private static readonly Dictionary<string, string> Loopback = new() { ["TRACE_SUBSCRIPTION_ALLOW_LOOPBACK"] = "on" };
    private const string Token = "13df38d8275b13f05704629e5f1cf3d45d6132d5";

    /// <summary>The query of the test events: every serial of GTIN 10614141073464 (item reference 107346).</summary>
    private static readonly JsonObject Ours = new() { ["MATCH_epc"] = new JsonArray("urn:epc:idpat:sgtin:0614141.107346.*") };

    private static JsonObject Matching() => EpcisDocs.Commissioning();

    private static JsonObject NotMatching() => EpcisDocs.Commissioning(itemRef: "107347");

    private static async Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string path, JsonNode body) =>
        await client.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

    /// <summary>Captures the events and returns their eventIDs (their hashes) as /epcis answers them.</summary>
    private static async Task<List<string>> CaptureAsync(HttpClient client, params JsonObject[] events)
    {
        var response = await TraceService.CaptureAsync(client, EpcisDocs.Document(events));
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await TraceService.JsonAsync(response);
        return body["receipts"]!.AsArray().Select(r => (string)r!["eventId"]!).ToList();
    }

    private static async Task CreateQueryAsync(HttpClient client, string name, JsonObject query)
    {
        var response = await PostJsonAsync(client, "/epcis/queries", new JsonObject { ["name"] = name, ["query"] = query.DeepClone() });
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> SubscribeAsync(HttpClient client, string query, JsonObject body)
    {
        var response = await PostJsonAsync(client, $"/epcis/queries/{query}/subscriptions", body);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var view = await TraceService.JsonAsync(response);
        view["signatureToken"].Should().BeNull("the secret is never answered");
        response.Headers.Location!.ToString().Should().Be($"/epcis/queries/{query}/subscriptions/{(string)view["subscriptionID"]!}");
        return (string)view["subscriptionID"]!;
    }

    private static void ShouldBeSigned(WebhookDelivery d) =>
        d.Signature.Should().Be(SubscriptionDispatcher.Signature(Token, d.Raw), "GS1-Signature is the HMAC-SHA256 of the body with the signatureToken");

    [SharedFact]
    public async Task AStreamGetsEveryMatchingEventExactlyOnceAcrossARestartSignedAndRetried()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var svc = await chain.StartServiceAsync(Loopback);
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var key = maker.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        await CaptureAsync(maker, Matching()); // before the subscription: not sent
        await CreateQueryAsync(maker, "ours", Ours);
        var id = await SubscribeAsync(maker, "ours", new JsonObject { ["dest"] = new Uri(receiver.Url, "/ours").ToString(), ["signatureToken"] = Token, ["stream"] = true });

        var expected = new List<string>();
        var a = await CaptureAsync(maker, Matching(), NotMatching(), Matching(), NotMatching(), Matching());
        expected.AddRange([a[0], a[2], a[4]]);
        (await WebhookReceiver.WaitAsync(() => receiver.Events("/ours").Count >= 3)).Should().BeTrue("the first three matching events arrive");

        // the receiver fails: the next events are retried, and not yet delivered when the service stops
        receiver.Answer = _ => 503;
        var b = await CaptureAsync(maker, Matching(), Matching(), NotMatching(), Matching(), Matching());
        expected.AddRange([b[0], b[1], b[3], b[4]]);
        (await WebhookReceiver.WaitAsync(() => receiver.To("/ours").Count(d => d.Status == 503) >= 2)).Should().BeTrue("a failed delivery is retried");
        JsonNode failing = null!;
        (await WebhookReceiver.WaitAsync(async () =>
        {
            failing = await TraceService.JsonAsync(await maker.GetAsync($"/epcis/queries/ours/subscriptions/{id}"));
            return (long)failing["failures"]! >= 2;
        })).Should().BeTrue("the failures are counted");
        ((string)failing["lastError"]!).Should().Contain("503");
        await svc.DisposeAsync();

        receiver.Answer = _ => 200;
        await using var again = chain.Start(svc.DataDir, svc.Registry, Loopback);
        var client = again.Client(key);
        var c = await CaptureAsync(client, NotMatching(), Matching(), Matching());
        expected.AddRange([c[1], c[2]]);
        (await WebhookReceiver.WaitAsync(() => receiver.Events("/ours").Count >= expected.Count)).Should().BeTrue("every matching event arrives after the restart");
        await Task.Delay(1000); // time enough for a second copy to arrive, if one were sent

        var received = receiver.Events("/ours").Select(e => (string)e["eventID"]!).ToList();
        received.Should().OnlyHaveUniqueItems("no event is sent twice to one subscription").And.BeEquivalentTo(expected);
        foreach (var d in receiver.To("/ours"))
        {
            ShouldBeSigned(d);
            EpcisSchema.ShouldValidate(d.Body);
            ((string)d.Body["epcisBody"]!["queryResults"]!["subscriptionID"]!).Should().Be(id);
            ((string)d.Body["epcisBody"]!["queryResults"]!["queryName"]!).Should().Be("ours");
        }
        var view = await TraceService.JsonAsync(await client.GetAsync($"/epcis/queries/ours/subscriptions/{id}"));
        ((long)view["delivered"]!).Should().Be(expected.Count);
        ((long)view["failures"]!).Should().Be(0);
        ((long)view["totalFailures"]!).Should().BeGreaterThanOrEqualTo(2);
        view["lastNotifiedAt"].Should().NotBeNull();
    }

    [PostgresFact]
    public async Task TwoInstancesSharingAPostgresDatabaseDeliverEachMatchingEventOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = new Dictionary<string, string>(Loopback) { ["TRACE_DB"] = await Postgres.NewDatabaseAsync() };
        await using var first = await chain.StartServiceAsync(settings);
        var (maker, _) = await first.MemberAsync("manufacturer");
        await using var second = chain.Start(chain.Folders.Create("trace-api-test-"), first.Registry, settings);
        var viaSecond = second.Client(maker.DefaultRequestHeaders.GetValues("X-Api-Key").Single());
        await CreateQueryAsync(maker, "ours", Ours);
        await SubscribeAsync(maker, "ours", new JsonObject { ["dest"] = new Uri(receiver.Url, "/pg").ToString(), ["signatureToken"] = Token, ["stream"] = true });

        var expected = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var ids = await CaptureAsync(i % 2 == 0 ? maker : viaSecond, Matching(), NotMatching(), Matching());
            expected.AddRange([ids[0], ids[2]]);
            await Task.Delay(150); // captures spread over several passes of both dispatchers
        }
        (await WebhookReceiver.WaitAsync(() => receiver.Events("/pg").Count >= expected.Count)).Should().BeTrue();
        await Task.Delay(1000);
        receiver.Events("/pg").Select(e => (string)e["eventID"]!).Should().OnlyHaveUniqueItems("one instance at a time delivers a subscription").And.BeEquivalentTo(expected);
        foreach (var d in receiver.To("/pg")) ShouldBeSigned(d);
    }

    [SharedFact]
    public async Task DeliveriesShowOnlyWhatTheSubscriberMaySee()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var svc = await chain.StartServiceAsync(Loopback);
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var (other, _) = await svc.MemberAsync("manufacturer", "Other Maker");
        await CreateQueryAsync(maker, "all", new JsonObject { ["eventType"] = new JsonArray("ObjectEvent") });
        await SubscribeAsync(maker, "all", new JsonObject { ["dest"] = new Uri(receiver.Url, "/all").ToString(), ["signatureToken"] = Token, ["stream"] = true });

        var theirs = await CaptureAsync(other, Matching(), Matching());
        var mine = await CaptureAsync(maker, Matching());
        (await WebhookReceiver.WaitAsync(() => receiver.Events("/all").Count >= 1)).Should().BeTrue();
        await Task.Delay(1000);
        receiver.Events("/all").Select(e => (string)e["eventID"]!).Should().Equal(mine, "another member's events are not the subscriber's to see");
        theirs.Should().NotIntersectWith(receiver.Events("/all").Select(e => (string)e["eventID"]!));

        // another member neither sees nor reaches the subscriber's query and subscriptions
        (await other.GetAsync("/epcis/queries/all")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await other.GetAsync("/epcis/queries/all/subscriptions")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [SharedFact]
    public async Task AScheduleReportsIfEmptyAndSendsTheNewEventsOnceAtItsRuns()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var svc = await chain.StartServiceAsync(Loopback);
        var (maker, _) = await svc.MemberAsync("manufacturer");
        await CreateQueryAsync(maker, "ours", Ours);
        var everyTwo = new JsonObject { ["second"] = "*/2" };
        var id = await SubscribeAsync(maker, "ours", new JsonObject
        {
            ["dest"] = new Uri(receiver.Url, "/empty").ToString(), ["signatureToken"] = Token, ["reportIfEmpty"] = true, ["schedule"] = everyTwo.DeepClone(),
        });
        await SubscribeAsync(maker, "ours", new JsonObject { ["dest"] = new Uri(receiver.Url, "/quiet").ToString(), ["schedule"] = everyTwo.DeepClone() });
        var view = await TraceService.JsonAsync(await maker.GetAsync($"/epcis/queries/ours/subscriptions/{id}"));
        view["schedule"]!.ToJsonString().Should().Be("""{"second":"*/2"}""");
        ((bool)view["reportIfEmpty"]!).Should().BeTrue();

        (await WebhookReceiver.WaitAsync(() => receiver.To("/empty").Count >= 2, 10)).Should().BeTrue("reportIfEmpty: a run with no new events still reports");
        receiver.Events("/empty").Should().BeEmpty();
        receiver.To("/quiet").Should().BeEmpty("without reportIfEmpty an empty run sends nothing");
        EpcisSchema.ShouldValidate(receiver.To("/empty")[0].Body);
        ShouldBeSigned(receiver.To("/empty")[0]);
        receiver.To("/quiet").Should().BeEmpty();

        var captured = await CaptureAsync(maker, Matching(), NotMatching());
        (await WebhookReceiver.WaitAsync(() => receiver.Events("/empty").Count >= 1 && receiver.Events("/quiet").Count >= 1, 10)).Should().BeTrue();
        var runs = receiver.To("/empty").Count;
        (await WebhookReceiver.WaitAsync(() => receiver.To("/empty").Count >= runs + 2, 10)).Should().BeTrue("the schedule keeps running");
        receiver.Events("/empty").Select(e => (string)e["eventID"]!).Should().Equal([captured[0]], "each run sends the events recorded since the last one");
        receiver.Events("/quiet").Select(e => (string)e["eventID"]!).Should().Equal([captured[0]]);
        receiver.To("/quiet").Should().HaveCount(1);
    }

    [SharedFact]
    public async Task NamedQueriesAreCreatedListedQueriedAndDeleted()
    {
        await using var svc = await chain.StartServiceAsync(Loopback);
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var created = await PostJsonAsync(maker, "/epcis/queries", new JsonObject { ["name"] = "ours", ["query"] = Ours.DeepClone() });
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        created.Headers.Location!.ToString().Should().Be("/epcis/queries/ours");
        var twice = await PostJsonAsync(maker, "/epcis/queries", new JsonObject { ["name"] = "ours", ["query"] = new JsonObject() });
        twice.StatusCode.Should().Be(HttpStatusCode.Conflict);
        ((string)(await TraceService.JsonAsync(twice))["type"]!).Should().Be("epcisException:ResourceAlreadyExistsException");
        var (other, _) = await svc.MemberAsync("manufacturer", "Other Maker");
        (await PostJsonAsync(other, "/epcis/queries", new JsonObject { ["name"] = "ours", ["query"] = new JsonObject() })).StatusCode
            .Should().Be(HttpStatusCode.Created, "names are unique per member");

        var unknown = await PostJsonAsync(maker, "/epcis/queries", new JsonObject { ["name"] = "bad", ["query"] = new JsonObject { ["EQ_colour"] = "red" } });
        unknown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var problem = await TraceService.JsonAsync(unknown);
        ((string)problem["type"]!).Should().Be("epcisException:QueryParameterException");
        ((string)problem["detail"]!).Should().StartWith("EQ_colour");
        (await PostJsonAsync(maker, "/epcis/queries", new JsonObject { ["name"] = "a/b", ["query"] = new JsonObject() })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var twiceNamed = await maker.PostAsync("/epcis/queries", new StringContent("""{"name":"x","name":"y","query":{}}""", Encoding.UTF8, "application/json"));
        twiceNamed.StatusCode.Should().Be(HttpStatusCode.BadRequest, "a field named twice is refused, not read by one of its values");

        var list = await TraceService.JsonAsync(await maker.GetAsync("/epcis/queries"));
        list.AsArray().Select(q => (string)q!["name"]!).Should().Equal("ours");
        var one = await TraceService.JsonAsync(await maker.GetAsync("/epcis/queries/ours"));
        JsonNode.DeepEquals(one["query"], Ours).Should().BeTrue(one.ToJsonString());

        var ours = await CaptureAsync(maker, Matching(), NotMatching(), Matching());
        var events = await maker.GetAsync("/epcis/queries/ours/events?perPage=1");
        events.StatusCode.Should().Be(HttpStatusCode.OK);
        var document = await TraceService.JsonAsync(events);
        EpcisSchema.ShouldValidate(document);
        ((string)document["epcisBody"]!["queryResults"]!["queryName"]!).Should().Be("ours");
        var ids = document["epcisBody"]!["queryResults"]!["resultsBody"]!["eventList"]!.AsArray().Select(e => (string)e!["eventID"]!).ToList();
        var next = events.Headers.GetValues("Link").Single();
        next.Should().Contain("/epcis/queries/ours/events?perPage=1&nextPageToken=");
        var second = await TraceService.JsonAsync(await maker.GetAsync(next[1..next.IndexOf('>')]));
        ids.AddRange(second["epcisBody"]!["queryResults"]!["resultsBody"]!["eventList"]!.AsArray().Select(e => (string)e!["eventID"]!));
        ids.Should().BeEquivalentTo([ours[0], ours[2]]);
        (await maker.GetAsync("/epcis/queries/ours/events?EQ_bizStep=shipping")).StatusCode.Should().Be(HttpStatusCode.BadRequest, "the query defines its filters");

        (await maker.DeleteAsync("/epcis/queries/ours")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await maker.GetAsync("/epcis/queries/ours")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await maker.GetAsync("/epcis/queries/ours/events")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await other.GetAsync("/epcis/queries/ours")).StatusCode.Should().Be(HttpStatusCode.OK, "the other member's query of the same name stays");
    }

    [SharedFact]
    public async Task SubscriptionsAreBoundedAndDeletedWithTheirQuery()
    {
        await using var svc = await chain.StartServiceAsync(new Dictionary<string, string> { ["TRACE_SUBSCRIPTIONS_PER_MEMBER"] = "2" });
        var (maker, _) = await svc.MemberAsync("manufacturer");
        await CreateQueryAsync(maker, "ours", Ours);
        async Task<string> Refusal(JsonObject body)
        {
            var response = await PostJsonAsync(maker, "/epcis/queries/ours/subscriptions", body);
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, body.ToJsonString());
            var problem = await TraceService.JsonAsync(response);
            ((string)problem["type"]!).Should().Be("epcisException:SubscriptionControlsException");
            return (string)problem["detail"]!;
        }
        (await Refusal(new JsonObject { ["dest"] = "http://127.0.0.1:9/hook", ["stream"] = true })).Should().StartWith("dest:", "loopback is refused unless allowed");
        (await Refusal(new JsonObject { ["dest"] = "http://localhost:9/hook", ["stream"] = true })).Should().StartWith("dest:");
        (await Refusal(new JsonObject { ["dest"] = "http://169.254.169.254/latest/meta-data", ["stream"] = true })).Should().StartWith("dest:");
        (await Refusal(new JsonObject { ["dest"] = "http://[::ffff:169.254.169.254]/", ["stream"] = true })).Should().StartWith("dest:");
        (await Refusal(new JsonObject { ["dest"] = "ftp://receiver.example/hook", ["stream"] = true })).Should().StartWith("dest:");
        (await Refusal(new JsonObject { ["dest"] = "https://user:pw@receiver.example/hook", ["stream"] = true })).Should().StartWith("dest:");
        (await Refusal(new JsonObject { ["dest"] = "https://receiver.example/hook" })).Should().Contain("stream");
        (await Refusal(new JsonObject { ["dest"] = "https://receiver.example/hook", ["stream"] = true, ["schedule"] = new JsonObject { ["minute"] = "5" } }))
            .Should().Contain("not both");
        (await Refusal(new JsonObject { ["dest"] = "https://receiver.example/hook", ["schedule"] = new JsonObject { ["hour"] = "25" } })).Should().StartWith("schedule.hour");
        (await Refusal(new JsonObject { ["dest"] = "https://receiver.example/hook", ["stream"] = true, ["secret"] = "x" })).Should().Contain("'secret'");
        (await Refusal(new JsonObject { ["dest"] = "https://receiver.example/hook", ["stream"] = true, ["reportIfEmpty"] = true })).Should().StartWith("reportIfEmpty");

        var first = await SubscribeAsync(maker, "ours", new JsonObject { ["dest"] = "https://receiver.example/hook", ["stream"] = true });
        await SubscribeAsync(maker, "ours", new JsonObject { ["dest"] = "https://receiver.example/hook", ["schedule"] = new JsonObject { ["hour"] = "1", ["minute"] = "5" } });
        (await Refusal(new JsonObject { ["dest"] = "https://receiver.example/hook", ["stream"] = true })).Should().Contain("TRACE_SUBSCRIPTIONS_PER_MEMBER");
        (await TraceService.JsonAsync(await maker.GetAsync("/epcis/queries/ours/subscriptions"))).AsArray().Should().HaveCount(2);

        (await maker.DeleteAsync($"/epcis/queries/ours/subscriptions/{first}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await maker.GetAsync($"/epcis/queries/ours/subscriptions/{first}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await maker.DeleteAsync("/epcis/queries/ours")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        svc.Scalar("SELECT COUNT(*) FROM subscriptions").Should().Be(0, "deleting a query unsubscribes every subscription to it");
    }

    [Fact]
    public async Task AlertSubscriptionsGetTheAlertsOfTheirTypesOnTheSubscribersProducts()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var setup = await ConsumerSetup.StartAsync(chain, new Dictionary<string, string> { ["TRACE_SCAN_LIMIT"] = "1", ["TRACE_SUBSCRIPTION_ALLOW_LOOPBACK"] = "on" });
        await using var _ = setup.Service;
        var (other, _) = await setup.Service.MemberAsync("manufacturer", "Other Maker");
        async Task Subscribe(HttpClient client, string path, params string[] types)
        {
            var response = await PostJsonAsync(client, "/epcis/alerts/subscriptions", new JsonObject
            {
                ["dest"] = new Uri(receiver.Url, path).ToString(), ["signatureToken"] = Token, ["types"] = new JsonArray([.. types.Select(t => (JsonNode)t)]),
            });
            response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }
        await Subscribe(setup.Maker, "/counterfeit", "counterfeit");
        await Subscribe(setup.Maker, "/hold", "hold");
        await Subscribe(other, "/other", "counterfeit");
        var (dealer, _) = await setup.Service.MemberAsync("dealer");
        (await PostJsonAsync(dealer, "/epcis/alerts/subscriptions", new JsonObject { ["dest"] = new Uri(receiver.Url, "/d").ToString() })).StatusCode
            .Should().Be(HttpStatusCode.Forbidden, "alerts are the manufacturers' and regulators'");

        var code = await setup.CommissionedAsync();
        var path = ConsumerSetup.PathOf(code);
        await setup.ScanJsonAsync(path, client: setup.Service.ClientFrom(IPAddress.Parse("198.51.100.1")));
        await setup.ScanJsonAsync(path, client: setup.Service.ClientFrom(IPAddress.Parse("198.51.100.2")));
        (await WebhookReceiver.WaitAsync(() => receiver.Acknowledged("/counterfeit").Count >= 1)).Should().BeTrue("the counterfeit alert is delivered");
        await Task.Delay(1000);
        var delivery = receiver.Acknowledged("/counterfeit").Single();
        ShouldBeSigned(delivery);
        var alert = delivery.Body["alerts"]!.AsArray().Single()!;
        ((string)alert["type"]!).Should().Be("counterfeit");
        ((string)alert["gtin"]!).Should().Be(setup.Gtin);
        receiver.To("/hold").Should().BeEmpty("a subscription gets only its types");
        receiver.To("/other").Should().BeEmpty("another manufacturer's product is not the subscriber's");
    }
}
