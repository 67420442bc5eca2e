using System.Text;

namespace Traceability.Ledger.Epcis;

/// <summary>
/// EPC URNs (urn:epc:id, urn:epc:class, urn:epc:idpat) and GS1 Digital Link URIs to the constrained canonical
/// Digital Link form the CBV 2.0 event hash uses (https://id.gs1.org, no query string, finest key level only).
/// The accepted syntax and the output follow the GS1 reference implementation (dl_normaliser) value for value:
/// what it leaves unconverted, this leaves unconverted too, so that hashes agree.
/// </summary>
public static class Gs1Identifiers
{
    private const string Host = "https://id.gs1.org";

    /// <summary>An EPC URN or any GS1 Digital Link URI to its canonical Digital Link; FormatException when it is neither.</summary>
    public static string ToCanonicalDigitalLink(string epcUrnOrDigitalLink)
    {
        ArgumentNullException.ThrowIfNull(epcUrnOrDigitalLink);
        return TryToCanonicalDigitalLink(epcUrnOrDigitalLink, out var dl)
            ? dl
            : throw new FormatException($"'{epcUrnOrDigitalLink}' is neither an EPC URN nor a GS1 Digital Link URI this library can canonicalise.");
    }

    public static bool TryToCanonicalDigitalLink(string value, out string digitalLink)
    {
        digitalLink = "";
        if (string.IsNullOrEmpty(value)) return false;
        string? result = null;
        if (value.StartsWith("urn:epc:", StringComparison.Ordinal)) result = FromUrn(value);
        else if (value.StartsWith("http", StringComparison.Ordinal)) result = FromDigitalLink(value);
        if (result is null) return false;
        digitalLink = result;
        return true;
    }

