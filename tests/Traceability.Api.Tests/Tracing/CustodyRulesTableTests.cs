using Traceability.Api.Domain;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;

namespace Traceability.Api.Tests.Tracing;

/// <summary>
/// The custody rules as a table: one row per rule and outcome, each an event, the facts it meets, and the violation
/// expected (or none). No database, no chain: <see cref="CustodyRules.Decide"/> is a pure function.
/// </summary>
public sealed class CustodyRulesTableTests
{
    private const string Gtin = "09506000134352";
    private const string OtherGtin = "09506000134369";
    private const string UnknownGtin = "09506000199998";
    private const string Lot = "L1";

    private static readonly Caller Maker = new("maker", MemberRole.Manufacturer, "Maker", null, []);
    private static readonly Caller OtherMaker = new("other-maker", MemberRole.Manufacturer, "Other maker", null, []);
    private static readonly Caller Dealer = new("dealer", MemberRole.Dealer, "Dealer", null, []);
    private static readonly Caller OtherDealer = new("other-dealer", MemberRole.Dealer, "Other dealer", null, []);
    private static readonly Caller Regulator = new("regulator", MemberRole.Regulator, "Regulator", null, []);
    private static readonly Caller Admin = new(Caller.AdminId, MemberRole.Admin, "Admin", null, []);
    private static readonly Caller Installer = new("installer", MemberRole.Service, "Installer", null, []);

    private static readonly LocationFact Plant = new("https://id.gs1.org/414/6901234000012", "maker", "320506");
    private static readonly LocationFact Store = new("https://id.gs1.org/414/6901234000104", "dealer", "310115");

    private static string U(string serial, string gtin = Gtin) => $"https://id.gs1.org/01/{gtin}/21/{serial}";
    private static readonly string Case1 = "https://id.gs1.org/00/069012340000000017";
    private static readonly string Pallet = "https://id.gs1.org/00/069012340000000024";

    private static Unit Unit(string epc, string status, string? holder, string? shippedTo = null, string? parent = null, string? before = null) => new()
    {
        Epc = epc, Gtin = epc.Contains("/01/") ? epc.Substring(22, 14) : null, Lot = epc.Contains("/01/") ? Lot : null, Status = status,
        StatusBeforeHold = before, HolderMemberId = holder, ShippedToMemberId = shippedTo, ParentEpc = parent, CommissionedSequence = epc.Contains("/01/") ? 1 : null,
    };

    private static CustodyEvent Event(EventKind kind, string[]? targets = null, string? parent = null, string[]? children = null, string[]? inputs = null,
        string[]? outputs = null, ClassQuantity[]? classes = null, LocationFact? where = null, string? disposition = null) =>
        new(kind, 100, Lot, targets ?? [], parent, children ?? [], inputs ?? [], outputs ?? [], classes ?? [], [], [], where?.Id, "bizLocation.id", disposition);

    private static CustodyFacts Facts(Caller caller, Unit[]? units = null, LocationFact? at = null, string[]? contents = null, string[]? ancestors = null,
        string? destination = null, (string, string)[]? lotsHeld = null, (string, string, long)[]? holds = null) => new()
    {
        Caller = caller,
        Units = (units ?? []).ToDictionary(u => u.Epc, StringComparer.Ordinal),
        Contents = contents ?? [],
        ParentAncestors = new HashSet<string>(ancestors ?? [], StringComparer.Ordinal),
        ProductOwners = new Dictionary<string, string>(StringComparer.Ordinal) { [Gtin] = "maker", [OtherGtin] = "other-maker" },
        Location = at,
        Destination = destination,
        LotsHeldByCaller = new HashSet<(string, string)>(lotsHeld ?? []),
        OpenHolds = (holds ?? []).ToDictionary(h => (h.Item1, h.Item2), h => h.Item3),
    };

    /// <summary>A row: the event, the facts, and the rule broken on the EPC (null: the event is accepted).</summary>
    public sealed record Row(CustodyEvent Event, CustodyFacts Facts, string? Rule, string? Epc = null);

