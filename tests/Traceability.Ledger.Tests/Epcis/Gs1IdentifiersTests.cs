using Traceability.Ledger.Epcis;

namespace Traceability.Ledger.Tests.Epcis;

/// <summary>
/// EPC URNs and Digital Links to canonical GS1 Digital Link URIs. Expected values: GS1 EPC TDS 2.0 / Digital Link
/// 1.2 by hand (check digits computed), cross-checked against the reference vector epclist_normalisation.prehashes.
/// </summary>
public class Gs1IdentifiersTests
{
    [Theory]
    [InlineData("urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876")]
    [InlineData("urn:epc:id:sgtin:415056789012.0.987654", "https://id.gs1.org/01/04150567890128/21/987654")]
    [InlineData("urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()", "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29")]
    [InlineData("urn:epc:id:sscc:4012345.0000000333", "https://id.gs1.org/00/040123450000003338")]
    [InlineData("urn:epc:id:sgln:4012345.00005.0", "https://id.gs1.org/414/4012345000054")]
    [InlineData("urn:epc:id:sgln:4012345.00005.122", "https://id.gs1.org/414/4012345000054/254/122")]
    [InlineData("urn:epc:id:grai:4012345.00022.334455", "https://id.gs1.org/8003/04012345000221334455")]
    [InlineData("urn:epc:id:giai:4012345.ABC345", "https://id.gs1.org/8004/4012345ABC345")]
    [InlineData("urn:epc:id:gsrn:4012345.0000006765", "https://id.gs1.org/8018/401234500000067657")]
    [InlineData("urn:epc:id:gsrnp:4012345.0000000007", "https://id.gs1.org/8017/401234500000000074")]
    [InlineData("urn:epc:id:gdti:4012345.00009.PO-4711", "https://id.gs1.org/253/4012345000092PO-4711")]
    [InlineData("urn:epc:id:gdti:987659999999..9", "https://id.gs1.org/253/98765999999929")]
    [InlineData("urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234", "https://id.gs1.org/8010/061414111111111111111-A%23%2F/8011/1234")]
    [InlineData("urn:epc:id:sgcn:4012345.99999.44", "https://id.gs1.org/255/401234599999044")]
    [InlineData("urn:epc:id:ginc:0614141.xyz47%2F11", "https://id.gs1.org/401/0614141xyz47%2F11")]
    [InlineData("urn:epc:id:gsin:4012345.222333444", "https://id.gs1.org/402/40123452223334442")]
    [InlineData("urn:epc:id:itip:4012345.011111.01.02.987", "https://id.gs1.org/8006/040123451111180102/21/987")]
    [InlineData("urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB", "https://id.gs1.org/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7'SDB")]
    [InlineData("urn:epc:id:pgln:4000001.00000", "https://id.gs1.org/417/4000001000005")]
    [InlineData("urn:epc:id:pgln:999999999999.", "https://id.gs1.org/417/9999999999994")]
    [InlineData("urn:epc:class:lgtin:4012345.012345.Lot987", "https://id.gs1.org/01/04012345123456/10/Lot987")]
    [InlineData("urn:epc:idpat:sgtin:4054739.099914.*", "https://id.gs1.org/01/04054739999148")]
    [InlineData("urn:epc:idpat:grai:4012345.66666.*", "https://id.gs1.org/8003/04012345666663")]
    [InlineData("urn:epc:idpat:gdti:4012345.55555.*", "https://id.gs1.org/253/4012345555554")]
    [InlineData("urn:epc:idpat:sgcn:4012345.99999.*", "https://id.gs1.org/255/4012345999990")]
    [InlineData("urn:epc:idpat:cpi:4012345.ABC.*", "https://id.gs1.org/8010/4012345ABC")]
    [InlineData("urn:epc:idpat:itip:4012345.012345.01.02.*", "https://id.gs1.org/8006/040123451234560102")]
    [InlineData("urn:epc:idpat:upui:4012345.012345.*", "https://id.gs1.org/01/04012345123456")]
    public void ConvertsEpcUrnGivenEveryGs1Key(string urn, string expected) =>
        Gs1Identifiers.ToCanonicalDigitalLink(urn).Should().Be(expected);

