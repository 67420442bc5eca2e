using System.Net;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests;

/// <summary>The official GS1 examples and the event-hash reference documents, captured over HTTP.</summary>
[Collection(ChainCollection.Name)]
public sealed class ConformanceCaptureTests(ChainFixture chain)
{
    public static IEnumerable<object[]> OfficialExamples() =>
        RepoPaths.Shared is null ? [["(none)"]]
        : Directory.EnumerateFiles(RepoPaths.SharedPath("conformance", "epcis-examples"), "*.jsonld", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepoPaths.SharedPath("conformance", "epcis-examples"), f)).Order(StringComparer.Ordinal)
            .Select(f => new object[] { f });

    public static IEnumerable<object[]> HashVectorDocuments() =>
        RepoPaths.Shared is null ? [["(none)"]]
        : Directory.EnumerateFiles(RepoPaths.SharedPath("conformance", "event-hash"))
            .Where(f => f.EndsWith(".jsonld", StringComparison.Ordinal) || f.EndsWith(".xml", StringComparison.Ordinal))
            .Where(f => new FileInfo(f).Length > 0 && File.Exists(Path.ChangeExtension(f, ".hashes")))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(f => new object[] { f! });

    /// <summary>
    /// Every official example is accepted. Most carry ni: eventIDs computed by an earlier draft of the CBV 2.0 hash: such
    /// an event keeps its eventID, is identified by the hash computed here, and its receipt warns naming both; the
    /// computed hash is the one the document without eventIDs gets (eventID is not part of the hash).
    /// </summary>
    [SharedTheory]
    [MemberData(nameof(OfficialExamples))]
    public async Task AcceptsOfficialExampleWarningOfStaleEventIds(string file)
    {
        await using var svc = await chain.StartServiceAsync();
        var (regulator, _) = await svc.MemberAsync("regulator");
        var document = await File.ReadAllTextAsync(RepoPaths.SharedPath("conformance", "epcis-examples", file));
        var response = await TraceService.CaptureAsync(regulator, document);
        if (RepoPaths.ExamplesWithDuplicateKeys.Contains(file.Replace('\\', '/')))
        {
            // a key named twice in one object: refused whatever the values (the hash and the index could read different
            // ones); without its eventIDs the same events are accepted
            await response.ReadProblemAsync(HttpStatusCode.BadRequest);
            (await response.Content.ReadAsStringAsync()).Should().Contain("Duplicate property");
            svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(0);
            (await TraceService.CaptureAsync(regulator, EpcisDocs.WithoutEventIds(document))).StatusCode.Should().Be(HttpStatusCode.Created);
            return;
        }
        var receipts = await response.ReceiptsAsync();

        var expected = Traceability.Ledger.Epcis.EpcisParser.ParseJson(EpcisDocs.WithoutEventIds(document)).Events.Select(Traceability.Ledger.Epcis.EventHash.Compute);
        receipts.Select(r => r.EventHash).Should().Equal(expected);
        foreach (var r in receipts)
        {
            if (r.Warning is { } warning)
            {
                r.EventId.Should().StartWith("ni:").And.NotBe(r.EventHash, "the event keeps the eventID it was given");
                warning.Should().Contain(r.EventId).And.Contain(r.EventHash);
            }
        }
    }

    /// <summary>TRACE_EVENTID_CHECK=strict keeps the refusal of a disagreeing ni: eventID, naming the computed hash.</summary>
    [Fact]
    public async Task StrictEventIdCheckRefusesDisagreeingEventIds()
    {
        await using var svc = await chain.StartServiceAsync(new Dictionary<string, string> { ["TRACE_EVENTID_CHECK"] = "strict" });
        var (regulator, _) = await svc.MemberAsync("regulator");
        var stale = EpcisDocs.Commissioning();
        stale["eventID"] = "ni:///sha-256;" + new string('0', 64) + "?ver=CBV2.0";
        var document = EpcisDocs.Document(stale);
        var response = await TraceService.CaptureAsync(regulator, document);
        (await response.ReadProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors
            .Should().NotBeEmpty().And.OnlyContain(e => e.Field == "eventID" && e.Message.Contains("hash 'ni:"));
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(0);
    }

    [SharedTheory]
    [MemberData(nameof(HashVectorDocuments))]
    public async Task ReceiptHashesEqualTheReferenceHashes(string file)
    {
        await using var svc = await chain.StartServiceAsync();
        var (regulator, _) = await svc.MemberAsync("regulator");
        var path = RepoPaths.SharedPath("conformance", "event-hash", file);
        var media = file.EndsWith(".xml", StringComparison.Ordinal) ? "application/xml" : "application/ld+json";
        var document = await File.ReadAllTextAsync(path);
        var expected = (await File.ReadAllLinesAsync(Path.ChangeExtension(path, ".hashes"))).Where(l => l.Length > 0).ToList();
        var response = await TraceService.CaptureAsync(regulator, document, media);
        (await response.ReceiptsAsync()).Select(r => r.EventHash).Should().Equal(expected);
    }
}
