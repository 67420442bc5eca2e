using System.Globalization;

namespace Traceability.Ledger.Epcis;

/// <summary>A document that is not EPCIS 2.0 as this library reads it. The message names the field and its path.</summary>
public sealed class EpcisFormatException : Exception
{
    public EpcisFormatException(string message, int? eventIndex = null, string? field = null, Exception? inner = null)
        : base(message, inner)
    {
        EventIndex = eventIndex;
        Field = field;
    }

    /// <summary>Zero-based index of the event in the document's event list, when the problem is in an event.</summary>
    public int? EventIndex { get; }

    /// <summary>The field (JSON key / XML element name) at fault, when known.</summary>
    public string? Field { get; }
}

public enum EpcisSyntax
{
    JsonLd,
    Xml,
}

/// <summary>An EPCISDocument or EPCISQueryDocument.</summary>
public sealed class EpcisDocument
{
    internal EpcisDocument(string type, EpcisSyntax syntax, IReadOnlyList<EpcisEvent> events, EpcisContext context)
    {
        Type = type;
        Syntax = syntax;
        Events = events;
        Context = context;
    }

    /// <summary>"EPCISDocument" or "EPCISQueryDocument".</summary>
    public string Type { get; }

    public EpcisSyntax Syntax { get; }

    public IReadOnlyList<EpcisEvent> Events { get; }

    public EpcisContext Context { get; }

    public string? Id { get; init; }

    public string? SchemaVersion { get; init; }

    /// <summary>creationDate as written.</summary>
    public string? CreationDate { get; init; }

    public DateTimeOffset? CreationDateValue =>
        CreationDate is not null && EventHash.TryParseTimestamp(CreationDate, out var utc) ? new DateTimeOffset(utc) : null;

    public string? Sender { get; init; }

    public string? Receiver { get; init; }

    public string? InstanceIdentifier { get; init; }

    /// <summary>The header (epcisHeader / EPCISHeader) as JSON text, when the document has one.</summary>
    public string? HeaderJson { get; init; }

    /// <summary>EPCISQueryDocument: the subscription ID and query name of the results.</summary>
    public string? SubscriptionId { get; init; }

    public string? QueryName { get; init; }

    /// <summary>Fields the document declares as not part of its events' identity (repository "ignoreFields"), Clark notation.</summary>
    public IReadOnlyList<string> IgnoredFields { get; init; } = [];
}

/// <summary>The JSON-LD @context of a document (or the XML namespaces in scope): context URLs and prefixes.</summary>
public sealed class EpcisContext
{
    public static readonly EpcisContext Standard = new([CbvVocabulary.StandardContext], new Dictionary<string, string>(StringComparer.Ordinal), null);

    internal EpcisContext(IReadOnlyList<string> urls, IReadOnlyDictionary<string, string> prefixes, string? json)
    {
        Urls = urls;
        Prefixes = prefixes;
        Json = json;
    }

    /// <summary>The context URLs (the standard EPCIS context, usually).</summary>
    public IReadOnlyList<string> Urls { get; }

    /// <summary>The prefixes the document itself declares (prefix → namespace), in order of declaration.</summary>
    public IReadOnlyDictionary<string, string> Prefixes { get; }

    /// <summary>The @context value exactly as the JSON document wrote it (null for XML).</summary>
    internal string? Json { get; }

    /// <summary>The @context as WriteEvent writes it (UTF-8, compact), made once per document rather than once per event.</summary>
    internal byte[]? WrittenJson { get; set; }
}

public sealed record QuantityElement(string EpcClass, string? Quantity, string? Uom)
{
    /// <summary>The class as a canonical GS1 Digital Link, or as given when it is not a GS1 identifier.</summary>
    public string EpcClassDigitalLink => EpcisEvent.Canonical(EpcClass);

    public decimal? QuantityValue =>
        decimal.TryParse(Quantity, NumberStyles.Float, CultureInfo.InvariantCulture, out var q) ? q : null;
}

/// <summary>A value with an optional type: a bizTransaction, source or destination (type as full CBV URI).</summary>
public sealed record TypedValue(string Value, string? Type);