    private static readonly Dictionary<string, Row> Rows = new()
    {
        // commissioning
        ["commission: a new code by the product's owner"] = new(Event(EventKind.Commission, [U("1")], where: Plant), Facts(Maker, at: Plant), null),
        ["commission: a new code by the admin"] = new(Event(EventKind.Commission, [U("1")]), Facts(Admin), null),
        ["commission: by another manufacturer"] = new(Event(EventKind.Commission, [U("1")]), Facts(OtherMaker), CustodyRules.ProductOwnerOnly, U("1")),
        ["commission: a code twice"] = new(Event(EventKind.Commission, [U("1")]), Facts(Maker, [Unit(U("1"), UnitStatus.Commissioned, "maker")]),
            CustodyRules.AlreadyCommissioned, U("1")),
        ["commission: a code of a product outside the master data, twice"] = new(Event(EventKind.Commission, [U("1", UnknownGtin)]),
            Facts(Maker, [Unit(U("1", UnknownGtin), UnitStatus.Commissioned, "maker")]), null),

        // packing
        ["pack: units of the caller into a new case"] = new(Event(EventKind.Pack, parent: Case1, children: [U("1")]),
            Facts(Maker, [Unit(U("1"), UnitStatus.Commissioned, "maker")]), null),
        ["pack: into a container another member holds"] = new(Event(EventKind.Pack, parent: Case1, children: [U("1")]),
            Facts(Maker, [Unit(U("1"), UnitStatus.Commissioned, "maker"), Unit(Case1, UnitStatus.AtHolder, "dealer")]), CustodyRules.HolderOnly, Case1),
        ["pack: a unit another member holds"] = new(Event(EventKind.Pack, parent: Case1, children: [U("1")]),
            Facts(Maker, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]), CustodyRules.HolderOnly, U("1")),
        ["pack: a container into itself"] = new(Event(EventKind.Pack, parent: Case1, children: [Case1]),
            Facts(Maker, [Unit(Case1, UnitStatus.Commissioned, "maker")]), CustodyRules.ContainerCycle, Case1),
        ["pack: a container into what it contains"] = new(Event(EventKind.Pack, parent: Case1, children: [Pallet]),
            Facts(Maker, [Unit(Case1, UnitStatus.Packed, "maker", parent: Pallet), Unit(Pallet, UnitStatus.Commissioned, "maker")], ancestors: [Pallet]),
            CustodyRules.ContainerCycle, Pallet),
        ["pack: a unit already in another container"] = new(Event(EventKind.Pack, parent: Case1, children: [U("1")]),
            Facts(Maker, [Unit(U("1"), UnitStatus.Packed, "maker", parent: Pallet)]), CustodyRules.AlreadyPacked, U("1")),
        ["pack: a unit never commissioned"] = new(Event(EventKind.Pack, parent: Case1, children: [U("1")]), Facts(Maker), CustodyRules.NotCommissioned, U("1")),

        // unpacking
        ["unpack: by the container's holder"] = new(Event(EventKind.Unpack, parent: Case1, children: [U("1")]),
            Facts(Dealer, [Unit(Case1, UnitStatus.AtHolder, "dealer"), Unit(U("1"), UnitStatus.Packed, "dealer", parent: Case1)]), null),
        ["unpack: by another member"] = new(Event(EventKind.Unpack, parent: Case1),
            Facts(OtherDealer, [Unit(Case1, UnitStatus.AtHolder, "dealer")]), CustodyRules.HolderOnly, Case1),
        ["unpack: a unit that is not inside"] = new(Event(EventKind.Unpack, parent: Case1, children: [U("1")]),
            Facts(Dealer, [Unit(Case1, UnitStatus.AtHolder, "dealer"), Unit(U("1"), UnitStatus.Packed, "dealer", parent: Pallet)]),
            CustodyRules.NotInContainer, U("1")),

