using System.Xml;
using System.Xml.Linq;

namespace Traceability.Ledger.Epcis;

/// <summary>The XML binding: a document into the element tree (no DTD, bounded depth).</summary>
public static partial class EpcisParser
{
    public static EpcisDocument ParseXml(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        var doc = LoadXml(xml);
        var root = doc.Root ?? throw new EpcisFormatException("the XML document has no root element");
        var type = root.Name.LocalName;
        if (type is not ("EPCISDocument" or "EPCISQueryDocument"))
            throw new EpcisFormatException($"the root element must be EPCISDocument or EPCISQueryDocument (got {type})", field: type);

        var namespaces = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in root.Attributes())
            if (a.IsNamespaceDeclaration && a.Name.Namespace == XNamespace.Xmlns) namespaces[a.Name.LocalName] = a.Value;
        var context = new EpcisContext([], namespaces, null);

        var eventList = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "EventList")
            ?? throw new EpcisFormatException("the document has no EventList", field: "EventList");

        var ignore = new List<string>();
        foreach (var ig in root.Descendants().Where(e => e.Name.LocalName == "ignoreFields" && !e.Ancestors().Contains(eventList)))
            foreach (var f in ig.Elements()) ignore.Add(ClarkName(f.Name));

        var events = new List<EpcisEvent>();
        var index = 0;
        foreach (var el in FlattenExtensions(eventList.Elements()))
        {
            var path = $"EventList/{el.Name.LocalName}[{index}]";
            var evType = el.Name.LocalName;
            if (el.Name.Namespace != XNamespace.None || !EventTypes.Contains(evType))
                throw new EpcisFormatException($"{path}: unknown event type {el.Name} (line {LineOf(el)})", index, "type");
            var tree = new EpcisNode(evType, "");
            ReadXmlChildren(el, tree);
            if (ignore.Count > 0) tree.Children.RemoveAll(n => ignore.Contains(n.Name));
            ExpandXmlValuePrefixes(tree);
            Finish(evType, tree, index, path);
            events.Add(new EpcisEvent(evType, tree, EpcisSyntax.Xml, context) { IgnoredFields = ignore });
            index++;
        }

        return new EpcisDocument(type, EpcisSyntax.Xml, events, context)
        {
            SchemaVersion = (string?)root.Attribute("schemaVersion"),
            CreationDate = (string?)root.Attribute("creationDate"),
            QueryName = type == "EPCISQueryDocument" ? root.Descendants().FirstOrDefault(e => e.Name.LocalName == "queryName")?.Value.Trim() : null,
            SubscriptionId = type == "EPCISQueryDocument" ? root.Descendants().FirstOrDefault(e => e.Name.LocalName == "subscriptionID")?.Value.Trim() : null,
            IgnoredFields = ignore,
        };
    }

    private static readonly XmlReaderSettings XmlSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit, // no entities: a 50 KB document must not expand into megabytes
        XmlResolver = null,
        MaxCharactersFromEntities = 0,
    };

    /// <summary>
    /// The XML document, refused (400) when it declares a DTD or nests elements deeper than <see cref="MaxDepth"/>.
    /// The depth is checked by a first streaming pass, which stops at the first element too deep, so no tree (and no
    /// recursion over one) is ever built from such a document.
    /// </summary>
    private static XDocument LoadXml(string xml)
    {
        try
        {
            using (var scan = XmlReader.Create(new StringReader(xml), XmlSettings))
            {
                while (scan.Read())
                    if (scan.NodeType == XmlNodeType.Element && scan.Depth >= MaxDepth)
                        throw new EpcisFormatException(
                            $"invalid XML: elements nested deeper than {MaxDepth} levels (the limit), at line {((IXmlLineInfo)scan).LineNumber}");
            }
            using var reader = XmlReader.Create(new StringReader(xml), XmlSettings);
            return XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            var dtd = ex.Message.Contains("DTD", StringComparison.Ordinal);
            throw new EpcisFormatException(dtd ? $"invalid XML: a DTD (DOCTYPE) is not accepted: {ex.Message}" : $"invalid XML: {ex.Message}", inner: ex);
        }
    }

    private static int LineOf(XElement e) => e is IXmlLineInfo li && li.HasLineInfo() ? li.LineNumber : 0;

    private static string ClarkName(XName name) =>
        name.Namespace == XNamespace.None ? name.LocalName : string.Concat("{", name.NamespaceName, "}", name.LocalName);

    /// <summary>EPCIS 1.x &lt;extension&gt; / &lt;baseExtension&gt; wrappers are dropped, their content kept (as the reference does).</summary>
    private static IEnumerable<XElement> FlattenExtensions(IEnumerable<XElement> elements)
    {
        foreach (var e in elements)
        {
            if (IsWrapper(e))
            {
                foreach (var inner in FlattenExtensions(e.Elements())) yield return inner;
            }
            else
            {
                yield return e;
            }
        }
    }

    private static bool IsWrapper(XElement e) =>
        e.Name.Namespace == XNamespace.None && e.Name.LocalName is "extension" or "baseExtension" && !e.HasAttributes;

    private static void ReadXmlChildren(XElement el, EpcisNode node)
    {
        foreach (var a in el.Attributes())
        {
            if (a.IsNamespaceDeclaration) continue;
            var n = new EpcisNode(ClarkName(a.Name), a.Value);
            if (a.Name.Namespace != XNamespace.None) n.Prefix = el.GetPrefixOfNamespace(a.Name.Namespace);
            node.Add(n);
        }
        foreach (var child in FlattenExtensions(el.Elements()))
        {
            var n = new EpcisNode(ClarkName(child.Name), LeadingText(child).Trim());
            if (child.Name.Namespace != XNamespace.None) n.Prefix = child.GetPrefixOfNamespace(child.Name.Namespace);
            ReadXmlChildren(child, n);
            node.Add(n);
        }
    }

    /// <summary>The text before the first child element (ElementTree's .text).</summary>
    private static string LeadingText(XElement e)
    {
        if (!e.HasElements) return e.IsEmpty ? "" : e.Value;
        var sb = new System.Text.StringBuilder();
        foreach (var n in e.Nodes())
        {
            if (n is XElement)
            {
                if (!IsWrapper((XElement)n)) break;
                continue;
            }
            if (n is XText text) sb.Append(text.Value);
        }
        return sb.ToString();
    }

    /// <summary>The XML binding expands the gs1: and cbv: prefixes in values (e.g. type="gs1:Temperature").</summary>
    private static void ExpandXmlValuePrefixes(EpcisNode node)
    {
        var v = node.Value;
        if (v.StartsWith("gs1:", StringComparison.Ordinal)) v = v.Replace("gs1:", CbvVocabulary.Gs1Voc, StringComparison.Ordinal);
        if (v.StartsWith("cbv:", StringComparison.Ordinal)) v = v.Replace("cbv:", CbvVocabulary.Cbv, StringComparison.Ordinal);
        node.Value = v;
        foreach (var c in node.Children) ExpandXmlValuePrefixes(c);
    }
}
