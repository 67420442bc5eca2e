using Traceability.Api.Domain;
using Traceability.Api.Features.Lifecycle;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;

namespace Traceability.Api.Tests.Lifecycle;

/// <summary>
/// The hold rule as data, end to end and pure: the versions of a product's control points, the event's time, who
/// inspects and with which disposition, and what happens to the lot. Each row goes the way capture goes: the hold rule
/// in force at the eventTime (<see cref="ControlRules.HoldRuleInForce"/>), the event's kind under it
/// (<see cref="CustodyEvent.KindOf(string, string?, string?, string?, bool, bool)"/>), then the custody rules
/// (<see cref="CustodyRules.Decide"/>): who may hold or release, and the hold opened or released.
/// </summary>
public sealed class HoldRulesTableTests
{
    private const string Gtin = "09506000134352";
    private const string Lot = "L1";
    private const string Quarantined = "https://fire.example/disp/quarantined";
    private const string Released = "https://fire.example/disp/released";
    private static readonly string U1 = $"https://id.gs1.org/01/{Gtin}/21/1";
    private static readonly string LotClass = $"https://id.gs1.org/01/{Gtin}/10/{Lot}";
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-11-10T00:00:00Z");

    private static readonly Caller Maker = new("maker", MemberRole.Manufacturer, "Maker", null, []);
    private static readonly Caller OtherMaker = new("other-maker", MemberRole.Manufacturer, "Other maker", null, []);
    private static readonly Caller Dealer = new("dealer", MemberRole.Dealer, "Dealer", null, []);
    private static readonly Caller OtherDealer = new("other-dealer", MemberRole.Dealer, "Other dealer", null, []);
    private static readonly Caller Regulator = new("regulator", MemberRole.Regulator, "Regulator", null, []);

    /// <summary>Version 42 from T0: quarantined (a disposition of the maker's own vocabulary) or non_conformant holds, released releases.</summary>
    private static readonly RuleSetVersion Custom = new(Gtin, 42, T0, ControlRules.Normalise(
    [
        new ControlRule("quarantine", ControlRules.HoldKind, null, HoldDispositions: [Quarantined, "non_conformant"], ReleaseDispositions: [Released]),
    ]), "a");

    /// <summary>Version 50 from T0 + 10 days: a shipping rule, no hold rule: the default hold rule again.</summary>
    private static readonly RuleSetVersion NoHoldRule = new(Gtin, 50, T0.AddDays(10),
        [new ControlRule("ship-after-qc", ControlRules.Requires, "shipping", "inspecting", "conformant", "lot")], "b");

    /// <summary>
    /// A row: the versions, the event's time, who inspects, the disposition, whether the lot is named by class (else
    /// by its unit, held by the dealer), whether the lot is on hold (since event 7), whether the caller holds units of it;
    /// and the outcome: <c>hold</c>, <c>release</c>, <c>none</c> or the custody rule broken; with the version of the hold
    /// rule it was judged by (null: the default).
    /// </summary>
    public sealed record Row(RuleSetVersion[] Versions, DateTimeOffset At, Caller Caller, string Disposition, string Outcome, long? Version,
        bool ByClass = false, bool OnHold = false, bool CallerHoldsUnits = false);

