using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Tracing;

/// <summary>What an event does to custody; the custody rule table is keyed by it.</summary>
public enum EventKind
{
    /// <summary>Touches the units it names (their last event) and changes nothing else: storing, observing, unknown steps.</summary>
    Observe,
    Commission,
    Pack,
    Unpack,
    Ship,
    Receive,
    Sell,
    Destroy,
    /// <summary>An inspection with a verdict on lots: a disposition the product's hold rule names holds or releases the lot (<see cref="HoldRule"/>).</summary>
    Inspect,
    Recall,
    Transform,
    /// <summary>Installed at a site (bizStep installing): a unit sold or delivered, by its holder or a service member.</summary>
    Install,
}

/// <summary>
/// The event as the custody rules see it: its kind and the canonical identifiers by role. <see cref="Of"/> builds it
/// from a captured event.
/// </summary>
public sealed record CustodyEvent(
    EventKind Kind,
    long Sequence,
    string? Lot,
    IReadOnlyList<string> Targets,
    string? Parent,
    IReadOnlyList<string> Children,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<ClassQuantity> Classes,
    IReadOnlyList<ClassQuantity> InputClasses,
    IReadOnlyList<ClassQuantity> OutputClasses,
    string? Where,
    string WhereField,
    string? Disposition)
{
    /// <summary>Every lot the quantity lists name.</summary>
    public IEnumerable<ClassQuantity> AllClasses => Classes.Concat(InputClasses).Concat(OutputClasses);

    /// <summary>The kind of an event under the default hold rule (<see cref="HoldRule.Default"/>).</summary>
    public static EventKind KindOf(string type, string? action, string? bizStep, string? disposition, bool hasParent) =>
        KindOf(type, action, bizStep, disposition, hasParent, HoldRule.Default.Verdict(disposition) != HoldVerdict.None);

    /// <summary>
    /// The kind of an event. Evaluated top to bottom because one event can look like two (a shipping event with the
    /// disposition recalled is a recall): the disposition recalled first, then inspections with a verdict on lots
    /// (<paramref name="holdVerdict"/>: the disposition holds or releases under the hold rule of a product the event
    /// names), then the event types with their own meaning, then the business steps.
    /// </summary>
    public static EventKind KindOf(string type, string? action, string? bizStep, string? disposition, bool hasParent, bool holdVerdict) => (type, action) switch
    {
        _ when disposition == "recalled" => EventKind.Recall,
        _ when bizStep == HoldRule.Step && holdVerdict => EventKind.Inspect,
        ("TransformationEvent", _) => EventKind.Transform,
        ("AggregationEvent", "ADD") when hasParent => EventKind.Pack,
        ("AggregationEvent", "DELETE") when hasParent => EventKind.Unpack,
        ("ObjectEvent", "ADD") when bizStep is null or "commissioning" => EventKind.Commission,
        _ when bizStep == "installing" => EventKind.Install,
        _ when bizStep == "shipping" || disposition == "in_transit" => EventKind.Ship,
        _ when bizStep is "receiving" or "arriving" => EventKind.Receive,
        _ when bizStep == "retail_selling" || disposition == "retail_sold" => EventKind.Sell,
        _ when bizStep == "destroying" || disposition == "destroyed" => EventKind.Destroy,
        _ => EventKind.Observe,
    };

    /// <summary>
    /// The custody view of a captured event, from its canonical identifiers (one pass over them). An inspection is judged
    /// by the hold rules of the products it names (<paramref name="holdRules"/>, by GTIN, in force at its time; a product
    /// not there has the default rule).
    /// </summary>
    public static CustodyEvent Of(EpcisEvent e, long sequence, IReadOnlyList<(string Epc, string Role)> identifiers,
        IReadOnlyDictionary<string, HoldRule>? holdRules = null)
    {
        var bizStep = CbvVocabulary.ShortName(e.BizStep, "BizStep-");
        var disposition = CbvVocabulary.ShortName(e.Disposition, "Disp-");
        List<string> epcs = [], children = [], inputs = [], outputs = [];
        string? parent = null;
        foreach (var (epc, role) in identifiers)
        {
            switch (role)
            {
                case EpcRoles.Epc: epcs.Add(epc); break;
                case EpcRoles.Child: children.Add(epc); break;
                case EpcRoles.Parent: parent ??= epc; break;
                case EpcRoles.Input: inputs.Add(epc); break;
                case EpcRoles.Output: outputs.Add(epc); break;
            }
        }
        // Targets of an object-level step: the EPCs of an ObjectEvent or TransactionEvent (and the parent of a
        // TransactionEvent), the parent and children of an AggregationEvent OBSERVE.
        IEnumerable<string> targets = epcs;
        if (e.Type == "AggregationEvent" && e.Action == "OBSERVE") targets = targets.Concat(parent is null ? children : children.Prepend(parent));
        if (e.Type == "TransactionEvent" && parent is not null) targets = targets.Append(parent);
        var where = e.BizLocationDigitalLink ?? e.ReadPointDigitalLink;
        var holdVerdict = bizStep == HoldRule.Step && disposition is not null
            && HoldRule.AnyJudges(holdRules, identifiers.Select(i => Gs1Key.GtinOf(i.Epc)).ToList(), disposition);
        return new CustodyEvent(
            KindOf(e.Type, e.Action, bizStep, disposition, parent is not null, holdVerdict), sequence, e.LotNumber,
            targets.Distinct(StringComparer.Ordinal).ToList(), parent, children, inputs, outputs,
            ClassesOf(e.QuantityList.Concat(e.ChildQuantityList)), ClassesOf(e.InputQuantityList), ClassesOf(e.OutputQuantityList),
            where, e.BizLocation is not null ? "bizLocation.id" : "readPoint.id", disposition);
    }

    private static List<ClassQuantity> ClassesOf(IEnumerable<QuantityElement> list)
    {
        var result = new List<ClassQuantity>();
        foreach (var q in list)
            if (Gs1Key.Parse(q.EpcClassDigitalLink) is { IsLgtin: true } key)
                result.Add(new ClassQuantity(key.Gtin!, key.Lot!, q.QuantityValue is { } n ? (long)Math.Ceiling(n) : null));
        return result;
    }
}