        // shipping
        ["ship: by the holder"] = new(Event(EventKind.Ship, [U("1")]), Facts(Maker, [Unit(U("1"), UnitStatus.Commissioned, "maker")], destination: "dealer"), null),
        ["ship: by another member"] = new(Event(EventKind.Ship, [U("1")]), Facts(Dealer, [Unit(U("1"), UnitStatus.Commissioned, "maker")]),
            CustodyRules.HolderOnly, U("1")),
        ["ship: a unit never commissioned"] = new(Event(EventKind.Ship, [U("1")]), Facts(Maker), CustodyRules.NotCommissioned, U("1")),
        ["ship: a code of a product outside the master data"] = new(Event(EventKind.Ship, [U("1", UnknownGtin)]), Facts(Maker), null),
        ["ship: a case holding a recalled unit"] = new(Event(EventKind.Ship, [Case1]),
            Facts(Maker, [Unit(Case1, UnitStatus.Commissioned, "maker"), Unit(U("1"), UnitStatus.Recalled, "maker", parent: Case1)], contents: [U("1")]),
            CustodyRules.RecalledUnit, U("1")),
        ["ship: a destroyed unit"] = new(Event(EventKind.Ship, [U("1")]), Facts(Maker, [Unit(U("1"), UnitStatus.Destroyed, "maker")]),
            CustodyRules.DestroyedUnit, U("1")),
        ["ship: a unit on hold"] = new(Event(EventKind.Ship, [U("1")]),
            Facts(Maker, [Unit(U("1"), UnitStatus.OnHold, "maker", before: UnitStatus.Commissioned)]), CustodyRules.OnHoldUnit, U("1")),

        // receiving
        ["receive: by the consignee at its location"] = new(Event(EventKind.Receive, [U("1")], where: Store),
            Facts(Dealer, [Unit(U("1"), UnitStatus.InTransit, "maker", shippedTo: "dealer")], Store), null),
        ["receive: a shipment naming no consignee"] = new(Event(EventKind.Receive, [U("1")], where: Store),
            Facts(Dealer, [Unit(U("1"), UnitStatus.InTransit, "maker")], Store), null),
        ["receive: at another member's location"] = new(Event(EventKind.Receive, [U("1")], where: Plant),
            Facts(Dealer, [Unit(U("1"), UnitStatus.InTransit, "maker", shippedTo: "dealer")], Plant), CustodyRules.OwnLocation, U("1")),
        ["receive: at an unknown location"] = new(Event(EventKind.Receive, [U("1")]),
            Facts(Dealer, [Unit(U("1"), UnitStatus.InTransit, "maker", shippedTo: "dealer")]), CustodyRules.OwnLocation, U("1")),
        ["receive: a unit not shipped"] = new(Event(EventKind.Receive, [U("1")], where: Store),
            Facts(Dealer, [Unit(U("1"), UnitStatus.AtHolder, "maker")], Store), CustodyRules.NotShipped, U("1")),
        ["receive: a unit on hold that was not shipped"] = new(Event(EventKind.Receive, [U("1")], where: Store),
            Facts(Dealer, [Unit(U("1"), UnitStatus.OnHold, "maker", before: UnitStatus.Commissioned)], Store), CustodyRules.NotShipped, U("1")),
        ["receive: a unit shipped to another member"] = new(Event(EventKind.Receive, [U("1")], where: Store),
            Facts(Dealer, [Unit(U("1"), UnitStatus.InTransit, "maker", shippedTo: "other-dealer")], Store), CustodyRules.NotConsignee, U("1")),
        ["receive: a recalled unit never shipped"] = new(Event(EventKind.Receive, [U("1")], where: Store),
            Facts(Dealer, [Unit(U("1"), UnitStatus.Recalled, "maker")], Store), CustodyRules.RecalledUnit, U("1")),
        ["receive: a recalled unit on its way to the caller"] = new(Event(EventKind.Receive, [U("1")], where: Store),
            Facts(Dealer, [Unit(U("1"), UnitStatus.Recalled, "maker", shippedTo: "dealer")], Store), null),
        ["receive: a unit shipped on by its consignee, naming no one"] = new(Event(EventKind.Receive, [U("1")], where: Store),
            Facts(Dealer, [Unit(U("1"), UnitStatus.InTransit, "other-dealer", shippedTo: "other-dealer")], Store), null),

