using Traceability.Ledger.Epcis;

namespace Traceability.Ledger.Tests.Epcis;

public class EpcisParserTests
{
    private const string Ctx = "\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\",{\"example\":\"https://ns.example.com/epcis/\"}]";

    private static string Doc(string eventsJson) =>
        "{" + Ctx + ",\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2024-01-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[" + eventsJson + "]}}";

    private const string GoodEvent =
        "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00+01:00\",\"eventTimeZoneOffset\":\"+01:00\",\"epcList\":[\"urn:epc:id:sgtin:4012345.011111.9876\"],\"action\":\"OBSERVE\",\"bizStep\":\"shipping\"}";

    [Theory]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"ADD\"}", "eventTime")]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTime\":\"yesterday\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"ADD\"}", "eventTime")]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"action\":\"ADD\"}", "eventTimeZoneOffset")]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"CET\",\"action\":\"ADD\"}", "eventTimeZoneOffset")]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\"}", "action")]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"SHIP\"}", "action")]
    [InlineData("{\"type\":\"ThingEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\"}", "type")]
    [InlineData("{\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\"}", "type")]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"ADD\",\"epcList\":\"urn:epc:id:sgtin:4012345.011111.1\"}", "epcList")]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"ADD\",\"epcList\":[1]}", "epcList")]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"ADD\",\"quantityList\":[{\"quantity\":2}]}", "quantityList")]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"ADD\",\"readPoint\":\"urn:epc:id:sgln:4012345.00005.0\"}", "readPoint")]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"ADD\",\"bizTransactionList\":[{\"type\":\"po\"}]}", "bizTransactionList")]
    [InlineData("{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00Z\",\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"ADD\",\"bizStep\":42}", "bizStep")]
    public void ThrowsNamingTheFieldGivenBadEvent(string badEvent, string field)
    {
        var act = () => EpcisParser.ParseJson(Doc(GoodEvent + "," + badEvent));
        var ex = act.Should().Throw<EpcisFormatException>().Which;
        ex.Field.Should().Be(field);
        ex.EventIndex.Should().Be(1);
        ex.Message.Should().Contain(field).And.Contain("eventList[1]");
    }

    [Theory]
    [InlineData("{", null)]
    [InlineData("[]", null)]
    [InlineData("{\"type\":\"Whatever\"}", "type")]
    [InlineData("{\"type\":\"EPCISDocument\"}", "epcisBody")]
    [InlineData("{\"type\":\"EPCISDocument\",\"epcisBody\":{}}", "eventList")]
    [InlineData("{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":{}}}", "eventList")]
    public void ThrowsGivenBadDocument(string json, string? field)
    {
        var act = () => EpcisParser.ParseJson(json);
        act.Should().Throw<EpcisFormatException>().Which.Field.Should().Be(field);
    }

    [Theory]
    [InlineData("<epcis:EPCISDocument xmlns:epcis='urn:epcglobal:epcis:xsd:2'><EPCISBody><EventList><ObjectEvent><eventTimeZoneOffset>+01:00</eventTimeZoneOffset><action>ADD</action></ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>", "eventTime")]
    [InlineData("<epcis:EPCISDocument xmlns:epcis='urn:epcglobal:epcis:xsd:2'><EPCISBody><EventList><FooEvent/></EventList></EPCISBody></epcis:EPCISDocument>", "type")]
    [InlineData("<epcis:EPCISDocument xmlns:epcis='urn:epcglobal:epcis:xsd:2'><EPCISBody/></epcis:EPCISDocument>", "EventList")]
    [InlineData("<html/>", "html")]
    [InlineData("<epcis:EPCISDocument", null)]
    public void ThrowsGivenBadXml(string xml, string? field)
    {
        var act = () => EpcisParser.ParseXml(xml);
        act.Should().Throw<EpcisFormatException>().Which.Field.Should().Be(field);
    }

    [Fact]
    public void ExposesNormalisedFieldsGivenFullEvent()
    {
        const string ev = """
        {"type":"TransformationEvent","eventTime":"2024-03-01T12:00:00.5+02:00","eventTimeZoneOffset":"+02:00","eventID":"urn:uuid:1",
         "inputEPCList":["urn:epc:id:sgtin:4012345.011111.1"],"outputEPCList":["https://example.com/01/04012345111118/21/2?x=1"],
         "inputQuantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.011111.L1","quantity":2.50,"uom":"KGM"}],
         "bizStep":"urn:epcglobal:cbv:bizstep:commissioning","disposition":"active","readPoint":{"id":"urn:epc:id:sgln:4012345.00005.0"},
         "bizLocation":{"id":"urn:epc:id:sgln:4012345.00005.0"},
         "bizTransactionList":[{"type":"po","bizTransaction":"urn:epcglobal:cbv:bt:4012345000009:PO1"}],
         "sourceList":[{"type":"owning_party","source":"urn:epc:id:pgln:4012345.00000"}],
         "destinationList":[{"type":"urn:epcglobal:cbv:sdt:location","destination":"urn:epc:id:sgln:4012345.00005.0"}],
         "persistentDisposition":{"set":["recalled"],"unset":["active"]},
         "ilmd":{"cbvmda:lotNumber":"L1","example:grade":"A"},
         "errorDeclaration":{"declarationTime":"2024-03-02T00:00:00Z","reason":"incorrect_data","correctiveEventIDs":["urn:uuid:2"]},
         "sensorElementList":[{"sensorMetadata":{"time":"2024-03-01T11:00:00Z","example:meta":"m"},"sensorReport":[{"type":"Temperature","value":4.5,"uom":"CEL"}]}],
         "example:outer":{"example:inner":"x"}}
        """;
        var e = EpcisParser.ParseJson(Doc(ev)).Events[0];
        e.Type.Should().Be("TransformationEvent");
        e.EventTime.Should().Be(new DateTimeOffset(2024, 3, 1, 10, 0, 0, 500, TimeSpan.Zero));
        e.EventTimeZoneOffset.Should().Be("+02:00");
        e.EventId.Should().Be("urn:uuid:1");
        e.BizStep.Should().Be("https://ref.gs1.org/cbv/BizStep-commissioning");
        e.Disposition.Should().Be("https://ref.gs1.org/cbv/Disp-active");
        e.InputEpcList.Should().Equal("urn:epc:id:sgtin:4012345.011111.1");
        e.InputEpcListDigitalLink.Should().Equal("https://id.gs1.org/01/04012345111118/21/1");
        e.OutputEpcListDigitalLink.Should().Equal("https://id.gs1.org/01/04012345111118/21/2");
        e.InputQuantityList.Should().ContainSingle().Which.Should().Be(new QuantityElement("urn:epc:class:lgtin:4012345.011111.L1", "2.50", "KGM"));
        e.InputQuantityList[0].QuantityValue.Should().Be(2.5m);
        e.InputQuantityList[0].EpcClassDigitalLink.Should().Be("https://id.gs1.org/01/04012345111118/10/L1");
        e.ReadPoint.Should().Be("urn:epc:id:sgln:4012345.00005.0");
        e.ReadPointDigitalLink.Should().Be("https://id.gs1.org/414/4012345000054");
        e.BizTransactions.Should().Equal(new TypedValue("urn:epcglobal:cbv:bt:4012345000009:PO1", "https://ref.gs1.org/cbv/BTT-po"));
        e.Sources.Should().Equal(new TypedValue("urn:epc:id:pgln:4012345.00000", "https://ref.gs1.org/cbv/SDT-owning_party"));
        e.Destinations[0].Type.Should().Be("https://ref.gs1.org/cbv/SDT-location");
        e.PersistentDisposition!.Set.Should().Equal("https://ref.gs1.org/cbv/Disp-recalled");
        e.PersistentDisposition.Unset.Should().Equal("https://ref.gs1.org/cbv/Disp-active");
        e.LotNumber.Should().Be("L1");
        e.Ilmd["{https://ns.example.com/epcis/}grade"].Should().Be("A");
        e.ErrorDeclaration!.Reason.Should().Be("https://ref.gs1.org/cbv/ER-incorrect_data");
        e.ErrorDeclaration.CorrectiveEventIds.Should().Equal("urn:uuid:2");
        e.SensorElements.Should().ContainSingle();
        e.SensorElements[0].Metadata!["time"].Should().Be("2024-03-01T11:00:00Z");
        e.SensorElements[0].Metadata!.Extensions.Should().ContainSingle(x => x.Name == "{https://ns.example.com/epcis/}meta");
        e.SensorElements[0].Reports[0]["type"].Should().Be("https://gs1.org/voc/Temperature");
        e.SensorElements[0].Reports[0]["value"].Should().Be("4.5");
        e.Extensions.Should().ContainSingle().Which.Children.Should().ContainSingle(c => c.LocalName == "inner" && c.Value == "x");
    }

    [SharedFact]
    public void ReadsQueryDocumentsInBothBindings()
    {
        var json = EpcisParser.ParseJson(File.ReadAllText(RepoPaths.SharedPath("conformance/event-hash/epcisQueryDocument.jsonld")));
        var xml = EpcisParser.ParseXml(File.ReadAllText(RepoPaths.SharedPath("conformance/event-hash/epcisQueryDocument.xml")));
        json.Type.Should().Be("EPCISQueryDocument");
        xml.Type.Should().Be("EPCISQueryDocument");
        json.QueryName.Should().Be(xml.QueryName);
        json.Events.Select(EventHash.Compute).Should().Equal(xml.Events.Select(EventHash.Compute));
        json.Events[1].BizTransactions.Should().HaveCount(2);
    }

    [SharedFact]
    public void EveryJsonVectorHashesLikeItsXmlTwin()
    {
        var dir = RepoPaths.SharedPath("conformance/event-hash");
        var pairs = Directory.EnumerateFiles(dir, "*.xml").Where(x => File.Exists(Path.ChangeExtension(x, ".jsonld"))).ToList();
        pairs.Should().NotBeEmpty();
        foreach (var xmlPath in pairs)
        {
            var j = EpcisParser.ParseJson(File.ReadAllText(Path.ChangeExtension(xmlPath, ".jsonld"))).Events.Select(EventHash.Compute).ToList();
            var x = EpcisParser.ParseXml(File.ReadAllText(xmlPath)).Events.Select(EventHash.Compute).ToList();
            x.Should().Equal(j, Path.GetFileName(xmlPath));
        }
    }

    [SharedFact]
    public void EverySourceFileInTheVectorFolderIsAVectorExceptTheEmptyContextPlaceholder()
    {
        var dir = RepoPaths.SharedPath("conformance/event-hash");
        var withoutExpectations = Directory.EnumerateFiles(dir).Where(f => f.EndsWith(".jsonld") || f.EndsWith(".xml"))
            .Where(f => !File.Exists(Path.ChangeExtension(f, ".hashes"))).Select(Path.GetFileName).ToList();
        // "context-*.jsonld" is an empty file (a glob that was copied literally): no document, no expectations.
        withoutExpectations.Should().Equal("context-*.jsonld");
        new FileInfo(Path.Combine(dir, "context-*.jsonld")).Length.Should().Be(0);
    }

    [SharedTheory]
    [MemberData(nameof(EpcisJsonLdRoundTripTests.ExampleFiles), MemberType = typeof(EpcisJsonLdRoundTripTests))]
    public void ParsesEveryOfficialExample(string file)
    {
        var doc = EpcisParser.ParseJson(File.ReadAllText(RepoPaths.SharedPath(file)));
        doc.Events.Should().NotBeEmpty();
        doc.Events.Should().OnlyContain(e => e.EventTime != default && EventHash.Compute(e).StartsWith(EventHash.Prefix));
    }

    [SharedTheory]
    [MemberData(nameof(EpcisJsonLdRoundTripTests.ExampleFiles), MemberType = typeof(EpcisJsonLdRoundTripTests))]
    public void ParsesTheUtf8BytesAsItParsesTheText(string file)
    {
        var bytes = File.ReadAllBytes(RepoPaths.SharedPath(file));
        var fromText = EpcisParser.ParseJson(System.Text.Encoding.UTF8.GetString(bytes));
        var buffer = new byte[bytes.Length + 16]; // the service parses a slice of a larger pooled buffer, then reuses it
        bytes.CopyTo(buffer, 8);
        var fromBytes = EpcisParser.ParseJson(buffer.AsMemory(8, bytes.Length));
        Array.Fill(buffer, (byte)'x');

        fromBytes.Events.Select(EventHash.Compute).Should().Equal(fromText.Events.Select(EventHash.Compute));
        fromBytes.Events.Select(EpcisJsonLd.WriteEvent).Should().Equal(fromText.Events.Select(EpcisJsonLd.WriteEvent));
    }
}