    private static readonly Dictionary<string, Row> Rows = new()
    {
        // the default set: today's behaviour
        ["default set: damaged holds the lot"] = new([], T0, Maker, "damaged", "hold", null),
        ["default set: non_conformant holds the lot"] = new([], T0, Maker, "non_conformant", "hold", null),
        ["default set: conformant releases the lot"] = new([], T0, Maker, "conformant", "release", null, OnHold: true),
        ["default set: conformant without a hold changes nothing"] = new([], T0, Maker, "conformant", "none", null),
        ["default set: damaged again is the same hold"] = new([], T0, Maker, "damaged", "none", null, OnHold: true),
        ["default set: another disposition is no verdict"] = new([], T0, Maker, "sellable_accessible", "none", null),
        ["default set: a disposition of the maker's own is no verdict"] = new([], T0, Maker, Quarantined, "none", null),

        // the maker's own hold rule
        ["custom hold disposition holds the lot"] = new([Custom], T0.AddDays(1), Maker, Quarantined, "hold", 42),
        ["custom rule: non_conformant still holds (it lists it)"] = new([Custom], T0.AddDays(1), Maker, "non_conformant", "hold", 42),
        ["custom rule: damaged, not listed, holds nothing"] = new([Custom], T0.AddDays(1), Maker, "damaged", "none", 42),
        ["custom release disposition releases the lot"] = new([Custom], T0.AddDays(1), Maker, Released, "release", 42, OnHold: true),
        ["custom rule: conformant no longer releases"] = new([Custom], T0.AddDays(1), Maker, "conformant", "none", 42, OnHold: true),

        // the version in force at the event's time
        ["an event before the custom version: judged by the default (quarantined is nothing)"] = new([Custom], T0.AddSeconds(-1), Maker, Quarantined, "none", null),
        ["an event before the custom version: judged by the default (damaged holds)"] = new([Custom], T0.AddSeconds(-1), Maker, "damaged", "hold", null),
        ["an event at the custom version's time: judged by it"] = new([Custom], T0, Maker, Quarantined, "hold", 42),
        ["a later version without a hold rule: the default again"] = new([Custom, NoHoldRule], T0.AddDays(11), Maker, "damaged", "hold", null),
        ["a later version without a hold rule: quarantined is nothing again"] = new([Custom, NoHoldRule], T0.AddDays(11), Maker, Quarantined, "none", null),
        ["an event reported late, dated between the versions: the custom rule"] = new([Custom, NoHoldRule], T0.AddDays(5), Maker, Quarantined, "hold", 42),

        // who may hold and release (the custody rules, whatever the dispositions)
        ["who may release: the product's owner, by class"] = new([Custom], T0.AddDays(1), Maker, Released, "release", 42, ByClass: true, OnHold: true),
        ["who may release: a regulator, by class"] = new([Custom], T0.AddDays(1), Regulator, Released, "release", 42, ByClass: true, OnHold: true),
        ["who may release: a member holding units of the lot, by class"] =
            new([Custom], T0.AddDays(1), Dealer, Released, "release", 42, ByClass: true, OnHold: true, CallerHoldsUnits: true),
        ["who may release: a member holding none of the lot"] =
            new([Custom], T0.AddDays(1), OtherDealer, Released, CustodyRules.HoldNotAllowed, 42, ByClass: true, OnHold: true),
        ["who may release: another manufacturer"] = new([Custom], T0.AddDays(1), OtherMaker, Released, CustodyRules.HoldNotAllowed, 42, ByClass: true, OnHold: true),
        ["who may hold: another manufacturer, by class"] = new([Custom], T0.AddDays(1), OtherMaker, Quarantined, CustodyRules.HoldNotAllowed, 42, ByClass: true),
        ["who may hold: by a unit, a member neither its holder nor the owner"] = new([Custom], T0.AddDays(1), OtherDealer, Quarantined, CustodyRules.HolderOnly, 42),
        ["who may hold: by a unit, its holder"] = new([Custom], T0.AddDays(1), Dealer, Quarantined, "hold", 42),
        ["who may release: anyone, when the disposition is no verdict under the rule"] = new([Custom], T0.AddDays(1), OtherMaker, "conformant", "none", 42, ByClass: true, OnHold: true),
    };

