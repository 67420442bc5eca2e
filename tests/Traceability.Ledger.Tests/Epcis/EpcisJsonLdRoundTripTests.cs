using Traceability.Ledger.Epcis;
using Xunit.Abstractions;

namespace Traceability.Ledger.Tests.Epcis;

/// <summary>
/// EpcisJsonLd.WriteEvent writes each event as a self-contained JSON-LD object; parsing that object back must
/// give the same event hash, for every event of every reference vector (JSON and XML) and official example.
/// </summary>
public class EpcisJsonLdRoundTripTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> VectorFiles() =>
        EventHashVectorTests.VectorFiles().Select(f => new object[] { "conformance/event-hash/" + f[0] });

    public static IEnumerable<object[]> ExampleFiles() =>
        RepoPaths.SharedFiles("conformance/epcis-examples", ".jsonld").Where(f => !RepoPaths.ExamplesWithDuplicateKeys.Contains(f))
            .Select(f => new object[] { "conformance/epcis-examples/" + f });

    [SharedTheory]
    [MemberData(nameof(VectorFiles))]
    [MemberData(nameof(ExampleFiles))]
    public void WrittenEventHashesLikeTheOriginalGivenSharedFile(string file)
    {
        var text = File.ReadAllText(RepoPaths.SharedPath(file));
        var doc = file.EndsWith(".xml", StringComparison.Ordinal) ? EpcisParser.ParseXml(text) : EpcisParser.ParseJson(text);
        doc.Events.Should().NotBeEmpty();
        foreach (var (e, i) in doc.Events.Select((e, i) => (e, i)))
        {
            var json = EpcisJsonLd.WriteEvent(e);
            output.WriteLine($"[{i}] {json}");
            var back = EpcisParser.ParseEventJson(json);
            EventHash.PreHash(back).Should().Be(EventHash.PreHash(e), $"event {i} of {file} after the round trip");
            EventHash.Compute(back).Should().Be(EventHash.Compute(e));
            back.Type.Should().Be(e.Type);
            back.EpcList.Should().Equal(e.EpcList);
        }
    }

    [SharedFact]
    public void JsonInputKeepsTheOriginalFieldsAndAddsTheDocumentContext()
    {
        var doc = EpcisParser.ParseJson(File.ReadAllText(RepoPaths.SharedPath("conformance/event-hash/ReferenceEventHashAlgorithm.jsonld")));
        var json = EpcisJsonLd.WriteEvent(doc.Events[0]);
        json.Should().StartWith("{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"");
        json.Should().Contain("{\"gs1\":\"https://gs1.org/voc/\"},{\"example\":\"https://ns.example.com/epcis/\"}").And.Contain("\"recordTime\":\"2020-03-04T11:00:30.999+01:00\"");
        json.Should().Contain("\"example:mySubField3\"");
    }

    [SharedFact]
    public void XmlInputIsWrittenInTheJsonBindingWithItsNamespacesAsPrefixes()
    {
        var doc = EpcisParser.ParseXml(File.ReadAllText(RepoPaths.SharedPath("conformance/event-hash/ReferenceEventHashAlgorithm3.xml")));
        var json = EpcisJsonLd.WriteEvent(doc.Events[0]);
        output.WriteLine(json);
        using var parsed = System.Text.Json.JsonDocument.Parse(json);
        var root = parsed.RootElement;
        root.GetProperty("type").GetString().Should().Be("ObjectEvent");
        root.GetProperty("@context")[1].GetProperty("example").GetString().Should().Be("https://ns.example.com/epcis/");
        root.GetProperty("epcList")[0].GetString().Should().Be("urn:epc:id:sgtin:0614141.011111.987");
        root.GetProperty("readPoint").GetProperty("id").GetString().Should().Be("urn:epc:id:sgln:4012345.00011.0");
        root.GetProperty("bizTransactionList")[0].GetProperty("type").GetString().Should().Be("urn:epcglobal:cbv:btt:po");
        root.GetProperty("example:userExt").GetString().Should().Be("CD-34");
    }
}