/// <summary>A quantity of a lot (an LGTIN in a quantity list); <see cref="Quantity"/> is null when the event gives none.</summary>
public sealed record ClassQuantity(string Gtin, string Lot, long? Quantity)
{
    public string Epc => $"https://id.gs1.org/01/{Gtin}/10/{Lot}";
}

/// <summary>A location from the master data: its owner and region.</summary>
public sealed record LocationFact(string Id, string? MemberId, string RegionCode);

/// <summary>
/// What the custody rules know besides the event: the caller, the units the event touches as they are now (those named,
/// everything inside the containers named, the ancestors of a parent), and the master data they need. Loaded by
/// <see cref="UnitStore"/>; built by hand in the rule table tests.
/// </summary>
public sealed record CustodyFacts
{
    // Shared empty defaults: facts are built for every event of every capture.
    private static readonly Dictionary<string, Unit> NoUnits = new(StringComparer.Ordinal);
    private static readonly HashSet<string> NoEpcs = new(StringComparer.Ordinal);
    private static readonly Dictionary<string, string> NoProducts = new(StringComparer.Ordinal);
    private static readonly Dictionary<(string, string), long> NoHolds = [];
    private static readonly HashSet<(string, string)> NoLots = [];
    private static readonly Dictionary<string, HoldRule> NoHoldRules = new(StringComparer.Ordinal);

    public required Caller Caller { get; init; }

    /// <summary>Every unit of the event that exists, by EPC, as before the event (the rules never change these objects).</summary>
    public IReadOnlyDictionary<string, Unit> Units { get; init; } = NoUnits;

    /// <summary>Everything inside the targets (or, for pack and unpack, inside the children), at any depth.</summary>
    public IReadOnlyList<string> Contents { get; init; } = [];

    /// <summary>The containers the parent of a pack is inside, at any depth.</summary>
    public IReadOnlySet<string> ParentAncestors { get; init; } = NoEpcs;

    /// <summary>What the parent of an unpack naming no children holds.</summary>
    public IReadOnlyList<string> ParentChildren { get; init; } = [];

    /// <summary>Products of the master data by GTIN, with their owner ("" for a product without owner). A GTIN not here is unknown.</summary>
    public IReadOnlyDictionary<string, string> ProductOwners { get; init; } = NoProducts;

    /// <summary>The location the event happened at (bizLocation, else readPoint), when it is in the master data.</summary>
    public LocationFact? Location { get; init; }

    /// <summary>The member a shipment goes to: its owning party, else its possessing party, else its destination location's.</summary>
    public string? Destination { get; init; }

    /// <summary>The open quality holds of the lots the event touches (the hold event's sequence).</summary>
    public IReadOnlyDictionary<(string Gtin, string Lot), long> OpenHolds { get; init; } = NoHolds;

    /// <summary>The lots of the event's quantity lists of which the caller holds units.</summary>
    public IReadOnlySet<(string Gtin, string Lot)> LotsHeldByCaller { get; init; } = NoLots;

    /// <summary>An inspection's: the hold rules in force at its time of the products of its lots, by GTIN (a product not here has the default rule).</summary>
    public IReadOnlyDictionary<string, HoldRule> HoldRules { get; init; } = NoHoldRules;

    public HoldRule HoldRuleOf(string? gtin) => HoldRule.Of(HoldRules, gtin);

    public bool IsKnownProduct(string? gtin) => gtin is not null && ProductOwners.ContainsKey(gtin);

    public bool OwnsProduct(string? gtin) =>
        gtin is not null && ProductOwners.TryGetValue(gtin, out var owner) && owner.Length > 0 && owner == Caller.MemberId;
}

/// <summary>A broken custody rule: its name, the EPC at fault, the field that names it, and a message.</summary>
public sealed record CustodyViolation(string Rule, string Epc, string Field, string Message);

/// <summary>A lot's quality hold opened (with the EPC that showed the fault) or released.</summary>
public sealed record HoldChange(string Gtin, string Lot, string Epc, string Disposition, long? ReleasesHold);

/// <summary>
/// What an event does, when it breaks no rule: the units as they are after it (every unit it touched, changed or not),
/// the containment windows it opens and closes, lineage, and lot holds.
/// </summary>
public sealed record CustodyOutcome(IReadOnlyList<CustodyViolation> Violations)
{
    public List<Unit> Units { get; } = [];
    public List<(string Child, string Parent)> Packed { get; } = [];
    public List<(string Child, string Parent)> Unpacked { get; } = [];
    public List<(string Output, string Input)> Lineage { get; } = [];
    public List<((string Gtin, string Lot) Output, (string Gtin, string Lot) Input)> LotLineage { get; } = [];
    public List<HoldChange> Holds { get; } = [];

    public bool Refused => Violations.Count > 0;
}
