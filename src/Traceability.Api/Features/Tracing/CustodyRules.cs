using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Tracing;

/// <summary>
/// The custody rules, as a pure function: <see cref="Decide"/> takes an event (its <see cref="EventKind"/> and
/// identifiers), the units it touches as they are and the master data it needs (<see cref="CustodyFacts"/>), and
/// returns the broken rules, or else what the event does (<see cref="CustodyOutcome"/>). No database, no chain: the
/// capture step loads the facts and writes the outcome.
/// <para>
/// Which rule applies to which event kind is <see cref="Table"/>. Every rule of a kind is checked on every EPC of its
/// scope, independently of the others; an event is refused when any of them finds a violation, and then every violation
/// found is reported (the order of a row does not matter). A rule is one function below, named after what it requires.
/// </para>
/// </summary>
public static class CustodyRules
{
    // The names of the rules; a refused capture's ProblemDetails lists them with the EPC at fault.
    public const string HolderOnly = "holder-only";
    public const string NotCommissioned = "not-commissioned";
    public const string AlreadyCommissioned = "already-commissioned";
    public const string ProductOwnerOnly = "product-owner-only";
    public const string RecalledUnit = "recalled-unit";
    public const string DestroyedUnit = "destroyed-unit";
    public const string OnHoldUnit = "on-hold-unit";
    public const string AlreadySold = "already-sold";
    public const string AlreadyPacked = "already-packed";
    public const string ContainerCycle = "container-cycle";
    public const string NotInContainer = "not-in-container";
    public const string OwnLocation = "own-location";
    public const string NotShipped = "not-shipped";
    public const string NotConsignee = "not-consignee";
    public const string RecallNotAllowed = "recall-not-allowed";
    public const string HoldNotAllowed = "hold-not-allowed";
    public const string InstallNotAllowed = "install-not-allowed";
    public const string NotInstallable = "not-installable";

    /// <summary>The EPCs a rule looks at, one by one.</summary>
    public enum Scope
    {
        /// <summary>The event as a whole (the EPC reported is its first target).</summary>
        Event,
        Targets,
        /// <summary>The targets and everything inside them.</summary>
        TargetsAndContents,
        Parent,
        Children,
        Inputs,
        Outputs,
        /// <summary>The lots of the quantity lists (reported as LGTIN Digital Links).</summary>
        Lots,
    }

    /// <summary>One EPC a rule looks at: the unit when it exists, and the field of the event that names it.</summary>
    public sealed class Subject(string epc, Unit? unit, string field)
    {
        private Gs1Key? _key;
        public string Epc { get; } = epc;
        public Unit? Unit { get; } = unit;
        public string Field { get; } = field;
        public Gs1Key Key => _key ??= Gs1Key.Parse(Epc);
    }

    /// <summary>What a rule sees besides its subject.</summary>
    public sealed record RuleContext(CustodyEvent Event, CustodyFacts Facts, string Verb)
    {
        public Caller Caller => Facts.Caller;

        public bool HeldByCaller(Unit unit) => unit.HolderMemberId == Caller.MemberId;

        /// <summary>Whether the caller may declare something about a unit (recall it, record its inspection): a regulator, the admin, its holder or its product's owner.</summary>
        public bool MayDeclare(Unit unit) => Caller.SeesEverything || HeldByCaller(unit) || Facts.OwnsProduct(unit.Gtin);
    }

    public delegate CustodyViolation? Check(RuleContext context, Subject subject);

    /// <summary>A rule on a scope: <see cref="Check"/> returns a violation of <see cref="Name"/>, or null.</summary>
    public sealed record Rule(string Name, Scope Scope, Check Check);

    /// <summary>A row of the table: the verb for messages, the rules, and what the event does when none is broken.</summary>
    public sealed record KindRules(string Verb, CustodyEffects.Effect Effect, params Rule[] Rules);

