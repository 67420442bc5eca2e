using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Nethereum.Signer;
using Traceability.Api.Tests.Support;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Api.Tests.Epcis;

/// <summary>
/// POST /epcis/capture and the consortium's trust, on a real Hardhat node: a job takes the member's Trace-Signature as
/// /api/v1/capture does (same EventsSigned check, same refusals, TRACE_REQUIRE_SIGNATURES), a proceed job's events carry
/// their proofs in the whole document's signed tree (the verifier checks one), and a job's receipts carry the anchoring
/// deadline and the service's signature, the same receipts /api/v1/capture answers.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class EpcisCaptureJobTrustTests(ChainFixture chain) : IDisposable
{
    private const string Gtin = "10614141073464";
    private readonly string _dir = Directory.CreateTempSubdirectory("trace-job-trust-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { /* still held: harmless */ }
    }

    private Task<TraceService> StartAsync(bool requireSignatures = false) => chain.StartSigningServiceAsync(requireSignatures);

    /// <summary>A manufacturer with its product and a key whose address the service registered for it on chain.</summary>
    private static async Task<(HttpClient Client, string Id, EthECKey Key)> SigningMakerAsync(TraceService service, string name = "Acme")
    {
        var (client, id) = await service.MemberAsync("manufacturer", name);
        var key = EthECKey.GenerateKey();
        var address = EthAddress.Normalize(key.GetPublicAddress());
        var added = await client.PostAsJsonAsync($"/api/v1/members/{id}/addresses",
            new { address, signature = MemberSignatures.SignPersonal(MemberSignatures.AddressClaim(id, address), key) });
        added.StatusCode.Should().Be(HttpStatusCode.Created, await added.Content.ReadAsStringAsync());
        return (client, id, key);
    }

    /// <summary>The Trace-Signature of <paramref name="document"/>: EventsSigned over every event of it, in document order.</summary>
    private static async Task<string> SignAsync(TraceService service, string document, EthECKey key)
    {
        var chainId = (await TraceService.JsonAsync(await service.Admin.GetAsync("/api/v1/chain")))["chainId"]!.GetValue<long>();
        var events = EpcisParser.ParseJson(document).Events;
        var root = SignedEventsTree.Build(events.Select(e => EventHash.Digest(EventHash.Compute(e))).ToList()).Root;
        return MemberSignatures.SignEventsSigned(key, chainId, service.Registry.Contract, root, events.Count);
    }

    private static async Task<JsonNode> JobAsync(HttpClient client, string document, string? signature, bool proceed = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/epcis/capture") { Content = new StringContent(document, Encoding.UTF8, "application/ld+json") };
        if (signature is not null) request.Headers.TryAddWithoutValidation("Trace-Signature", signature);
        if (proceed) request.Headers.Add("GS1-Capture-Error-Behaviour", "proceed");
        var accepted = await client.SendAsync(request);
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync());
        return await TraceService.JsonAsync(await client.GetAsync(accepted.Headers.Location));
    }

    private static JsonObject Commissioning(string serial, DateTimeOffset? at = null) => EpcisDocs.Commissioning(serial, at: at);

    [Fact]
    public async Task ASignedJobIsCheckedAsCaptureChecksItAndItsReceiptsAreSignedPromises()
    {
        await using var service = await StartAsync();
        var (maker, makerId, makerKey) = await SigningMakerAsync(service);
        var (_, _, otherKey) = await SigningMakerAsync(service, "Other Co.");

        // Signed by the member's own address: captured, one signed document, one proof per event.
        var document = EpcisDocs.Document(Commissioning(EpcisDocs.NextSerial()), Commissioning(EpcisDocs.NextSerial()), Commissioning(EpcisDocs.NextSerial()));
        var job = await JobAsync(maker, document, await SignAsync(service, document, makerKey));
        ((bool)job["success"]!).Should().BeTrue(job.ToJsonString());
        service.Scalar("SELECT COUNT(*) FROM signed_documents").Should().Be(1);
        service.Scalar("SELECT COUNT(*) FROM event_signatures").Should().Be(3);

        // Its receipts are promises the anchoring key signed, with the deadline TRACE_MAX_ANCHOR_DELAY (600 s) after the record time.
        var chainId = (await TraceService.JsonAsync(await service.Admin.GetAsync("/api/v1/chain")))["chainId"]!.GetValue<long>();
        var receipts = new ServiceReceipts(chainId, service.Registry.Contract);
        var anchorer = EthAddress.Normalize(service.Registry.Anchorer.GetPublicAddress());
        foreach (var r in job["receipts"]!.AsArray())
        {
            var recorded = DateTimeOffset.Parse((string)r!["recordTime"]!, System.Globalization.CultureInfo.InvariantCulture);
            var deadline = DateTimeOffset.Parse((string)r["anchorDeadline"]!, System.Globalization.CultureInfo.InvariantCulture);
            (deadline - recorded).Should().Be(TimeSpan.FromSeconds(600));
            var message = ServiceReceipts.Message(EventHash.Digest((string)r["eventHash"]!), (long)r["sequence"]!, recorded, deadline);
            var root = Hex.Decode((string)r["receiptsRoot"]!);
            var count = (long)r["receiptCount"]!;
            ServiceReceipts.VerifyInRoot(message, root, r["receiptProof"]!.AsArray().Select(p => Hex.Decode((string)p!)).ToList(), count).IsValid.Should().BeTrue();
            receipts.RecoverBatch(root, count, (string)r["receiptSignature"]!).Should().Be(anchorer);
        }

        // /api/v1/capture answers the same document with the same receipts, byte for byte (its first receipts, signed again).
        using (var again = new HttpRequestMessage(HttpMethod.Post, "/api/v1/capture") { Content = new StringContent(document, Encoding.UTF8, "application/ld+json") })
        {
            var direct = await TraceService.JsonAsync(await maker.SendAsync(again));
            direct["receipts"]!.ToJsonString().Should().Be(job["receipts"]!.ToJsonString());
        }

        // Signed with another member's registered key: the job fails with /api/v1/capture's 422 problem; nothing stored.
        var second = EpcisDocs.Document(Commissioning(EpcisDocs.NextSerial()), Commissioning(EpcisDocs.NextSerial()));
        var refused = await JobAsync(maker, second, await SignAsync(service, second, otherKey));
        ((bool)refused["success"]!).Should().BeFalse();
        var problem = refused["errors"]!.AsArray().Single()!;
        ((int)problem["status"]!).Should().Be(422);
        ((string)problem["type"]!).Should().EndWith("rule-violation");
        ((string)problem["errors"]![0]!["rule"]!).Should().Be("signature-not-member");
        ((string)problem["errors"]![0]!["field"]!).Should().Be("Trace-Signature");
        ((string)problem["errors"]![0]!["message"]!).Should().Contain(EthAddress.Normalize(otherKey.GetPublicAddress())).And.Contain(makerId);
        refused["receipts"]!.AsArray().Should().AllSatisfy(r => r.Should().BeNull());

        // The same refusal with proceed: once for the document, no event captured.
        var proceeding = await JobAsync(maker, second, await SignAsync(service, second, otherKey), proceed: true);
        ((bool)proceeding["success"]!).Should().BeFalse();
        ((string)proceeding["errors"]!.AsArray().Single()!["errors"]![0]!["rule"]!).Should().Be("signature-not-member");
        service.Scalar("SELECT COUNT(*) FROM events").Should().Be(3);

        // A signature over other events (the first document's, for the second): refused too.
        var moved = await JobAsync(maker, second, await SignAsync(service, document, makerKey));
        ((string)moved["errors"]![0]!["errors"]![0]!["rule"]!).Should().Be("signature-not-member");

        // A header that is not a signature: 400 before any job, naming the header.
        using var malformed = new HttpRequestMessage(HttpMethod.Post, "/epcis/capture") { Content = new StringContent(second, Encoding.UTF8, "application/ld+json") };
        malformed.Headers.TryAddWithoutValidation("Trace-Signature", "0x1234");
        var bad = await maker.SendAsync(malformed);
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var badProblem = await TraceService.JsonAsync(bad);
        ((string)badProblem["type"]!).Should().Be("epcisException:ValidationException");
        ((string)badProblem["detail"]!).Should().Contain("Trace-Signature");
        service.Scalar("SELECT COUNT(*) FROM capture_jobs").Should().Be(4);
        service.Scalar("SELECT COUNT(*) FROM events").Should().Be(3);
    }

    [Fact]
    public async Task AProceedJobsEventsCarryTheirProofsInTheWholeDocumentsSignedTree()
    {
        await using var service = await StartAsync();
        var (maker, makerId, key) = await SigningMakerAsync(service);
        (await maker.PostAsJsonAsync("/api/v1/products", new { gtin = Gtin, name = "UHT milk" })).EnsureSuccessStatusCode();
        var taken = EpcisDocs.NextSerial();
        (await TraceService.CaptureAsync(maker, EpcisDocs.Document(Commissioning(taken)))).StatusCode.Should().Be(HttpStatusCode.Created);

        // The middle event commissions a serial already commissioned (a custody rule): refused alone; the others are captured.
        var document = EpcisDocs.Document(Commissioning(EpcisDocs.NextSerial()), Commissioning(taken, DateTimeOffset.Parse("2026-11-02T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture)),
            Commissioning(EpcisDocs.NextSerial()));
        var job = await JobAsync(maker, document, await SignAsync(service, document, key), proceed: true);
        ((bool)job["success"]!).Should().BeFalse();
        ((int)job["errors"]!.AsArray().Single()!["index"]!).Should().Be(1);
        var receipts = job["receipts"]!.AsArray();
        receipts[1].Should().BeNull();
        ((long)receipts[0]!["sequence"]!).Should().Be(2);
        ((long)receipts[2]!["sequence"]!).Should().Be(3);
        ((string)receipts[2]!["receiptSignature"]!).Should().MatchRegex("^0x[0-9a-f]{130}$");

        // One signed document (the whole one, three events) for the two captures; each event's proof at its place in it.
        service.Scalar("SELECT COUNT(*) FROM signed_documents").Should().Be(1);
        service.Scalar("SELECT event_count FROM signed_documents").Should().Be(3);
        service.Scalar("SELECT COUNT(*) FROM event_signatures").Should().Be(2);

        // Anchored: each bundle's member signature verifies, and the job's answer serves as the receipt file.
        (await service.AnchorAsync()).Status.Should().Be(200);
        var rpc = chain.Node.RpcUrl.ToString();
        var jobFile = Path.Combine(_dir, "job.json");
        await File.WriteAllTextAsync(jobFile, job.ToJsonString());
        foreach (var sequence in new[] { 2L, 3L })
        {
            var bundle = Path.Combine(_dir, $"bundle-{sequence}.json");
            await File.WriteAllTextAsync(bundle, await service.Admin.GetStringAsync($"/api/v1/events/{sequence}/proof"));
            var verified = await VerifierProcess.RunAsync(bundle, "--rpc", rpc, "--require-signature");
            verified.Exit.Should().Be(0, verified.Out + verified.Err);
            verified.Out.Should().StartWith($"VERIFIED event {sequence}").And.Contain($"of member {makerId} (3 events signed together)");
            if (sequence != 3) continue;
            var kept = await VerifierProcess.RunAsync(bundle, "--rpc", rpc, "--receipt", jobFile);
            kept.Exit.Should().Be(0, kept.Out + kept.Err);
            kept.Out.Should().Contain("RECEIPT KEPT: event 3 was promised by " + EthAddress.Normalize(service.Registry.Anchorer.GetPublicAddress()));
        }
    }

    [Fact]
    public async Task WhenSignaturesAreRequiredAnUnsignedJobIsRefusedOnceWhateverItsErrorBehaviour()
    {
        await using var service = await StartAsync(requireSignatures: true);
        var (maker, _, key) = await SigningMakerAsync(service);
        var document = EpcisDocs.Document(Commissioning(EpcisDocs.NextSerial()), Commissioning(EpcisDocs.NextSerial()));
        foreach (var proceed in new[] { false, true })
        {
            var job = await JobAsync(maker, document, null, proceed);
            ((bool)job["success"]!).Should().BeFalse();
            var problem = job["errors"]!.AsArray().Single()!;
            ((int)problem["status"]!).Should().Be(422);
            ((string)problem["errors"]![0]!["rule"]!).Should().Be("signature-required");
        }
        service.Scalar("SELECT COUNT(*) FROM events").Should().Be(0);

        var signed = await JobAsync(maker, document, await SignAsync(service, document, key), proceed: true);
        ((bool)signed["success"]!).Should().BeTrue(signed.ToJsonString());
        service.Scalar("SELECT COUNT(*) FROM events").Should().Be(2);
    }
}
