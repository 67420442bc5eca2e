using System.Text.Json;

namespace Traceability.Ledger.Epcis;

/// <summary>The JSON-LD binding: a document or one stored event into the element tree, with its structural checks.</summary>
public static partial class EpcisParser
{
    public static EpcisDocument ParseJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var doc = ParseJsonDocument(json);
        return Strings(() => ReadJsonDocument(doc));
    }

    /// <summary>
    /// The document from its UTF-8 bytes, as received (no UTF-16 copy of a large body). The bytes are read only during
    /// the call: the events keep copies of what they need.
    /// </summary>
    public static EpcisDocument ParseJson(ReadOnlyMemory<byte> utf8Json)
    {
        using var doc = ParseJsonDocument(utf8Json);
        return Strings(() => ReadJsonDocument(doc));
    }

    /// <summary>
    /// JSON allows escapes of lone UTF-16 surrogates ("\ud800") that no string can hold: System.Text.Json refuses them
    /// (InvalidOperationException) only when the string is read, so reading the document is where they are refused.
    /// </summary>
    private static T Strings<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException ex) when (ex.InnerException is null || ex.InnerException is System.Text.DecoderFallbackException or ArgumentException)
        {
            throw SurrogateRefusal(ex);
        }
    }

    private static EpcisFormatException SurrogateRefusal(InvalidOperationException ex) =>
        new($"invalid JSON: a string or key is not valid Unicode (a lone surrogate escape such as \\ud800): {ex.Message}", inner: ex);

    private static EpcisDocument ReadJsonDocument(JsonDocument doc)
    {
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new EpcisFormatException("an EPCIS document is a JSON object", field: null);

        var type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : null;
        if (type is not ("EPCISDocument" or "EPCISQueryDocument"))
            throw new EpcisFormatException($"'type' must be \"EPCISDocument\" or \"EPCISQueryDocument\" (got {Describe(t, type)})", field: "type");

        var ctx = JsonContext.From(root);
        if (!root.TryGetProperty("epcisBody", out var body) || body.ValueKind != JsonValueKind.Object)
            throw new EpcisFormatException("'epcisBody' is missing or not an object", field: "epcisBody");

        JsonElement? queryResults = null;
        JsonElement events;
        var path = "epcisBody.eventList";
        if (body.TryGetProperty("eventList", out events)) { }
        else if (body.TryGetProperty("event", out var single))
        {
            path = "epcisBody.event";
            events = single;
        }
        else if (body.TryGetProperty("queryResults", out var qr) && qr.ValueKind == JsonValueKind.Object)
        {
            queryResults = qr;
            if (!qr.TryGetProperty("resultsBody", out var rb) || rb.ValueKind != JsonValueKind.Object || !rb.TryGetProperty("eventList", out events))
                throw new EpcisFormatException("'epcisBody.queryResults.resultsBody.eventList' is missing", field: "eventList");
            path = "epcisBody.queryResults.resultsBody.eventList";
        }
        else
        {
            throw new EpcisFormatException("'epcisBody' has no 'eventList'", field: "eventList");
        }

        // repository "ignoreFields" declarations (outside the events)
        var scopes = new List<JsonElement> { root, body };
        if (root.TryGetProperty("epcisHeader", out var header) && header.ValueKind == JsonValueKind.Object) scopes.Add(header);
        if (queryResults is { } q) scopes.Add(q);
        var ignore = FindIgnoreFields(scopes, ctx);

        var list = new List<EpcisEvent>();
        if (events.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var ev in events.EnumerateArray())
            {
                list.Add(ReadJsonEvent(ev, i, path, ctx, ignore, new JsonEventSource(ev.Clone())));
                i++;
            }
        }
        else if (events.ValueKind == JsonValueKind.Object && path == "epcisBody.event")
        {
            list.Add(ReadJsonEvent(events, 0, path, ctx, ignore, new JsonEventSource(events.Clone())));
        }
        else
        {
            throw new EpcisFormatException($"'{path}' must be an array", field: "eventList");
        }

        return new EpcisDocument(type, EpcisSyntax.JsonLd, list, ctx.Context)
        {
            Id = OptString(root, "id"),
            SchemaVersion = OptString(root, "schemaVersion"),
            CreationDate = OptString(root, "creationDate"),
            HeaderJson = header.ValueKind == JsonValueKind.Object ? header.GetRawText() : null,
            Sender = OptString(root, "sender"),
            Receiver = OptString(root, "receiver"),
            InstanceIdentifier = OptString(root, "instanceIdentifier"),
            SubscriptionId = queryResults is { } qs ? OptString(qs, "subscriptionID") : null,
            QueryName = queryResults is { } qn ? OptString(qn, "queryName") : null,
            IgnoredFields = ignore?.Names ?? [],
        };
    }

    /// <summary>One self-contained event object, carrying its own "@context" (the standard context when it has none).</summary>
    public static EpcisEvent ParseEventJson(string eventJson)
    {
        ArgumentNullException.ThrowIfNull(eventJson);
        using var doc = ParseJsonDocument(eventJson);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new EpcisFormatException("an EPCIS event is a JSON object", 0);
        return Strings(() =>
        {
            var ctx = JsonContext.From(root);
            var ignore = FindIgnoreFields([root], ctx);
            return ReadJsonEvent(root, 0, "event", ctx, ignore, new JsonEventSource(root.Clone()));
        });
    }

    private static JsonDocument ParseJsonDocument(string json)
    {
        try
        {
            return JsonDocument.Parse(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw JsonRefusal(ex);
        }
        catch (InvalidOperationException ex) // the duplicate-key check reads every key: a lone surrogate in one shows here
        {
            throw SurrogateRefusal(ex);
        }
    }

    private static JsonDocument ParseJsonDocument(ReadOnlyMemory<byte> utf8Json)
    {
        try
        {
            return JsonDocument.Parse(utf8Json, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw JsonRefusal(ex);
        }
        catch (InvalidOperationException ex) // the duplicate-key check reads every key: a lone surrogate in one shows here
        {
            throw SurrogateRefusal(ex);
        }
    }

    private static EpcisFormatException JsonRefusal(JsonException ex) =>
        new(ex.Message.Contains("depth", StringComparison.OrdinalIgnoreCase)
                ? $"invalid JSON: nested deeper than {MaxDepth} levels (the limit): {ex.Message}"
                : $"invalid JSON: {ex.Message}",
            inner: ex);

    private static string? OptString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string Describe(JsonElement e, string? s) =>
        s is not null ? $"\"{s}\"" : e.ValueKind == JsonValueKind.Undefined ? "nothing" : e.ValueKind.ToString().ToLowerInvariant();

    private sealed record IgnoreDeclaration(string Key, string ValueJson, IReadOnlyList<string> Names);

    private static IgnoreDeclaration? FindIgnoreFields(List<JsonElement> scopes, JsonContext ctx)
    {
        foreach (var scope in scopes)
        {
            foreach (var p in scope.EnumerateObject())
            {
                var local = p.Name.AsSpan(p.Name.IndexOf(':') + 1);
                if (!local.SequenceEqual("ignoreFields") || p.Value.ValueKind != JsonValueKind.Array) continue;
                var names = new List<string>();
                foreach (var f in p.Value.EnumerateArray())
                    if (f.ValueKind == JsonValueKind.String) names.Add(ctx.ExpandKey(f.GetString()!));
                return new IgnoreDeclaration(p.Name, p.Value.GetRawText(), names);
            }
        }
        return null;
    }

    /// <summary>The document's @context: prefixes for names (standard + declared) and for values (declared + gs1, cbv).</summary>
    private sealed class JsonContext
    {
        private static readonly JsonContext StandardOnly = new()
        {
            Context = new EpcisContext([CbvVocabulary.StandardContext], new Dictionary<string, string>(StringComparer.Ordinal), null),
        };

        private Dictionary<string, string>? declared;

        public required EpcisContext Context { get; init; }

        public static JsonContext From(JsonElement root)
        {
            if (!root.TryGetProperty("@context", out var c)) return StandardOnly;
            var urls = new List<string>(2);
            Dictionary<string, string>? declared = null;
            Collect(c, urls, ref declared);
            return new JsonContext
            {
                Context = new EpcisContext(urls, declared ?? (IReadOnlyDictionary<string, string>)EmptyPrefixes, c.GetRawText()),
                declared = declared,
            };
        }

        private static readonly Dictionary<string, string> EmptyPrefixes = new(StringComparer.Ordinal);

        private static void Collect(JsonElement c, List<string> urls, ref Dictionary<string, string>? declared)
        {
            switch (c.ValueKind)
            {
                case JsonValueKind.String:
                    urls.Add(c.GetString()!);
                    break;
                case JsonValueKind.Array:
                    foreach (var item in c.EnumerateArray()) Collect(item, urls, ref declared);
                    break;
                case JsonValueKind.Object:
                    foreach (var p in c.EnumerateObject())
                    {
                        if (p.Name.StartsWith('@')) continue;
                        string? ns = null;
                        if (p.Value.ValueKind == JsonValueKind.String) ns = p.Value.GetString()!;
                        else if (p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("@id", out var id) && id.ValueKind == JsonValueKind.String)
                            ns = id.GetString()!;
                        if (ns is not null) (declared ??= new Dictionary<string, string>(StringComparer.Ordinal))[p.Name] = ns;
                    }
                    break;
            }
        }

        private bool TryKeyPrefix(ReadOnlySpan<char> prefix, out string ns)
        {
            if (declared is not null && declared.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(prefix, out ns!)) return true;
            return StandardPrefixLookup.TryGetValue(prefix, out ns!);
        }

        private static readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> StandardPrefixLookup =
            new Dictionary<string, string>(CbvVocabulary.StandardPrefixes, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

        /// <summary>"prefix:local" → "{namespace}local" when the prefix is known; other names unchanged.</summary>
        public string ExpandKey(string key)
        {
            var i = key.IndexOf(':');
            if (i <= 0 || !TryKeyPrefix(key.AsSpan(0, i), out var ns)) return key;
            return string.Concat("{", ns, "}", key.AsSpan(i + 1));
        }

        /// <summary>A CURIE value "prefix:rest" → "namespace" + "rest" when the prefix is declared (or is gs1 / cbv).</summary>
        public string ExpandValue(string value)
        {
            var i = value.IndexOf(':');
            if (i <= 0 || i > 40) return value;
            var prefix = value.AsSpan(0, i);
            string? ns = null;
            if (declared is not null && declared.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(prefix, out var d)) ns = d;
            else if (prefix.SequenceEqual("gs1")) ns = CbvVocabulary.Gs1Voc;
            else if (prefix.SequenceEqual("cbv")) ns = CbvVocabulary.Cbv;
            return ns is null ? value : string.Concat(ns, value.AsSpan(i + 1));
        }
    }

    private static EpcisEvent ReadJsonEvent(JsonElement ev, int index, string listPath, JsonContext ctx, IgnoreDeclaration? ignore, JsonEventSource source)
    {
        var path = listPath.EndsWith("eventList", StringComparison.Ordinal) ? $"{listPath}[{index}]" : listPath;
        if (ev.ValueKind != JsonValueKind.Object) throw new EpcisFormatException($"{path}: an event is a JSON object", index);
        if (!ev.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String || !EventTypes.Contains(t.GetString()!))
            throw new EpcisFormatException($"{path}.type: must be one of {string.Join(", ", EventTypes)} (got {Describe(t, t.ValueKind == JsonValueKind.String ? t.GetString() : null)})", index, "type");
        var type = t.GetString()!;
        ValidateJsonEvent(ev, index, path);

        var tree = new EpcisNode(type, "");
        tree.SetChildren(new List<EpcisNode>(ev.GetPropertyCount()));
        ReadJsonProperties(ev, tree, ctx, eventLevel: true);
        if (ignore is not null) tree.Children.RemoveAll(n => ignore.Names.Contains(n.Name));
        CorrectJsonStructure(tree);
        Finish(type, tree, index, path);
        return new EpcisEvent(type, tree, EpcisSyntax.JsonLd, ctx.Context)
        {
            Source = source,
            IgnoreFieldsJson = ignore is null ? null : (ignore.Key, ignore.ValueJson),
            IgnoredFields = ignore?.Names ?? [],
        };
    }

    private static void ReadJsonProperties(JsonElement obj, EpcisNode parent, JsonContext ctx, bool eventLevel)
    {
        foreach (var p in obj.EnumerateObject())
        {
            var key = p.Name;
            if (key.Length == 0) continue;
            if (key[0] == '@') continue; // JSON-LD keywords (@context, @id, …) are not event fields
            if (key[0] == '#')
            {
                if (key == "#text" && p.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number) parent.Value = ScalarText(p.Value, ctx);
                else if (key == "#children" && p.Value.ValueKind == JsonValueKind.Array)
                {
                    parent.Raw = true;
                    foreach (var item in p.Value.EnumerateArray())
                        if (item.ValueKind == JsonValueKind.Object) ReadJsonProperties(item, parent, ctx, eventLevel: false);
                }
                continue;
            }
            if (eventLevel && key == "type") continue;
            if (key is "comment" or "rdfs:comment") continue;
            if (key.EndsWith("ignoreFields", StringComparison.Ordinal) && eventLevel && p.Value.ValueKind == JsonValueKind.Array && key.Contains(':')) continue;
            var name = ctx.ExpandKey(key);
            if (name == "{http://www.w3.org/2000/01/rdf-schema#}comment") continue;
            AddJsonValue(parent, name, key, p.Value, ctx);
        }
    }

    private static void AddJsonValue(EpcisNode parent, string name, string key, JsonElement value, JsonContext ctx)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Array when name.EndsWith("List", StringComparison.Ordinal) || name == "childEPCs":
                // grouped now (what CorrectJsonStructure would do), with the list sized once
                var n = value.GetArrayLength();
                if (n == 0) break;
                var list = new EpcisNode(name, "") { Prefix = PrefixOf(key), Grouped = true };
                list.SetChildren(new List<EpcisNode>(n));
                var itemName = name == "childEPCs" ? "epc" : name[..^4];
                foreach (var item in value.EnumerateArray())
                {
                    if (name == "childEPCs" && item.ValueKind is JsonValueKind.Object or JsonValueKind.Array) continue;
                    AddJsonValue(list, itemName, key, item, ctx);
                }
                parent.Add(list);
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray()) AddJsonValue(parent, name, key, item, ctx);
                break;
            case JsonValueKind.Object:
                var node = new EpcisNode(name, "") { Prefix = PrefixOf(key) };
                node.SetChildren(new List<EpcisNode>(value.GetPropertyCount()));
                ReadJsonProperties(value, node, ctx, eventLevel: false);
                parent.Add(node);
                break;
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                break;
            default:
                parent.Add(new EpcisNode(name, ScalarText(value, ctx)) { Prefix = PrefixOf(key) });
                break;
        }
    }

    private static string? PrefixOf(string key)
    {
        var i = key.IndexOf(':');
        return i > 0 ? key[..i] : null;
    }

    private static string ScalarText(JsonElement value, JsonContext ctx) => value.ValueKind switch
    {
        JsonValueKind.String => ctx.ExpandValue(value.GetString()!),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "",
    };

    /// <summary>
    /// The JSON binding to the XML shape (as the reference does it): "xList": [a, b] → xList with children x;
    /// childEPCs items → epc; readPoint "id" string; bizTransaction/source/destination identifier as the element
    /// value with its type as child; inputEPC/outputEPC → epc; quantity elements → quantityElement.
    /// </summary>
    private static void CorrectJsonStructure(EpcisNode node)
    {
        var children = node.Children;
        if (children.Count > 0)
        {
            List<EpcisNode>? result = null;
            Dictionary<string, EpcisNode>? lists = null;
            EpcisNode? childEpcs = null;
            for (var i = 0; i < children.Count; i++)
            {
                var c = children[i];
                var isList = !c.Raw && !c.Grouped && c.Name.EndsWith("List", StringComparison.Ordinal);
                if (!isList && (c.Name != "childEPCs" || c.Grouped))
                {
                    result?.Add(c);
                    continue;
                }
                result ??= children.GetRange(0, i);
                if (isList)
                {
                    lists ??= new Dictionary<string, EpcisNode>(StringComparer.Ordinal);
                    if (!lists.TryGetValue(c.Name, out var list))
                    {
                        list = new EpcisNode(c.Name, "") { Prefix = c.Prefix };
                        lists[c.Name] = list;
                    }
                    c.Name = c.Name[..^4];
                    list.Add(c);
                }
                else
                {
                    childEpcs ??= new EpcisNode("childEPCs", "");
                    childEpcs.Add(new EpcisNode("epc", c.Value));
                }
            }
            if (result is not null)
            {
                if (lists is not null) result.AddRange(lists.Values);
                if (childEpcs is not null) result.Add(childEpcs);
                node.SetChildren(result);
            }
            foreach (var c in node.Children) CorrectJsonStructure(c);
        }

        switch (node.Name)
        {
            case "readPoint" or "bizLocation" when node.Children.Count == 0 && node.Value.Length > 0:
                node.Add(new EpcisNode("id", node.Value));
                node.Value = "";
                break;
            case "bizTransaction" or "source" or "destination":
                var id = node.Child(node.Name);
                if (id is not null)
                {
                    node.Children.Remove(id);
                    node.Value = id.Value;
                }
                break;
            case "inputEPC" or "outputEPC":
                node.Name = "epc";
                break;
            case "inputQuantity" or "outputQuantity" or "childQuantity":
                node.Name = "quantityElement";
                break;
            case "quantity" when node.Children.Count > 0:
                node.Name = "quantityElement";
                break;
        }
    }

    private static void ValidateJsonEvent(JsonElement ev, int index, string path)
    {
        foreach (var p in ev.EnumerateObject())
        {
            var v = p.Value;
            var name = p.Name;
            switch (name)
            {
                case "eventTime" or "eventTimeZoneOffset" or "action" or "bizStep" or "disposition" or "parentID" or "transformationID" or "eventID" or "recordTime":
                    if (v.ValueKind != JsonValueKind.String) Fail($"{path}.{name}", "must be a string", index, name);
                    break;
                case "epcList" or "childEPCs" or "inputEPCList" or "outputEPCList":
                    if (v.ValueKind != JsonValueKind.Array) Fail($"{path}.{name}", "must be an array of EPC URIs", index, name);
                    var k = 0;
                    foreach (var item in v.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.String) Fail($"{path}.{name}[{k}]", "must be a string (an EPC URI)", index, name);
                        k++;
                    }
                    break;
                case "quantityList" or "childQuantityList" or "inputQuantityList" or "outputQuantityList":
                    ValidateObjectArray(v, path, name, index);
                    var qi = 0;
                    foreach (var item in v.EnumerateArray())
                    {
                        if (!item.TryGetProperty("epcClass", out var cls) || cls.ValueKind != JsonValueKind.String)
                            Fail($"{path}.{name}[{qi}].epcClass", "is required and must be a string", index, name);
                        if (item.TryGetProperty("quantity", out var qty) && qty.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
                            Fail($"{path}.{name}[{qi}].quantity", "must be a number", index, name);
                        if (item.TryGetProperty("uom", out var uom) && uom.ValueKind != JsonValueKind.String)
                            Fail($"{path}.{name}[{qi}].uom", "must be a string", index, name);
                        qi++;
                    }
                    break;
                case "readPoint" or "bizLocation":
                    if (v.ValueKind != JsonValueKind.Object || !v.TryGetProperty("id", out var rid) || rid.ValueKind != JsonValueKind.String)
                        Fail($"{path}.{name}.id", "must be an object with an 'id' string", index, name);
                    break;
                case "bizTransactionList" or "sourceList" or "destinationList":
                    ValidateObjectArray(v, path, name, index);
                    var idKey = name[..^4];
                    var bi = 0;
                    foreach (var item in v.EnumerateArray())
                    {
                        if (!item.TryGetProperty(idKey, out var idv) || idv.ValueKind != JsonValueKind.String)
                            Fail($"{path}.{name}[{bi}].{idKey}", "is required and must be a string", index, name);
                        if (item.TryGetProperty("type", out var tv) && tv.ValueKind != JsonValueKind.String)
                            Fail($"{path}.{name}[{bi}].type", "must be a string", index, name);
                        bi++;
                    }
                    break;
                case "sensorElementList":
                    ValidateObjectArray(v, path, name, index);
                    break;
                case "persistentDisposition" or "ilmd" or "errorDeclaration":
                    if (v.ValueKind != JsonValueKind.Object) Fail($"{path}.{name}", "must be an object", index, name);
                    break;
            }
        }
    }

    private static void ValidateObjectArray(JsonElement v, string path, string field, int index)
    {
        if (v.ValueKind != JsonValueKind.Array) Fail($"{path}.{field}", "must be an array", index, field);
        var k = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object) Fail($"{path}.{field}[{k}]", "must be an object", index, field);
            k++;
        }
    }

    private static void Fail(string path, string what, int index, string field) =>
        throw new EpcisFormatException($"{path}: {what}", index, field);
}