    /// <summary>Which rules apply to which kind of event.</summary>
    public static readonly IReadOnlyDictionary<EventKind, KindRules> Table = new Dictionary<EventKind, KindRules>
    {
        [EventKind.Observe] = new("observe", CustodyEffects.Observe),
        [EventKind.Commission] = new("commission", CustodyEffects.Commission,
            new(AlreadyCommissioned, Scope.Targets, CommissionedOnce),
            new(ProductOwnerOnly, Scope.Targets, CommissionedByProductOwner)),
        [EventKind.Pack] = new("pack", CustodyEffects.Pack,
            new(HolderOnly, Scope.Parent, ContainerHeldByCaller),
            new(ContainerCycle, Scope.Children, NotAroundItsContainer),
            new(NotCommissioned, Scope.Children, Commissioned),
            new(AlreadyPacked, Scope.Children, NotInAnotherContainer),
            new(HolderOnly, Scope.Children, HeldByCaller)),
        [EventKind.Unpack] = new("unpack", CustodyEffects.Unpack,
            new(HolderOnly, Scope.Parent, ContainerHeldByCaller),
            new(NotInContainer, Scope.Children, InsideTheParent)),
        [EventKind.Ship] = new("ship", CustodyEffects.Ship,
            new(NotCommissioned, Scope.Targets, Commissioned),
            new(HolderOnly, Scope.Targets, HeldByCaller),
            new(RecalledUnit, Scope.TargetsAndContents, NotRecalled),
            new(DestroyedUnit, Scope.TargetsAndContents, NotDestroyed),
            new(OnHoldUnit, Scope.TargetsAndContents, NotOnHold)),
        [EventKind.Receive] = new("receive", CustodyEffects.Receive,
            new(NotCommissioned, Scope.Targets, Commissioned),
            new(OwnLocation, Scope.Event, AtOwnLocation),
            new(NotShipped, Scope.Targets, ShippedOrHeld),
            new(NotConsignee, Scope.Targets, ShippedToCaller),
            new(RecalledUnit, Scope.Targets, RecalledOnlyFromAShipmentToCaller)),
        [EventKind.Sell] = new("sell", CustodyEffects.Sell,
            new(NotCommissioned, Scope.Targets, Commissioned),
            new(HolderOnly, Scope.Targets, HeldByCaller),
            new(AlreadySold, Scope.Targets, NotSold),
            new(RecalledUnit, Scope.Targets, NotRecalled),
            new(DestroyedUnit, Scope.Targets, NotDestroyed),
            new(OnHoldUnit, Scope.Targets, NotOnHold)),
        [EventKind.Destroy] = new("destroy", CustodyEffects.Destroy,
            new(NotCommissioned, Scope.Targets, Commissioned),
            new(HolderOnly, Scope.Targets, HeldByCaller)),
        [EventKind.Inspect] = new("inspect", CustodyEffects.Inspect,
            new(NotCommissioned, Scope.Targets, Commissioned),
            new(HolderOnly, Scope.Targets, DeclaredByHolderOwnerOrRegulator),
            new(HoldNotAllowed, Scope.Lots, LotHeldOrReleasedByOwnerHolderOrRegulator)),
        [EventKind.Recall] = new("recall", CustodyEffects.Recall,
            new(NotCommissioned, Scope.Targets, Commissioned),
            new(RecallNotAllowed, Scope.Targets, RecalledByHolderOwnerOrRegulator)),
        [EventKind.Transform] = new("transform", CustodyEffects.Transform,
            new(NotCommissioned, Scope.Inputs, Commissioned),
            new(HolderOnly, Scope.Inputs, HeldByCaller),
            new(AlreadyCommissioned, Scope.Outputs, CommissionedOnce),
            new(ProductOwnerOnly, Scope.Outputs, CommissionedByProductOwner)),
        [EventKind.Install] = new("install", CustodyEffects.Install,
            new(NotCommissioned, Scope.Targets, Commissioned),
            new(InstallNotAllowed, Scope.Targets, InstalledByHolderOrService),
            new(NotInstallable, Scope.Targets, SoldOrDelivered),
            new(RecalledUnit, Scope.Targets, NotRecalled),
            new(DestroyedUnit, Scope.Targets, NotDestroyed),
            new(OnHoldUnit, Scope.Targets, NotOnHold)),
    };