    [Theory]
    [InlineData("https://id.gs1.org/01/04012345111118/21/9876", "https://id.gs1.org/01/04012345111118/21/9876")]
    [InlineData("https://id.gs1.de/00/040123451111111110", "https://id.gs1.org/00/040123451111111110")]
    [InlineData("https://example.com/gtin/09780345418913/21/765tz?abc=211121", "https://id.gs1.org/01/09780345418913/21/765tz")]
    [InlineData("https://id.gs1.org/gtin/09780345418913", "https://id.gs1.org/01/09780345418913")]
    [InlineData("http://brand.example/some/path/01/4012345111118/21/1", "https://id.gs1.org/01/04012345111118/21/1")]
    [InlineData("https://id.gs1.org/01/04012345111118/10/LOT1/21/9876", "https://id.gs1.org/01/04012345111118/21/9876")]
    [InlineData("https://id.gs1.org/01/04012345111118/22/CPV1/21/9876", "https://id.gs1.org/01/04012345111118/21/9876")]
    [InlineData("https://example.org/414/4012345000115/254/987", "https://id.gs1.org/414/4012345000115/254/987")]
    [InlineData("https://id.example.com/253/4012345000054987", "https://id.gs1.org/253/4012345000054987")]
    public void CanonicalisesDigitalLinkGivenCustomDomainShortNamesOrQualifiers(string dl, string expected) =>
        Gs1Identifiers.ToCanonicalDigitalLink(dl).Should().Be(expected);

