using Traceability.Api.Features.Epcis;

namespace Traceability.Api.Tests.Epcis;

/// <summary>The query string of GET /epcis/events read into a query, and refused naming the parameter (no service needed).</summary>
public sealed class EpcisQueryParametersTests
{
    private static EpcisQuery Parse(params (string Name, string Value)[] p) =>
        EpcisQueryParameters.Parse(p.GroupBy(x => x.Name).Select(g => new KeyValuePair<string, string[]>(g.Key, g.Select(x => x.Value).ToArray())));

    [Theory]
    [InlineData("EQ_unknown", "x", "EQ_unknown", "unknown parameter")]
    [InlineData("eventtype", "ObjectEvent", "eventtype", "unknown parameter")] // names are case-sensitive
    [InlineData("EQ_quantity", "5", "EQ_quantity", "does not support")]
    [InlineData("eventType", "QuantityEvent", "eventType", "not an EPCIS 2.0 event type")]
    [InlineData("EQ_action", "ADD|MOVE", "EQ_action", "'MOVE'")]
    [InlineData("GE_eventTime", "yesterday", "GE_eventTime", "not a date-time")]
    [InlineData("orderBy", "bizStep", "orderBy", "eventTime or recordTime")]
    [InlineData("orderDirection", "UP", "orderDirection", "ASC or DESC")]
    [InlineData("eventCountLimit", "5", "eventCountLimit", "needs orderBy")]
    [InlineData("perPage", "0", "perPage", "from 1 to 1000")]
    [InlineData("perPage", "1001", "perPage", "from 1 to 1000")]
    [InlineData("MATCH_epc", "urn:epc:id:sgtin:0614141.107346.*", "MATCH_epc", "'*' stands only")]
    [InlineData("MATCH_epc", "urn:epc:idpat:sgtin:0614141.*.2017", "MATCH_epc", "not an EPC pattern")]
    [InlineData("MATCH_anyEPC", "not a uri", "MATCH_anyEPC", "not a URI")]
    [InlineData("EQ_bizStep", "shipping|", "EQ_bizStep", "empty")]
    public void RefusesNamingTheParameter(string name, string value, string named, string says)
    {
        var act = () => Parse((name, value));
        var e = act.Should().Throw<EpcisException>().Which;
        e.Status.Should().Be(400);
        e.Name.Should().Be("QueryParameterException");
        e.Message.Should().StartWith(named + ":").And.Contain(says);
    }

    [Fact]
    public void TimesBecomeUtcAndMultipleValuesArePipeDelimitedOrRepeated()
    {
        var q = Parse(("GE_eventTime", "2026-11-01T08:00:00.000+08:00"), ("LT_eventTime", "2026-11-02T00:00:00 08:00"),
            ("EQ_bizStep", "shipping|receiving"), ("EQ_bizStep", "urn:epcglobal:cbv:bizstep:packing"));
        q.GeEventTime.Should().Be("2026-11-01T00:00:00.000Z");
        q.LtEventTime.Should().Be("2026-11-01T16:00:00.000Z", "a '+' sent unencoded arrives as a space");
        q.BizSteps.Should().Equal("https://ref.gs1.org/cbv/BizStep-shipping", "https://ref.gs1.org/cbv/BizStep-receiving", "https://ref.gs1.org/cbv/BizStep-packing");
        q.OrderBy.Should().Be(EpcisOrder.EventTime, "a time window is answered in its own order");
        q.Descending.Should().BeFalse();
    }

    [Fact]
    public void OrderDefaultsToDescendingWhenOrderByIsGiven()
    {
        Parse(("orderBy", "recordTime")).Should().Match<EpcisQuery>(q => q.OrderBy == EpcisOrder.RecordTime && q.Descending);
        Parse(("orderBy", "eventTime"), ("orderDirection", "ASC")).Descending.Should().BeFalse();
        Parse().Should().Match<EpcisQuery>(q => q.OrderBy == EpcisOrder.Sequence && !q.Descending && q.PerPage == 30);
    }

    public static TheoryData<string, string[], string[]> PatternCases() => new()
    {
        // exact identifiers: EPC URN and any Digital Link become the canonical Digital Link
        { "urn:epc:id:sgtin:0614141.107346.2017", ["https://id.gs1.org/01/10614141073464/21/2017"], [] },
        { "https://example.com/01/10614141073464/21/2017?x=1", ["https://id.gs1.org/01/10614141073464/21/2017"], [] },
        { "urn:epc:class:lgtin:4012345.012345.998877", ["https://id.gs1.org/01/04012345123456/10/998877"], [] },
        { "urn:example:not-gs1", ["urn:example:not-gs1"], [] },
        // every serial of a GTIN, every GTIN of a company prefix (any indicator digit)
        { "urn:epc:idpat:sgtin:0614141.107346.*", [], ["https://id.gs1.org/01/10614141073464", "urn:epc:id:sgtin:0614141.107346."] },
        { "https://id.gs1.org/01/10614141073464/21/*", [], ["https://id.gs1.org/01/10614141073464/21/"] },
        { "https://example.com/01/10614141073464/*", [], ["https://id.gs1.org/01/10614141073464/"] },
        { "urn:epc:idpat:grai:0614141.12345.*", [], ["urn:epc:id:grai:0614141.12345."] },
    };

    [Theory]
    [MemberData(nameof(PatternCases))]
    public void PatternsBecomeExactValuesAndPrefixes(string pattern, string[] exact, string[] prefixes)
    {
        var m = EpcisQueryParameters.Patterns("MATCH_epc", [pattern]);
        m.Exact.Should().Equal(exact);
        m.Prefixes.Should().Equal(prefixes);
    }

    [Fact]
    public void CompanyPrefixPatternsCoverEveryIndicatorDigit()
    {
        var m = EpcisQueryParameters.Patterns("MATCH_epc", ["urn:epc:idpat:sgtin:0614141.*.*"]);
        m.Prefixes.Should().HaveCount(11).And.Contain("https://id.gs1.org/01/00614141").And.Contain("https://id.gs1.org/01/90614141")
            .And.Contain("urn:epc:id:sgtin:0614141.");
        EpcisQueryParameters.Patterns("MATCH_parentID", ["urn:epc:idpat:sscc:0614141.*"]).Prefixes.Should().Contain("https://id.gs1.org/00/30614141");
    }

    [Fact]
    public void TheFingerprintIgnoresPagingButNotFilters()
    {
        var a = Parse(("EQ_bizStep", "shipping"), ("perPage", "5"));
        var b = Parse(("EQ_bizStep", "shipping"), ("perPage", "7"), ("nextPageToken", "x"));
        var c = Parse(("EQ_bizStep", "receiving"), ("perPage", "5"));
        a.Fingerprint.Should().Be(b.Fingerprint).And.NotBe(c.Fingerprint);
    }
}