    /// <summary>The rules of the event's kind, then (when none is broken) its effect.</summary>
    public static CustodyOutcome Decide(CustodyEvent e, CustodyFacts facts)
    {
        var row = Table[e.Kind];
        var context = new RuleContext(e, facts, row.Verb);
        var subjects = new Dictionary<Scope, List<Subject>>();
        var violations = new List<CustodyViolation>();
        foreach (var rule in row.Rules)
        {
            if (!subjects.TryGetValue(rule.Scope, out var list)) subjects[rule.Scope] = list = Subjects(rule.Scope, e, facts);
            foreach (var subject in list)
                if (rule.Check(context, subject) is { } violation) violations.Add(violation);
        }
        var outcome = new CustodyOutcome(violations);
        if (violations.Count == 0) row.Effect(new CustodyEffects.Changes(e, facts, outcome));
        return outcome;
    }

    private static List<Subject> Subjects(Scope scope, CustodyEvent e, CustodyFacts f)
    {
        Subject Of(string epc, string field) => new(epc, f.Units.GetValueOrDefault(epc), field);
        return scope switch
        {
            Scope.Event => [new Subject(e.Targets.FirstOrDefault() ?? e.Parent ?? "", null, e.WhereField)],
            Scope.Targets => e.Targets.Select(t => Of(t, "epcList")).ToList(),
            Scope.TargetsAndContents => e.Targets.Concat(f.Contents).Distinct(StringComparer.Ordinal).Select(t => Of(t, "epcList")).ToList(),
            Scope.Parent => e.Parent is null ? [] : [Of(e.Parent, "parentID")],
            Scope.Children => e.Children.Select(c => Of(c, "childEPCs")).ToList(),
            Scope.Inputs => e.Inputs.Select(i => Of(i, "inputEPCList")).ToList(),
            Scope.Outputs => e.Outputs.Select(o => Of(o, "outputEPCList")).ToList(),
            Scope.Lots => e.Classes.DistinctBy(c => (c.Gtin, c.Lot)).Select(c => new Subject(c.Epc, null, "quantityList")).ToList(),
            _ => throw new ArgumentOutOfRangeException(nameof(scope)),
        };
    }

    private static CustodyViolation Violation(string rule, Subject s, string message) => new(rule, s.Epc, s.Field, message);

    // ---- the rules: each returns its violation for one subject, or null ------------------------------------------------

    /// <summary>A code of a product in the master data is commissioned once (codes of other products are tracked, not policed: the GS1 examples commission the same codes again).</summary>
    public static CustodyViolation? CommissionedOnce(RuleContext c, Subject s) =>
        s.Unit is not null && c.Facts.IsKnownProduct(s.Key.Gtin)
            ? Violation(AlreadyCommissioned, s, $"{s.Epc} was commissioned before; a code is commissioned once.") : null;

    /// <summary>Only the owner of a product (or the admin) commissions its units; a product without owner, anyone.</summary>
    public static CustodyViolation? CommissionedByProductOwner(RuleContext c, Subject s) =>
        s.Unit is null && s.Key.Gtin is { } gtin && c.Facts.ProductOwners.TryGetValue(gtin, out var owner) && owner.Length > 0
        && owner != c.Caller.MemberId && c.Caller.Role != MemberRole.Admin
            ? Violation(ProductOwnerOnly, s, $"Only the owner of GTIN {gtin} commissions its units.") : null;

    /// <summary>A unit not commissioned cannot move: an SGTIN of a product in the master data that was never commissioned.</summary>
    public static CustodyViolation? Commissioned(RuleContext c, Subject s) =>
        s.Unit is null && s.Key.IsSgtin && c.Facts.IsKnownProduct(s.Key.Gtin)
            ? Violation(NotCommissioned, s, $"{s.Epc} was never commissioned; a unit not commissioned cannot move.") : null;

