using System.Text.RegularExpressions;

namespace Traceability.Api.Features.Consumer;

/// <summary>
/// GB/T 2260 codes as prefixes: "310000" is the province 31, "310100" the city 3101, "310115" the county. A region lies
/// inside a territory code when its prefix starts with the territory's; when one is coarser than the other (a scan
/// that only says "province 31" against a territory "city 3101") it is not counted as outside: only a definite
/// difference is.
/// </summary>
public static partial class Regions
{
    [GeneratedRegex(@"^[0-9]{6}\z")] private static partial Regex SixDigits(); // ASCII only, and no final newline

    public static bool IsValid(string? code) => code is not null && SixDigits().IsMatch(code);

    public static string Prefix(string code) =>
        code.EndsWith("0000", StringComparison.Ordinal) ? code[..2] : code.EndsWith("00", StringComparison.Ordinal) ? code[..4] : code;

    /// <summary>The city (first four digits) of a region more precise than a province, else null.</summary>
    public static string? City(string code) => Prefix(code) is { Length: >= 4 } p ? p[..4] : null;

    public static bool Inside(string region, IEnumerable<string> territory)
    {
        var r = Prefix(region);
        return territory.Select(Prefix).Any(t => r.StartsWith(t, StringComparison.Ordinal) || t.StartsWith(r, StringComparison.Ordinal));
    }
}