    /// <summary>
    /// The SGTIN EPC URN for a GTIN-14 and a serial (serial as plain text; characters the URN reserves are
    /// percent-encoded). The company prefix length (6..12) comes from the GS1 company prefix allocation.
    /// </summary>
    public static string ToSgtinUrn(string gtin14, string serial, int companyPrefixLength)
    {
        ArgumentNullException.ThrowIfNull(gtin14);
        ArgumentNullException.ThrowIfNull(serial);
        if (gtin14.Length != 14 || !AllDigits(gtin14.AsSpan()))
            throw new ArgumentException("a GTIN-14 has 14 digits", nameof(gtin14));
        if (CheckDigit(gtin14.AsSpan(0, 13)) != gtin14[13])
            throw new ArgumentException("the GTIN-14 check digit is wrong", nameof(gtin14));
        if (companyPrefixLength is < 6 or > 12)
            throw new ArgumentOutOfRangeException(nameof(companyPrefixLength), "a GS1 company prefix has 6 to 12 digits");
        if (serial.Length is 0 or > 20)
            throw new ArgumentException("a serial (AI 21) has 1 to 20 characters", nameof(serial));
        var sb = new StringBuilder("urn:epc:id:sgtin:", 60);
        sb.Append(gtin14, 1, companyPrefixLength).Append('.').Append(gtin14[0]).Append(gtin14, 1 + companyPrefixLength, 12 - companyPrefixLength).Append('.');
        foreach (var c in serial)
        {
            switch (c)
            {
                case '"': sb.Append("%22"); break;
                case '%': sb.Append("%25"); break;
                case '&': sb.Append("%26"); break;
                case '/': sb.Append("%2F"); break;
                case '<': sb.Append("%3C"); break;
                case '>': sb.Append("%3E"); break;
                case '?': sb.Append("%3F"); break;
                default:
                    if (!IsAi82(c)) throw new ArgumentException($"'{c}' is not allowed in a GS1 serial (AI 82 character set)", nameof(serial));
                    sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// An identifier of an event as the ledger keys it: EPC URNs and GS1 Digital Link URIs become the canonical Digital
    /// Link; other absolute URIs are kept as they are. False, with the problem, for a malformed EPC URN or a non-URI.
    /// </summary>
    public static bool TryCanonicalId(string value, out string canonical, out string? problem)
    {
        problem = null;
        if (TryToCanonicalDigitalLink(value, out canonical))
        {
            if (KeyCheckDigitValid(canonical)) return true;
            problem = $"'{value}' has a GS1 key with a wrong check digit.";
            return false;
        }
        canonical = value;
        if (value.StartsWith("urn:epc:", StringComparison.OrdinalIgnoreCase))
        {
            problem = $"'{value}' is not a valid EPC URN.";
            return false;
        }
        if (value.StartsWith("https://id.gs1.org/", StringComparison.OrdinalIgnoreCase) || value.StartsWith("http://id.gs1.org/", StringComparison.OrdinalIgnoreCase))
        {
            problem = $"'{value}' is not a valid GS1 Digital Link (key, check digit or qualifiers).";
            return false;
        }
        if (!Uri.TryCreate(value, UriKind.Absolute, out _))
        {
            problem = $"'{value}' is neither an EPC URN, a GS1 Digital Link nor a URI.";
            return false;
        }
        return true;
    }

    /// <summary>The check digit of the GTIN (/01/), GLN (/414/) or SSCC (/00/) of a canonical Digital Link; true for other keys.</summary>
    public static bool KeyCheckDigitValid(string canonical)
    {
        foreach (var (ai, length) in new[] { ("/01/", 14), ("/414/", 13), ("/00/", 18) })
        {
            var i = canonical.IndexOf(ai, StringComparison.Ordinal);
            if (i < 0) continue;
            var key = canonical.AsSpan(i + ai.Length);
            if (key.Length < length) return false;
            key = key[..length];
            foreach (var c in key) if (!char.IsAsciiDigit(c)) return false;
            return CheckDigit(key[..^1]) == key[^1];
        }
        return true;
    }

    /// <summary>
    /// A GTIN-8, -12, -13 or -14 (ASCII digits only, with a valid check digit) as the 14 digits the ledger keys
    /// products by; false for anything else.
    /// </summary>
    public static bool TryNormalizeGtin(string? gtin, out string gtin14)
    {
        gtin14 = "";
        if (gtin is null || gtin.Length is not (8 or 12 or 13 or 14)) return false;
        foreach (var c in gtin)
            if (!char.IsAsciiDigit(c)) return false;
        var padded = gtin.PadLeft(14, '0');
        if (CheckDigit(padded.AsSpan(0, 13)) != padded[13]) return false;
        gtin14 = padded;
        return true;
    }

    /// <summary>GS1 mod-10 check digit of the digits given (the check digit itself excluded).</summary>
    public static char CheckDigit(ReadOnlySpan<char> digits)
    {
        var sum = 0;
        for (int i = digits.Length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += (digits[i] - '0') * w;
        return (char)('0' + (10 - sum % 10) % 10);
    }

    private static bool IsAi82(char c) =>
        c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '!' or '"' or '%' or '&' or '\'' or '(' or ')' or '*' or '+' or ',' or '-' or '.' or '/' or ':' or ';' or '<' or '=' or '>' or '?' or '_';

    // ---- EPC URNs --------------------------------------------------------------------------------------------

    private static string? FromUrn(string uri)
    {
        var s = uri.AsSpan();
        if (s.StartsWith("urn:epc:id:"))
        {
            var rest = s[11..];
            var colon = rest.IndexOf(':');
            if (colon < 0) return null;
            var scheme = rest[..colon];
            var body = rest[(colon + 1)..];
            return scheme switch
            {
                "sgtin" => Sgtin(body, 20, "/21/"),
                "upui" => Sgtin(body, 28, "/235/"),
                "sscc" => Sscc(body),
                "sgln" => Sgln(body),
                "grai" => Grai(body),
                "giai" => CpAndRef(body, "/8004/"),
                "ginc" => CpAndRef(body, "/401/"),
                "gsrn" => CpAndDigits(body, 17, "/8018/"),
                "gsrnp" => CpAndDigits(body, 17, "/8017/"),
                "gsin" => CpAndDigits(body, 16, "/402/"),
                "pgln" => Pgln(body),
                "gdti" => Gdti(body),
                "sgcn" => Sgcn(body),
                "cpi" => Cpi(body),
                "itip" => Itip(body),
                _ => null,
            };
        }
        if (s.StartsWith("urn:epc:class:lgtin:")) return Sgtin(s[20..], 20, "/10/");
        if (s.StartsWith("urn:epc:idpat:"))
        {
            var rest = s[14..];
            var colon = rest.IndexOf(':');
            if (colon < 0) return null;
            var scheme = rest[..colon];
            var body = rest[(colon + 1)..];
            if (!body.EndsWith(".*")) return null;
            body = body[..^2];
            return scheme switch
            {
                "sgtin" or "upui" => GtinPattern(body),
                "grai" => FixedPattern(body, "/8003/", "0"),
                "gdti" => FixedPattern(body, "/253/", ""),
                "sgcn" => FixedPattern(body, "/255/", ""),
                "cpi" => CpiPattern(body),
                "itip" => ItipPattern(body),
                _ => null,
            };
        }
        return null;
    }

    /// <summary>cp.itemref.serial (SGTIN, UPUI, LGTIN): itemref has 13 - cp digits, the first being the indicator.</summary>
    private static string? Sgtin(ReadOnlySpan<char> body, int maxSerial, string qualifier)
    {
        if (!SplitCp(body, 13, out var cp, out var reference, out var rest)) return null;
        if (rest.Length == 0 || rest[0] != '.') return null;
        var serial = rest[1..];
        if (!IsEpcString(serial, 1, maxSerial)) return null;
        return string.Concat(Host, "/01/", Gtin(cp, reference), qualifier, Encode(serial));
    }

    private static string? GtinPattern(ReadOnlySpan<char> body)
    {
        if (!SplitCp(body, 13, out var cp, out var reference, out var rest) || rest.Length != 0) return null;
        return string.Concat(Host, "/01/", Gtin(cp, reference));
    }

    private static string? Sscc(ReadOnlySpan<char> body)
    {
        if (!SplitCp(body, 17, out var cp, out var reference, out var rest) || rest.Length != 0) return null;
        var digits = string.Concat(reference[..1], cp, reference[1..]);
        return string.Concat(Host, "/00/", digits, CheckDigit(digits).ToString());
    }

    private static string? Sgln(ReadOnlySpan<char> body)
    {
        if (!SplitCp(body, 12, out var cp, out var reference, out var rest)) return null;
        if (rest.Length == 0 || rest[0] != '.') return null;
        var ext = rest[1..];
        if (!IsEpcString(ext, 1, 20)) return null;
        var gln = WithCheck(cp, reference);
        return ext.SequenceEqual("0") ? string.Concat(Host, "/414/", gln) : string.Concat(Host, "/414/", gln, "/254/", Encode(ext));
    }

    private static string? Grai(ReadOnlySpan<char> body)
    {
        if (!SplitCp(body, 12, out var cp, out var reference, out var rest)) return null;
        if (rest.Length == 0 || rest[0] != '.') return null;
        var serial = rest[1..];
        if (!IsEpcString(serial, 1, 16)) return null;
        return string.Concat(Host, "/8003/", WithCheck(string.Concat("0", cp), reference), Encode(serial));
    }

    private static string? Gdti(ReadOnlySpan<char> body)
    {
        if (!SplitCp(body, 12, out var cp, out var reference, out var rest)) return null;
        if (rest.Length == 0 || rest[0] != '.') return null;
        var serial = rest[1..];
        if (!IsEpcString(serial, 0, 17)) return null;
        return string.Concat(Host, "/253/", WithCheck(cp, reference), Encode(serial));
    }

    private static string? Sgcn(ReadOnlySpan<char> body)
    {
        if (!SplitCp(body, 12, out var cp, out var reference, out var rest)) return null;
        if (rest.Length == 0 || rest[0] != '.') return null;
        var serial = rest[1..];
        if (serial.Length is 0 or > 12 || !AllDigits(serial)) return null;
        return string.Concat(Host, "/255/", WithCheck(cp, reference), serial.ToString());
    }

    private static string? FixedPattern(ReadOnlySpan<char> body, string key, string lead)
    {
        if (!SplitCp(body, 12, out var cp, out var reference, out var rest) || rest.Length != 0) return null;
        return string.Concat(Host, key, WithCheck(string.Concat(lead, cp), reference));
    }

    private static string? Pgln(ReadOnlySpan<char> body)
    {
        if (!SplitCp(body, 12, out var cp, out var reference, out var rest) || rest.Length != 0) return null;
        return string.Concat(Host, "/417/", WithCheck(cp, reference));
    }

    /// <summary>cp.digits where cp + digits has a fixed length, then a check digit (GSRN, GSRNP, GSIN).</summary>
    private static string? CpAndDigits(ReadOnlySpan<char> body, int total, string key)
    {
        if (!SplitCp(body, total, out var cp, out var reference, out var rest) || rest.Length != 0) return null;
        return string.Concat(Host, key, WithCheck(cp, reference));
    }

    /// <summary>cp.reference with a free-text reference up to 30 characters in all (GIAI, GINC).</summary>
    private static string? CpAndRef(ReadOnlySpan<char> body, string key)
    {
        var dot = body.IndexOf('.');
        if (dot is < 6 or > 12 || !AllDigits(body[..dot])) return null;
        var reference = body[(dot + 1)..];
        if (!IsEpcString(reference, 1, 30 - dot)) return null;
        return string.Concat(Host, key, body[..dot].ToString(), Encode(reference));
    }

    private static string? Cpi(ReadOnlySpan<char> body)
    {
        var dot = body.IndexOf('.');
        var last = body.LastIndexOf('.');
        if (dot is < 6 or > 12 || last <= dot || !AllDigits(body[..dot])) return null;
        var reference = body[(dot + 1)..last];
        var serial = body[(last + 1)..];
        if (!IsCpiRef(reference, 30 - dot) || serial.Length is 0 or > 12 || !AllDigits(serial)) return null;
        return string.Concat(Host, "/8010/", Encode(string.Concat(body[..dot], reference)), "/8011/", serial.ToString());
    }

    private static string? CpiPattern(ReadOnlySpan<char> body)
    {
        var dot = body.IndexOf('.');
        if (dot is < 6 or > 12 || !AllDigits(body[..dot])) return null;
        var reference = body[(dot + 1)..];
        if (!IsCpiRef(reference, 30 - dot)) return null;
        return string.Concat(Host, "/8010/", Encode(string.Concat(body[..dot], reference)));
    }

    private static string? Itip(ReadOnlySpan<char> body)
    {
        if (!SplitCp(body, 13, out var cp, out var reference, out var rest)) return null;
        // .pp.tt.serial
        if (rest.Length < 8 || rest[0] != '.' || rest[3] != '.' || rest[6] != '.' || !AllDigits(rest[1..3]) || !AllDigits(rest[4..6])) return null;
        var serial = rest[7..];
        if (!IsEpcString(serial, 1, 20)) return null;
        return string.Concat(Host, "/8006/", Gtin(cp, reference), string.Concat(rest[1..3], rest[4..6]), "/21/", Encode(serial));
    }

    private static string? ItipPattern(ReadOnlySpan<char> body)
    {
        if (!SplitCp(body, 13, out var cp, out var reference, out var rest)) return null;
        if (rest.Length != 6 || rest[0] != '.' || rest[3] != '.' || !AllDigits(rest[1..3]) || !AllDigits(rest[4..6])) return null;
        return string.Concat(Host, "/8006/", Gtin(cp, reference), string.Concat(rest[1..3], rest[4..6]));
    }

    /// <summary>
    /// Splits "cp.reference[rest]": cp has 6..12 digits, reference has (total - cp) digits (possibly none), rest
    /// is what follows the reference (empty or starting with '.').
    /// </summary>
    private static bool SplitCp(ReadOnlySpan<char> body, int total, out string cp, out string reference, out ReadOnlySpan<char> rest)
    {
        cp = reference = "";
        rest = default;
        var dot = body.IndexOf('.');
        if (dot is < 6 or > 12 || !AllDigits(body[..dot])) return false;
        var refLen = total - dot;
        if (refLen < 0 || body.Length < dot + 1 + refLen || !AllDigits(body.Slice(dot + 1, refLen))) return false;
        cp = body[..dot].ToString();
        reference = body.Slice(dot + 1, refLen).ToString();
        rest = body[(dot + 1 + refLen)..];
        return rest.Length == 0 || rest[0] == '.';
    }

    private static string Gtin(string cp, string itemRef)
    {
        var digits = string.Concat(itemRef.AsSpan(0, 1), cp, itemRef.AsSpan(1));
        return digits + CheckDigit(digits);
    }

    private static string WithCheck(string a, string b)
    {
        var digits = a + b;
        return digits + CheckDigit(digits);
    }

    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (c is < '0' or > '9') return false;
        return true;
    }

    /// <summary>The EPC URN character set of TDS (GS1 AI 82 with the URN-reserved ones percent-encoded); %XX counts as one.</summary>
    private static bool IsEpcString(ReadOnlySpan<char> s, int min, int max)
    {
        var n = 0;
        for (var i = 0; i < s.Length; i++, n++)
        {
            var c = s[i];
            if (c == '%')
            {
                if (i + 2 >= s.Length || !IsAllowedEscape(s[i + 1], s[i + 2])) return false;
                i += 2;
            }
            else if (!(c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '!' or '\'' or '(' or ')' or '*' or '+' or ',' or '.' or ':' or ';' or '=' or '_' or '-'))
            {
                return false;
            }
        }
        return n >= min && n <= max;
    }

    private static bool IsAllowedEscape(char h, char l)
    {
        var hexL = l is >= '0' and <= '9' or >= 'A' and <= 'F' or >= 'a' and <= 'f';
        return h switch
        {
            '2' => l is '1' or '2' or >= '5' and <= '9' or >= 'A' and <= 'F' or >= 'a' and <= 'f',
            '3' => hexL,
            '4' => l is >= '1' and <= '9' or >= 'A' and <= 'F' or >= 'a' and <= 'f',
            '5' => l is >= '0' and <= '9' or 'A' or 'a' or 'F' or 'f',
            '6' => l is >= '1' and <= '9' or >= 'A' and <= 'F' or >= 'a' and <= 'f',
            '7' => l is >= '0' and <= '9' or 'A' or 'a',
            _ => false,
        };
    }

    private static bool IsCpiRef(ReadOnlySpan<char> s, int max)
    {
        var n = 0;
        for (var i = 0; i < s.Length; i++, n++)
        {
            var c = s[i];
            if (c == '%')
            {
                if (i + 2 >= s.Length) return false;
                var h = s[i + 1];
                var l = s[i + 2];
                var ok = h switch
                {
                    '2' => l is '3' or 'd' or 'D' or 'f' or 'F',
                    '3' => l is >= '0' and <= '9',
                    '4' => l is >= '1' and <= '9' or >= 'A' and <= 'F' or >= 'a' and <= 'f',
                    '5' => l is >= '0' and <= '9' or 'A' or 'a',
                    _ => false,
                };
                if (!ok) return false;
                i += 2;
            }
            else if (!(c is >= '0' and <= '9' or >= 'A' and <= 'Z' or '-'))
            {
                return false;
            }
        }
        return n >= 1 && n <= max;
    }

    /// <summary>Percent-encodes what GS1 Digital Link requires and EPC URNs leave literal: ! ( ) * + , :</summary>
    private static string Encode(ReadOnlySpan<char> s)
    {
        if (s.IndexOfAny("!()*+,:") < 0) return s.ToString();
        var sb = new StringBuilder(s.Length + 8);
        foreach (var c in s)
        {
            switch (c)
            {
                case '!': sb.Append("%21"); break;
                case '(': sb.Append("%28"); break;
                case ')': sb.Append("%29"); break;
                case '*': sb.Append("%2A"); break;
                case '+': sb.Append("%2B"); break;
                case ',': sb.Append("%2C"); break;
                case ':': sb.Append("%3A"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    private static string Encode(string s) => Encode(s.AsSpan());

    // ---- GS1 Digital Link URIs -------------------------------------------------------------------------------

    private static readonly string[] KeySegments =
    [
        "01", "gtin", "8006", "itip", "8010", "cpid", "414", "gln", "417", "party", "8017", "gsrnp", "8018", "gsrn",
        "255", "gcn", "00", "sscc", "253", "gdti", "401", "ginc", "402", "gsin", "8003", "grai", "8004", "giai",
    ];

    private static readonly (string From, string To)[] ShortNames =
    [
        ("/gtin/", "/01/"), ("/itip/", "/8006/"), ("/cpid/", "/8010/"), ("/gln/", "/414/"), ("/party/", "/417/"),
        ("/gsrnp/", "/8017/"), ("/gsrn/", "/8018/"), ("/gcn/", "/255/"), ("/sscc/", "/00/"), ("/gdti/", "/253/"),
        ("/ginc/", "/401/"), ("/gsin/", "/402/"), ("/grai/", "/8003/"), ("/giai/", "/8004/"), ("/cpv/", "/22/"),
        ("/lot/", "/10/"), ("/ser/", "/21/"),
    ];

    private static readonly string[] PrimaryKeys = ["01", "8006", "8010", "414", "417", "8017", "8018", "255", "00", "253", "401", "402", "8003", "8004"];

    // The order in which the reference looks for a primary key when it replaces a custom domain.
    private static readonly string[] RehostOrder = ["/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/", "/417/", "/8003/", "/8004/", "/8006/", "/8010/", "/8017/", "/8018/"];

    private static string? FromDigitalLink(string uri)
    {
        if (!LooksLikeDigitalLink(uri)) return null;
        var q = uri.IndexOf('?');
        if (q >= 0) uri = uri[..q];
        foreach (var (from, to) in ShortNames)
            if (uri.Contains(from, StringComparison.Ordinal)) uri = uri.Replace(from, to, StringComparison.Ordinal);

        if (!IsCanonicalHostForm(uri))
        {
            foreach (var key in RehostOrder)
            {
                var i = uri.IndexOf(key, StringComparison.Ordinal);
                if (i >= 0)
                {
                    uri = Host + uri[i..];
                    break;
                }
            }
        }

        // GTIN-8/12/13 padded to 14 digits
        const string gtinPrefix = Host + "/01/";
        if (uri.StartsWith(gtinPrefix, StringComparison.Ordinal))
        {
            var digits = CountDigits(uri.AsSpan(gtinPrefix.Length));
            if (digits < 14)
            {
                var pad = digits >= 13 ? "0" : digits >= 12 ? "00" : digits >= 8 ? "000000" : null;
                if (pad is not null) uri = uri.Replace("/01/", "/01/" + pad, StringComparison.Ordinal);
            }
        }

        uri = DropCpv(uri);
        uri = DropLotWhenSerialised(uri);
        return IsConstrainedCanonical(uri) ? uri : null;
    }

    /// <summary>
    /// https?://authority/…/{key}/{4 digits + more}[/{q}/{v}][/][?…][#…] where key is a primary-key AI or its short name.
    /// </summary>
    private static bool LooksLikeDigitalLink(string uri)
    {
        int start;
        if (uri.StartsWith("https://", StringComparison.Ordinal)) start = 8;
        else if (uri.StartsWith("http://", StringComparison.Ordinal)) start = 7;
        else return false;
        var end = uri.AsSpan().IndexOfAny('?', '#');
        var path = end < 0 ? uri.AsSpan(start) : uri.AsSpan(start, end - start);
        var slash = path.IndexOf('/');
        if (slash < 0) return false;
        path = path[slash..];
        // any "/key/dddd…" segment pair inside the path
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] != '/') continue;
            var seg = path[(i + 1)..];
            var next = seg.IndexOf('/');
            if (next < 0) break;
            var key = seg[..next];
            foreach (var k in KeySegments)
            {
                if (!key.SequenceEqual(k)) continue;
                var value = seg[(next + 1)..];
                var valueEnd = value.IndexOf('/');
                var v = valueEnd < 0 ? value : value[..valueEnd];
                if (v.Length >= 5 && AllDigits(v[..4])) return true;
            }
        }
        return false;
    }

    private static bool IsCanonicalHostForm(string uri)
    {
        if (!uri.StartsWith(Host + "/", StringComparison.Ordinal)) return false;
        var rest = uri.AsSpan(Host.Length + 1);
        var slash = rest.IndexOf('/');
        if (slash < 0) return false;
        var key = rest[..slash];
        var known = false;
        foreach (var k in PrimaryKeys) known |= key.SequenceEqual(k);
        if (!known) return false;
        var value = rest[(slash + 1)..];
        var end = value.IndexOf('/');
        var v = end < 0 ? value : value[..end];
        return v.Length >= 5 && AllDigits(v[..4]);
    }

    private static int CountDigits(ReadOnlySpan<char> s)
    {
        var n = 0;
        while (n < s.Length && s[n] is >= '0' and <= '9') n++;
        return n;
    }

    private static string DropCpv(string uri)
    {
        var i = uri.IndexOf("/22/", StringComparison.Ordinal);
        if (i < 0) return uri;
        var head = uri.AsSpan(0, i);
        if (!IsKeyHead(head, "/8006/", 18) && !IsKeyHead(head, "/01/", 14)) return uri;
        var cpvAndRest = uri.AsSpan(i + 4);
        var slash = cpvAndRest.IndexOf('/');
        if (slash < 0)
            return IsDlChars(cpvAndRest, 0, 20) ? head.ToString() : uri;
        return IsDlCharsOrSlash(cpvAndRest, 20) ? string.Concat(head, cpvAndRest[slash..]) : uri;
    }

    private static string DropLotWhenSerialised(string uri)
    {
        var i = uri.IndexOf("/10/", StringComparison.Ordinal);
        if (i < 0) return uri;
        var head = uri.AsSpan(0, i);
        if (!IsKeyHead(head, "/8006/", 18) && !IsKeyHead(head, "/01/", 14)) return uri;
        var rest = uri.AsSpan(i + 4);
        var j = rest.IndexOf("/21/");
        if (j < 0) return uri;
        if (!IsDlChars(rest[..j], 0, 20) || !IsDlChars(rest[(j + 4)..], 0, 20)) return uri;
        return string.Concat(head, rest[j..]);
    }

    private static bool IsKeyHead(ReadOnlySpan<char> head, string key, int digits) =>
        head.Length == Host.Length + key.Length + digits && head.StartsWith(Host) && head[Host.Length..].StartsWith(key) && AllDigits(head[(Host.Length + key.Length)..]);

    /// <summary>The characters the canonical form allows in a key value: " ' - . 0-9 ; &lt; = &gt; ? A-Z _ a-z</summary>
    private static bool IsDlChar(char c) => c is '"' or '\'' or '-' or '.' or >= '0' and <= '9' or >= ';' and <= '?' or >= 'A' and <= 'Z' or '_' or >= 'a' and <= 'z';

    private static bool IsDlChars(ReadOnlySpan<char> s, int min, int max)
    {
        if (s.Length < min || s.Length > max) return false;
        foreach (var c in s) if (!IsDlChar(c)) return false;
        return true;
    }

    private static bool IsDlCharsOrSlash(ReadOnlySpan<char> s, int max)
    {
        if (s.Length > max) return false;
        foreach (var c in s) if (c != '/' && !IsDlChar(c)) return false;
        return true;
    }

    private static bool IsConstrainedCanonical(string uri)
    {
        if (!uri.StartsWith(Host + "/", StringComparison.Ordinal)) return false;
        var s = uri.AsSpan(Host.Length);
        if (Take(ref s, "/00/")) return Digits(s, 18);
        if (Take(ref s, "/01/"))
        {
            if (s.Length < 14 || !AllDigits(s[..14])) return false;
            s = s[14..];
            if (s.Length == 0) return true;
            if (Take(ref s, "/21/") || Take(ref s, "/10/")) return IsDlChars(s, 0, 20);
            if (Take(ref s, "/235/")) return IsDlChars(s, 0, 28);
            return false;
        }
        if (Take(ref s, "/253/")) return s.Length >= 13 && AllDigits(s[..13]) && IsDlChars(s[13..], 0, 17);
        if (Take(ref s, "/255/")) return s.Length is >= 13 and <= 25 && AllDigits(s);
        if (Take(ref s, "/401/") || Take(ref s, "/8004/")) return IsDlChars(s, 0, 30);
        if (Take(ref s, "/402/")) return Digits(s, 17);
        if (Take(ref s, "/414/"))
        {
            if (s.Length < 13 || !AllDigits(s[..13])) return false;
            s = s[13..];
            return s.Length == 0 || (Take(ref s, "/254/") && IsDlChars(s, 0, 20));
        }
        if (Take(ref s, "/417/")) return Digits(s, 13);
        if (Take(ref s, "/8003/")) return s.Length >= 14 && AllDigits(s[..14]) && IsDlChars(s[14..], 0, 16);
        if (Take(ref s, "/8006/"))
        {
            if (s.Length < 18 || !AllDigits(s[..18])) return false;
            s = s[18..];
            if (s.Length == 0) return true;
            return (Take(ref s, "/21/") || Take(ref s, "/10/")) && IsDlChars(s, 0, 20);
        }
        if (Take(ref s, "/8010/"))
        {
            var k = s.IndexOf("/8011/");
            if (k >= 0 && IsCpidChars(s[..k]) && s.Length - k - 6 <= 12 && AllDigits(s[(k + 6)..])) return true;
            return IsCpidChars(s);
        }
        if (Take(ref s, "/8017/") || Take(ref s, "/8018/")) return Digits(s, 18);
        return false;
    }

    private static bool IsCpidChars(ReadOnlySpan<char> s)
    {
        if (s.Length > 30) return false;
        foreach (var c in s) if (!(c is '#' or '-' or '/' or >= '0' and <= '9' or >= 'A' and <= 'Z')) return false;
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> s, int n) => s.Length == n && AllDigits(s);

    private static bool Take(ref ReadOnlySpan<char> s, string prefix)
    {
        if (!s.StartsWith(prefix)) return false;
        s = s[prefix.Length..];
        return true;
    }
}
