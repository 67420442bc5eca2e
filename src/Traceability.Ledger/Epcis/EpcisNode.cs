namespace Traceability.Ledger.Epcis;

/// <summary>
/// One element of an event in the binding-neutral shape both JSON-LD and XML are reduced to before hashing
/// (the shape of the XML binding): a name, a text value and child elements. XML attributes are children too.
/// Standard EPCIS names are bare ("epcList", "epc", "quantityElement"); everything namespaced is written
/// "{namespace}localName" (Clark notation), whatever prefix the document used.
/// </summary>
internal sealed class EpcisNode
{
    private static readonly List<EpcisNode> NoChildren = [];

    public EpcisNode(string name, string value, List<EpcisNode>? children = null)
    {
        Name = name;
        Value = value;
        Children = children ?? NoChildren;
    }

    public string Name { get; set; }

    public string Value { get; set; }

    public List<EpcisNode> Children { get; private set; }

    /// <summary>The prefix the source document used for this name, kept so that writers can reuse it.</summary>
    public string? Prefix { get; set; }

    /// <summary>
    /// Set on nodes read from a JSON object carrying "#children": their children were given one by one and
    /// must not be regrouped by the "...List" convention of the JSON binding.
    /// </summary>
    public bool Raw { get; set; }

    /// <summary>Scratch for the event hash: the stamp of the pre-hash build that used this node up.</summary>
    internal long Mark;

    /// <summary>A "…List" node the JSON reader grouped already (its items carry the item name).</summary>
    public bool Grouped { get; set; }

    public bool IsExtension => Name.Length > 0 && Name[0] == '{';

    public void Add(EpcisNode child)
    {
        if (ReferenceEquals(Children, NoChildren)) Children = [];
        Children.Add(child);
    }

    public void SetChildren(List<EpcisNode> children) => Children = children;

    public EpcisNode? Child(string name)
    {
        foreach (var c in Children) if (c.Name == name) return c;
        return null;
    }

    public string? ChildValue(string name) => Child(name)?.Value;

    public static (string Namespace, string LocalName) SplitName(string name)
    {
        if (name.Length > 0 && name[0] == '{')
        {
            var end = name.IndexOf('}');
            if (end > 0) return (name[1..end], name[(end + 1)..]);
        }
        return ("", name);
    }

    public EpcisNode DeepClone()
    {
        var copy = new EpcisNode(Name, Value) { Prefix = Prefix, Raw = Raw };
        if (Children.Count > 0)
        {
            var list = new List<EpcisNode>(Children.Count);
            foreach (var c in Children) list.Add(c.DeepClone());
            copy.Children = list;
        }
        return copy;
    }

    public override string ToString() => Children.Count == 0 ? $"{Name}={Value}" : $"{Name}={Value}[{string.Join(", ", Children)}]";
}
