using System.Text;
using Traceability.Ledger.Epcis;

namespace Traceability.Ledger.Tests.Epcis;

/// <summary>Documents built to hurt the parser: each is refused with an <see cref="EpcisFormatException"/>, quickly, and the process lives on.</summary>
public class HostileInputTests
{
    private const string Event =
        "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T10:00:00+01:00\",\"eventTimeZoneOffset\":\"+01:00\",\"epcList\":[\"urn:epc:id:sgtin:4012345.011111.9876\"],\"action\":\"OBSERVE\"EXTRA}";

    private static string Doc(string extra = "") =>
        "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\",{\"example\":\"https://ns.example.com/epcis/\"}]," +
        "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2024-01-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[" + Event.Replace("EXTRA", extra) + "]}}";

    private static string Nested(int depth) => new StringBuilder().Insert(0, "[", depth).Append('1').Append(']', depth).ToString();

    private static string Xml(string body, string prolog = "") =>
        prolog + "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\" schemaVersion=\"2.0\" creationDate=\"2024-01-01T00:00:00Z\"><EPCISBody><EventList>" +
        "<ObjectEvent><eventTime>2024-01-01T10:00:00+01:00</eventTime><eventTimeZoneOffset>+01:00</eventTimeZoneOffset><epcList><epc>urn:epc:id:sgtin:4012345.011111.9876</epc></epcList>" +
        "<action>OBSERVE</action>" + body + "</ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>";

    [Fact]
    public void AcceptsTheBaseDocuments()
    {
        EpcisParser.ParseJson(Doc()).Events.Should().HaveCount(1);
        EpcisParser.ParseXml(Xml("")).Events.Should().HaveCount(1);
    }

    [Theory]
    [InlineData(60)] // the event is at depth 4: 4 + 60 stays within 64
    public void AcceptsNestingWithinTheLimit(int depth) =>
        EpcisParser.ParseJson(Doc(",\"example:deep\":" + Nested(depth - 1))).Events.Should().HaveCount(1);

    [Theory]
    [InlineData(61)]
    [InlineData(100)]
    [InlineData(100_000)]
    public void RefusesJsonNestedPastTheLimitNamingIt(int depth)
    {
        var act = () => EpcisParser.ParseJson(Encoding.UTF8.GetBytes(Doc(",\"example:deep\":" + Nested(depth))));
        act.Should().Throw<EpcisFormatException>().Which.Message.Should().Contain($"deeper than {EpcisParser.MaxDepth} levels");
    }

    [Theory]
    [InlineData(70)]
    [InlineData(100_000)]
    public void RefusesXmlNestedPastTheLimitWithoutRecursing(int depth)
    {
        var open = string.Concat(Enumerable.Repeat("<x>", depth));
        var close = string.Concat(Enumerable.Repeat("</x>", depth));
        var act = () => EpcisParser.ParseXml(Xml($"<example:d xmlns:example=\"https://ns.example.com/epcis/\">{open}{close}</example:d>"));
        act.Should().Throw<EpcisFormatException>().Which.Message.Should().Contain($"deeper than {EpcisParser.MaxDepth} levels");
    }

    [Fact]
    public void RefusesAnyDtdSoNoEntityExpands()
    {
        const string laughs = "<!DOCTYPE lolz [<!ENTITY lol \"lollollollollollollollollollol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>";
        var act = () => EpcisParser.ParseXml(Xml("<example:note xmlns:example=\"https://ns.example.com/epcis/\">&lol2;</example:note>", laughs));
        act.Should().Throw<EpcisFormatException>().Which.Message.Should().Contain("DTD");

        const string external = "<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>";
        var act2 = () => EpcisParser.ParseXml(Xml("<example:note xmlns:example=\"https://ns.example.com/epcis/\">&x;</example:note>", external));
        act2.Should().Throw<EpcisFormatException>().Which.Message.Should().Contain("DTD");
    }

    [Theory]
    [InlineData(",\"action\":\"ADD\"")] // inside the event: the hashed and the indexed value could differ
    [InlineData(",\"example:x\":{\"a\":1,\"a\":2}")]
    public void RefusesDuplicateKeys(string extra)
    {
        var act = () => EpcisParser.ParseJson(Doc(extra));
        act.Should().Throw<EpcisFormatException>().Which.Message.Should().Contain("Duplicate property");
    }

    [Fact]
    public void RefusesDuplicateKeysAtTheDocumentLevel()
    {
        var doc = Doc().Replace("\"type\":\"EPCISDocument\",", "\"type\":\"EPCISDocument\",\"type\":\"EPCISQueryDocument\",");
        var act = () => EpcisParser.ParseJson(doc);
        act.Should().Throw<EpcisFormatException>();
    }

    [SharedFact]
    public void RefusesTheOfficialExamplesThatRepeatAKey()
    {
        foreach (var file in RepoPaths.ExamplesWithDuplicateKeys)
        {
            var act = () => EpcisParser.ParseJson(File.ReadAllText(RepoPaths.SharedPath("conformance", "epcis-examples", file)));
            act.Should().Throw<EpcisFormatException>(file).Which.Message.Should().Contain("Duplicate property 'eventID'");
        }
    }

    [Theory]
    [InlineData(",\"example:x\":\"\\ud800\"")]
    [InlineData(",\"example:x\":\"a\\udfffb\"")]
    [InlineData(",\"example:\\ud800\":\"x\"")]
    public void RefusesLoneSurrogateEscapes(string extra)
    {
        var act = () => EpcisParser.ParseJson(Encoding.UTF8.GetBytes(Doc(extra)));
        act.Should().Throw<EpcisFormatException>().Which.Message.Should().Contain("surrogate");
        var single = () => EpcisParser.ParseEventJson(Event.Replace("EXTRA", extra));
        single.Should().Throw<EpcisFormatException>();
    }

    [Fact]
    public void AcceptsAPairedSurrogateEscape() =>
        EpcisParser.ParseJson(Doc(",\"example:x\":\"\\ud83d\\ude00\"")).Events.Should().HaveCount(1);
}