public sealed record PersistentDisposition(IReadOnlyList<string> Set, IReadOnlyList<string> Unset);

public sealed record ErrorDeclaration(string? DeclarationTime, string? Reason, IReadOnlyList<string> CorrectiveEventIds, IReadOnlyList<EpcisExtension> Extensions);

/// <summary>One field of a sensorMetadata or sensorReport, or of a user extension: name (Clark notation when namespaced), value, children.</summary>
public sealed record EpcisExtension(string Name, string Value, IReadOnlyList<EpcisExtension> Children)
{
    public string Namespace => EpcisNode.SplitName(Name).Namespace;

    public string LocalName => EpcisNode.SplitName(Name).LocalName;

    internal static EpcisExtension From(EpcisNode node)
    {
        if (node.Children.Count == 0) return new EpcisExtension(node.Name, node.Value, []);
        var list = new EpcisExtension[node.Children.Count];
        for (var i = 0; i < list.Length; i++) list[i] = From(node.Children[i]);
        return new EpcisExtension(node.Name, node.Value, list);
    }
}

/// <summary>sensorMetadata / sensorReport: the standard attributes by name, user extensions apart.</summary>
public sealed record SensorFields(IReadOnlyDictionary<string, string> Fields, IReadOnlyList<EpcisExtension> Extensions)
{
    public string? this[string name] => Fields.TryGetValue(name, out var v) ? v : null;
}

public sealed record SensorElement(SensorFields? Metadata, IReadOnlyList<SensorFields> Reports, IReadOnlyList<EpcisExtension> Extensions);

/// <summary>
/// One EPCIS 2.0 event. Typed accessors give the standard fields already normalised (vocabulary as full URIs,
/// EPCs as given and as canonical Digital Links); every field, including user extensions, is kept in the
/// element tree that the event hash is computed from.
/// </summary>
public sealed class EpcisEvent
{
    internal EpcisEvent(string type, EpcisNode tree, EpcisSyntax syntax, EpcisContext context)
    {
        Type = type;
        Tree = tree;
        Syntax = syntax;
        Context = context;
    }

    // The typed view is built on first use: hashing needs only the tree.
    private Fields? fields;

    private Fields F => fields ??= new Fields(Tree);

