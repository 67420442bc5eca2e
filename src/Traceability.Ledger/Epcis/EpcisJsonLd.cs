using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Traceability.Ledger.Epcis;

/// <summary>
/// Writes one event as a self-contained JSON-LD object (with its own "@context") such that
/// <c>EventHash.Compute(EpcisParser.ParseEventJson(WriteEvent(e))) == EventHash.Compute(e)</c>.
/// Events read from JSON keep their fields exactly as written, with the document's @context added; events read
/// from XML are translated from the element tree.
/// </summary>
public static class EpcisJsonLd
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    private static readonly HashSet<string> NumericFields = new(StringComparer.Ordinal)
    {
        "quantity", "value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue",
    };

    // Lists whose emptiness does not show in the hash (they belong to the canonical order).
    private static readonly HashSet<string> OrderedLists = new(StringComparer.Ordinal)
    {
        "epcList", "childEPCs", "inputEPCList", "outputEPCList", "quantityList", "childQuantityList", "inputQuantityList",
        "outputQuantityList", "sensorElementList",
    };

    // One buffer and writer per thread, reused: capture writes every event of every document (a new MemoryStream and
    // writer per event allocated about 6 KB more per event than the string written).
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public static string WriteEvent(EpcisEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var w = t_writer ??= new Utf8JsonWriter(buffer, Options);
        w.Reset(buffer);
        try
        {
            if (e.Source is not null) WriteFromJson(w, e);
            else WriteFromTree(w, e);
            w.Flush();
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        finally
        {
            w.Reset(); // a writer left mid-object by an exception starts clean next time
            if (buffer.Capacity > 1 << 20) t_buffer = null; // do not keep a huge event's buffer
        }
    }

    // ---- events read from JSON: the original object plus the document's @context ------------------------------

    private static void WriteFromJson(Utf8JsonWriter w, EpcisEvent e)
    {
        w.WriteStartObject();
        w.WritePropertyName("@context");
        if (e.Context.Json is not null) w.WriteRawValue(e.Context.WrittenJson ??= Compact(e.Context.Json), skipInputValidation: true);
        else WriteStandardContext(w, new Dictionary<string, string>());
        var hasIgnore = false;
        foreach (var p in e.Source!.Element.EnumerateObject())
        {
            if (p.Name == "@context") continue;
            if (e.IgnoreFieldsJson is { } ig && p.Name == ig.Key) hasIgnore = true;
            p.WriteTo(w);
        }
        if (!hasIgnore && e.IgnoreFieldsJson is { } decl)
        {
            // the document said these fields are not part of the event's identity: the event says it itself now
            using var value = JsonDocument.Parse(decl.ValueJson, EpcisParser.DocumentOptions);
            w.WritePropertyName(decl.Key);
            value.RootElement.WriteTo(w);
        }
        w.WriteEndObject();
    }

    /// <summary>A JSON value as this writer writes it (the same bytes as <c>JsonElement.WriteTo</c> here).</summary>
    private static byte[] Compact(string json)
    {
        using var doc = JsonDocument.Parse(json, EpcisParser.DocumentOptions);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(json.Length);
        using (var w = new Utf8JsonWriter(buffer, Options)) doc.RootElement.WriteTo(w);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteStandardContext(Utf8JsonWriter w, Dictionary<string, string> prefixes)
    {
        w.WriteStartArray();
        w.WriteStringValue(CbvVocabulary.StandardContext);
        if (prefixes.Count > 0)
        {
            w.WriteStartObject();
            foreach (var (prefix, ns) in prefixes) w.WriteString(prefix, ns);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    // ---- events read from XML: the element tree in the JSON binding ------------------------------------------

    private static void WriteFromTree(Utf8JsonWriter w, EpcisEvent e)
    {
        var prefixes = ChoosePrefixes(e.Tree);
        w.WriteStartObject();
        w.WritePropertyName("@context");
        WriteStandardContext(w, prefixes.ByPrefix);
        w.WriteString("type", e.Type);
        WriteProperties(w, e.Tree, prefixes);
        w.WriteEndObject();
    }

    private sealed class Prefixes
    {
        public readonly Dictionary<string, string> ByPrefix = new(StringComparer.Ordinal);
        public readonly Dictionary<string, string> ByNamespace = new(StringComparer.Ordinal);
    }

    /// <summary>
    /// One prefix per extension namespace: the document's own when it is safe, else ns1, ns2, … A prefix is
    /// safe when no value of the event starts with "prefix:" (JSON-LD would expand it; XML does not) and it does
    /// not shadow a standard prefix with another namespace.
    /// </summary>
    private static Prefixes ChoosePrefixes(EpcisNode tree)
    {
        var namespaces = new List<(string Ns, string? Preferred)>();
        var valuePrefixes = new HashSet<string>(StringComparer.Ordinal);
        Collect(tree, namespaces, valuePrefixes);
        var result = new Prefixes();
        var n = 0;
        foreach (var (ns, preferred) in namespaces)
        {
            if (result.ByNamespace.ContainsKey(ns)) continue;
            var prefix = preferred;
            if (prefix is null || !IsSafePrefix(prefix, ns, valuePrefixes, result))
            {
                do prefix = "ns" + ++n;
                while (!IsSafePrefix(prefix, ns, valuePrefixes, result));
            }
            result.ByNamespace[ns] = prefix;
            result.ByPrefix[prefix] = ns;
        }
        return result;
    }

    private static bool IsSafePrefix(string prefix, string ns, HashSet<string> valuePrefixes, Prefixes taken)
    {
        if (prefix.Length == 0 || valuePrefixes.Contains(prefix) || taken.ByPrefix.ContainsKey(prefix)) return false;
        if (CbvVocabulary.StandardPrefixes.TryGetValue(prefix, out var std) && std != ns) return false;
        foreach (var c in prefix) if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')) return false;
        return char.IsAsciiLetter(prefix[0]) || prefix[0] == '_';
    }

    private static void Collect(EpcisNode node, List<(string, string?)> namespaces, HashSet<string> valuePrefixes)
    {
        foreach (var c in node.Children)
        {
            if (c.IsExtension) namespaces.Add((EpcisNode.SplitName(c.Name).Namespace, c.Prefix));
            var colon = c.Value.IndexOf(':');
            if (colon > 0) valuePrefixes.Add(c.Value[..colon]);
            Collect(c, namespaces, valuePrefixes);
        }
    }

    private static string Key(string name, Prefixes prefixes)
    {
        if (name.Length == 0 || name[0] != '{') return name;
        var (ns, local) = EpcisNode.SplitName(name);
        return string.Concat(prefixes.ByNamespace[ns], ":", local);
    }

    /// <summary>The children of a node as JSON properties; "#children" when a plain object cannot say it.</summary>
    private static void WriteProperties(Utf8JsonWriter w, EpcisNode node, Prefixes prefixes)
    {
        var groups = new List<(string Name, List<EpcisNode> Nodes)>();
        var faithful = true;
        foreach (var c in node.Children)
        {
            var g = groups.FindIndex(x => x.Name == c.Name);
            if (g < 0) groups.Add((c.Name, [c]));
            else
            {
                groups[g].Nodes.Add(c);
                if (IsListName(c.Name)) faithful = false; // two "…List" siblings would be merged into one
            }
            if (c.Name.Length == 0 || c.Name[0] is '@' or '#') faithful = false;
        }

        if (!faithful)
        {
            w.WriteStartArray("#children");
            foreach (var c in node.Children)
            {
                w.WriteStartObject();
                w.WritePropertyName(Key(c.Name, prefixes));
                WriteValue(w, c, prefixes, forceRaw: true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            return;
        }

        foreach (var (name, nodes) in groups)
        {
            w.WritePropertyName(Key(name, prefixes));
            if (nodes.Count == 1)
            {
                WriteValue(w, nodes[0], prefixes, forceRaw: false);
            }
            else
            {
                w.WriteStartArray();
                foreach (var c in nodes) WriteValue(w, c, prefixes, forceRaw: false);
                w.WriteEndArray();
            }
        }
    }

    private static bool IsListName(string name) => name.EndsWith("List", StringComparison.Ordinal) || name == "childEPCs";

    /// <summary>The name the JSON binding gives the items of a list (after its renames).</summary>
    private static string ItemName(string listName, EpcisNode item)
    {
        if (listName == "childEPCs") return "epc";
        var b = listName[..^4];
        return b switch
        {
            "inputEPC" or "outputEPC" => "epc",
            "inputQuantity" or "outputQuantity" or "childQuantity" => "quantityElement",
            "quantity" when item.Children.Count > 0 => "quantityElement",
            _ => b,
        };
    }

    private static void WriteValue(Utf8JsonWriter w, EpcisNode node, Prefixes prefixes, bool forceRaw)
    {
        if (IsListName(node.Name))
        {
            var asArray = !forceRaw && node.Value.Length == 0;
            if (asArray && node.Children.Count == 0 && !OrderedLists.Contains(node.Name)) asArray = false;
            if (asArray)
            {
                foreach (var c in node.Children)
                {
                    if (c.Name != ItemName(node.Name, c) || (node.Name == "childEPCs" && c.Children.Count > 0))
                    {
                        asArray = false;
                        break;
                    }
                }
            }
            if (asArray)
            {
                w.WriteStartArray();
                foreach (var c in node.Children) WriteItem(w, c, prefixes);
                w.WriteEndArray();
                return;
            }
            w.WriteStartObject();
            if (node.Value.Length > 0) w.WriteString("#text", node.Value);
            w.WriteStartArray("#children");
            foreach (var c in node.Children)
            {
                w.WriteStartObject();
                w.WritePropertyName(Key(c.Name, prefixes));
                WriteValue(w, c, prefixes, forceRaw: true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            return;
        }

        if (node.Children.Count == 0)
        {
            WriteScalar(w, node);
            return;
        }

        w.WriteStartObject();
        if (node.Value.Length > 0) w.WriteString("#text", node.Value);
        WriteProperties(w, node, prefixes);
        w.WriteEndObject();
    }

    /// <summary>A list item: bizTransaction / source / destination as {"type": …, "bizTransaction": …}.</summary>
    private static void WriteItem(Utf8JsonWriter w, EpcisNode item, Prefixes prefixes)
    {
        if (item.Name is "bizTransaction" or "source" or "destination")
        {
            w.WriteStartObject();
            WriteProperties(w, item, prefixes);
            w.WriteString(item.Name, item.Value);
            w.WriteEndObject();
            return;
        }
        if (item.Name == "epc" && item.Children.Count == 0)
        {
            w.WriteStringValue(item.Value);
            return;
        }
        WriteValue(w, item, prefixes, forceRaw: false);
    }

    private static void WriteScalar(Utf8JsonWriter w, EpcisNode node)
    {
        var v = node.Value;
        if (NumericFields.Contains(node.Name) && IsJsonNumber(v)) w.WriteRawValue(v);
        else if (node.Name == "booleanValue" && v is "true" or "false") w.WriteBooleanValue(v == "true");
        else w.WriteStringValue(v);
    }

    private static bool IsJsonNumber(string s)
    {
        var i = 0;
        if (i < s.Length && s[i] == '-') i++;
        if (i >= s.Length) return false;
        if (s[i] == '0') i++;
        else if (s[i] is >= '1' and <= '9') while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
        else return false;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            var start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            if (i == start) return false;
        }
        if (i < s.Length && s[i] is 'e' or 'E')
        {
            i++;
            if (i < s.Length && s[i] is '+' or '-') i++;
            var start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            if (i == start) return false;
        }
        return i == s.Length;
    }
}