    public static TheoryData<string> Names() => [.. Rows.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void Decides(string name)
    {
        var row = Rows[name];
        var rule = ControlRules.HoldRuleInForce(row.Versions, row.At);
        rule.Version.Should().Be(row.Version, "the hold rule in force at the event's time");
        var rules = new Dictionary<string, HoldRule>(StringComparer.Ordinal) { [Gtin] = rule };

        var kind = CustodyEvent.KindOf("ObjectEvent", "OBSERVE", HoldRule.Step, row.Disposition, false, HoldRule.AnyJudges(rules, [Gtin], row.Disposition));
        var e = new CustodyEvent(kind, 100, Lot, row.ByClass ? [] : [U1], null, [], [], [], row.ByClass ? [new ClassQuantity(Gtin, Lot, 1)] : [], [], [],
            null, "bizLocation.id", row.Disposition);
        var unit = new Unit
        {
            Epc = U1, Gtin = Gtin, Lot = Lot, Status = row.OnHold ? UnitStatus.OnHold : UnitStatus.AtHolder, StatusBeforeHold = row.OnHold ? UnitStatus.AtHolder : null,
            HolderMemberId = "dealer", CommissionedSequence = 1,
        };
        var facts = new CustodyFacts
        {
            Caller = row.Caller,
            Units = row.ByClass ? new Dictionary<string, Unit>() : new Dictionary<string, Unit> { [U1] = unit },
            ProductOwners = new Dictionary<string, string>(StringComparer.Ordinal) { [Gtin] = "maker" },
            OpenHolds = row.OnHold ? new Dictionary<(string, string), long> { [(Gtin, Lot)] = 7 } : new Dictionary<(string, string), long>(),
            LotsHeldByCaller = row.CallerHoldsUnits ? new HashSet<(string, string)> { (Gtin, Lot) } : [],
            HoldRules = rules,
        };
        var outcome = CustodyRules.Decide(e, facts);

        var target = row.ByClass ? LotClass : U1;
        switch (row.Outcome)
        {
            case "hold":
                kind.Should().Be(EventKind.Inspect);
                outcome.Violations.Should().BeEmpty();
                outcome.Holds.Should().Equal(new HoldChange(Gtin, Lot, target, row.Disposition, null));
                break;
            case "release":
                kind.Should().Be(EventKind.Inspect);
                outcome.Violations.Should().BeEmpty();
                outcome.Holds.Should().Equal(new HoldChange(Gtin, Lot, target, row.Disposition, 7));
                break;
            case "none":
                outcome.Violations.Should().BeEmpty();
                outcome.Holds.Should().BeEmpty();
                break;
            default:
                outcome.Violations.Should().Contain(v => v.Rule == row.Outcome && v.Epc == target);
                outcome.Holds.Should().BeEmpty();
                break;
        }
    }

    [Fact]
    public void AnEventNamingOnlyContainersOrNothingIsJudgedByTheDefault()
    {
        var rules = new Dictionary<string, HoldRule>(StringComparer.Ordinal) { [Gtin] = ControlRules.HoldRuleInForce([Custom], T0) };
        HoldRule.AnyJudges(rules, [null], "damaged").Should().BeTrue();
        HoldRule.AnyJudges(rules, [], "damaged").Should().BeTrue();
        HoldRule.AnyJudges(rules, [null], Quarantined).Should().BeFalse();
        HoldRule.AnyJudges(rules, [Gtin, null], Quarantined).Should().BeTrue("the product it names has quarantined as a hold disposition");
    }

    [Fact]
    public void TheDefaultRuleSetIsTodaysQualityHold()
    {
        var rule = ControlRules.Defaults.Should().ContainSingle().Subject;
        (rule.Name, rule.Kind, rule.Step, rule.Scope).Should().Be(("quality-hold", ControlRules.HoldKind, "inspecting", "lot"));
        rule.HoldDispositions.Should().Equal("non_conformant", "damaged");
        rule.ReleaseDispositions.Should().Equal("conformant");
        ControlRules.Effective(null).Should().BeEquivalentTo(ControlRules.Defaults);
        ControlRules.Effective(NoHoldRule).Select(r => r.Name).Should().Equal("ship-after-qc", "quality-hold");
        ControlRules.Effective(Custom).Select(r => r.Name).Should().Equal("quarantine");
    }
}
