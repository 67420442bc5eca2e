using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Traceability.Api.Tests.Support;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Tests.Epcis;

/// <summary>
/// Seven events of every type, captured once into one service (<see cref="EpcisLedger"/>); each query parameter of
/// GET /epcis/events is checked for what it includes and what it excludes, every JSON answer against the EPCIS 2.0 JSON
/// schema.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class EpcisQueryTests(ChainFixture chain, EpcisLedger ledger) : IClassFixture<EpcisLedger>
{
    /// <summary>A query and the events (by letter, see <see cref="EpcisLedger"/>) it must answer, in any order.</summary>
    public static TheoryData<string, string> Cases() => new()
    {
        { "", "ABCDEFG" },
        { "eventType=AggregationEvent", "C" },
        { "eventType=ObjectEvent|TransactionEvent", "ABEFG" },
        { "eventType=TransformationEvent&eventType=AggregationEvent", "CD" },
        { "GE_eventTime=2026-11-03T08:00:00.000Z", "CDEFG" },
        { "LT_eventTime=2026-11-03T08:00:00.000Z", "AB" },
        { "GE_eventTime=2026-11-03T00:00:00Z&LT_eventTime=2026-11-04T00:00:00Z", "C" },
        { "GE_eventTime=2026-11-03T09:00:00%2B01:00&LT_eventTime=2026-11-04T09:00:00%2B01:00", "C" },
        { "GE_recordTime=2000-01-01T00:00:00Z", "ABCDEFG" },
        { "LT_recordTime=2000-01-01T00:00:00Z", "" },
        { "EQ_action=ADD", "ACG" },
        { "EQ_action=OBSERVE|DELETE", "BEF" },
        { "EQ_bizStep=shipping", "B" },
        { "EQ_bizStep=urn:epcglobal:cbv:bizstep:shipping", "B" },
        { "EQ_bizStep=https://ref.gs1.org/cbv/BizStep-packing|receiving", "CE" },
        { "EQ_disposition=in_transit", "B" },
        { "EQ_disposition=sellable_accessible|destroyed", "EF" },
        { "EQ_readPoint=urn:epc:id:sgln:4012345.00002.0", "B" },
        { "WD_readPoint=urn:epc:id:sgln:4012345.00002.0", "B" },
        { "EQ_bizLocation=urn:epc:id:sgln:4012345.00003.0", "E" },
        { "WD_bizLocation=urn:epc:id:sgln:4012345.00003.0|urn:epc:id:sgln:4012345.00001.0", "AE" },
        { "MATCH_epc=urn:epc:id:sgtin:4012345.011111.A1", "ABG" },
        { "MATCH_epc=urn:epc:id:sgtin:4012345.022222.B1", "C" },
        { "MATCH_epc=https://id.gs1.org/01/04012345111118/21/A1", "ABG" },
        { "MATCH_epc=https://example.org/01/04012345111118/21/*", "ABG" },
        { "MATCH_epc=urn:epc:idpat:sgtin:4012345.011111.*", "ABG" },
        { "MATCH_epc=urn:epc:idpat:sgtin:4012345.*.*", "ABCFG" },
        { "MATCH_epc=urn:epc:id:sgtin:4012345.066666.D1", "F" },
        { "MATCH_parentID=urn:epc:id:sscc:4012345.0000000001", "C" },
        { "MATCH_parentID=urn:epc:idpat:sscc:4012345.*", "CG" },
        { "MATCH_inputEPC=urn:epc:id:sgtin:4012345.011111.A2", "D" },
        { "MATCH_outputEPC=urn:epc:id:sgtin:4012345.033333.C1", "D" },
        { "MATCH_outputEPC=urn:epc:id:sgtin:4012345.011111.A2", "" },
        { "MATCH_anyEPC=urn:epc:id:sgtin:4012345.011111.A2", "BD" },
        { "MATCH_anyEPC=urn:epc:id:sscc:4012345.0000000002", "G" },
        { "MATCH_epcClass=urn:epc:class:lgtin:4012345.055555.L2", "E" },
        { "MATCH_epcClass=urn:epc:class:lgtin:4012345.044444.L1", "" },
        { "MATCH_anyEPCClass=urn:epc:class:lgtin:4012345.044444.L1", "D" },
        { "MATCH_anyEPCClass=urn:epc:idpat:sgtin:4012345.055555.*", "E" },
        { "EQ_eventID=urn:uuid:6a2c4f0e-5d1b-4b8e-9a53-0c4e0f7f1a01", "A" },
        { "EQ_eventID=urn:uuid:00000000-0000-4000-8000-000000000000", "" },
        { "eventType=ObjectEvent&EQ_action=ADD", "A" },
        { "MATCH_anyEPC=urn:epc:id:sgtin:4012345.011111.A1&GE_eventTime=2026-11-02T00:00:00Z", "BG" },
    };

    [SharedTheory]
    [MemberData(nameof(Cases))]
    public async Task EachParameterIncludesWhatMatchesAndExcludesTheRest(string query, string expected)
    {
        await ledger.EnsureAsync(chain);
        var (events, _) = await ledger.GetAsync("/epcis/events?" + query.Replace("|", "%7C", StringComparison.Ordinal) + (query.Length > 0 ? "&" : "") + "perPage=100");
        ledger.Letters(events).Should().Be(expected, query);
    }

    [SharedFact]
    public async Task EventIdsAreTheGivenOnesOrTheHash()
    {
        await ledger.EnsureAsync(chain);
        var hashB = ledger.Hashes["B"];
        var (events, _) = await ledger.GetAsync("/epcis/events?EQ_eventID=" + Uri.EscapeDataString(hashB));
        ledger.Letters(events).Should().Be("B");
        ((string)events[0]!["eventID"]!).Should().Be(hashB, "an event captured without eventID is found by its hash");
        var one = await ledger.Regulator.GetAsync("/epcis/events/" + Uri.EscapeDataString("urn:uuid:6a2c4f0e-5d1b-4b8e-9a53-0c4e0f7f1a01"));
        one.StatusCode.Should().Be(HttpStatusCode.OK, await one.Content.ReadAsStringAsync());
        var byHash = await ledger.Regulator.GetAsync("/epcis/events/" + Uri.EscapeDataString(hashB));
        ledger.Letters(EpcisLedger.EventList(await TraceService.JsonAsync(byHash))).Should().Be("B");
        var missing = await ledger.Regulator.GetAsync("/epcis/events/" + Uri.EscapeDataString("urn:uuid:00000000-0000-4000-8000-000000000000"));
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        ((string)(await TraceService.JsonAsync(missing))["type"]!).Should().Be("epcisException:NoSuchResourceException");
    }

    [SharedFact]
    public async Task ResourcesThatAreQueriesByAnotherName()
    {
        await ledger.EnsureAsync(chain);
        async Task<string> Letters(string path) => ledger.Letters((await ledger.GetAsync(path)).Events);
        (await Letters("/epcis/eventTypes/TransformationEvent/events")).Should().Be("D");
        (await Letters("/epcis/bizSteps/shipping/events")).Should().Be("B");
        (await Letters("/epcis/dispositions/in_transit/events")).Should().Be("B");
        (await Letters("/epcis/epcs/" + Uri.EscapeDataString("urn:epc:id:sgtin:4012345.011111.A2") + "/events")).Should().Be("BD");
        (await Letters("/epcis/epcs/https://id.gs1.org/01/04012345111118/21/A1/events")).Should().Be("ABG");
        (await Letters("/epcis/readPoints/" + Uri.EscapeDataString("urn:epc:id:sgln:4012345.00002.0") + "/events")).Should().Be("B");
        (await Letters("/epcis/bizLocations/" + Uri.EscapeDataString("urn:epc:id:sgln:4012345.00003.0") + "/events?eventType=ObjectEvent")).Should().Be("E");
        var types = await TraceService.JsonAsync(await ledger.Regulator.GetAsync("/epcis/eventTypes"));
        types["member"]!.AsArray().Select(x => (string)x!).Should().Contain(["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"]);
    }

    [SharedFact]
    public async Task PagingCoversTheResultSetExactlyOnceInEveryOrder()
    {
        await ledger.EnsureAsync(chain);
        foreach (var order in new[] { "", "orderBy=eventTime&orderDirection=ASC", "orderBy=eventTime", "orderBy=recordTime&orderDirection=ASC", "orderBy=recordTime" })
        {
            var seen = new List<string>();
            var url = "/epcis/events?perPage=2" + (order.Length > 0 ? "&" + order : "");
            var pages = 0;
            while (url is not null)
            {
                var (events, next) = await ledger.GetAsync(url);
                events.Count.Should().BeLessThanOrEqualTo(2);
                seen.AddRange(events.Select(e => ledger.LetterOf(e!)));
                url = next;
                (++pages).Should().BeLessThan(10);
            }
            seen.Should().OnlyHaveUniqueItems(order).And.HaveCount(7, order);
            if (order == "orderBy=eventTime&orderDirection=ASC") string.Concat(seen).Should().Be("ABCDEFG");
            if (order == "orderBy=eventTime") string.Concat(seen).Should().Be("GFEDCBA");
        }

        // eventCountLimit: the first N in the order asked for, across pages
        var limited = new List<string>();
        string? link = "/epcis/events?orderBy=eventTime&orderDirection=DESC&eventCountLimit=3&perPage=2";
        while (link is not null)
        {
            var (events, next) = await ledger.GetAsync(link);
            limited.AddRange(events.Select(e => ledger.LetterOf(e!)));
            link = next;
        }
        string.Concat(limited).Should().Be("GFE");
    }

    [SharedFact]
    public async Task PageTokensCannotBeForgedNorReusedWithOtherFilters()
    {
        await ledger.EnsureAsync(chain);
        var (_, next) = await ledger.GetAsync("/epcis/events?perPage=2&EQ_action=ADD|OBSERVE".Replace("|", "%7C", StringComparison.Ordinal));
        next.Should().NotBeNull();
        var token = Uri.UnescapeDataString(next!.Split("nextPageToken=")[1]);
        var tampered = token[..^2] + (token[^2] == 'A' ? "BA" : "AA");
        foreach (var url in new[]
        {
            "/epcis/events?perPage=2&EQ_action=ADD%7COBSERVE&nextPageToken=" + Uri.EscapeDataString(tampered),
            "/epcis/events?perPage=2&EQ_action=ADD&nextPageToken=" + Uri.EscapeDataString(token),
            "/epcis/events?nextPageToken=garbage",
        })
        {
            var response = await ledger.Regulator.GetAsync(url);
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, url);
            var problem = await TraceService.JsonAsync(response);
            ((string)problem["type"]!).Should().Be("epcisException:QueryParameterException");
            ((string)problem["detail"]!).Should().StartWith("nextPageToken:");
        }
    }

    [SharedFact]
    public async Task AnUnknownParameterIsAQueryParameterException()
    {
        await ledger.EnsureAsync(chain);
        var response = await ledger.Regulator.GetAsync("/epcis/events?EQ_bizstep=shipping");
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = await TraceService.JsonAsync(response);
        ((string)problem["type"]!).Should().Be("epcisException:QueryParameterException");
        ((string)problem["title"]!).Should().NotBeNullOrEmpty();
        ((string)problem["detail"]!).Should().StartWith("EQ_bizstep: unknown parameter");
    }

    [SharedFact]
    public async Task Gs1HeadersAndDiscovery()
    {
        await ledger.EnsureAsync(chain);
        var response = await ledger.Regulator.GetAsync("/epcis/events?perPage=1");
        response.Headers.GetValues("GS1-EPCIS-Version").Single().Should().Be("2.0.0");
        response.Headers.GetValues("GS1-CBV-Version").Single().Should().Be("2.0.0");
        response.Headers.GetValues("GS1-EPC-Format").Single().Should().Be("Always_GS1_Digital_Link");

        var options = await ledger.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/epcis/events"));
        options.StatusCode.Should().Be(HttpStatusCode.NoContent);
        options.Content.Headers.Allow.Should().Contain("GET");
        options.Headers.GetValues("GS1-EPCIS-Max").Single().Should().Be("2.0.0");
        options.Headers.GetValues("GS1-Query-Parameters").Single().Should().Contain("MATCH_anyEPC");
        var capture = await ledger.Anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/epcis/capture"));
        capture.Content.Headers.Allow.Should().Contain("POST");
        capture.Headers.GetValues("GS1-EPCIS-Capture-Limit").Single().Should().Be("10000");
        capture.Headers.GetValues("GS1-Capture-Error-Behaviour").Single().Should().Be("all");

        (await ledger.Anonymous.GetAsync("/epcis/events")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var tooNew = new HttpRequestMessage(HttpMethod.Get, "/epcis/events");
        tooNew.Headers.Add("GS1-EPCIS-Min", "3.0.0");
        (await ledger.Regulator.SendAsync(tooNew)).StatusCode.Should().Be(HttpStatusCode.NotAcceptable);
    }

    [SharedFact]
    public async Task EpcFormatHeaderChoosesDigitalLinksOrTheCapturedForm()
    {
        await ledger.EnsureAsync(chain);
        var (dl, _) = await ledger.GetAsync("/epcis/events?MATCH_epc=urn:epc:id:sgtin:4012345.011111.A1&eventType=ObjectEvent&EQ_action=ADD");
        ((string)dl[0]!["epcList"]![0]!).Should().Be("https://id.gs1.org/01/04012345111118/21/A1");
        var request = new HttpRequestMessage(HttpMethod.Get, "/epcis/events?MATCH_epc=urn:epc:id:sgtin:4012345.011111.A1&eventType=ObjectEvent&EQ_action=ADD");
        request.Headers.Add("GS1-EPC-Format", "Never_Translates");
        var asCaptured = EpcisLedger.EventList(await TraceService.JsonAsync(await ledger.Regulator.SendAsync(request)));
        ((string)asCaptured[0]!["epcList"]![0]!).Should().Be("urn:epc:id:sgtin:4012345.011111.A1");
    }

    [SharedFact]
    public async Task MembersSeeOnlyTheEventsTheyTookPartIn()
    {
        await ledger.EnsureAsync(chain);
        var (dealer, _) = await ledger.Service.MemberAsync("dealer", "Far Dealer");
        var answer = await TraceService.JsonAsync(await dealer.GetAsync("/epcis/events"));
        EpcisSchema.ShouldValidate(answer);
        EpcisLedger.EventList(answer).Should().BeEmpty();
        (await dealer.GetAsync("/epcis/events/" + Uri.EscapeDataString("urn:uuid:6a2c4f0e-5d1b-4b8e-9a53-0c4e0f7f1a01"))).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [SharedFact]
    public async Task XmlAnswersParseWithTheLedgersReaderIntoTheSameEvents()
    {
        await ledger.EnsureAsync(chain);
        var request = new HttpRequestMessage(HttpMethod.Get, "/epcis/events?perPage=100");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/xml"));
        var response = await ledger.Regulator.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/xml");
        var xml = await response.Content.ReadAsStringAsync();
        var document = EpcisParser.ParseXml(xml);
        document.Type.Should().Be("EPCISQueryDocument");
        document.Events.Select(EventHash.Compute).Should().BeEquivalentTo(ledger.Hashes.Values);
        document.Events.Select(e => e.EventId).Should().Contain("urn:uuid:6a2c4f0e-5d1b-4b8e-9a53-0c4e0f7f1a01");
    }

    [SharedFact]
    public async Task EventsQueriedFromOneInstanceCaptureIntoAnotherWithTheSameHashes()
    {
        await ledger.EnsureAsync(chain);
        var response = await ledger.Regulator.GetAsync("/epcis/events?perPage=100&orderBy=eventTime&orderDirection=ASC");
        var text = await response.Content.ReadAsStringAsync();
        await using var second = await chain.StartServiceAsync();
        var (regulator, _) = await second.MemberAsync("regulator");
        var captured = await TraceService.CaptureAsync(regulator, text);
        captured.StatusCode.Should().Be(HttpStatusCode.Created, await captured.Content.ReadAsStringAsync());
        var receipts = (await TraceService.JsonAsync(captured))["receipts"]!.AsArray();
        receipts.Select(r => (string)r!["eventHash"]!).Should().Equal("ABCDEFG".Select(c => ledger.Hashes[c.ToString()]));
        receipts.Should().OnlyContain(r => r!["warning"] == null, "the eventIDs written are the given ones or the hash");

        // and the XML answer, through the capture job of the second instance
        var xmlRequest = new HttpRequestMessage(HttpMethod.Get, "/epcis/events?perPage=100");
        xmlRequest.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/xml"));
        var xml = await (await ledger.Regulator.SendAsync(xmlRequest)).Content.ReadAsStringAsync();
        await using var third = await chain.StartServiceAsync();
        var (regulator3, _) = await third.MemberAsync("regulator");
        var job = await regulator3.PostAsync("/epcis/capture", new StringContent(xml, Encoding.UTF8, "application/xml"));
        job.StatusCode.Should().Be(HttpStatusCode.Accepted, await job.Content.ReadAsStringAsync());
        var status = await TraceService.JsonAsync(await regulator3.GetAsync(job.Headers.Location!.ToString()));
        ((bool)status["success"]!).Should().BeTrue(status.ToJsonString());
        status["receipts"]!.AsArray().Select(r => (string)r!["eventHash"]!).Should().BeEquivalentTo(ledger.Hashes.Values);
    }
}

/// <summary>
/// The events the query tests read, captured once as a regulator (letters A..G; times one day apart from 2026-11-01):
/// A ObjectEvent ADD commissioning (given eventID), B ObjectEvent OBSERVE shipping, C AggregationEvent ADD packing,
/// D TransformationEvent, E ObjectEvent OBSERVE receiving by quantity, F ObjectEvent DELETE (a Digital Link EPC),
/// G TransactionEvent ADD.
/// </summary>
public sealed class EpcisLedger : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private TraceService? _service;

    public TraceService Service => _service!;
    public HttpClient Regulator { get; private set; } = null!;
    public HttpClient Anonymous { get; private set; } = null!;
    public Dictionary<string, string> Hashes { get; } = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _letterByHash = new(StringComparer.Ordinal);

    public static string Dl(string urn) => Gs1Identifiers.ToCanonicalDigitalLink(urn);

    public static JsonObject[] Events()
    {
        static JsonObject E(string type, int day, string? action, string bizStep) => new()
        {
            ["type"] = type,
            ["eventTime"] = $"2026-11-0{day}T08:00:00.000Z",
            ["eventTimeZoneOffset"] = "+00:00",
            ["bizStep"] = bizStep,
        };
        var a = E("ObjectEvent", 1, "ADD", "commissioning");
        a["eventID"] = "urn:uuid:6a2c4f0e-5d1b-4b8e-9a53-0c4e0f7f1a01";
        a["eventTime"] = "2026-11-01T08:00:00.000+01:00";
        a["eventTimeZoneOffset"] = "+01:00";
        a["epcList"] = new JsonArray("urn:epc:id:sgtin:4012345.011111.A1");
        a["action"] = "ADD";
        a["disposition"] = "active";
        a["readPoint"] = new JsonObject { ["id"] = "urn:epc:id:sgln:4012345.00001.0" };
        a["bizLocation"] = new JsonObject { ["id"] = "urn:epc:id:sgln:4012345.00001.0" };
        var b = E("ObjectEvent", 2, "OBSERVE", "shipping");
        b["epcList"] = new JsonArray("urn:epc:id:sgtin:4012345.011111.A1", "urn:epc:id:sgtin:4012345.011111.A2");
        b["action"] = "OBSERVE";
        b["disposition"] = "in_transit";
        b["readPoint"] = new JsonObject { ["id"] = "urn:epc:id:sgln:4012345.00002.0" };
        var c = E("AggregationEvent", 3, "ADD", "packing");
        c["parentID"] = "urn:epc:id:sscc:4012345.0000000001";
        c["childEPCs"] = new JsonArray("urn:epc:id:sgtin:4012345.022222.B1");
        c["action"] = "ADD";
        var d = E("TransformationEvent", 4, null, "commissioning");
        d["inputEPCList"] = new JsonArray("urn:epc:id:sgtin:4012345.011111.A2");
        d["inputQuantityList"] = new JsonArray(new JsonObject { ["epcClass"] = "urn:epc:class:lgtin:4012345.044444.L1", ["quantity"] = 10, ["uom"] = "KGM" });
        d["outputEPCList"] = new JsonArray("urn:epc:id:sgtin:4012345.033333.C1");
        var e = E("ObjectEvent", 5, "OBSERVE", "receiving");
        e["action"] = "OBSERVE";
        e["epcList"] = new JsonArray();
        e["quantityList"] = new JsonArray(new JsonObject { ["epcClass"] = "urn:epc:class:lgtin:4012345.055555.L2", ["quantity"] = 5, ["uom"] = "KGM" });
        e["disposition"] = "sellable_accessible";
        e["bizLocation"] = new JsonObject { ["id"] = "urn:epc:id:sgln:4012345.00003.0" };
        e["example:temperature"] = new JsonObject { ["example:celsius"] = "4.5" };
        var f = E("ObjectEvent", 6, "DELETE", "destroying");
        f["action"] = "DELETE";
        f["disposition"] = "destroyed";
        f["epcList"] = new JsonArray(Dl("urn:epc:id:sgtin:4012345.066666.D1").Replace("https://id.gs1.org", "https://example.com", StringComparison.Ordinal));
        var g = E("TransactionEvent", 7, "ADD", "shipping");
        g["bizStep"] = "holding";
        g["action"] = "ADD";
        g["parentID"] = "urn:epc:id:sscc:4012345.0000000002";
        g["epcList"] = new JsonArray("urn:epc:id:sgtin:4012345.011111.A1");
        g["bizTransactionList"] = new JsonArray(new JsonObject { ["type"] = "po", ["bizTransaction"] = "urn:epcglobal:cbv:bt:4012345000009:PO-7" });
        return [a, b, c, d, e, f, g];
    }

    public async Task EnsureAsync(ChainFixture chain, IDictionary<string, string>? settings = null)
    {
        await _gate.WaitAsync();
        try
        {
            if (_service is not null) return;
            _service = await chain.StartServiceAsync(settings);
            (Regulator, _) = await _service.MemberAsync("regulator");
            Anonymous = _service.Client();
            var document = JsonNode.Parse(EpcisDocs.Document(Events()))!.AsObject();
            document["@context"] = new JsonArray(EpcisDocs.Context, new JsonObject { ["example"] = "https://ns.example.com/epcis/" });
            var response = await TraceService.CaptureAsync(Regulator, document.ToJsonString());
            response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            var receipts = (await TraceService.JsonAsync(response))["receipts"]!.AsArray();
            for (var i = 0; i < receipts.Count; i++)
            {
                var letter = ((char)('A' + i)).ToString();
                Hashes[letter] = (string)receipts[i]!["eventHash"]!;
                _letterByHash[Hashes[letter]] = letter;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public static JsonArray EventList(JsonNode document) => document["epcisBody"]!["queryResults"]!["resultsBody"]!["eventList"]!.AsArray();

    /// <summary>GET as the regulator: the events (the answer validated against the schema) and the next page's URL.</summary>
    public async Task<(JsonArray Events, string? Next)> GetAsync(string url)
    {
        var response = await Regulator.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, url + "\n" + text);
        var document = JsonNode.Parse(text)!;
        EpcisSchema.ShouldValidate(document);
        string? next = null;
        if (response.Headers.TryGetValues("Link", out var links))
        {
            var link = links.Single();
            link.Should().EndWith("; rel=\"next\"");
            next = link[1..link.IndexOf('>', StringComparison.Ordinal)];
        }
        return (EventList(document), next);
    }

    /// <summary>The letter of an answered event, from its CBV 2.0 hash recomputed from the answer.</summary>
    public string LetterOf(JsonNode e)
    {
        var standalone = e.DeepClone().AsObject();
        standalone["@context"] = new JsonArray(EpcisDocs.Context, new JsonObject { ["example"] = "https://ns.example.com/epcis/" });
        return _letterByHash[EventHash.Compute(EpcisParser.ParseEventJson(standalone.ToJsonString()))];
    }

    public string Letters(JsonArray events) => string.Concat(events.Select(e => LetterOf(e!)).Order(StringComparer.Ordinal));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_service is not null) await _service.DisposeAsync();
    }
}
