using System.Text;

namespace Traceability.Ledger.Epcis;

/// <summary>
/// A code as a line scanner or PDA reads it off a label, reduced to what it identifies: a serialized item (GTIN with
/// serial; the lot when the code carries one) or a logistic unit (SSCC). <see cref="Epc"/> is the canonical Digital
/// Link the ledger keys units by.
/// </summary>
public sealed record Gs1ScannedCode(string Epc, string? Gtin, string? Serial, string? Lot, string? Sscc)
{
    public bool IsSscc => Sscc is not null;

    /// <summary>
    /// Reads what a scanner sends: an EPC URN (sgtin, sscc), a GS1 Digital Link URI (any host), a GS1 element string in
    /// brackets (<c>(01)09506000134352(21)ABC(10)L1</c>), or raw with FNC1 sent as GS (0x1D) between variable-length
    /// fields; any of them after a symbology identifier (<c>]d2</c> Data Matrix, <c>]Q3</c> QR, <c>]C1</c> GS1-128,
    /// <c>]e0</c> DataBar...). False, with the problem in words, for anything else: a code that names no unit (a GTIN
    /// without serial), a wrong check digit, an AI this reader does not know, a field of the wrong length.
    /// </summary>
    public static bool TryParse(string? scanned, out Gs1ScannedCode code, out string problem)
    {
        code = null!;
        problem = "";
        var s = (scanned ?? "").Trim(' ', '\t', '\r', '\n');
        if (s.Length == 0) { problem = "the code is empty."; return false; }
        if (s.Length > MaxLength) { problem = $"the code is {s.Length} characters long; a GS1 code has at most {MaxLength}."; return false; }
        if (s.Length >= 3 && s[0] == ']' && char.IsAsciiLetter(s[1]) && char.IsAsciiLetterOrDigit(s[2])) s = s[3..]; // symbology identifier
        if (s.Length > 0 && s[0] == Gs) s = s[1..]; // a leading FNC1 some scanners send as GS

        if (s.StartsWith("urn:epc:", StringComparison.Ordinal) || s.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            || s.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            return FromUri(s, out code, out problem);
        if (s.StartsWith('('))
            return Bracketed(s, out var fields, out problem) && FromFields(fields, out code, out problem);
        if (s.Length > 0 && char.IsAsciiDigit(s[0]))
            return Raw(s, out var fields, out problem) && FromFields(fields, out code, out problem);
        problem = "the code is neither an EPC URN, a GS1 Digital Link nor a GS1 element string.";
        return false;
    }

    /// <summary>The longest code read: a Digital Link with a long path, or an element string of many fields.</summary>
    public const int MaxLength = 512;

    private const char Gs = '\u001d';

    private static bool FromUri(string uri, out Gs1ScannedCode code, out string problem)
    {
        code = null!;
        if (Gs1Identifiers.TryCanonicalId(uri, out var canonical, out var why) && canonical.StartsWith("https://id.gs1.org/", StringComparison.Ordinal))
        {
            string? lot = null;
            var at = uri.IndexOf("/10/", StringComparison.Ordinal);
            if (!uri.StartsWith("urn:", StringComparison.Ordinal) && at >= 0)
            {
                var end = uri.IndexOfAny(['/', '?', '#'], at + 4);
                lot = Uri.UnescapeDataString(end < 0 ? uri[(at + 4)..] : uri[(at + 4)..end]);
            }
            return Identified(canonical, lot, out code, out problem);
        }
        // A Digital Link whose serial is percent-encoded (the canonical form, as the reference normaliser, takes only
        // literal characters): read its path's AI/value pairs as an element string.
        if (!uri.StartsWith("urn:", StringComparison.Ordinal) && PathFields(uri) is { } fields)
            return FromFields(fields, out code, out problem);
        problem = why ?? "the URI is neither an EPC URN nor a GS1 Digital Link.";
        return false;
    }

    /// <summary>The AI/value pairs of a Digital Link's path from its primary key (01 or 00) on, values unescaped; null when they do not check.</summary>
    private static List<(string Ai, string Value)>? PathFields(string uri)
    {
        var end = uri.IndexOfAny(['?', '#']);
        var path = (end < 0 ? uri : uri[..end]).Split('/');
        var start = Array.FindIndex(path, 3, p => p is "01" or "00" or "gtin" or "sscc");
        if (start < 0 || (path.Length - start) % 2 != 0) return null;
        var fields = new List<(string, string)>();
        for (var i = start; i < path.Length; i += 2)
        {
            var ai = path[i] switch { "gtin" => "01", "sscc" => "00", "lot" => "10", "ser" => "21", var a => a };
            string value;
            try { value = Uri.UnescapeDataString(path[i + 1]); }
            catch (UriFormatException) { return null; }
            if (!Field(ai, value, out _)) return null;
            fields.Add((ai, value));
        }
        return fields;
    }

    /// <summary>The item or container a canonical Digital Link names; anything else (a class, a location) names no unit.</summary>
    private static bool Identified(string canonical, string? lot, out Gs1ScannedCode code, out string problem)
    {
        code = null!;
        problem = "";
        if (canonical.StartsWith("https://id.gs1.org/00/", StringComparison.Ordinal))
        {
            code = new Gs1ScannedCode(canonical, null, null, null, canonical[22..]);
            return true;
        }
        var key = Gs1Key.Parse(canonical);
        if (key.IsSgtin)
        {
            code = new Gs1ScannedCode(canonical, key.Gtin, key.Serial, lot, null);
            return true;
        }
        problem = key.Gtin is not null
            ? $"the code names GTIN {key.Gtin} without a serial (AI 21): it names a product, not a unit."
            : "the code names no serialized item (GTIN with serial) or logistic unit (SSCC).";
        return false;
    }

    private static bool FromFields(List<(string Ai, string Value)> fields, out Gs1ScannedCode code, out string problem)
    {
        code = null!;
        problem = "";
        string? Field(string ai) => fields.FirstOrDefault(f => f.Ai == ai).Value;
        if (fields.GroupBy(f => f.Ai).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            problem = $"AI ({twice.Key}) appears twice.";
            return false;
        }
        var (sscc, gtin, serial, lot) = (Field("00"), Field("01"), Field("21"), Field("10"));
        if (sscc is not null)
        {
            if (Gs1Identifiers.CheckDigit(sscc.AsSpan(0, 17)) != sscc[17]) { problem = $"SSCC {sscc} has a wrong check digit."; return false; }
            code = new Gs1ScannedCode("https://id.gs1.org/00/" + sscc, null, null, null, sscc);
            return true;
        }
        if (gtin is null) { problem = "the element string has neither a GTIN (01) nor an SSCC (00)."; return false; }
        if (Gs1Identifiers.CheckDigit(gtin.AsSpan(0, 13)) != gtin[13]) { problem = $"GTIN {gtin} has a wrong check digit."; return false; }
        if (serial is null) { problem = $"the code names GTIN {gtin} without a serial (AI 21): it names a product, not a unit."; return false; }
        code = new Gs1ScannedCode(SgtinDigitalLink(gtin, serial), gtin, serial, lot, null);
        return true;
    }

    /// <summary>
    /// The canonical Digital Link of a GTIN and serial, percent-encoded as the canonical form of its EPC URN is (the
    /// characters a URN reserves and those Digital Link reserves), so that a code keys the same unit in every form.
    /// </summary>
    public static string SgtinDigitalLink(string gtin14, string serial)
    {
        var sb = new StringBuilder("https://id.gs1.org/01/", 60).Append(gtin14).Append("/21/");
        foreach (var c in serial)
        {
            switch (c)
            {
                case '"' or '%' or '&' or '/' or '<' or '>' or '?' or '!' or '(' or ')' or '*' or '+' or ',' or ':':
                    sb.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    // ---- element strings -------------------------------------------------------------------------------------------------

    /// <summary>(ai)value(ai)value...: the brackets delimit, so no length table is needed beyond checking fixed lengths.</summary>
    private static bool Bracketed(string s, out List<(string, string)> fields, out string problem)
    {
        fields = [];
        problem = "";
        var i = 0;
        while (i < s.Length)
        {
            if (s[i] != '(') { problem = $"expected '(' at position {i}."; return false; }
            var close = s.IndexOf(')', i);
            if (close < 0) { problem = "a '(' is not closed."; return false; }
            var ai = s[(i + 1)..close];
            var next = s.IndexOf('(', close);
            var value = next < 0 ? s[(close + 1)..] : s[(close + 1)..next];
            if (!Field(ai, value, out problem)) return false;
            fields.Add((ai, value));
            i = next < 0 ? s.Length : next;
        }
        return true;
    }

    /// <summary>Raw AIs: fixed-length fields by the AI table, variable-length ones up to a GS or the end.</summary>
    private static bool Raw(string s, out List<(string, string)> fields, out string problem)
    {
        fields = [];
        problem = "";
        var i = 0;
        while (i < s.Length)
        {
            if (s[i] == Gs) { i++; continue; }
            if (!Lookup(s.AsSpan(i), out var ai, out var spec))
            {
                problem = $"unknown application identifier at position {i} ('{Clip(s[i..])}').";
                return false;
            }
            i += ai.Length;
            string value;
            if (spec.Fixed)
            {
                if (s.Length - i < spec.Length) { problem = $"AI ({ai}) needs {spec.Length} characters; {s.Length - i} follow."; return false; }
                value = s.Substring(i, spec.Length);
                i += spec.Length;
            }
            else
            {
                var gs = s.IndexOf(Gs, i);
                value = gs < 0 ? s[i..] : s[i..gs];
                i = gs < 0 ? s.Length : gs + 1;
            }
            if (!Field(ai, value, out problem)) return false;
            fields.Add((ai, value));
        }
        return true;
    }

    private static bool Field(string ai, string value, out string problem)
    {
        problem = "";
        if (!Lookup(ai.AsSpan(), out var known, out var spec) || known.Length != ai.Length)
        {
            problem = $"({ai}) is not an application identifier this reader knows.";
            return false;
        }
        if (spec.Fixed ? value.Length != spec.Length : value.Length is 0 || value.Length > spec.Length)
        {
            problem = spec.Fixed ? $"AI ({ai}) has {spec.Length} characters; '{Clip(value)}' has {value.Length}."
                : $"AI ({ai}) has 1 to {spec.Length} characters; '{Clip(value)}' has {value.Length}.";
            return false;
        }
        if (spec.Numeric ? !value.All(char.IsAsciiDigit) : !value.All(IsCset82))
        {
            problem = $"AI ({ai}) holds a character it does not allow ('{Clip(value)}').";
            return false;
        }
        return true;
    }

    private readonly record struct Spec(int Length, bool Fixed, bool Numeric);

    /// <summary>
    /// The AIs found on item and case labels (GS1 General Specifications, section 3): identification, dates, lot,
    /// serial, variant, weights and counts. An AI outside it stops the reading, since its length cannot be known.
    /// </summary>
    private static bool Lookup(ReadOnlySpan<char> s, out string ai, out Spec spec)
    {
        ai = "";
        spec = default;
        if (s.Length < 2 || !char.IsAsciiDigit(s[0]) || !char.IsAsciiDigit(s[1])) return false;
        var two = s[..2].ToString();
        switch (two)
        {
            case "00": (ai, spec) = (two, new(18, true, true)); return true;
            case "01" or "02": (ai, spec) = (two, new(14, true, true)); return true;
            case "11" or "12" or "13" or "15" or "16" or "17": (ai, spec) = (two, new(6, true, true)); return true;
            case "20": (ai, spec) = (two, new(2, true, true)); return true;
            case "10" or "21" or "22": (ai, spec) = (two, new(20, false, false)); return true;
            case "30" or "37": (ai, spec) = (two, new(8, false, true)); return true;
            case "90": (ai, spec) = (two, new(30, false, false)); return true;
            case "91" or "92" or "93" or "94" or "95" or "96" or "97" or "98" or "99": (ai, spec) = (two, new(90, false, false)); return true;
        }
        if (s.Length >= 3 && char.IsAsciiDigit(s[2]))
        {
            var three = s[..3].ToString();
            switch (three)
            {
                case "240" or "241" or "250" or "251" or "400" or "401" or "403": (ai, spec) = (three, new(30, false, false)); return true;
                case "410" or "411" or "412" or "413" or "414" or "415" or "416" or "417": (ai, spec) = (three, new(13, true, true)); return true;
                case "422" or "424" or "426": (ai, spec) = (three, new(3, true, true)); return true;
            }
            // 31nn..36nn: measures, four-digit AI and six digits
            if (s.Length >= 4 && two[0] == '3' && two[1] is >= '1' and <= '6' && char.IsAsciiDigit(s[3]))
            {
                (ai, spec) = (s[..4].ToString(), new(6, true, true));
                return true;
            }
        }
        return false;
    }

    /// <summary>GS1 AI encodable character set 82.</summary>
    private static bool IsCset82(char c) =>
        c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '!' or '"' or '%' or '&' or '\'' or '(' or ')' or '*' or '+' or ',' or '-'
            or '.' or '/' or ':' or ';' or '<' or '=' or '>' or '?' or '_';

    private static string Clip(string s)
    {
        var shown = s.Length > 24 ? s[..24] + "…" : s;
        var sb = new StringBuilder(shown.Length);
        foreach (var c in shown) sb.Append(char.IsControl(c) ? '·' : c);
        return sb.ToString();
    }
}
