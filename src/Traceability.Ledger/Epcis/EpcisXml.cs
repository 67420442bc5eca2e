using System.Xml;

namespace Traceability.Ledger.Epcis;

/// <summary>
/// Writes events in the EPCIS 2.0 XML binding, from the binding-neutral tree both readers build (so that
/// <c>EpcisParser.ParseXml</c> reads back the same tree, hence the same CBV 2.0 hash): standard fields in the order of
/// the XML schema, CBV values as Web URIs (the GS1-CBV-XML-Format "Always_Web_URI" form), the type of a bizTransaction,
/// source or destination and the fields of sensorMetadata / sensorReport as attributes, user extensions as elements of
/// their namespaces (with the prefix the capture document used where it can).
/// </summary>
public static class EpcisXml
{
    public const string EpcisNamespace = "urn:epcglobal:epcis:xsd:2";
    public const string QueryNamespace = "urn:epcglobal:epcis-query:xsd:2";

    private static readonly string[] CommonOrder = ["eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration", "certificationInfo"];

    private static readonly Dictionary<string, string[]> TypeOrder = new(StringComparer.Ordinal)
    {
        ["ObjectEvent"] = ["epcList", "action", "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList",
            "quantityList", "sourceList", "destinationList", "sensorElementList", "ilmd"],
        ["AggregationEvent"] = ["parentID", "childEPCs", "action", "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation",
            "bizTransactionList", "childQuantityList", "sourceList", "destinationList", "sensorElementList"],
        ["TransactionEvent"] = ["bizTransactionList", "parentID", "epcList", "action", "bizStep", "disposition", "persistentDisposition", "readPoint",
            "bizLocation", "quantityList", "sourceList", "destinationList", "sensorElementList"],
        ["TransformationEvent"] = ["inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID", "bizStep",
            "disposition", "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList",
            "sensorElementList", "ilmd"],
        ["AssociationEvent"] = ["parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition", "persistentDisposition", "readPoint",
            "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList"],
    };

    /// <summary>The event as its XML element (ObjectEvent, AggregationEvent, ...), in the no-namespace of the binding.</summary>
    public static void WriteEvent(XmlWriter w, EpcisEvent e)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(e);
        var order = CommonOrder.Concat(TypeOrder.TryGetValue(e.Type, out var o) ? o : []).Select((n, i) => (n, i))
            .ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
        w.WriteStartElement(e.Type, "");
        var children = e.Tree.Children.Select((c, i) => (c, i))
            .OrderBy(x => order.TryGetValue(x.c.Name, out var rank) ? rank : order.Count + (x.c.IsExtension ? 1 : 0))
            .ThenBy(x => x.i).Select(x => x.c);
        foreach (var c in children) WriteNode(w, c, attributes: AttributeChildren(c.Name));
        w.WriteEndElement();
    }

    /// <summary>Which leaf children the XML binding writes as attributes of an element.</summary>
    private static Func<EpcisNode, bool>? AttributeChildren(string name) => name switch
    {
        "bizTransaction" or "source" or "destination" => c => c.Name == "type" && c.Children.Count == 0,
        "sensorMetadata" or "sensorReport" => c => !c.IsExtension && c.Children.Count == 0,
        _ => null,
    };

    private static void WriteNode(XmlWriter w, EpcisNode node, Func<EpcisNode, bool>? attributes)
    {
        StartElement(w, node);
        var rest = node.Children;
        if (attributes is not null)
        {
            foreach (var c in node.Children.Where(attributes)) w.WriteAttributeString(c.Name, c.Value);
            rest = node.Children.Where(c => !attributes(c)).ToList();
        }
        if (node.Value.Length > 0) w.WriteString(node.Value);
        foreach (var c in rest) WriteNode(w, c, AttributeChildren(c.Name));
        w.WriteEndElement();
    }

    private static void StartElement(XmlWriter w, EpcisNode node)
    {
        if (!node.IsExtension)
        {
            w.WriteStartElement(node.Name, "");
            return;
        }
        var (ns, local) = EpcisNode.SplitName(node.Name);
        var prefix = node.Prefix is { Length: > 0 } p && IsNcName(p) ? p : null;
        // a prefix already bound to another namespace here would rename the element: let the writer choose one
        if (prefix is not null && w.LookupPrefix(ns) is null && LookupNamespace(w, prefix) is { } bound && bound != ns) prefix = null;
        prefix ??= w.LookupPrefix(ns) ?? "ext" + (uint)ns.GetHashCode(StringComparison.Ordinal) % 10000;
        w.WriteStartElement(prefix, local, ns);
    }

    private static string? LookupNamespace(XmlWriter w, string prefix)
    {
        // XmlWriter has no prefix-to-namespace lookup; the prefixes the writer itself declared are the only risk
        foreach (var known in new[] { EpcisNamespace, QueryNamespace })
            if (w.LookupPrefix(known) == prefix) return known;
        return null;
    }

    private static bool IsNcName(string s)
    {
        try
        {
            XmlConvert.VerifyNCName(s);
            return !s.StartsWith("xml", StringComparison.OrdinalIgnoreCase);
        }
        catch (XmlException) { return false; }
    }
}