    private sealed class Fields
    {
        public Fields(EpcisNode tree)
        {
            var top = tree.Children;
            EventTimeText = tree.ChildValue("eventTime")?.Trim() ?? "";
            EventTime = EventHash.TryParseTimestamp(EventTimeText, out var utc) ? new DateTimeOffset(utc) : default;
            EventTimeZoneOffset = tree.ChildValue("eventTimeZoneOffset")?.Trim() ?? "";
            RecordTime = tree.ChildValue("recordTime")?.Trim();
            EventId = tree.ChildValue("eventID")?.Trim();
            Action = tree.ChildValue("action")?.Trim();
            var bizStep = tree.ChildValue("bizStep");
            BizStep = bizStep is null ? null : CbvVocabulary.ExpandBizStep(bizStep);
            var disposition = tree.ChildValue("disposition");
            Disposition = disposition is null ? null : CbvVocabulary.ExpandDisposition(disposition);
            ParentId = tree.ChildValue("parentID")?.Trim();
            TransformationId = tree.ChildValue("transformationID")?.Trim();
            ReadPoint = tree.Child("readPoint")?.ChildValue("id")?.Trim();
            BizLocation = tree.Child("bizLocation")?.ChildValue("id")?.Trim();
            EpcList = Values(tree.Child("epcList"), "epc");
            ChildEpcs = Values(tree.Child("childEPCs"), "epc");
            InputEpcList = Values(tree.Child("inputEPCList"), "epc");
            OutputEpcList = Values(tree.Child("outputEPCList"), "epc");
            QuantityList = Quantities(tree.Child("quantityList"));
            ChildQuantityList = Quantities(tree.Child("childQuantityList"));
            InputQuantityList = Quantities(tree.Child("inputQuantityList"));
            OutputQuantityList = Quantities(tree.Child("outputQuantityList"));
            BizTransactions = Typed(tree.Child("bizTransactionList"), "bizTransaction", CbvVocabulary.ExpandBizTransactionType);
            Sources = Typed(tree.Child("sourceList"), "source", CbvVocabulary.ExpandSourceDestinationType);
            Destinations = Typed(tree.Child("destinationList"), "destination", CbvVocabulary.ExpandSourceDestinationType);

            var certs = new List<string>();
            var extensions = new List<EpcisExtension>();
            foreach (var n in top)
            {
                if (n.Name == "certificationInfo") certs.Add(n.Value.Trim());
                else if (n.IsExtension) extensions.Add(EpcisExtension.From(n));
            }
            CertificationInfo = certs;
            Extensions = extensions;

            var ilmd = new Dictionary<string, string?>(StringComparer.Ordinal);
            var ilmdNode = tree.Child("ilmd");
            if (ilmdNode is not null)
            {
                foreach (var n in ilmdNode.Children) ilmd.TryAdd(n.Name, n.Children.Count == 0 ? n.Value.Trim() : null);
                IlmdElements = ilmdNode.Children.ConvertAll(EpcisExtension.From);
            }
            Ilmd = ilmd;
            LotNumber = ilmd.TryGetValue("{urn:epcglobal:cbv:mda:}lotNumber", out var lot) ? lot
                : ilmd.TryGetValue("{urn:epcglobal:cbv:mda}lotNumber", out lot) ? lot : null;

            var pd = tree.Child("persistentDisposition");
            if (pd is not null)
            {
                PersistentDisposition = new PersistentDisposition(
                    pd.Children.Where(c => c.Name == "set").Select(c => CbvVocabulary.ExpandDisposition(c.Value)).ToArray(),
                    pd.Children.Where(c => c.Name == "unset").Select(c => CbvVocabulary.ExpandDisposition(c.Value)).ToArray());
            }

            var ed = tree.Child("errorDeclaration");
            if (ed is not null)
            {
                var ids = new List<string>();
                var edExt = new List<EpcisExtension>();
                foreach (var c in ed.Children)
                {
                    if (c.Name == "correctiveEventIDs")
                    {
                        // JSON: one element per ID; XML: correctiveEventID children
                        if (c.Children.Count == 0) ids.Add(c.Value.Trim());
                        else ids.AddRange(c.Children.Select(x => x.Value.Trim()));
                    }
                    else if (c.Name == "correctiveEventID") ids.Add(c.Value.Trim());
                    else if (c.Name is not ("declarationTime" or "reason")) edExt.Add(EpcisExtension.From(c));
                }
                var reason = ed.ChildValue("reason");
                ErrorDeclaration = new ErrorDeclaration(ed.ChildValue("declarationTime")?.Trim(), reason is null ? null : CbvVocabulary.ExpandErrorReason(reason), ids, edExt);
            }

            var sensors = new List<SensorElement>();
            var sel = tree.Child("sensorElementList");
            if (sel is not null)
            {
                foreach (var se in sel.Children)
                {
                    if (se.Name != "sensorElement") continue;
                    SensorFields? meta = null;
                    var reports = new List<SensorFields>();
                    var seExt = new List<EpcisExtension>();
                    foreach (var c in se.Children)
                    {
                        if (c.Name == "sensorMetadata") meta = Sensor(c);
                        else if (c.Name == "sensorReport") reports.Add(Sensor(c));
                        else seExt.Add(EpcisExtension.From(c));
                    }
                    sensors.Add(new SensorElement(meta, reports, seExt));
                }
            }
            SensorElements = sensors;
        }