        // selling
        ["sell: by the holder"] = new(Event(EventKind.Sell, [U("1")], where: Store), Facts(Dealer, [Unit(U("1"), UnitStatus.AtHolder, "dealer")], Store), null),
        ["sell: by another member"] = new(Event(EventKind.Sell, [U("1")]), Facts(OtherDealer, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]),
            CustodyRules.HolderOnly, U("1")),
        ["sell: twice"] = new(Event(EventKind.Sell, [U("1")]), Facts(Dealer, [Unit(U("1"), UnitStatus.Sold, "dealer")]), CustodyRules.AlreadySold, U("1")),
        ["sell: a recalled unit"] = new(Event(EventKind.Sell, [U("1")]), Facts(Dealer, [Unit(U("1"), UnitStatus.Recalled, "dealer")]),
            CustodyRules.RecalledUnit, U("1")),
        ["sell: a unit on hold"] = new(Event(EventKind.Sell, [U("1")]),
            Facts(Dealer, [Unit(U("1"), UnitStatus.OnHold, "dealer", before: UnitStatus.AtHolder)]), CustodyRules.OnHoldUnit, U("1")),

        // destroying
        ["destroy: by the holder"] = new(Event(EventKind.Destroy, [U("1")]), Facts(Dealer, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]), null),
        ["destroy: by another member"] = new(Event(EventKind.Destroy, [U("1")]), Facts(Maker, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]),
            CustodyRules.HolderOnly, U("1")),

        // installing
        ["install: a sold unit, by a service member"] = new(Event(EventKind.Install, [U("1")]), Facts(Installer, [Unit(U("1"), UnitStatus.Sold, "dealer")]), null),
        ["install: a delivered unit, by its holder"] = new(Event(EventKind.Install, [U("1")]), Facts(Dealer, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]), null),
        ["install: by a member neither holder nor service"] = new(Event(EventKind.Install, [U("1")]), Facts(OtherDealer, [Unit(U("1"), UnitStatus.Sold, "dealer")]),
            CustodyRules.InstallNotAllowed, U("1")),
        ["install: a unit still in transit"] = new(Event(EventKind.Install, [U("1")]), Facts(Installer, [Unit(U("1"), UnitStatus.InTransit, "maker")]),
            CustodyRules.NotInstallable, U("1")),
        ["install: a recalled unit"] = new(Event(EventKind.Install, [U("1")]), Facts(Installer, [Unit(U("1"), UnitStatus.Recalled, "dealer")]),
            CustodyRules.RecalledUnit, U("1")),
        ["inspect: an installed unit, by a service member"] = new(Event(EventKind.Inspect, [U("1")], disposition: "non_conformant"),
            Facts(Installer, [Unit(U("1"), UnitStatus.Installed, "dealer")]), null),
        ["inspect: a unit not installed, by a service member"] = new(Event(EventKind.Inspect, [U("1")], disposition: "non_conformant"),
            Facts(Installer, [Unit(U("1"), UnitStatus.Sold, "dealer")]), CustodyRules.HolderOnly, U("1")),

        // inspecting
        ["inspect: a unit, by its product's owner"] = new(Event(EventKind.Inspect, [U("1")], disposition: "damaged"),
            Facts(Maker, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]), null),
        ["inspect: a unit, by a member neither holder nor owner"] = new(Event(EventKind.Inspect, [U("1")], disposition: "damaged"),
            Facts(OtherDealer, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]), CustodyRules.HolderOnly, U("1")),
        ["inspect: a lot by class, by another manufacturer"] = new(Event(EventKind.Inspect, classes: [new(Gtin, Lot, 1)], disposition: "non_conformant"),
            Facts(OtherMaker), CustodyRules.HoldNotAllowed, $"https://id.gs1.org/01/{Gtin}/10/{Lot}"),
        ["release: a lot by class, by a member holding none of it"] = new(Event(EventKind.Inspect, classes: [new(Gtin, Lot, 1)], disposition: "conformant"),
            Facts(Dealer, holds: [(Gtin, Lot, 7)]), CustodyRules.HoldNotAllowed, $"https://id.gs1.org/01/{Gtin}/10/{Lot}"),
        ["inspect: a lot by class, by its owner"] = new(Event(EventKind.Inspect, classes: [new(Gtin, Lot, 1)], disposition: "non_conformant"), Facts(Maker), null),
        ["inspect: a lot by class, by a member holding units of it"] = new(Event(EventKind.Inspect, classes: [new(Gtin, Lot, 1)], disposition: "damaged"),
            Facts(Dealer, lotsHeld: [(Gtin, Lot)]), null),
        ["release: a lot by class, by a regulator"] = new(Event(EventKind.Inspect, classes: [new(Gtin, Lot, 1)], disposition: "conformant"),
            Facts(Regulator, holds: [(Gtin, Lot, 7)]), null),
        ["inspect: a lot of a product outside the master data"] = new(Event(EventKind.Inspect, classes: [new(UnknownGtin, Lot, 1)], disposition: "damaged"),
            Facts(Dealer), null),

        // recalling
        ["recall: by the product's owner"] = new(Event(EventKind.Recall, [U("1")]), Facts(Maker, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]), null),
        ["recall: by the holder"] = new(Event(EventKind.Recall, [U("1")]), Facts(Dealer, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]), null),
        ["recall: by another member"] = new(Event(EventKind.Recall, [U("1")]), Facts(OtherMaker, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]),
            CustodyRules.RecallNotAllowed, U("1")),

        // transforming
        ["transform: the caller's units into new ones"] = new(Event(EventKind.Transform, inputs: [U("1")], outputs: [U("9", OtherGtin)]),
            Facts(OtherMaker, [Unit(U("1"), UnitStatus.AtHolder, "other-maker")]), null),
        ["transform: an input another member holds"] = new(Event(EventKind.Transform, inputs: [U("1")], outputs: [U("9", OtherGtin)]),
            Facts(OtherMaker, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]), CustodyRules.HolderOnly, U("1")),
        ["transform: an input never commissioned"] = new(Event(EventKind.Transform, inputs: [U("1")], outputs: [U("9", OtherGtin)]),
            Facts(OtherMaker), CustodyRules.NotCommissioned, U("1")),
        ["transform: into an output commissioned before"] = new(Event(EventKind.Transform, inputs: [U("1")], outputs: [U("9", OtherGtin)]),
            Facts(OtherMaker, [Unit(U("1"), UnitStatus.AtHolder, "other-maker"), Unit(U("9", OtherGtin), UnitStatus.AtHolder, "other-maker")]),
            CustodyRules.AlreadyCommissioned, U("9", OtherGtin)),
        ["transform: into another manufacturer's product"] = new(Event(EventKind.Transform, inputs: [U("1")], outputs: [U("9")]),
            Facts(OtherMaker, [Unit(U("1"), UnitStatus.AtHolder, "other-maker")]), CustodyRules.ProductOwnerOnly, U("9")),

        // observing
        ["observe: anything, by anyone"] = new(Event(EventKind.Observe, [U("1")]), Facts(OtherDealer, [Unit(U("1"), UnitStatus.AtHolder, "dealer")]), null),
    };

    public static TheoryData<string> RowNames => new(Rows.Keys);

    [Theory]
    [MemberData(nameof(RowNames))]
    public void EachRuleRefusesOrAccepts(string row)
    {
        var (e, facts, rule, epc) = Rows[row];
        var outcome = CustodyRules.Decide(e, facts);
        if (rule is null)
        {
            outcome.Violations.Should().BeEmpty();
            return;
        }
        outcome.Violations.Should().Contain(v => v.Rule == rule && v.Epc == epc, "the row expects {0} on {1}", rule, epc);
        outcome.Units.Should().BeEmpty("a refused event changes nothing");
    }

    [Fact]
    public void EveryEventKindHasARowInTheRuleTable() =>
        Enum.GetValues<EventKind>().Should().OnlyContain(k => CustodyRules.Table.ContainsKey(k));

    [Fact]
    public void EveryRuleHasARefusingRowInTheTestTable()
    {
        var rules = typeof(CustodyRules).GetFields().Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetValue(null)!);
        rules.Should().BeSubsetOf(Rows.Values.Select(r => r.Rule).OfType<string>());
    }

    /// <summary>An effect row: the event, the facts, the EPC and the state the event leaves it in.</summary>
    public sealed record EffectRow(CustodyEvent Event, CustodyFacts Facts, string Epc, string Status, string? Holder, string? StatusBeforeHold = null,
        string? ShippedTo = null, string? Parent = null);

    private static readonly Dictionary<string, EffectRow> Effects = new()
    {
        ["commission: held by the caller, where it happened"] = new(Event(EventKind.Commission, [U("1")], where: Plant), Facts(Maker, at: Plant),
            U("1"), UnitStatus.Commissioned, "maker"),
        ["commission: into a lot on hold, starts on hold"] = new(Event(EventKind.Commission, [U("1")]), Facts(Maker, holds: [(Gtin, Lot, 7)]),
            U("1"), UnitStatus.OnHold, "maker", StatusBeforeHold: UnitStatus.Commissioned),
        ["pack: the unit is packed into the container"] = new(Event(EventKind.Pack, parent: Case1, children: [U("1")]),
            Facts(Maker, [Unit(U("1"), UnitStatus.Commissioned, "maker")]), U("1"), UnitStatus.Packed, "maker", Parent: Case1),
        ["pack: a new container is held by the caller"] = new(Event(EventKind.Pack, parent: Case1, children: [U("1")]),
            Facts(Maker, [Unit(U("1"), UnitStatus.Commissioned, "maker")]), Case1, UnitStatus.Commissioned, "maker"),
        ["unpack: out of a received case, at its holder"] = new(Event(EventKind.Unpack, parent: Case1),
            Facts(Dealer, [Unit(Case1, UnitStatus.AtHolder, "dealer"), Unit(U("1"), UnitStatus.Packed, "maker", parent: Case1)]) with { ParentChildren = [U("1")] },
            U("1"), UnitStatus.AtHolder, "dealer"),
        ["ship: the contents travel with the case, to the consignee"] = new(Event(EventKind.Ship, [Case1]),
            Facts(Maker, [Unit(Case1, UnitStatus.Commissioned, "maker"), Unit(U("1"), UnitStatus.Packed, "maker", parent: Case1)], contents: [U("1")], destination: "dealer"),
            U("1"), UnitStatus.InTransit, "maker", ShippedTo: "dealer", Parent: Case1),
        ["observe: a unit on hold stays on hold"] = new(Event(EventKind.Observe, [U("1")]),
            Facts(Maker, [Unit(U("1"), UnitStatus.OnHold, "maker", before: UnitStatus.Commissioned)]), U("1"), UnitStatus.OnHold, "maker", UnitStatus.Commissioned),
        ["receive: a unit on hold stays on hold, to resume at the receiver"] = new(Event(EventKind.Receive, [U("1")], where: Store),
            Facts(Dealer, [Unit(U("1"), UnitStatus.OnHold, "maker", shippedTo: "dealer", before: UnitStatus.InTransit)], Store),
            U("1"), UnitStatus.OnHold, "dealer", UnitStatus.AtHolder, ShippedTo: "dealer"),
        ["receive: held by the receiver"] = new(Event(EventKind.Receive, [U("1")], where: Store),
            Facts(Dealer, [Unit(U("1"), UnitStatus.InTransit, "maker", shippedTo: "dealer")], Store), U("1"), UnitStatus.AtHolder, "dealer", ShippedTo: "dealer"),
        ["sell: out of its case"] = new(Event(EventKind.Sell, [U("1")], where: Store),
            Facts(Dealer, [Unit(U("1"), UnitStatus.AtHolder, "dealer", parent: Case1)], Store), U("1"), UnitStatus.Sold, "dealer"),
        ["install: at the site, out of its case, the holder unchanged"] = new(Event(EventKind.Install, [U("1")], where: Store),
            Facts(Installer, [Unit(U("1"), UnitStatus.Sold, "dealer", parent: Case1)], Store), U("1"), UnitStatus.Installed, "dealer"),
        ["recall: a destroyed unit stays destroyed"] = new(Event(EventKind.Recall, [U("1")]),
            Facts(Maker, [Unit(U("1"), UnitStatus.Destroyed, "dealer")]), U("1"), UnitStatus.Destroyed, "dealer"),
        ["recall: a unit on hold is recalled"] = new(Event(EventKind.Recall, [U("1")]),
            Facts(Maker, [Unit(U("1"), UnitStatus.OnHold, "dealer", before: UnitStatus.AtHolder)]), U("1"), UnitStatus.Recalled, "dealer", StatusBeforeHold: UnitStatus.AtHolder),
        ["recall: a sold unit is recalled and stays sold in custody"] = new(Event(EventKind.Recall, [U("1")]),
            Facts(Maker, [Unit(U("1"), UnitStatus.Sold, "dealer")]), U("1"), UnitStatus.Recalled, "dealer", StatusBeforeHold: UnitStatus.Sold),
        ["receive: a recalled unit returned to its maker keeps its recall"] = new(Event(EventKind.Receive, [U("1")], where: Plant),
            Facts(Maker, [Unit(U("1"), UnitStatus.Recalled, "dealer", before: UnitStatus.InTransit, shippedTo: "maker")], Plant), U("1"), UnitStatus.Recalled, "maker",
            StatusBeforeHold: UnitStatus.AtHolder, ShippedTo: "maker"),
        ["destroy: the contents too"] = new(Event(EventKind.Destroy, [Case1]),
            Facts(Dealer, [Unit(Case1, UnitStatus.AtHolder, "dealer"), Unit(U("1"), UnitStatus.Packed, "dealer", parent: Case1)], contents: [U("1")]),
            U("1"), UnitStatus.Destroyed, "dealer", Parent: Case1),
        ["transform: outputs held by the caller"] = new(Event(EventKind.Transform, inputs: [U("1")], outputs: [U("9", OtherGtin)]),
            Facts(OtherMaker, [Unit(U("1"), UnitStatus.AtHolder, "other-maker")]), U("9", OtherGtin), UnitStatus.Commissioned, "other-maker"),
    };

    public static TheoryData<string> EffectNames => new(Effects.Keys);

    [Theory]
    [MemberData(nameof(EffectNames))]
    public void EachKindLeavesTheUnitsAsExpected(string row)
    {
        var r = Effects[row];
        var before = r.Facts.Units.Values.Select(u => (u.Epc, u.Status, u.HolderMemberId)).ToList();
        var outcome = CustodyRules.Decide(r.Event, r.Facts);
        outcome.Violations.Should().BeEmpty();
        var unit = outcome.Units.Should().ContainSingle(u => u.Epc == r.Epc).Subject;
        (unit.Status, unit.HolderMemberId, unit.StatusBeforeHold, unit.ShippedToMemberId, unit.ParentEpc)
            .Should().Be((r.Status, r.Holder, r.StatusBeforeHold, r.ShippedTo, r.Parent));
        r.Facts.Units.Values.Select(u => (u.Epc, u.Status, u.HolderMemberId)).Should().Equal(before, "the facts are snapshots; the rules change copies");
    }

    [Fact]
    public void AnInspectionHoldsEveryLotItTouchesOnceAndAConformantOneReleasesIt()
    {
        var unit = Unit(U("1"), UnitStatus.AtHolder, "dealer");
        var hold = CustodyRules.Decide(Event(EventKind.Inspect, [U("1")], disposition: "damaged"), Facts(Maker, [unit]));
        hold.Holds.Should().Equal(new HoldChange(Gtin, Lot, U("1"), "damaged", null));
        CustodyRules.Decide(Event(EventKind.Inspect, [U("1")], disposition: "damaged"), Facts(Maker, [unit], holds: [(Gtin, Lot, 7)]))
            .Holds.Should().BeEmpty("the same hold episode");
        CustodyRules.Decide(Event(EventKind.Inspect, [U("1")], disposition: "conformant"), Facts(Maker, [unit], holds: [(Gtin, Lot, 7)]))
            .Holds.Should().Equal(new HoldChange(Gtin, Lot, U("1"), "conformant", 7));
    }

    [Fact]
    public void AnInstalledUnitsFieldInspectionDoesNotHoldItsLot() =>
        CustodyRules.Decide(Event(EventKind.Inspect, [U("1")], disposition: "damaged"), Facts(Installer, [Unit(U("1"), UnitStatus.Installed, "dealer")]))
            .Holds.Should().BeEmpty("a field inspection is the unit's service record, not a verdict on its lot");

    [Fact]
    public void TransformationLinksEveryOutputToEveryInputAndTheirLots()
    {
        var outcome = CustodyRules.Decide(Event(EventKind.Transform, inputs: [U("1"), U("2")], outputs: [U("9", OtherGtin)]),
            Facts(OtherMaker, [Unit(U("1"), UnitStatus.AtHolder, "other-maker"), Unit(U("2"), UnitStatus.AtHolder, "other-maker")]));
        outcome.Lineage.Should().Equal((U("9", OtherGtin), U("1")), (U("9", OtherGtin), U("2")));
        outcome.LotLineage.Should().Equal(((OtherGtin, Lot), (Gtin, Lot)));
    }

    public static TheoryData<string, string?, string?, string?, bool, EventKind> Kinds => new()
    {
        { "ObjectEvent", "ADD", "commissioning", "active", false, EventKind.Commission },
        { "ObjectEvent", "ADD", null, null, false, EventKind.Commission },
        { "ObjectEvent", "OBSERVE", "shipping", "in_transit", false, EventKind.Ship },
        { "ObjectEvent", "OBSERVE", "shipping", "recalled", false, EventKind.Recall },
        { "ObjectEvent", "OBSERVE", "receiving", "in_progress", false, EventKind.Receive },
        { "ObjectEvent", "OBSERVE", "arriving", null, false, EventKind.Receive },
        { "ObjectEvent", "OBSERVE", "retail_selling", "retail_sold", false, EventKind.Sell },
        { "ObjectEvent", "OBSERVE", "destroying", "destroyed", false, EventKind.Destroy },
        { "ObjectEvent", "OBSERVE", "inspecting", "damaged", false, EventKind.Inspect },
        { "ObjectEvent", "OBSERVE", "inspecting", "conformant", false, EventKind.Inspect },
        { "ObjectEvent", "OBSERVE", "inspecting", null, false, EventKind.Observe },
        { "ObjectEvent", "OBSERVE", "storing", null, false, EventKind.Observe },
        { "AggregationEvent", "ADD", "packing", "in_progress", true, EventKind.Pack },
        { "AggregationEvent", "DELETE", "unpacking", null, true, EventKind.Unpack },
        { "AggregationEvent", "OBSERVE", "shipping", null, true, EventKind.Ship },
        { "TransformationEvent", null, "commissioning", "active", false, EventKind.Transform },
        { "TransactionEvent", "ADD", "shipping", "in_transit", true, EventKind.Ship },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EventsAreClassifiedByKind(string type, string? action, string? bizStep, string? disposition, bool hasParent, EventKind kind) =>
        CustodyEvent.KindOf(type, action, bizStep, disposition, hasParent).Should().Be(kind);
}
