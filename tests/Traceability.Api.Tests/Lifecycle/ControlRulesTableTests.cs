using Traceability.Api.Features.Lifecycle;

namespace Traceability.Api.Tests.Lifecycle;

/// <summary>
/// The control points as a table: each row a rule set in force, an event, what happened before, and the rule broken
/// (or none). <see cref="ControlRules.Decide"/> is pure; the due dates and statuses too.
/// </summary>
public sealed class ControlRulesTableTests
{
    private const string Gtin = "09506000134352";
    private const string Other = "09506000134369";
    private static readonly string U1 = $"https://id.gs1.org/01/{Gtin}/21/1";
    private static readonly string LotClass = $"https://id.gs1.org/01/{Gtin}/10/L1";
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-11-10T00:00:00Z");

    private static readonly ControlRule ShipAfterConformantLot = new("ship-after-qc", ControlRules.Requires, "shipping", "inspecting", "conformant", "lot");
    private static readonly ControlRule SellAfterReceipt = new("sell-after-receipt", ControlRules.Requires, "retail_selling", "receiving", Scope: "unit");
    private static readonly ControlRule Line = new("line", ControlRules.FieldKind, "commissioning", Field: "ilmd.productionLine");
    private static readonly ControlRule Cold = new("cold", ControlRules.FieldKind, "shipping", Field: "sensor.Temperature", Min: 2, Max: 8);

    private static Dictionary<string, RuleSetVersion> Rules(params ControlRule[] rules) =>
        new() { [Gtin] = new RuleSetVersion(Gtin, 7, T0, rules, "h") };

