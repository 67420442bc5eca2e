using System.Globalization;
using Traceability.Api.Infrastructure.Errors;

namespace Traceability.Api.Features.Analytics;

public enum Granularity
{
    Day,
    Week,
    Month,
}

/// <summary>An analytics question, checked: the days (inclusive, China Standard Time), the buckets, the region level and the filters.</summary>
public sealed record AnalyticsRequest(DateOnly From, DateOnly To, Granularity Granularity, RegionLevel Level, string? RegionPrefix,
    string? Gtin, string? Lot, string? Dealer)
{
    public const int MaxDayGranularityYears = 5;
    public const int MaxYears = 20;
    public const int DefaultDays = 30;

    /// <summary>
    /// Parses the query string. Missing dates: the 30 days up to today. Every error names its parameter: an unknown
    /// region, from after to, more than 5 years by day (or 20 in all), unknown granularity or level, oversized filters.
    /// </summary>
    public static AnalyticsRequest Parse(RegionTable regions, DateOnly today, string? from, string? to, string? granularity, string? level,
        string? region, string? gtin, string? lot, string? dealer)
    {
        var toDay = to is null ? today : ParseDate("to", to);
        var fromDay = from is null ? toDay.AddDays(-(DefaultDays - 1)) : ParseDate("from", from);
        if (fromDay > toDay) throw RequestValidationException.ForField("from", $"from ({fromDay:yyyy-MM-dd}) is after to ({toDay:yyyy-MM-dd}).");
        var g = granularity?.ToLowerInvariant() switch
        {
            null or "day" => Granularity.Day,
            "week" => Granularity.Week,
            "month" => Granularity.Month,
            _ => throw RequestValidationException.ForField("granularity", "granularity must be day, week or month."),
        };
        if (g == Granularity.Day && fromDay.AddYears(MaxDayGranularityYears) <= toDay)
            throw RequestValidationException.ForField("granularity",
                $"a period over {MaxDayGranularityYears} years cannot be shown by day: use granularity=week or month, or a shorter period.");
        if (fromDay.AddYears(MaxYears) <= toDay)
            throw RequestValidationException.ForField("to", $"the period may be at most {MaxYears} years.");
        var l = level?.ToLowerInvariant() switch
        {
            null or "province" => RegionLevel.Province,
            "city" => RegionLevel.City,
            "county" => RegionLevel.County,
            _ => throw RequestValidationException.ForField("level", "level must be province, city or county."),
        };
        string? prefix = null;
        if (region is not null && (prefix = regions.ParsePrefix(region.Trim())) is null)
            throw RequestValidationException.ForField("region", $"'{Clip(region)}' is not a GB/T 2260 code or prefix of a known region (2, 4 or 6 digits).");
        if (gtin is not null && (gtin.Length != 14 || !gtin.All(char.IsAsciiDigit)))
            throw RequestValidationException.ForField("gtin", "gtin must be 14 digits.");
        if (lot is not null && (lot.Length is 0 or > 20))
            throw RequestValidationException.ForField("lot", "lot must be 1 to 20 characters (GS1 AI 10).");
        if (dealer is not null && (dealer.Length is 0 or > 64))
            throw RequestValidationException.ForField("dealer", "dealer must be a member id (1 to 64 characters).");
        return new AnalyticsRequest(fromDay, toDay, g, l, prefix, gtin, lot, dealer);
    }

    /// <summary>The bucket a day falls in: 2026-11-01, 2026-W44 (ISO 8601 week), 2026-11.</summary>
    public static string Period(DateOnly day, Granularity g) => g switch
    {
        Granularity.Day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        Granularity.Week => string.Create(CultureInfo.InvariantCulture,
            $"{ISOWeek.GetYear(day.ToDateTime(TimeOnly.MinValue))}-W{ISOWeek.GetWeekOfYear(day.ToDateTime(TimeOnly.MinValue)):D2}"),
        _ => day.ToString("yyyy-MM", CultureInfo.InvariantCulture),
    };

    private static DateOnly ParseDate(string name, string text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d
        : throw RequestValidationException.ForField(name, $"{name} must be a date yyyy-MM-dd (China Standard Time), not '{Clip(text)}'.");

    private static string Clip(string s) => s.Length > 40 ? s[..40] + "…" : s;
}
