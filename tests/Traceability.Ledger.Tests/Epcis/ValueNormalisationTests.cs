using Traceability.Ledger.Epcis;

namespace Traceability.Ledger.Tests.Epcis;

/// <summary>Timestamps, numbers and CBV vocabulary as they enter the pre-hash string (ALGORITHM.md rules 6-9, 14-16).</summary>
public class ValueNormalisationTests
{
    [Theory]
    [InlineData("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z")]   // 4th digit 5: round up (vector TimeStampRoundOff)
    [InlineData("2023-02-02T11:04:03.1414Z", "2023-02-02T11:04:03.141Z")]
    [InlineData("2023-02-12T11:04:03.1007Z", "2023-02-12T11:04:03.101Z")]
    [InlineData("2023-01-18T11:04:03.1425Z", "2023-01-18T11:04:03.143Z")]   // the rule, not banker's rounding
    [InlineData("2023-01-18T11:04:03.14249999Z", "2023-01-18T11:04:03.142Z")]
    [InlineData("2019-12-31T23:59:59.9995Z", "2020-01-01T00:00:00.000Z")]   // the carry reaches the year
    [InlineData("2020-03-04T11:00:30+01:00", "2020-03-04T10:00:30.000Z")]
    [InlineData("2022-02-15T01:33:31.116000-06:00", "2022-02-15T07:33:31.116Z")]
    [InlineData("2005-04-03T20:33:31.1-06:00", "2005-04-04T02:33:31.100Z")]
    [InlineData("2022-02-16T08:40:21.3142715Z", "2022-02-16T08:40:21.314Z")]
    [InlineData("2020-01-13T23:00:00.000+0100", "2020-01-13T22:00:00.000Z")]
    [InlineData(" 2020-01-13T23:00:00Z ", "2020-01-13T23:00:00.000Z")]
    [InlineData("not a time", "not a time")]
    public void CanonicalisesTimestampGivenOffsetAndPrecision(string input, string expected) =>
        EventHash.CanonicalTimestamp(input).Should().Be(expected);

    [Theory]
    [InlineData("25.0", "25")]
    [InlineData("0.10", "0.1")]
    [InlineData("+7", "7")]
    [InlineData("-0", "0")]
    [InlineData("007", "7")]
    [InlineData("1e3", "1000")]
    [InlineData("12.1", "12.1")]
    [InlineData("0.00001", "1e-05")]
    [InlineData("1.5E-7", "1.5e-07")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("1_000", "1000")]
    [InlineData("12345678901234567890", "12345678901234567168")] // a double, as the reference reads it
    public void CanonicalisesNumberGivenPythonFloatSemantics(string input, string expected)
    {
        EventHash.TryCanonicalNumber(input, out var n).Should().BeTrue();
        n.Should().Be(expected);
    }

    [Theory]
    [InlineData("ABC")]
    [InlineData("B-2")]
    [InlineData("2019-10-21")]
    [InlineData("(414)4023333000000")]
    [InlineData("1.2.3")]
    [InlineData("nan")]
    [InlineData("1e")]
    [InlineData("_1")]
    public void LeavesNonNumbersAlone(string input) => EventHash.TryCanonicalNumber(input, out _).Should().BeFalse();

    [Theory]
    [InlineData("urn:epcglobal:cbv:bizstep:receiving", "https://ref.gs1.org/cbv/BizStep-receiving")]
    [InlineData("urn:epcglobal:cbv:disp:in_transit", "https://ref.gs1.org/cbv/Disp-in_transit")]
    [InlineData("urn:epcglobal:cbv:btt:po", "https://ref.gs1.org/cbv/BTT-po")]
    [InlineData("urn:epcglobal:cbv:sdt:owning_party", "https://ref.gs1.org/cbv/SDT-owning_party")]
    [InlineData("urn:epcglobal:cbv:er:incorrect_data", "https://ref.gs1.org/cbv/ER-incorrect_data")]
    [InlineData("urn:epcglobal:cbv:bt:0614141073467:1152", "urn:epcglobal:cbv:bt:0614141073467:1152")] // an identifier, not vocabulary
    [InlineData("urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876")]
    [InlineData("geo:50.947573340894124,6.922120147375441", "geo:50.947573340894124,6.922120147375441")]
    public void CanonicalisesValueGivenUrnForms(string input, string expected) => EventHash.CanonicalValue(input).Should().Be(expected);

    [Theory]
    [InlineData("shipping", "https://ref.gs1.org/cbv/BizStep-shipping")]
    [InlineData("urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping")]
    [InlineData("cbv:BizStep-shipping", "https://ref.gs1.org/cbv/BizStep-shipping")]
    [InlineData("https://ref.gs1.org/cbv/BizStep-shipping", "https://ref.gs1.org/cbv/BizStep-shipping")]
    [InlineData("http://epcis.example.com/user/vocab/bizstep/exampling", "http://epcis.example.com/user/vocab/bizstep/exampling")]
    public void ExpandsBizStepGivenAnyNotation(string input, string expected) => CbvVocabulary.ExpandBizStep(input).Should().Be(expected);

    [Fact]
    public void DigestReturnsTheSha256BytesOfAnNiUri()
    {
        var ni = "ni:///sha-256;765891c0478707141565408cefb87841b7531936188edd0ff0e63e91789b7c09?ver=CBV2.0";
        Convert.ToHexStringLower(EventHash.Digest(ni)).Should().Be("765891c0478707141565408cefb87841b7531936188edd0ff0e63e91789b7c09");
        EventHash.FromPreHash("abc").Should().Be("ni:///sha-256;ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad?ver=CBV2.0");
    }

    [Theory]
    [InlineData("ni:///sha-256;765891c0?ver=CBV2.0")]
    [InlineData("ni:///sha-384;765891c0478707141565408cefb87841b7531936188edd0ff0e63e91789b7c09?ver=CBV2.0")]
    [InlineData("ni:///sha-256;zz5891c0478707141565408cefb87841b7531936188edd0ff0e63e91789b7c09?ver=CBV2.0")]
    [InlineData("0x765891c0478707141565408cefb87841b7531936188edd0ff0e63e91789b7c09")]
    [InlineData("ni:///sha-256;765891c0478707141565408cefb87841b7531936188edd0ff0e63e91789b7c09?foo")]
    public void DigestThrowsFormatExceptionGivenAnythingElse(string value)
    {
        var act = () => EventHash.Digest(value);
        act.Should().Throw<FormatException>();
    }
}