    /// <summary>Only a unit's holder moves it.</summary>
    public static CustodyViolation? HeldByCaller(RuleContext c, Subject s) =>
        s.Unit is { } u && !c.HeldByCaller(u)
            ? Violation(HolderOnly, s, $"{s.Epc} is held by another member; only its holder may {c.Verb} it.") : null;

    /// <summary>Only a container's holder packs into it or unpacks it (a container nobody holds yet, anyone).</summary>
    public static CustodyViolation? ContainerHeldByCaller(RuleContext c, Subject s) =>
        s.Unit is { HolderMemberId: not null } u && !c.HeldByCaller(u)
            ? Violation(HolderOnly, s, $"{s.Epc} is held by another member; only its holder may {c.Verb} it.") : null;

    public static CustodyViolation? NotAroundItsContainer(RuleContext c, Subject s) =>
        s.Epc == c.Event.Parent || c.Facts.ParentAncestors.Contains(s.Epc)
            ? Violation(ContainerCycle, s, $"Packing {s.Epc} into {c.Event.Parent} would put a container inside itself.") : null;

    public static CustodyViolation? NotInAnotherContainer(RuleContext c, Subject s) =>
        s.Unit is { ParentEpc: { } parent } && parent != c.Event.Parent
            ? Violation(AlreadyPacked, s, $"{s.Epc} is already inside {parent}; unpack it first.") : null;

    public static CustodyViolation? InsideTheParent(RuleContext c, Subject s) =>
        s.Unit is { } u && u.ParentEpc != c.Event.Parent ? Violation(NotInContainer, s, $"{s.Epc} is not inside {c.Event.Parent}.") : null;

    public static CustodyViolation? NotRecalled(RuleContext c, Subject s) =>
        s.Unit is { Status: UnitStatus.Recalled } ? Violation(RecalledUnit, s, $"{s.Epc} is recalled; it cannot {c.Verb}.") : null;

    public static CustodyViolation? NotDestroyed(RuleContext c, Subject s) =>
        s.Unit is { Status: UnitStatus.Destroyed } ? Violation(DestroyedUnit, s, $"{s.Epc} is destroyed; it cannot {c.Verb}.") : null;

    public static CustodyViolation? NotOnHold(RuleContext c, Subject s) =>
        s.Unit is { Status: UnitStatus.OnHold } ? Violation(OnHoldUnit, s, $"{s.Epc} is on quality hold; it cannot {c.Verb}.") : null;

    public static CustodyViolation? NotSold(RuleContext c, Subject s) =>
        s.Unit is { Status: UnitStatus.Sold } ? Violation(AlreadySold, s, $"{s.Epc} was sold before.") : null;

    /// <summary>A receiving event names one of the receiver's locations (checked when it names a tracked unit).</summary>
    public static CustodyViolation? AtOwnLocation(RuleContext c, Subject s)
    {
        var f = c.Facts;
        if (!c.Event.Targets.Concat(f.Contents).Any(f.Units.ContainsKey)) return null;
        if (f.Location is { } l && l.MemberId == c.Caller.MemberId) return null;
        return Violation(OwnLocation, s, c.Event.Where is null ? "A receiving event names the receiver's location (bizLocation)."
            : $"{c.Event.Where} is not one of the receiving member's locations.");
    }

    /// <summary>A unit at another member (not in transit) must be shipped before anyone else receives it; on hold, by the status it resumes.</summary>
    public static CustodyViolation? ShippedOrHeld(RuleContext c, Subject s) =>
        s.Unit is { } u && !c.HeldByCaller(u)
        && u.EffectiveStatus is UnitStatus.Commissioned or UnitStatus.Packed or UnitStatus.AtHolder or UnitStatus.Sold or UnitStatus.Destroyed
            ? Violation(NotShipped, s, $"{s.Epc} is {u.EffectiveStatus} at another member; it must be shipped before it is received.") : null;