    [Theory]
    [InlineData("")]
    [InlineData("not an identifier")]
    [InlineData("urn:epc:id:sgtin:4012345.01111.9876")]        // item reference one digit short
    [InlineData("urn:epc:id:sgtin:4012345.011111.")]           // no serial
    [InlineData("urn:epc:id:sgtin:4012345.011111.a/b")]        // '/' must be escaped in a URN
    [InlineData("urn:epc:id:unknown:4012345.011111.1")]
    [InlineData("https://example.com/products/42")]
    [InlineData("https://ref.gs1.org/cbv/BizStep-shipping")]
    [InlineData("geo:50.94,6.92")]
    public void ThrowsFormatExceptionGivenJunk(string value)
    {
        var act = () => Gs1Identifiers.ToCanonicalDigitalLink(value);
        act.Should().Throw<FormatException>();
        Gs1Identifiers.TryToCanonicalDigitalLink(value, out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("04012345111118", "9876", 7, "urn:epc:id:sgtin:4012345.011111.9876")]
    [InlineData("80614141123458", "6789/&%\"!?()", 7, "urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()")]
    [InlineData("04150567890128", "987654", 12, "urn:epc:id:sgtin:415056789012.0.987654")]
    public void BuildsSgtinUrnGivenGtinAndSerial(string gtin, string serial, int cpLength, string expected)
    {
        var urn = Gs1Identifiers.ToSgtinUrn(gtin, serial, cpLength);
        urn.Should().Be(expected);
        Gs1Identifiers.ToCanonicalDigitalLink(urn).Should().StartWith($"https://id.gs1.org/01/{gtin}/21/");
    }

    [Theory]
    [InlineData("04012345111119", "1", 7)] // wrong check digit
    [InlineData("4012345111118", "1", 7)]  // 13 digits
    [InlineData("04012345111118", "", 7)]
    [InlineData("04012345111118", "123456789012345678901", 7)]
    [InlineData("04012345111118", "bad serial", 7)] // space is not in the GS1 character set
    [InlineData("04012345111118", "1", 5)]
    public void RejectsSgtinInputGivenInvalidParts(string gtin, string serial, int cpLength)
    {
        var act = () => Gs1Identifiers.ToSgtinUrn(gtin, serial, cpLength);
        act.Should().Throw<ArgumentException>();
    }

    [Theory]
    [InlineData("96385074", "00000096385074")]
    [InlineData("614141000036", "00614141000036")]
    [InlineData("4012345111118", "04012345111118")]
    [InlineData("04012345111118", "04012345111118")]
    public void NormalizesAGtinWithAValidCheckDigitTo14Digits(string gtin, string expected)
    {
        Gs1Identifiers.TryNormalizeGtin(gtin, out var gtin14).Should().BeTrue();
        gtin14.Should().Be(expected);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("4012345111119")]        // wrong check digit
    [InlineData("401234511111")]         // 12 digits, wrong check digit
    [InlineData("40123451111")]          // 11 digits
    [InlineData("040123451111180")]      // 15 digits
    [InlineData("4012345111118\n")]      // a trailing newline
    [InlineData("٤٠١٢٣٤٥١١١١١٨")]        // Arabic-Indic digits
    [InlineData("4012345-11118")]
    public void RefusesAnythingElseAsAGtin(string? gtin) =>
        Gs1Identifiers.TryNormalizeGtin(gtin, out _).Should().BeFalse();

    [Theory]
    [InlineData("urn:epc:id:sgtin:4012345.011111.9876", true, "https://id.gs1.org/01/04012345111118/21/9876")]
    [InlineData("https://example.com/01/4012345111118/21/9876", true, "https://id.gs1.org/01/04012345111118/21/9876")]
    [InlineData("urn:uuid:2f9e4a3c-5b1d-4c2e-9f0a-000000000001", true, "urn:uuid:2f9e4a3c-5b1d-4c2e-9f0a-000000000001")]
    [InlineData("urn:epc:id:sgtin:4012345.01111.9876", false, null)]
    [InlineData("not a uri", false, null)]
    public void KeysAnEventIdentifierByItsCanonicalDigitalLinkOrAsTheUriItIs(string value, bool valid, string? expected)
    {
        Gs1Identifiers.TryCanonicalId(value, out var canonical, out var problem).Should().Be(valid);
        if (valid)
        {
            canonical.Should().Be(expected);
            problem.Should().BeNull();
        }
        else problem.Should().Contain(value);
    }

    [Theory]
    [InlineData("https://id.gs1.org/01/04012345111118/21/98%2F76", "04012345111118", "98/76", null)]
    [InlineData("https://id.gs1.org/01/04012345111118/10/LOT1", "04012345111118", null, "LOT1")]
    [InlineData("https://id.gs1.org/01/04012345111118", "04012345111118", null, null)]
    [InlineData("https://id.gs1.org/00/040123450000003338", null, null, null)]
    [InlineData("urn:epc:id:sgtin:4012345.011111.9876", null, null, null)]
    public void SplitsACanonicalDigitalLinkIntoGtinSerialAndLot(string canonical, string? gtin, string? serial, string? lot)
    {
        Gs1Key.Parse(canonical).Should().Be(new Gs1Key(gtin, serial, lot));
        Gs1Key.GtinOf(canonical).Should().Be(gtin);
    }

    [Theory]
    [InlineData("https://ref.gs1.org/cbv/BizStep-shipping", "BizStep-", "shipping")]
    [InlineData("https://ref.gs1.org/cbv/Disp-in_transit", "Disp-", "in_transit")]
    [InlineData("https://ref.gs1.org/cbv/Disp-in_transit", "BizStep-", "https://ref.gs1.org/cbv/Disp-in_transit")]
    [InlineData("https://example.com/BizStep-shipping", "BizStep-", "https://example.com/BizStep-shipping")]
    [InlineData(null, "BizStep-", null)]
    public void ShortensACbvUriToItsWord(string? uri, string prefix, string? expected) =>
        CbvVocabulary.ShortName(uri, prefix).Should().Be(expected);
}
