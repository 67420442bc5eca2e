using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Epcis;

/// <summary>POST /epcis/capture: 202 and a job; rollback (all or nothing) and proceed (each event on its own); the resolver.</summary>
[Collection(ChainCollection.Name)]
public sealed class EpcisCaptureJobTests(ChainFixture chain)
{
    private static StringContent Json(string document) => new(document, Encoding.UTF8, "application/ld+json");

    private static async Task<JsonNode> JobAsync(HttpClient client, HttpResponseMessage accepted)
    {
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync());
        accepted.Headers.Location!.ToString().Should().StartWith("/epcis/capture/id");
        return await TraceService.JsonAsync(await client.GetAsync(accepted.Headers.Location));
    }

    /// <summary>A document of three events whose second names an EPC that is not an EPC URN.</summary>
    private static string OneBadOfThree(out string[] serials)
    {
        serials = [EpcisDocs.NextSerial(), EpcisDocs.NextSerial(), EpcisDocs.NextSerial()];
        var bad = EpcisDocs.Commissioning(serials[1]);
        bad["epcList"] = new JsonArray("urn:epc:id:sgtin:not-an-epc");
        return EpcisDocs.Document(EpcisDocs.Commissioning(serials[0]), bad, EpcisDocs.Commissioning(serials[2]));
    }

    [SharedFact]
    public async Task RollbackStoresNothingWhenOneEventFailsAndSaysWhy()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var job = await JobAsync(maker, await maker.PostAsync("/epcis/capture", Json(OneBadOfThree(out _))));
        ((bool)job["running"]!).Should().BeFalse();
        ((bool)job["success"]!).Should().BeFalse();
        ((string)job["captureErrorBehaviour"]!).Should().Be("rollback");
        var error = job["errors"]!.AsArray().Single()!;
        ((string)error["type"]!).Should().Be("epcisException:ValidationException");
        ((string)error["title"]!).Should().NotBeNullOrEmpty();
        error["errors"]!.AsArray().Should().ContainSingle(e => (int)e!["index"]! == 1 && (string)e["field"]! == "epcList");
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(0);

        var good = await JobAsync(maker, await maker.PostAsync("/epcis/capture", Json(EpcisDocs.Commissioning(2))));
        ((bool)good["success"]!).Should().BeTrue(good.ToJsonString());
        good["errors"]!.AsArray().Should().BeEmpty();
        good["receipts"]!.AsArray().Select(r => (long)r!["sequence"]!).Should().Equal(1, 2);
        good["finishedAt"].Should().NotBeNull();
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(2);
    }

    [SharedFact]
    public async Task ProceedCapturesEachGoodEventAndListsTheFailedOnes()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        // the custody rules police codes of products in the master data
        (await maker.PostAsync("/api/v1/products", new StringContent("""{"gtin":"10614141073464","name":"UHT milk"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var request = new HttpRequestMessage(HttpMethod.Post, "/epcis/capture") { Content = Json(OneBadOfThree(out var serials)) };
        request.Headers.Add("GS1-Capture-Error-Behaviour", "proceed");
        var job = await JobAsync(maker, await maker.SendAsync(request));
        ((bool)job["success"]!).Should().BeFalse();
        ((string)job["captureErrorBehaviour"]!).Should().Be("proceed");
        var error = job["errors"]!.AsArray().Single()!;
        ((int)error["index"]!).Should().Be(1);
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(2);
        var receipts = job["receipts"]!.AsArray();
        receipts[1].Should().BeNull();
        ((long)receipts[0]!["sequence"]!).Should().Be(1);
        ((long)receipts[2]!["sequence"]!).Should().Be(2);

        // a custody rule broken by one event refuses that event only: commissioning serials[0] again
        var again = new HttpRequestMessage(HttpMethod.Post, "/epcis/capture")
        {
            Content = Json(EpcisDocs.Document(EpcisDocs.Commissioning(serials[0], at: DateTimeOffset.Parse("2026-11-02T08:00:00Z")), EpcisDocs.Commissioning(serials[1]))),
        };
        again.Headers.Add("GS1-Capture-Error-Behaviour", "proceed");
        var second = await JobAsync(maker, await maker.SendAsync(again));
        var ruleError = second["errors"]!.AsArray().Single()!;
        ((int)ruleError["index"]!).Should().Be(0);
        ruleError["errors"]!.AsArray().Should().Contain(e => (string?)e!["rule"] == "already-commissioned");
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(3);

        var list = await TraceService.JsonAsync(await maker.GetAsync("/epcis/capture"));
        list.AsArray().Should().HaveCount(2);
        var (other, _) = await svc.MemberAsync("manufacturer", "Other Maker");
        (await TraceService.JsonAsync(await other.GetAsync("/epcis/capture"))).AsArray().Should().BeEmpty();
        (await other.GetAsync($"/epcis/capture/{(string)list[0]!["captureID"]!}")).StatusCode
            .Should().Be(HttpStatusCode.NotFound, "a job is its submitter's");
    }

    [SharedFact]
    public async Task JobsSurviveARestartAndAJobCutOffByTheStopIsMarkedFailed()
    {
        var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var accepted = await maker.PostAsync("/epcis/capture", Json(EpcisDocs.Commissioning(1)));
        var location = accepted.Headers.Location!;
        var key = maker.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        var memberId = svc.Text("SELECT submitter_id FROM capture_jobs");
        await svc.DisposeAsync();
        // what a stop in the middle of a capture leaves behind (written to the file while no service runs)
        svc.Execute(
            "INSERT INTO capture_jobs (id, submitter_id, error_behaviour, running, success, created_at, event_count) VALUES ('idcut', @m, 'rollback', 1, 1, '2026-11-01T00:00:00.000Z', 3)",
            ("@m", memberId));

        await using var again = chain.Start(svc.DataDir, svc.Registry);
        var client = again.Client(key);
        var job = await TraceService.JsonAsync(await client.GetAsync(location));
        ((bool)job["success"]!).Should().BeTrue(job.ToJsonString());
        var cut = await TraceService.JsonAsync(await client.GetAsync("/epcis/capture/idcut"));
        ((bool)cut["running"]!).Should().BeFalse();
        ((bool)cut["success"]!).Should().BeFalse();
        ((string)cut["errors"]![0]!["title"]!).Should().Be("Capture interrupted");
    }

    [SharedFact]
    public async Task MalformedDocumentsAreRefusedBeforeAJobIsMade()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var response = await maker.PostAsync("/epcis/capture", Json("{ not json"));
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        ((string)(await TraceService.JsonAsync(response))["type"]!).Should().Be("epcisException:ValidationException");
        var unknown = new HttpRequestMessage(HttpMethod.Post, "/epcis/capture") { Content = Json(EpcisDocs.Commissioning(1)) };
        unknown.Headers.Add("GS1-Capture-Error-Behaviour", "sometimes");
        (await maker.SendAsync(unknown)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        svc.Scalar("SELECT COUNT(*) FROM capture_jobs").Should().Be(0);
    }

    [SharedFact]
    public async Task TheResolverDescribesItselfAndAnswersALinkset()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer", gln: "0614141000005");
        (await maker.PostAsync("/api/v1/products", new StringContent("""{"gtin":"10614141073464","name":"UHT milk"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var codes = await TraceService.JsonAsync(await maker.PostAsync("/api/v1/codes/generate",
            new StringContent("""{"gtin":"10614141073464","lot":"L1","count":1}""", Encoding.UTF8, "application/json")));
        var epc = (string)codes["codes"]![0]!["epc"]!;
        var link = new Uri((string)codes["codes"]![0]!["digitalLink"]!).PathAndQuery;
        var commissioning = EpcisDocs.Commissioning();
        commissioning["epcList"] = new JsonArray(epc);
        commissioning["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = "L1" };
        var captured = await TraceService.CaptureAsync(maker, EpcisDocs.Document(commissioning));
        captured.StatusCode.Should().Be(HttpStatusCode.Created, await captured.Content.ReadAsStringAsync());

        var description = await TraceService.JsonAsync(await svc.Client().GetAsync("/.well-known/gs1resolver"));
        description["supportedPrimaryKeys"]!.AsArray().Select(x => (string)x!).Should().Contain("01");

        var response = await svc.Client().GetAsync(link + "?linkType=all");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/linkset+json");
        var set = (await TraceService.JsonAsync(response))["linkset"]![0]!;
        foreach (var type in new[] { "pip", "traceability", "recallStatus" })
            set["https://gs1.org/voc/" + type]!.AsArray().Should().NotBeEmpty(type);
        var traceability = (string)set["https://gs1.org/voc/traceability"]![0]!["href"]!;
        traceability.Should().Contain("/epcis/epcs/");
        var events = await maker.GetAsync(new Uri(traceability).PathAndQuery);
        EpcisLedger.EventList(await TraceService.JsonAsync(events)).Should().HaveCount(1);
        var status = await TraceService.JsonAsync(await svc.Client().GetAsync(link + "?linkType=gs1:recallStatus"));
        ((bool)status["recalled"]!).Should().BeFalse();
        svc.Scalar("SELECT COUNT(*) FROM scans").Should().Be(0, "resolver queries are not scans");
    }
}
