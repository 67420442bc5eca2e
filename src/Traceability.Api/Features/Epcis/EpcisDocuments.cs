using System.Text;
using System.Text.Json.Nodes;
using System.Xml;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Epcis;

/// <summary>How EPCs are written in answers (the GS1-EPC-Format header).</summary>
public enum EpcFormat { DigitalLink, AsCaptured }

/// <summary>The EPCISQueryDocument of a page of events, in JSON-LD or in the XML binding.</summary>
public static class EpcisDocuments
{
    public const string QueryName = "SimpleEventQuery";

    private static readonly string[] EpcListFields = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];
    private static readonly string[] QuantityListFields = ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"];

    /// <summary>
    /// GS1-EPC-Format: absent or Always_GS1_Digital_Link gives every EPC, class and location of a GS1 key as its
    /// canonical Digital Link; No_Preference, Never_Translates and Always_EPC_URN give them as captured (a Digital Link
    /// cannot be turned into an EPC URN without the length of its company prefix, which the ledger does not hold).
    /// The CBV 2.0 hash is the same either way: it is computed on the canonical Digital Links.
    /// </summary>
    public static EpcFormat FormatOf(string? header) => header switch
    {
        null or "" or "Always_GS1_Digital_Link" => EpcFormat.DigitalLink,
        "No_Preference" or "Never_Translates" or "Always_EPC_URN" => EpcFormat.AsCaptured,
        _ => throw new EpcisException(400, "ValidationException", "Invalid GS1-EPC-Format",
            $"GS1-EPC-Format: '{header}' is not No_Preference, Always_GS1_Digital_Link, Always_EPC_URN or Never_Translates."),
    };

    public static string HeaderValue(EpcFormat format) => format == EpcFormat.DigitalLink ? "Always_GS1_Digital_Link" : "Never_Translates";

    /// <summary>The event's GS1 identifiers as canonical Digital Links (in place).</summary>
    public static void ToDigitalLinks(JsonObject e)
    {
        static JsonNode? Dl(JsonNode? v) =>
            v is JsonValue value && value.TryGetValue<string>(out var s) && Gs1Identifiers.TryToCanonicalDigitalLink(s, out var dl) ? JsonValue.Create(dl) : v?.DeepClone();

        foreach (var field in EpcListFields)
        {
            if (e[field] is not JsonArray list) continue;
            for (var i = 0; i < list.Count; i++) if (list[i] is JsonValue) list[i] = Dl(list[i]);
        }
        if (e["parentID"] is JsonValue) e["parentID"] = Dl(e["parentID"]);
        foreach (var field in QuantityListFields)
            if (e[field] is JsonArray list)
                foreach (var q in list.OfType<JsonObject>())
                    if (q["epcClass"] is JsonValue) q["epcClass"] = Dl(q["epcClass"]);
        foreach (var field in new[] { "readPoint", "bizLocation" })
            if (e[field] is JsonObject place && place["id"] is JsonValue) place["id"] = Dl(place["id"]);
    }

    /// <summary>
    /// The JSON-LD query document. Each stored event carries the @context of the document it was captured in; the
    /// answer declares them once at the top (a reader applies the document's @context to its events), and an event keeps
    /// its own @context only when it binds a prefix another event binds differently.
    /// </summary>
    public static JsonObject Json(IReadOnlyList<QueriedEvent> events, DateTimeOffset now, string queryName = QueryName)
    {
        var urls = new List<string> { CbvVocabulary.StandardContext };
        var prefixes = new JsonObject();
        var list = new JsonArray();
        foreach (var q in events)
        {
            var e = (JsonObject)q.Event.DeepClone();
            var context = e["@context"];
            e.Remove("@context");
            var own = false;
            foreach (var item in context is JsonArray a ? a.ToList() : [context])
            {
                if (item is JsonValue v && v.TryGetValue<string>(out var url))
                {
                    if (!urls.Contains(url)) urls.Add(url);
                }
                else if (item is JsonObject map)
                {
                    foreach (var (prefix, ns) in map)
                    {
                        if (prefixes[prefix] is null) prefixes[prefix] = ns?.DeepClone();
                        else if (!JsonNode.DeepEquals(prefixes[prefix], ns)) own = true;
                    }
                }
            }
            if (own && context is not null)
            {
                var withContext = new JsonObject { ["@context"] = context.DeepClone() };
                foreach (var (k, v) in e.ToList()) { e.Remove(k); withContext[k] = v; }
                e = withContext;
            }
            list.Add(e);
        }
        var documentContext = new JsonArray();
        foreach (var url in urls) documentContext.Add(url);
        if (prefixes.Count > 0) documentContext.Add(prefixes);
        return new JsonObject
        {
            ["@context"] = documentContext,
            ["type"] = "EPCISQueryDocument",
            ["schemaVersion"] = "2.0",
            ["creationDate"] = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["epcisBody"] = new JsonObject
            {
                ["queryResults"] = new JsonObject
                {
                    ["queryName"] = queryName,
                    ["resultsBody"] = new JsonObject { ["eventList"] = list },
                },
            },
        };
    }

    /// <summary>The query document in the EPCIS 2.0 XML binding (epcisq:EPCISQueryDocument).</summary>
    public static string Xml(IReadOnlyList<QueriedEvent> events, DateTimeOffset now, string queryName = QueryName)
    {
        var sb = new StringBuilder();
        using (var w = XmlWriter.Create(sb, new XmlWriterSettings { Indent = false, OmitXmlDeclaration = false, Encoding = Encoding.UTF8 }))
        {
            w.WriteStartDocument();
            w.WriteStartElement("epcisq", "EPCISQueryDocument", EpcisXml.QueryNamespace);
            w.WriteAttributeString("xmlns", "epcis", null, EpcisXml.EpcisNamespace);
            w.WriteAttributeString("schemaVersion", "2.0");
            w.WriteAttributeString("creationDate", now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteStartElement("EPCISBody", "");
            w.WriteStartElement("epcisq", "QueryResults", EpcisXml.QueryNamespace);
            w.WriteElementString("queryName", "", queryName);
            w.WriteStartElement("resultsBody", "");
            w.WriteStartElement("EventList", "");
            foreach (var q in events) EpcisXml.WriteEvent(w, EpcisParser.ParseEventJson(q.Event.ToJsonString()));
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndDocument();
        }
        return sb.ToString().Replace("encoding=\"utf-16\"", "encoding=\"utf-8\"", StringComparison.Ordinal);
    }
}