    private static ControlEvent Event(string step, (string Key, string Value)[]? values = null, ControlSubject[]? subjects = null) =>
        new(step, (values ?? []).GroupBy(v => v.Key).ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(v => v.Value).ToList()),
            subjects ?? [new ControlSubject(U1, Gtin, "L1")]);

    private static HashSet<PastStep> Past(params PastStep[] steps) => [.. steps];

    public sealed record Row(Dictionary<string, RuleSetVersion> InForce, ControlEvent Event, HashSet<PastStep> Past, string? Rule, string? Field = null);

    private static readonly Dictionary<string, Row> Rows = new()
    {
        ["no rule set: anything goes"] = new(new(), Event("shipping"), Past(), null),
        ["a rule of another step does not apply"] = new(Rules(ShipAfterConformantLot), Event("receiving"), Past(), null),
        ["lot shipped before any inspection"] = new(Rules(ShipAfterConformantLot), Event("shipping"), Past(), "ship-after-qc", "epcList"),
        ["lot inspected non-conformant only"] = new(Rules(ShipAfterConformantLot), Event("shipping"),
            Past(new PastStep(ControlSubject.LotKeyOf(Gtin, "L1"), "inspecting", "non_conformant")), "ship-after-qc", "epcList"),
        ["lot inspected conformant"] = new(Rules(ShipAfterConformantLot), Event("shipping"),
            Past(new PastStep(ControlSubject.LotKeyOf(Gtin, "L1"), "inspecting", "conformant")), null),
        ["another lot inspected conformant"] = new(Rules(ShipAfterConformantLot), Event("shipping"),
            Past(new PastStep(ControlSubject.LotKeyOf(Gtin, "L2"), "inspecting", "conformant")), "ship-after-qc", "epcList"),
        ["a lot shipped by class, inspected"] = new(Rules(ShipAfterConformantLot), Event("shipping", subjects: [new ControlSubject(LotClass, Gtin, "L1", IsClass: true)]),
            Past(new PastStep(ControlSubject.LotKeyOf(Gtin, "L1"), "inspecting", "conformant")), null),
        ["a lot shipped by class, not inspected"] = new(Rules(ShipAfterConformantLot), Event("shipping", subjects: [new ControlSubject(LotClass, Gtin, "L1", IsClass: true)]),
            Past(), "ship-after-qc", "quantityList"),
        ["unit sold before it was received"] = new(Rules(SellAfterReceipt), Event("retail_selling"), Past(new PastStep(U1, "shipping", "in_transit")), "sell-after-receipt"),
        ["unit sold after it was received (any disposition)"] = new(Rules(SellAfterReceipt), Event("retail_selling"), Past(new PastStep(U1, "receiving", null)), null),
        ["another product's rules do not apply"] = new(Rules(SellAfterReceipt), Event("retail_selling", subjects: [new ControlSubject($"https://id.gs1.org/01/{Other}/21/1", Other, null)]),
            Past(), null),
        ["required ILMD field missing"] = new(Rules(Line), Event("commissioning"), Past(), "line", "ilmd.productionLine"),
        ["required ILMD field present"] = new(Rules(Line), Event("commissioning", [("ilmd.productionLine", "L-3")]), Past(), null),
        ["sensor reading missing"] = new(Rules(Cold), Event("shipping"), Past(), "cold", "sensor.Temperature"),
        ["sensor reading in range"] = new(Rules(Cold), Event("shipping", [("sensor.Temperature", "5.5")]), Past(), null),
        ["sensor reading at the bound"] = new(Rules(Cold), Event("shipping", [("sensor.Temperature", "8")]), Past(), null),
        ["sensor reading out of range"] = new(Rules(Cold), Event("shipping", [("sensor.Temperature", "5"), ("sensor.Temperature", "9.1")]), Past(), "cold", "sensor.Temperature"),
        ["sensor reading not a number"] = new(Rules(Cold), Event("shipping", [("sensor.Temperature", "warm")]), Past(), "cold", "sensor.Temperature"),
        ["a hold rule is no control point of its step (the custody rules apply it)"] = new(
            Rules(new ControlRule("q", ControlRules.HoldKind, "inspecting", Scope: "lot", HoldDispositions: ["damaged"], ReleaseDispositions: ["conformant"])),
            Event("inspecting"), Past(), null),
    };

    public static TheoryData<string> Names() => [.. Rows.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void Decides(string name)
    {
        var row = Rows[name];
        var violations = ControlRules.Decide(row.InForce, row.Event, row.Past);
        if (row.Rule is null)
        {
            violations.Should().BeEmpty();
            return;
        }
        violations.Should().ContainSingle();
        violations[0].Rule.Should().Be(row.Rule);
        violations[0].RuleAndVersion.Should().Be($"{row.Rule}@7");
        violations[0].Message.Should().Contain("version 7");
        if (row.Field is not null) violations[0].Field.Should().Be(row.Field);
    }

    [Fact]
    public void TheVersionInForceIsTheLatestThatTookEffectAtOrBeforeTheEventTime()
    {
        var v1 = new RuleSetVersion(Gtin, 3, T0, [Line], "a");
        var v2 = new RuleSetVersion(Gtin, 9, T0.AddDays(10), [Line, Cold], "b");
        ControlRules.InForce([v1, v2], T0.AddDays(-1)).Should().BeNull();
        ControlRules.InForce([v1, v2], T0).Should().Be(v1);
        ControlRules.InForce([v1, v2], T0.AddDays(9)).Should().Be(v1);
        ControlRules.InForce([v1, v2], T0.AddDays(10)).Should().Be(v2);
    }

    [Theory]
    [InlineData("""[{"name":"x","kind":"requires","step":"shipping"}]""", "rules[0].after")]
    [InlineData("""[{"name":"X!","kind":"field","step":"shipping","field":"ilmd.a"}]""", "rules[0].name")]
    [InlineData("""[{"name":"x","kind":"field","step":"flying","field":"ilmd.a"}]""", "rules[0].step")]
    [InlineData("""[{"name":"x","kind":"field","step":"shipping","field":"color"}]""", "rules[0].field")]
    [InlineData("""[{"name":"x","kind":"field","step":"shipping","field":"sensor.T","min":9,"max":1}]""", "rules[0].min")]
    [InlineData("""[{"name":"x","kind":"sometimes","step":"shipping"}]""", "rules[0].kind")]
    [InlineData("""[{"name":"x","kind":"field","step":"shipping","field":"ilmd.a"},{"name":"x","kind":"field","step":"shipping","field":"ilmd.b"}]""", "rules[1].name")]
    [InlineData("""[{"name":"x","kind":"requires","step":"shipping","after":"inspecting","scope":"pallet"}]""", "rules[0].scope")]
    [InlineData("""[{"name":"q","kind":"hold","holdDispositions":["damaged"]}]""", "rules[0].releaseDispositions")]
    [InlineData("""[{"name":"q","kind":"hold","holdDispositions":[],"releaseDispositions":["conformant"]}]""", "rules[0].holdDispositions")]
    [InlineData("""[{"name":"q","kind":"hold","step":"shipping","holdDispositions":["damaged"],"releaseDispositions":["conformant"]}]""", "rules[0].step")]
    [InlineData("""[{"name":"q","kind":"hold","holdDispositions":["recalled"],"releaseDispositions":["conformant"]}]""", "rules[0].holdDispositions[0]")]
    [InlineData("""[{"name":"q","kind":"hold","holdDispositions":["quarantined"],"releaseDispositions":["conformant"]}]""", "rules[0].holdDispositions[0]")]
    [InlineData("""[{"name":"q","kind":"hold","holdDispositions":["urn:epcglobal:cbv:disp:quarantined"],"releaseDispositions":["conformant"]}]""", "rules[0].holdDispositions[0]")]
    [InlineData("""[{"name":"q","kind":"hold","holdDispositions":["damaged","cbv:Disp-damaged"],"releaseDispositions":["conformant"]}]""", "rules[0].holdDispositions[1]")]
    [InlineData("""[{"name":"q","kind":"hold","holdDispositions":["damaged"],"releaseDispositions":["urn:epcglobal:cbv:disp:damaged"]}]""", "rules[0].releaseDispositions")]
    [InlineData("""[{"name":"q","kind":"hold","scope":"unit","holdDispositions":["damaged"],"releaseDispositions":["conformant"]}]""", "rules[0].scope")]
    [InlineData("""[{"name":"q","kind":"hold","disposition":"damaged","holdDispositions":["damaged"],"releaseDispositions":["conformant"]}]""", "rules[0].disposition")]
    [InlineData("""[{"name":"q","kind":"hold","holdDispositions":["damaged"],"releaseDispositions":["conformant"]},{"name":"r","kind":"hold","holdDispositions":["damaged"],"releaseDispositions":["conformant"]}]""", "rules[1].kind")]
    [InlineData("""[{"name":"x","kind":"field","step":"shipping","field":"ilmd.a","holdDispositions":["damaged"]}]""", "rules[0].holdDispositions")]
    public void InvalidRuleSetsAreRefusedNamingTheField(string json, string field)
    {
        var rules = ControlRules.Parse(json);
        ControlRules.Validate(rules).Select(e => e.Field).Should().Contain(field);
    }

    [Fact]
    public void TheCanonicalFormIsStableAndHashed()
    {
        var a = ControlRules.CanonicalJson(ControlRules.Normalise([new ControlRule("r", ControlRules.Requires, "shipping", "inspecting")]));
        a.Should().Be("""[{"name":"r","kind":"requires","step":"shipping","after":"inspecting","scope":"unit"}]""");
        ControlRules.CanonicalJson(ControlRules.Normalise(ControlRules.Parse(a))).Should().Be(a);
        ControlRules.Sha256(a).Should().HaveLength(64);
    }

    [Fact]
    public void AHoldRuleIsValidatedAndWrittenWithItsStepScopeAndDispositionsAsEventsCarryThem()
    {
        var rules = ControlRules.Parse("""
            [{"name":"q","kind":"hold","holdDispositions":["urn:epcglobal:cbv:disp:damaged","https://fire.example/disp/quarantined"],"releaseDispositions":["cbv:Disp-conformant"]}]
            """);
        ControlRules.Validate(rules).Should().BeEmpty();
        var canonical = ControlRules.CanonicalJson(ControlRules.Normalise(rules));
        canonical.Should().Be("""[{"name":"q","kind":"hold","step":"inspecting","scope":"lot","holdDispositions":["damaged","https://fire.example/disp/quarantined"],"releaseDispositions":["conformant"]}]""");
        ControlRules.CanonicalJson(ControlRules.Normalise(ControlRules.Parse(canonical))).Should().Be(canonical);
    }

    public sealed record DueRow(ServiceTerms Terms, string Installed, string? Produced, string? LastInspection, string Now, string Status, string? Kind);

    private static readonly Dictionary<string, DueRow> Dues = new()
    {
        ["installed, within the year"] = new(new(365, 120), "2026-11-10", "2026-11-01", null, "2027-05-01", ServiceStatus.Ok, "inspection"),
        ["installed, inspection due within 30 days"] = new(new(365, 120), "2026-11-10", "2026-11-01", null, "2027-10-20", ServiceStatus.Due, "inspection"),
        ["never inspected, a year on"] = new(new(365, 120), "2026-11-10", "2026-11-01", null, "2027-11-11", ServiceStatus.Overdue, "inspection"),
        ["inspected, the period starts again"] = new(new(365, 120), "2026-11-10", "2026-11-01", "2027-11-11", "2027-11-20", ServiceStatus.Ok, "inspection"),
        ["past its service life (from production)"] = new(new(365, 12), "2026-11-10", "2026-11-01", "2027-10-30", "2027-11-02", ServiceStatus.Expired, "service-life"),
        ["pressure test from production"] = new(new(null, null, 6), "2026-11-10", "2026-11-01", null, "2027-05-02", ServiceStatus.Overdue, "pressure-test"),
        ["no terms: never due"] = new(new(), "2026-11-10", null, null, "2036-11-10", ServiceStatus.Ok, null),
    };

    public static TheoryData<string> DueNames() => [.. Dues.Keys];

    [Theory]
    [MemberData(nameof(DueNames))]
    public void DueDatesAndStatus(string name)
    {
        var r = Dues[name];
        static DateTimeOffset D(string s) => DateTimeOffset.Parse(s + "T00:00:00Z");
        var due = DueDates.Of(r.Terms, D(r.Installed), r.Produced is null ? null : D(r.Produced), r.LastInspection is null ? null : D(r.LastInspection), null);
        var now = D(r.Now);
        var (status, _, kind) = ServiceStatus.Of(due, now, now.AddDays(30));
        status.Should().Be(r.Status);
        kind.Should().Be(r.Kind);
    }
}