    /// <summary>A unit shipped to a member is received by that member (or taken back by its holder); a shipment naming no one, by anyone.</summary>
    public static CustodyViolation? ShippedToCaller(RuleContext c, Subject s) =>
        s.Unit is { } u && !c.HeldByCaller(u) && OutstandingShipment(u) is { } consignee && consignee != c.Caller.MemberId
            ? Violation(NotConsignee, s, $"{s.Epc} was shipped to another member; only the consignee receives it.") : null;

    /// <summary>A recalled unit is received only by the member it was on its way to when it was recalled.</summary>
    public static CustodyViolation? RecalledOnlyFromAShipmentToCaller(RuleContext c, Subject s) =>
        s.Unit is { Status: UnitStatus.Recalled } u && !c.HeldByCaller(u) && OutstandingShipment(u) != c.Caller.MemberId
            ? Violation(RecalledUnit, s, $"{s.Epc} is recalled and was not shipped to the receiving member; it cannot be received.") : null;

    /// <summary>The member a unit is on its way to: shipped to someone who does not hold it yet.</summary>
    private static string? OutstandingShipment(Unit u) => u.ShippedToMemberId is { } to && to != u.HolderMemberId ? to : null;

    /// <summary>An inspection is recorded by the holder, the product's owner or a regulator; of an installed unit, by a service member too.</summary>
    public static CustodyViolation? DeclaredByHolderOwnerOrRegulator(RuleContext c, Subject s) =>
        s.Unit is { } u && !c.MayDeclare(u) && !(c.Caller.Role == MemberRole.Service && u.Status == UnitStatus.Installed)
            ? Violation(HolderOnly, s, $"Only the holder, the product's owner, a regulator (or, once installed, a service member) records an inspection of {s.Epc}.") : null;

    /// <summary>A unit is installed by its holder or by a service member (installers work on units they do not hold).</summary>
    public static CustodyViolation? InstalledByHolderOrService(RuleContext c, Subject s) =>
        s.Unit is { } u && !c.HeldByCaller(u) && c.Caller.Role is not (MemberRole.Service or MemberRole.Admin)
            ? Violation(InstallNotAllowed, s, $"Only the holder of {s.Epc} or a service member may install it.") : null;

    /// <summary>Only a unit sold or delivered (at a holder after its journey) is installed, or one installed before (moved to another site).</summary>
    public static CustodyViolation? SoldOrDelivered(RuleContext c, Subject s) =>
        s.Unit is { } u && u.EffectiveStatus is not (UnitStatus.Sold or UnitStatus.AtHolder or UnitStatus.Installed)
            ? Violation(NotInstallable, s, $"{s.Epc} is {u.EffectiveStatus}; only a unit sold or delivered can be installed.") : null;

    public static CustodyViolation? RecalledByHolderOwnerOrRegulator(RuleContext c, Subject s) =>
        s.Unit is { } u && !c.MayDeclare(u)
            ? new(RecallNotAllowed, s.Epc, "disposition", $"Only a regulator, the product's owner or the holder may record {s.Epc} as recalled.") : null;

    /// <summary>
    /// A lot named by class (an LGTIN in the quantity list) is put on hold or released only by the product's owner, a
    /// member holding units of the lot, or a regulator (or the admin), whatever the product's hold rule names a hold or
    /// a release. Lots of products outside the master data, and lots whose rule the disposition does not concern, are not policed.
    /// </summary>
    public static CustodyViolation? LotHeldOrReleasedByOwnerHolderOrRegulator(RuleContext c, Subject s)
    {
        var (gtin, lot) = (s.Key.Gtin!, s.Key.Lot!);
        var f = c.Facts;
        if (!f.IsKnownProduct(gtin) || f.HoldRuleOf(gtin).Verdict(c.Event.Disposition) == HoldVerdict.None) return null;
        if (c.Caller.SeesEverything || f.OwnsProduct(gtin) || f.LotsHeldByCaller.Contains((gtin, lot))) return null;
        return Violation(HoldNotAllowed, s, $"Only the owner of GTIN {gtin}, a member holding units of lot {lot} or a regulator may hold or release the lot.");
    }
}
