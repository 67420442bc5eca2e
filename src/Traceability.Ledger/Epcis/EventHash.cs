using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace Traceability.Ledger.Epcis;

/// <summary>
/// The CBV 2.0 EPCIS event hash (ni:///sha-256;…?ver=CBV2.0). The pre-hash string is built the way the GS1
/// reference implementation builds it (GS1's published algorithm, with its reference vectors):
/// the properties of the canonical order first, each list sorted, then everything else (ILMD, business
/// transactions, sources, destinations, user extensions) sorted as strings.
/// </summary>
public static class EventHash
{
    public const string Prefix = "ni:///sha-256;";
    public const string Suffix = "?ver=CBV2.0";

    /// <summary>The pre-hash string (before SHA-256) of the event.</summary>
    public static string PreHash(EpcisEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.CachedPreHash ??= Build(e.Tree, e.Type);
    }

    /// <summary>"ni:///sha-256;&lt;64 lowercase hex&gt;?ver=CBV2.0".</summary>
    public static string Compute(EpcisEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.CachedHash ??= FromPreHash(PreHash(e));
    }

    /// <summary>The ni URI of a pre-hash string.</summary>
    public static string FromPreHash(string preHash)
    {
        var max = Encoding.UTF8.GetMaxByteCount(preHash.Length);
        byte[]? rented = null;
        var buffer = max <= 4096 ? stackalloc byte[max] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var n = Encoding.UTF8.GetBytes(preHash, buffer);
            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(buffer[..n], digest);
            return string.Concat(Prefix, Convert.ToHexStringLower(digest), Suffix);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The 32 bytes inside "ni:///sha-256;&lt;hex&gt;?ver=CBV2.0"; FormatException for anything else.</summary>
    public static byte[] Digest(string niUri)
    {
        ArgumentNullException.ThrowIfNull(niUri);
        if (!niUri.StartsWith(Prefix, StringComparison.Ordinal))
            throw new FormatException($"'{niUri}' is not an ni:///sha-256 URI");
        var hex = niUri.AsSpan(Prefix.Length);
        var q = hex.IndexOf('?');
        if (q >= 0)
        {
            var query = hex[q..];
            if (!query.StartsWith("?ver=CBV")) throw new FormatException($"'{niUri}' has an unknown query (expected ?ver=CBV…)");
            hex = hex[..q];
        }
        if (hex.Length != 64) throw new FormatException($"'{niUri}' does not hold 64 hexadecimal digits");
        foreach (var c in hex)
            if (!char.IsAsciiHexDigit(c)) throw new FormatException($"'{niUri}' does not hold 64 hexadecimal digits");
        return Convert.FromHexString(hex);
    }

    // ---- the canonical property order ------------------------------------------------------------------------

    private sealed record Prop(string Name, Prop[]? Children = null);

    private static readonly Prop[] QuantityOrder = [new("quantityElement", [new("epcClass"), new("quantity"), new("uom")])];

    private static readonly Prop[] EventOrder =
    [
        new("eventTime"),
        new("eventTimeZoneOffset"),
        new("certificationInfo"),
        new("parentID"),
        new("epcList", [new("epc")]),
        new("inputEPCList", [new("epc")]),
        new("childEPCs", [new("epc")]),
        new("quantityList", QuantityOrder),
        new("childQuantityList", QuantityOrder),
        new("inputQuantityList", QuantityOrder),
        new("outputEPCList", [new("epc")]),
        new("outputQuantityList", QuantityOrder),
        new("action"),
        new("transformationID"),
        new("bizStep"),
        new("disposition"),
        new("persistentDisposition", [new("set"), new("unset")]),
        new("readPoint", [new("id")]),
        new("bizLocation", [new("id")]),
        new("sensorElementList",
        [
            new("sensorElement",
            [
                new("sensorMetadata",
                [
                    new("time"), new("startTime"), new("endTime"), new("deviceID"), new("deviceMetadata"), new("rawData"),
                    new("dataProcessingMethod"), new("bizRules"),
                ]),
                new("sensorReport",
                [
                    new("type"), new("exception"), new("deviceID"), new("deviceMetadata"), new("rawData"), new("dataProcessingMethod"),
                    new("time"), new("microorganism"), new("chemicalSubstance"), new("value"), new("component"), new("stringValue"),
                    new("booleanValue"), new("hexBinaryValue"), new("uriValue"), new("minValue"), new("maxValue"), new("meanValue"),
                    new("sDev"), new("percRank"), new("percValue"), new("uom"), new("coordinateReferenceSystem"),
                ]),
            ]),
        ]),
    ];

    /// <summary>Top-level fields that never enter the hash.</summary>
    private static bool IsIgnoredTopLevel(string name) => name is "recordTime" or "eventID" or "type" or "errorDeclaration";

    /// <summary>Per-thread scratch space: what the ordered pass used up, and pooled builders and lists.</summary>
    private sealed class State
    {
        /// <summary>Nodes used up by the ordered pass carry this build's stamp (EpcisNode.Mark).</summary>
        public long Stamp;

        public bool IsConsumed(EpcisNode n) => n.Mark == Stamp;

        public void Consume(EpcisNode n) => n.Mark = Stamp;
        private readonly Stack<StringBuilder> builders = new();
        private readonly Stack<List<string>> stringLists = new();
        private readonly Stack<List<EpcisNode>> nodeLists = new();

        public StringBuilder Builder() => builders.Count > 0 ? builders.Pop() : new StringBuilder(128);

        public string Release(StringBuilder sb)
        {
            var s = sb.ToString();
            sb.Clear();
            builders.Push(sb);
            return s;
        }

        public List<string> Strings() => stringLists.Count > 0 ? stringLists.Pop() : [];

        public void Release(List<string> list)
        {
            list.Clear();
            stringLists.Push(list);
        }

        public List<EpcisNode> Nodes() => nodeLists.Count > 0 ? nodeLists.Pop() : [];

        public void Release(List<EpcisNode> list)
        {
            list.Clear();
            nodeLists.Push(list);
        }
    }

    [ThreadStatic]
    private static State? threadState;

    private static long stamps;

    internal static string Build(EpcisNode tree, string eventType)
    {
        var state = threadState ?? new State();
        threadState = null; // not re-entrant: a nested call gets its own
        // The marks live on the nodes: two threads must not build the same event's pre-hash at once.
        Monitor.Enter(tree);
        try
        {
            state.Stamp = Interlocked.Increment(ref stamps);
            var sb = state.Builder();
            sb.Append("eventType=").Append(eventType);
            Ordered(sb, tree.Children, EventOrder, state);
            var rest = state.Nodes();
            foreach (var child in tree.Children)
                if (!state.IsConsumed(child) && !IsIgnoredTopLevel(child.Name)) rest.Add(child);
            AppendGenericList(sb, rest, state);
            state.Release(rest);
            return state.Release(sb);
        }
        finally
        {
            Monitor.Exit(tree);
            threadState = state;
        }
    }

    /// <summary>
    /// The ordered part of one level: for each property of the order, the matching children (each with its own
    /// ordered sub-properties), sorted. Marks what it used up in state.Consumed: a child whose children are all
    /// used up. At levels below the event, user extensions are appended after the ordered properties.
    /// </summary>
    private static void Ordered(StringBuilder sb, List<EpcisNode> children, Prop[] order, State state)
    {
        List<EpcisNode>? extensions = null;
        if (children.Count > 1 && HasGatherableExtension(children) && !HasEventMarker(children))
        {
            foreach (var c in children)
            {
                if (IsGatherableExtension(c.Name))
                {
                    (extensions ??= state.Nodes()).Add(c);
                    state.Consume(c);
                }
            }
        }

        foreach (var prop in order)
        {
            var count = 0;
            EpcisNode? single = null;
            foreach (var child in children)
            {
                if (child.Name != prop.Name || state.IsConsumed(child)) continue;
                single = child;
                count++;
            }
            if (count == 0) continue;
            if (count == 1)
            {
                AppendChildPreHash(sb, single!, prop, state);
                if (AllConsumed(single!, state)) state.Consume(single!);
                continue;
            }
            var values = state.Strings();
            foreach (var child in children)
            {
                if (child.Name != prop.Name || state.IsConsumed(child)) continue;
                var one = state.Builder();
                AppendChildPreHash(one, child, prop, state);
                var text = state.Release(one);
                if (text.Length > 0) values.Add(text);
                if (AllConsumed(child, state)) state.Consume(child);
            }
            Sort(values);
            foreach (var v in values) sb.Append(v);
            state.Release(values);
        }

        if (extensions is not null)
        {
            AppendGenericList(sb, extensions, state);
            state.Release(extensions);
        }
    }

    /// <summary>The reference gathers "{namespace/}local" names only (namespaces ending in '/').</summary>
    private static bool IsGatherableExtension(string name) => name.Contains('{') && name.Contains("/}", StringComparison.Ordinal);

    private static bool HasGatherableExtension(List<EpcisNode> children)
    {
        foreach (var c in children) if (IsGatherableExtension(c.Name)) return true;
        return false;
    }

    private static bool HasEventMarker(List<EpcisNode> children)
    {
        foreach (var c in children)
            if (c.Name.Contains("eventTime", StringComparison.Ordinal) || c.Name.Contains("action", StringComparison.Ordinal)) return true;
        return false;
    }

    private static bool AllConsumed(EpcisNode node, State state)
    {
        foreach (var c in node.Children) if (!state.IsConsumed(c)) return false;
        return true;
    }

    /// <summary>name=value followed by the ordered sub-properties; nothing when both are empty.</summary>
    private static void AppendChildPreHash(StringBuilder sb, EpcisNode child, Prop prop, State state)
    {
        var start = sb.Length;
        sb.Append(child.Name);
        var hasText = false;
        if (child.Value.Length > 0)
        {
            var text = child.Value.Trim();
            text = IsTimeName(child.Name) ? CanonicalTimestamp(text) : CanonicalValue(text);
            if (text.Length > 0)
            {
                sb.Append('=').Append(text);
                hasText = true;
            }
        }
        var mark = sb.Length;
        if (prop.Children is not null) Ordered(sb, child.Children, prop.Children, state);
        if (!hasText && sb.Length == mark) sb.Length = start;
    }

    private static bool IsTimeName(string name) =>
        name.Contains("time", StringComparison.OrdinalIgnoreCase) && !name.Contains("offset", StringComparison.OrdinalIgnoreCase);

    /// <summary>Nodes rendered generically (name=value + sorted children, minus what the ordered pass used), sorted.</summary>
    private static void AppendGenericList(StringBuilder sb, List<EpcisNode> nodes, State state)
    {
        if (nodes.Count == 0) return;
        if (nodes.Count == 1)
        {
            AppendGeneric(sb, nodes[0], state);
            return;
        }
        var parts = state.Strings();
        foreach (var n in nodes)
        {
            var one = state.Builder();
            AppendGeneric(one, n, state);
            parts.Add(state.Release(one));
        }
        Sort(parts);
        foreach (var p in parts) sb.Append(p);
        state.Release(parts);
    }

    private static void AppendGeneric(StringBuilder sb, EpcisNode node, State state)
    {
        var children = state.Nodes();
        foreach (var c in node.Children)
            if (!state.IsConsumed(c)) children.Add(c);

        // business transactions, sources and destinations: their type first, then the identifier
        if (node.Name is "bizTransaction" or "source" or "destination")
        {
            var type = children.Find(c => c.Name == "type");
            if (type is not null)
            {
                AppendGeneric(sb, type, state);
                children.Remove(type);
            }
        }

        sb.Append(node.Name);
        var text = node.Value.Length == 0 ? "" : node.Value.Trim();
        if (text.Length > 0) sb.Append('=').Append(CanonicalValue(text));
        AppendGenericList(sb, children, state);
        state.Release(children);
    }

    /// <summary>Case-sensitive lexical order by Unicode code point (what UTF-8 byte order and Python give).</summary>
    internal static void Sort(List<string> list)
    {
        if (list.Count > 1) list.Sort(CodePointComparer.Instance);
    }

    internal sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (ReferenceEquals(x, y)) return 0;
            if (x is null) return -1;
            if (y is null) return 1;
            var n = Math.Min(x.Length, y.Length);
            var i = x.AsSpan(0, n).CommonPrefixLength(y.AsSpan(0, n));
            if (i == n) return x.Length.CompareTo(y.Length);
            int a = x[i], b = y[i];
            // UTF-16 code units order surrogates (U+D800..DFFF) below U+E000..FFFF; code points order them above.
            if (a >= 0xD800 && b >= 0xD800)
            {
                if (a is >= 0xD800 and <= 0xDFFF) a += 0x2000;
                else a -= 0x800;
                if (b is >= 0xD800 and <= 0xDFFF) b += 0x2000;
                else b -= 0x800;
            }
            return a.CompareTo(b);
        }
    }

    // ---- value normalisation ---------------------------------------------------------------------------------

    /// <summary>
    /// A value as it enters the pre-hash string: CBV URNs to web URIs, numbers without trailing zeros (and
    /// without leading zeros or '+'), EPC URNs and Digital Links to canonical Digital Links.
    /// </summary>
    public static string CanonicalValue(string text)
    {
        text = CbvVocabulary.WebVocabulary(text);
        if (TryCanonicalNumber(text, out var number)) return number;
        if (text.Length > 8 && (text[0] == 'u' || text[0] == 'h') && Gs1Identifiers.TryToCanonicalDigitalLink(text, out var dl)) return dl;
        return text;
    }

    /// <summary>
    /// Numbers the way Python's float() reads them and str() writes them back, integers without a decimal point:
    /// "25.0" → "25", "0.10" → "0.1", "+7" → "7", "1e3" → "1000", "0.00001" → "1e-05". Non-numbers: false.
    /// </summary>
    public static bool TryCanonicalNumber(string text, out string canonical)
    {
        canonical = text;
        var s = text.AsSpan().Trim();
        if (s.Length == 0 || s.Length > 400) return false;
        var c0 = s[0];
        if (!(c0 is >= '0' and <= '9' or '+' or '-' or '.')) return false;

        Span<char> clean = stackalloc char[s.Length];
        var n = 0;
        var digits = 0;
        var i = 0;
        if (s[i] is '+' or '-') clean[n++] = s[i++];
        var mantissaDigits = 0;
        var sawDot = false;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (c is >= '0' and <= '9') { clean[n++] = c; digits++; mantissaDigits++; }
            else if (c == '_')
            {
                if (i == 0 || i + 1 >= s.Length || !char.IsAsciiDigit(s[i - 1]) || !char.IsAsciiDigit(s[i + 1])) return false;
            }
            else if (c == '.' && !sawDot) { sawDot = true; clean[n++] = c; }
            else break;
        }
        if (mantissaDigits == 0) return false;
        if (i < s.Length)
        {
            if (s[i] is not ('e' or 'E')) return false;
            clean[n++] = 'e';
            i++;
            if (i < s.Length && s[i] is '+' or '-') clean[n++] = s[i++];
            var expDigits = 0;
            for (; i < s.Length; i++)
            {
                var c = s[i];
                if (c is >= '0' and <= '9') { clean[n++] = c; expDigits++; }
                else if (c == '_' && expDigits > 0 && i + 1 < s.Length && char.IsAsciiDigit(s[i + 1])) { }
                else return false;
            }
            if (expDigits == 0) return false;
        }
        if (!double.TryParse(clean[..n], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value)) return false;

        if (Math.Floor(value) == value)
        {
            canonical = Math.Abs(value) < 1e15 ? ((long)value).ToString(CultureInfo.InvariantCulture) : new BigInteger(value).ToString(CultureInfo.InvariantCulture);
            return true;
        }
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        var e = r.IndexOf('E');
        if (e >= 0)
        {
            // .NET "1E-05" / "1.5E-07" → Python "1e-05" / "1.5e-07" (two exponent digits at least, sign always)
            var mant = r[..e];
            var exp = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = string.Concat(mant, "e", exp < 0 ? "-" : "+", Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture));
        }
        canonical = r;
        return true;
    }

    /// <summary>
    /// A timestamp in UTC with exactly three fraction digits, the third rounded up when the fourth is 5..9
    /// (ALGORITHM.md rule 9): "2023-02-02T12:04:03.1415+01:00" → "2023-02-02T11:04:03.142Z". Unparseable text is
    /// returned unchanged.
    /// </summary>
    public static string CanonicalTimestamp(string text) =>
        TryParseTimestamp(text, out var utc) ? FormatUtc(utc) : text;

    internal static string FormatUtc(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// ISO 8601 date-time (date, 'T' or space, hh:mm[:ss[.fraction]], then Z / ±hh:mm / ±hhmm / ±hh or nothing
    /// for UTC) to a UTC DateTime rounded to the millisecond by the rule above.
    /// </summary>
    internal static bool TryParseTimestamp(string text, out DateTime utc)
    {
        utc = default;
        var s = text.AsSpan().Trim();
        if (s.Length < 16) return false;
        if (!Num(s, 0, 4, out var year) || s[4] != '-' || !Num(s, 5, 2, out var month) || s[7] != '-' || !Num(s, 8, 2, out var day)) return false;
        if (s[10] is not ('T' or 't' or ' ')) return false;
        if (!Num(s, 11, 2, out var hour) || s[13] != ':' || !Num(s, 14, 2, out var minute)) return false;
        var i = 16;
        var second = 0;
        long ticks = 0;
        var roundUp = false;
        if (i < s.Length && s[i] == ':')
        {
            if (!Num(s, 17, 2, out second)) return false;
            i = 19;
            if (i < s.Length && s[i] is '.' or ',')
            {
                i++;
                var start = i;
                var ms = 0;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    var k = i - start;
                    if (k < 3) ms = ms * 10 + (s[i] - '0');
                    else if (k == 3) roundUp = s[i] >= '5';
                    i++;
                }
                var count = i - start;
                if (count == 0) return false;
                for (var k = count; k < 3; k++) ms *= 10;
                ticks = ms * TimeSpan.TicksPerMillisecond;
            }
        }
        var offset = TimeSpan.Zero;
        if (i < s.Length)
        {
            var c = s[i];
            if (c is 'Z' or 'z')
            {
                if (i + 1 != s.Length) return false;
            }
            else if (c is '+' or '-')
            {
                var rest = s[(i + 1)..];
                int oh, om = 0;
                if (rest.Length == 5 && rest[2] == ':' && Num(rest, 0, 2, out oh) && Num(rest, 3, 2, out om)) { }
                else if (rest.Length == 4 && Num(rest, 0, 2, out oh) && Num(rest, 2, 2, out om)) { }
                else if (rest.Length == 2 && Num(rest, 0, 2, out oh)) { }
                else return false;
                if (oh > 23 || om > 59) return false;
                offset = new TimeSpan(oh, om, 0);
                if (c == '-') offset = -offset;
            }
            else return false;
        }
        try
        {
            if (hour == 24 && minute == 0 && second == 0 && ticks == 0) { hour = 0; ticks = TimeSpan.TicksPerDay; }
            var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(ticks);
            if (roundUp) local = local.AddMilliseconds(1);
            utc = DateTime.SpecifyKind(local - offset, DateTimeKind.Utc);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static bool Num(ReadOnlySpan<char> s, int start, int len, out int value)
    {
        value = 0;
        if (start + len > s.Length) return false;
        for (var k = start; k < start + len; k++)
        {
            var c = s[k];
            if (c is < '0' or > '9') return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }
}
