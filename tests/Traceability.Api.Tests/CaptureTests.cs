using System.Net;
using System.Text.Json.Nodes;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests;

[Collection(ChainCollection.Name)]
public sealed class CaptureTests(ChainFixture chain)
{
    [Fact]
    public async Task ReturnsReceiptsWithGapFreeSequencesFromOne()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var receipts = await (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(3))).ReceiptsAsync();
        receipts.Select(r => r.Sequence).Should().Equal(1, 2, 3);
        foreach (var r in receipts)
        {
            r.EventHash.Should().MatchRegex("^ni:///sha-256;[0-9a-f]{64}\\?ver=CBV2.0$");
            r.EventId.Should().Be(r.EventHash);
            r.RecordTime.Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
        }
    }

    [Fact]
    public async Task ReturnsFirstReceiptForAnEventCapturedBefore()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var e = EpcisDocs.Commissioning();
        var first = (await (await TraceService.CaptureAsync(maker, EpcisDocs.Document(e))).ReceiptsAsync())[0];
        var receipts = await (await TraceService.CaptureAsync(maker, EpcisDocs.Document(EpcisDocs.Commissioning(), (JsonObject)e.DeepClone()))).ReceiptsAsync();
        receipts[1].Promise().Should().Be(first.Promise());
        receipts[0].Sequence.Should().Be(2);
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(2);
    }

    [Fact]
    public async Task RejectsWholeDocumentListingEachBadEventAndStoresNothing()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var badStep = EpcisDocs.Commissioning(); badStep["bizStep"] = "teleporting";
        var badEpc = EpcisDocs.Commissioning(); badEpc["epcList"] = new JsonArray("urn:epc:id:sgtin:not-an-epc");
        var badId = EpcisDocs.Commissioning(); badId["eventID"] = "ni:///sha-256;" + new string('0', 64) + "?ver=CBV2.0";
        var badAction = EpcisDocs.Commissioning(); badAction["action"] = "CREATE";
        var response = await TraceService.CaptureAsync(maker, EpcisDocs.Document(EpcisDocs.Commissioning(), badStep, badEpc, EpcisDocs.Commissioning(), badId, badAction));

        var errors = (await response.ReadProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors.Select(e => (e.Index, (string?)e.Field)).ToList();
        errors.Should().Contain([(1, "bizStep"), (2, "epcList")]);
        errors.Should().Contain(e => e.Item1 == 5 && e.Item2 == "action");
        errors.Select(e => e.Item1).Should().NotContain([0, 3, 4], "a disagreeing ni: eventID only warns (TRACE_EVENTID_CHECK=strict refuses it)");
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(0);
    }

    [Fact]
    public async Task AcceptsXmlAndGivesTheSameHashAsJson()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        const string xml = """
            <epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2026-11-01T08:00:00Z">
              <EPCISBody><EventList><ObjectEvent>
                <eventTime>2026-11-01T08:00:00.000+08:00</eventTime><eventTimeZoneOffset>+08:00</eventTimeZoneOffset>
                <epcList><epc>urn:epc:id:sgtin:0614141.107346.xml1</epc></epcList>
                <action>ADD</action><bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
                <disposition>urn:epcglobal:cbv:disp:active</disposition>
                <readPoint><id>urn:epc:id:sgln:0614141.00777.0</id></readPoint>
              </ObjectEvent></EventList></EPCISBody>
            </epcis:EPCISDocument>
            """;
        var fromXml = (await (await TraceService.CaptureAsync(maker, xml, "application/xml")).ReceiptsAsync())[0];
        var fromJson = (await (await TraceService.CaptureAsync(maker, EpcisDocs.Document(EpcisDocs.Commissioning("xml1")))).ReceiptsAsync())[0];
        fromJson.EventHash.Should().Be(fromXml.EventHash);
        fromJson.Sequence.Should().Be(1, "the JSON event is the same event, so it gets the XML capture's receipt");
    }

    [Fact]
    public async Task RefusesOversizedDocumentsWith413AndUnknownMediaWith415()
    {
        await using var svc = await chain.StartServiceAsync(new Dictionary<string, string> { ["TRACE_CAPTURE_MAX_EVENTS"] = "5", ["TRACE_CAPTURE_MAX_BYTES"] = "20000" });
        var (maker, _) = await svc.MemberAsync("manufacturer");
        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(6))).StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        var big = EpcisDocs.Commissioning(); big["example:note"] = new string('x', 30000);
        (await TraceService.CaptureAsync(maker, EpcisDocs.Document(big))).StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(1), "text/plain")).StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        (await TraceService.CaptureAsync(maker, "{not json")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(0);
    }

    [Fact]
    public async Task KeepsSequencesGapFreeUnderConcurrentCaptures()
    {
        await using var svc = await chain.StartServiceAsync();
        var clients = new List<HttpClient>();
        for (var i = 0; i < 4; i++) clients.Add((await svc.MemberAsync("manufacturer")).Client);
        var tasks = Enumerable.Range(0, 40).Select(i => TraceService.CaptureAsync(clients[i % 4], EpcisDocs.Commissioning(1 + i % 5)));
        var responses = await Task.WhenAll(tasks);
        responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.Created);
        var sequences = new List<long>();
        foreach (var r in responses) sequences.AddRange((await r.ReceiptsAsync()).Select(x => x.Sequence));
        var expected = Enumerable.Range(0, 40).Sum(i => 1 + i % 5);
        sequences.Order().Should().Equal(Enumerable.Range(1, expected).Select(i => (long)i));
        svc.Scalar("SELECT MAX(sequence) - MIN(sequence) + 1 - COUNT(*) FROM events").Should().Be(0);
    }
}