        public string EventTimeText = "";
        public DateTimeOffset EventTime;
        public string EventTimeZoneOffset = "";
        public string? RecordTime, EventId, Action, BizStep, Disposition, ParentId, TransformationId, ReadPoint, BizLocation, LotNumber;
        public string[] EpcList = [], ChildEpcs = [], InputEpcList = [], OutputEpcList = [];
        public QuantityElement[] QuantityList = [], ChildQuantityList = [], InputQuantityList = [], OutputQuantityList = [];
        public TypedValue[] BizTransactions = [], Sources = [], Destinations = [];
        public IReadOnlyList<string> CertificationInfo = [];
        public IReadOnlyList<EpcisExtension> Extensions = [];
        public IReadOnlyDictionary<string, string?> Ilmd = new Dictionary<string, string?>();
        public IReadOnlyList<EpcisExtension> IlmdElements = [];
        public ErrorDeclaration? ErrorDeclaration;
        public PersistentDisposition? PersistentDisposition;
        public IReadOnlyList<SensorElement> SensorElements = [];
    }

    internal EpcisNode Tree { get; }

    internal string? CachedPreHash { get; set; }

    internal string? CachedHash { get; set; }

    /// <summary>Where the event's JSON text comes from (null for XML input).</summary>
    internal JsonEventSource? Source { get; init; }


    /// <summary>The document's repository "ignoreFields" declaration as JSON (key, value) when it had one.</summary>
    internal (string Key, string ValueJson)? IgnoreFieldsJson { get; init; }

    internal IReadOnlyList<string> IgnoredFields { get; init; } = [];

    public EpcisSyntax Syntax { get; }

    /// <summary>The @context (or namespaces) of the document the event came from.</summary>
    public EpcisContext Context { get; }

    /// <summary>"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent" or "AssociationEvent".</summary>
    public string Type { get; }

    public DateTimeOffset EventTime => F.EventTime;

    /// <summary>eventTime as written.</summary>
    public string EventTimeText => F.EventTimeText;

    public string EventTimeZoneOffset => F.EventTimeZoneOffset;

    public string? RecordTime => F.RecordTime;

    public string? EventId => F.EventId;

    public string? Action => F.Action;

    /// <summary>The full CBV URI, e.g. https://ref.gs1.org/cbv/BizStep-shipping (non-CBV values as given).</summary>
    public string? BizStep => F.BizStep;

    /// <summary>The full CBV URI, e.g. https://ref.gs1.org/cbv/Disp-in_transit (non-CBV values as given).</summary>
    public string? Disposition => F.Disposition;

    public IReadOnlyList<string> EpcList => F.EpcList;

    public string? ParentId => F.ParentId;

    public IReadOnlyList<string> ChildEpcs => F.ChildEpcs;

    public IReadOnlyList<string> InputEpcList => F.InputEpcList;

    public IReadOnlyList<string> OutputEpcList => F.OutputEpcList;

    public IReadOnlyList<QuantityElement> QuantityList => F.QuantityList;

    public IReadOnlyList<QuantityElement> ChildQuantityList => F.ChildQuantityList;

    public IReadOnlyList<QuantityElement> InputQuantityList => F.InputQuantityList;

    public IReadOnlyList<QuantityElement> OutputQuantityList => F.OutputQuantityList;

    public string? TransformationId => F.TransformationId;

    public IReadOnlyList<string> CertificationInfo => F.CertificationInfo;

    public string? ReadPoint => F.ReadPoint;

    public string? BizLocation => F.BizLocation;

    public IReadOnlyList<TypedValue> BizTransactions => F.BizTransactions;

    public IReadOnlyList<TypedValue> Sources => F.Sources;

    public IReadOnlyList<TypedValue> Destinations => F.Destinations;

    /// <summary>ILMD leaf values by element name in Clark notation ("{urn:epcglobal:cbv:mda:}lotNumber"); null for nested elements.</summary>
    public IReadOnlyDictionary<string, string?> Ilmd => F.Ilmd;

    /// <summary>Every ILMD element, nested ones included.</summary>
    public IReadOnlyList<EpcisExtension> IlmdElements => F.IlmdElements;

    /// <summary>cbvmda:lotNumber from the ILMD.</summary>
    public string? LotNumber => F.LotNumber;

    public ErrorDeclaration? ErrorDeclaration => F.ErrorDeclaration;

