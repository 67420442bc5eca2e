using FluentAssertions;
using Traceability.Ledger.Epcis;

namespace Traceability.Ledger.Tests.Epcis;

/// <summary>
/// What scanners send, read to the unit it names. GTIN 09506000134352 and SSCC 106141412345678908 are the GS1 General
/// Specifications' examples (check digits valid); "\u001d" is the GS that stands for FNC1 between variable fields.
/// </summary>
public class Gs1ScannedCodeTests
{
    private const string Item = "https://id.gs1.org/01/09506000134352/21/ABC123";
    private const string Case = "https://id.gs1.org/00/106141412345678908";

    [Theory]
    [InlineData("urn:epc:id:sgtin:9506000.013435.ABC123", Item, null)]
    [InlineData("https://id.gs1.org/01/09506000134352/21/ABC123", Item, null)]
    [InlineData("https://id.gs1.org/01/09506000134352/10/L1/21/ABC123", Item, "L1")]
    [InlineData("http://127.0.0.1:5080/01/09506000134352/10/L1/21/ABC123?s=x", Item, "L1")]
    [InlineData("  https://id.gs1.org/01/9506000134352/21/ABC123\r\n", Item, null)]
    [InlineData("(01)09506000134352(21)ABC123", Item, null)]
    [InlineData("(01)09506000134352(10)L1(21)ABC123", Item, "L1")]
    [InlineData("(01)09506000134352(17)271231(10)L1(21)ABC123", Item, "L1")]
    [InlineData("]d20109506000134352" + "21ABC123\u001d10L1", Item, "L1")]
    [InlineData("]Q30109506000134352" + "10L1\u001d21ABC123", Item, "L1")]
    [InlineData("]d2\u001d0109506000134352" + "17271231" + "21ABC123", Item, null)]
    [InlineData("0109506000134352" + "21ABC123", Item, null)]
    [InlineData("]Q1https://id.gs1.org/01/09506000134352/21/ABC123", Item, null)]
    [InlineData("0109506000134352" + "3103000250" + "21ABC123", Item, null)]
    public void ReadsAnItemFromEveryForm(string scanned, string epc, string? lot)
    {
        Gs1ScannedCode.TryParse(scanned, out var code, out var problem).Should().BeTrue(problem);
        code.Epc.Should().Be(epc);
        code.Gtin.Should().Be("09506000134352");
        code.Serial.Should().Be("ABC123");
        code.Lot.Should().Be(lot);
        code.IsSscc.Should().BeFalse();
    }

    [Theory]
    [InlineData("urn:epc:id:sscc:0614141.1234567890")]
    [InlineData("https://id.gs1.org/00/106141412345678908")]
    [InlineData("(00)106141412345678908")]
    [InlineData("]C100106141412345678908")]
    [InlineData("00106141412345678908")]
    public void ReadsACase(string scanned)
    {
        Gs1ScannedCode.TryParse(scanned, out var code, out var problem).Should().BeTrue(problem);
        code.Epc.Should().Be(Case);
        code.Sscc.Should().Be("106141412345678908");
        code.IsSscc.Should().BeTrue();
    }

    [Fact]
    public void KeepsASerialWithReservedCharactersCanonical()
    {
        Gs1ScannedCode.TryParse("(01)09506000134352(21)A/B%C", out var code, out var problem).Should().BeTrue(problem);
        Gs1ScannedCode.TryParse("urn:epc:id:sgtin:9506000.013435.A%2FB%25C", out var fromUrn, out _).Should().BeTrue();
        Gs1ScannedCode.TryParse("http://127.0.0.1:5080/01/09506000134352/10/L1/21/A%2FB%25C", out var fromLink, out problem).Should().BeTrue(problem);
        code.Epc.Should().Be(fromUrn.Epc).And.Be(fromLink.Epc).And.Be("https://id.gs1.org/01/09506000134352/21/A%2FB%25C");
        fromLink.Lot.Should().Be("L1");
        code.Serial.Should().Be("A/B%C");
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("hello", "neither")]
    [InlineData("(01)09506000134352", "without a serial")]
    [InlineData("https://id.gs1.org/01/09506000134352", "without a serial")]
    [InlineData("urn:epc:class:lgtin:9506000.013435.L1", "without a serial")]
    [InlineData("(01)09506000134353(21)ABC", "check digit")]
    [InlineData("(00)106141412345678909", "check digit")]
    [InlineData("(01)0950600013435(21)ABC", "14 characters")]
    [InlineData("(21)ABC", "neither a GTIN")]
    [InlineData("(01)09506000134352(21)ABC(21)DEF", "twice")]
    [InlineData("(01)09506000134352(21)" + "ABCDEFGHIJKLMNOPQRSTU", "1 to 20")]
    [InlineData("(01)09506000134352(21)AB C", "does not allow")]
    [InlineData("(7003)2712311200(01)09506000134352(21)ABC", "not an application identifier")]
    [InlineData("0109506000134352" + "8008271231120021ABC", "unknown application identifier")]
    [InlineData("(01)09506000134352(21", "not closed")]
    [InlineData("urn:epc:id:sgln:9506000.13435.0", "no serialized item")]
    [InlineData("urn:epc:id:sgtin:9506000.013435", "not a valid EPC URN")]
    public void RefusesWhatNamesNoUnitSayingWhy(string scanned, string why)
    {
        Gs1ScannedCode.TryParse(scanned, out _, out var problem).Should().BeFalse();
        problem.Should().Contain(why);
    }

    [Fact]
    public void RefusesAnOverlongCode() =>
        Gs1ScannedCode.TryParse(new string('1', 600), out _, out var problem).Should().BeFalse(problem);
}
