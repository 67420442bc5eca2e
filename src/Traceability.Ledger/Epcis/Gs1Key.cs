namespace Traceability.Ledger.Epcis;

/// <summary>The parts of a canonical GS1 Digital Link (see <see cref="Gs1Identifiers"/>): GTIN with serial (SGTIN) or lot (LGTIN).</summary>
public readonly record struct Gs1Key(string? Gtin, string? Serial, string? Lot)
{
    private const string Prefix = "https://id.gs1.org/01/";

    public static Gs1Key Parse(string canonical)
    {
        if (!canonical.StartsWith(Prefix, StringComparison.Ordinal) || canonical.Length < Prefix.Length + 14) return default;
        var gtin = canonical.Substring(Prefix.Length, 14);
        var rest = canonical[(Prefix.Length + 14)..];
        if (rest.StartsWith("/21/", StringComparison.Ordinal)) return new Gs1Key(gtin, Uri.UnescapeDataString(rest[4..]), null);
        if (rest.StartsWith("/10/", StringComparison.Ordinal)) return new Gs1Key(gtin, null, Uri.UnescapeDataString(rest[4..]));
        return new Gs1Key(gtin, null, null);
    }

    public bool IsSgtin => Gtin is not null && Serial is not null;

    public bool IsLgtin => Gtin is not null && Lot is not null;

    /// <summary>The GTIN an EPC names, when it is an SGTIN or LGTIN Digital Link.</summary>
    public static string? GtinOf(string canonical) =>
        canonical.StartsWith(Prefix, StringComparison.Ordinal) && canonical.Length >= Prefix.Length + 14 ? canonical.Substring(Prefix.Length, 14) : null;
}