    public PersistentDisposition? PersistentDisposition => F.PersistentDisposition;

    public IReadOnlyList<SensorElement> SensorElements => F.SensorElements;

    /// <summary>User extensions at event level, nested ones included as children.</summary>
    public IReadOnlyList<EpcisExtension> Extensions => F.Extensions;

    // ---- canonical Digital Link views ------------------------------------------------------------------------

    public IReadOnlyList<string> EpcListDigitalLink => EpcList.Select(Canonical).ToArray();

    public IReadOnlyList<string> ChildEpcsDigitalLink => ChildEpcs.Select(Canonical).ToArray();

    public IReadOnlyList<string> InputEpcListDigitalLink => InputEpcList.Select(Canonical).ToArray();

    public IReadOnlyList<string> OutputEpcListDigitalLink => OutputEpcList.Select(Canonical).ToArray();

    public string? ParentIdDigitalLink => ParentId is null ? null : Canonical(ParentId);

    // Kept once made: the capture steps ask for the place of every event several times (custody, parties).
    private string? _readPointDigitalLink, _bizLocationDigitalLink;

    public string? ReadPointDigitalLink => ReadPoint is null ? null : _readPointDigitalLink ??= Canonical(ReadPoint);

    public string? BizLocationDigitalLink => BizLocation is null ? null : _bizLocationDigitalLink ??= Canonical(BizLocation);

    /// <summary>Every EPC the event names (epcList, parentID, childEPCs, input/output lists) as canonical Digital Links.</summary>
    public IEnumerable<string> AllEpcsDigitalLink()
    {
        foreach (var e in EpcList) yield return Canonical(e);
        if (ParentId is not null) yield return Canonical(ParentId);
        foreach (var e in ChildEpcs) yield return Canonical(e);
        foreach (var e in InputEpcList) yield return Canonical(e);
        foreach (var e in OutputEpcList) yield return Canonical(e);
    }

    internal static string Canonical(string value) => Gs1Identifiers.TryToCanonicalDigitalLink(value.Trim(), out var dl) ? dl : value.Trim();

    private static string[] Values(EpcisNode? list, string itemName)
    {
        if (list is null) return [];
        var result = new List<string>(list.Children.Count);
        foreach (var c in list.Children) if (c.Name == itemName) result.Add(c.Value.Trim());
        return [.. result];
    }

    private static QuantityElement[] Quantities(EpcisNode? list)
    {
        if (list is null) return [];
        var result = new List<QuantityElement>(list.Children.Count);
        foreach (var q in list.Children)
        {
            if (q.Name != "quantityElement") continue;
            result.Add(new QuantityElement(q.ChildValue("epcClass")?.Trim() ?? "", q.ChildValue("quantity")?.Trim(), q.ChildValue("uom")?.Trim()));
        }
        return [.. result];
    }

    private static TypedValue[] Typed(EpcisNode? list, string itemName, Func<string, string> expandType)
    {
        if (list is null) return [];
        var result = new List<TypedValue>(list.Children.Count);
        foreach (var c in list.Children)
        {
            if (c.Name != itemName) continue;
            var type = c.ChildValue("type");
            result.Add(new TypedValue(c.Value.Trim(), type is null ? null : expandType(type)));
        }
        return [.. result];
    }

    private static SensorFields Sensor(EpcisNode node)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var ext = new List<EpcisExtension>();
        foreach (var c in node.Children)
        {
            if (c.IsExtension || c.Children.Count > 0) ext.Add(EpcisExtension.From(c));
            else fields.TryAdd(c.Name, c.Value.Trim());
        }
        return new SensorFields(fields, ext);
    }
}

/// <summary>
/// An event object as its JSON document gave it, for WriteEvent: a standalone copy of the parsed element
/// (<see cref="System.Text.Json.JsonElement.Clone"/> copies the event's bytes and token table, it does not parse again),
/// so the stored JSON is written without parsing the event a second time.
/// </summary>
internal sealed class JsonEventSource(System.Text.Json.JsonElement element)
{
    public System.Text.Json.JsonElement Element { get; } = element;
}
