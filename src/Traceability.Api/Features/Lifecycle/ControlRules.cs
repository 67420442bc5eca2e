using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Lifecycle;

/// <summary>
/// One control point a manufacturer sets on its product. <see cref="Kind"/> <c>requires</c>: an event at
/// <see cref="Step"/> needs an earlier event at <see cref="After"/> (with <see cref="Disposition"/> when given) on the
/// same unit or, with <see cref="Scope"/> <c>lot</c>, on any unit or class of its lot. <c>field</c>: an event at
/// <see cref="Step"/> carries <see cref="Field"/> (<c>ilmd.NAME</c>, <c>extension.NAME</c> or <c>sensor.TYPE</c>, names
/// compared without their namespace), within <see cref="Min"/>..<see cref="Max"/> when given. <c>hold</c> (at most one
/// per set): an inspection whose disposition is one of <see cref="HoldDispositions"/> puts the lot on hold, one of
/// <see cref="ReleaseDispositions"/> releases it (<see cref="HoldRule"/>; a set without one keeps the default).
/// </summary>
public sealed record ControlRule(string? Name, string? Kind, string? Step, string? After = null, string? Disposition = null, string? Scope = null,
    string? Field = null, double? Min = null, double? Max = null, IReadOnlyList<string>? HoldDispositions = null, IReadOnlyList<string>? ReleaseDispositions = null);

/// <summary>A version of a product's rules: the sequence of the event that recorded it, in force from that event's time.</summary>
public sealed record RuleSetVersion(string Gtin, long Version, DateTimeOffset EffectiveFrom, IReadOnlyList<ControlRule> Rules, string Sha256);

/// <summary>What an event shows the control points: its step, the values of its fields, and the units and lots it names.</summary>
public sealed record ControlEvent(string? BizStep, IReadOnlyDictionary<string, IReadOnlyList<string>> Values, IReadOnlyList<ControlSubject> Subjects);

/// <summary>A unit (or a lot named by class, <see cref="Epc"/> its LGTIN) of a product, with its lot when known.</summary>
public sealed record ControlSubject(string Epc, string Gtin, string? Lot, bool IsClass = false)
{
    public string UnitKey => Epc;
    public string? LotKey => Lot is null ? null : LotKeyOf(Gtin, Lot);
    public static string LotKeyOf(string gtin, string lot) => $"lot:{gtin}:{lot}";
}

/// <summary>An earlier event on a unit or lot (the key of <see cref="ControlSubject"/>): its step and disposition, short names.</summary>
public sealed record PastStep(string Key, string Step, string? Disposition);

/// <summary>A broken control point: the rule, its version, the EPC at fault, the field, and a message naming them.</summary>
public sealed record ControlViolation(string Rule, long Version, string Epc, string Field, string Message)
{
    /// <summary>How a refused capture names it: <c>name@version</c>.</summary>
    public string RuleAndVersion => $"{Rule}@{Version}";
}

/// <summary>
/// The control-point rules as data: validation of a rule set, its canonical JSON and hash, and <see cref="Decide"/>, a
/// pure function from the rule sets in force at the event's time, the event and what happened before to the broken rules.
/// The hold rule (which inspection dispositions hold the lot and which release it) is data too, but the custody rules
/// apply it (<see cref="HoldRuleInForce"/> gives it them); a product without its own has the default set
/// (<see cref="Defaults"/>: non_conformant or damaged holds, conformant releases).
/// </summary>
public static partial class ControlRules
{
    public const string Requires = "requires";
    public const string FieldKind = "field";
    public const string HoldKind = "hold";
    public const int MaxRules = 50;
    public const int MaxNameLength = 64;
    public const int MaxFieldLength = 128;
    public const int MaxDispositions = 20;
    public const int MaxDispositionLength = 256;

    /// <summary>The default rule set: what a product without its own rules is judged by (and a version without a hold rule keeps).</summary>
    public static readonly IReadOnlyList<ControlRule> Defaults =
    [
        new(HoldRule.Default.Name, HoldKind, HoldRule.Step, Scope: "lot", HoldDispositions: HoldRule.Default.HoldDispositions,
            ReleaseDispositions: HoldRule.Default.ReleaseDispositions),
    ];

    [GeneratedRegex(@"^[a-z0-9][a-z0-9-]*\z")] private static partial Regex NamePattern();
    [GeneratedRegex(@"^(ilmd|extension|sensor)\.[A-Za-z_][A-Za-z0-9_.:-]*\z")] private static partial Regex FieldPattern();

    private static readonly JsonSerializerOptions Canonical = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Every error of a rule set, each naming its field (rules[i].x); an empty list is a valid rule set (no rules).</summary>
    public static List<FieldError> Validate(IReadOnlyList<ControlRule>? rules)
    {
        var errors = new List<FieldError>();
        if (rules is null) { errors.Add(new("rules", "rules is required (an empty list removes every rule).")); return errors; }
        if (rules.Count > MaxRules) { errors.Add(new("rules", $"at most {MaxRules} rules.")); return errors; }
        var names = new HashSet<string>(StringComparer.Ordinal);
        var holdRules = 0;
        for (var i = 0; i < rules.Count; i++)
        {
            var r = rules[i];
            var at = $"rules[{i}]";
            if (r is null) { errors.Add(new(at, "a rule is an object.")); continue; }
            if (r.Name is null || r.Name.Length > MaxNameLength || !NamePattern().IsMatch(r.Name))
                errors.Add(new($"{at}.name", $"name is 1 to {MaxNameLength} characters a-z, 0-9 and '-'."));
            else if (!names.Add(r.Name)) errors.Add(new($"{at}.name", $"'{r.Name}' names two rules."));
            if (r.Kind == HoldKind)
            {
                if (r.Step is not (null or HoldRule.Step)) errors.Add(new($"{at}.step", $"a hold rule judges inspections: its step is {HoldRule.Step}."));
            }
            else if (!IsBizStep(r.Step)) errors.Add(new($"{at}.step", "step must be a CBV 2.0 business step (e.g. shipping)."));
            if (r.Disposition is not null && !CbvVocabulary.Dispositions.Contains(r.Disposition))
                errors.Add(new($"{at}.disposition", "disposition must be a CBV 2.0 disposition (e.g. conformant)."));
            if (r.Kind != HoldKind && (r.HoldDispositions is not null || r.ReleaseDispositions is not null))
                errors.Add(new($"{at}.holdDispositions", "only a hold rule has holdDispositions and releaseDispositions."));
            switch (r.Kind)
            {
                case HoldKind:
                    if (++holdRules > 1) errors.Add(new($"{at}.kind", "a rule set has at most one hold rule."));
                    if (r.After is not null || r.Disposition is not null || r.Field is not null || r.Min is not null || r.Max is not null)
                        errors.Add(new($"{at}.disposition", "a hold rule names holdDispositions and releaseDispositions (no after, disposition, field, min or max)."));
                    if (r.Scope is not (null or "lot")) errors.Add(new($"{at}.scope", "a hold rule's scope is lot: a hold holds every unit of the lot."));
                    var hold = Dispositions(r.HoldDispositions, $"{at}.holdDispositions", errors);
                    var release = Dispositions(r.ReleaseDispositions, $"{at}.releaseDispositions", errors);
                    if (hold.Intersect(release, StringComparer.Ordinal).FirstOrDefault() is { } both)
                        errors.Add(new($"{at}.releaseDispositions", $"'{both}' cannot both hold and release."));
                    break;
                case Requires:
                    if (!IsBizStep(r.After)) errors.Add(new($"{at}.after", "after must be a CBV 2.0 business step (e.g. inspecting)."));
                    if (r.Scope is not (null or "unit" or "lot")) errors.Add(new($"{at}.scope", "scope must be unit or lot."));
                    if (r.Field is not null || r.Min is not null || r.Max is not null) errors.Add(new($"{at}.field", "a requires rule has no field, min or max."));
                    break;
                case FieldKind:
                    if (r.Field is null || r.Field.Length > MaxFieldLength || !FieldPattern().IsMatch(r.Field))
                        errors.Add(new($"{at}.field", "field must be ilmd.NAME, extension.NAME or sensor.TYPE (e.g. ilmd.productionLine, sensor.Temperature)."));
                    if (r.Min is { } min && r.Max is { } max && min > max) errors.Add(new($"{at}.min", "min is greater than max."));
                    if ((r.Min is { } a && !double.IsFinite(a)) || (r.Max is { } b && !double.IsFinite(b))) errors.Add(new($"{at}.min", "min and max are finite numbers."));
                    if (r.After is not null || r.Scope is not null || r.Disposition is not null)
                        errors.Add(new($"{at}.after", "a field rule has no after, scope or disposition."));
                    break;
                default:
                    errors.Add(new($"{at}.kind", "kind must be requires, field or hold."));
                    break;
            }
        }
        return errors;
    }

    /// <summary>A hold rule's list of dispositions, normalised; each error names the list or the entry.</summary>
    private static List<string> Dispositions(IReadOnlyList<string>? list, string field, List<FieldError> errors)
    {
        var normalised = new List<string>();
        if (list is null || list.Count == 0 || list.Count > MaxDispositions)
        {
            errors.Add(new(field, $"{field[(field.LastIndexOf('.') + 1)..]} lists 1 to {MaxDispositions} dispositions."));
            return normalised;
        }
        for (var j = 0; j < list.Count; j++)
        {
            var d = list[j];
            if (string.IsNullOrWhiteSpace(d) || d.Length > MaxDispositionLength)
            {
                errors.Add(new($"{field}[{j}]", $"a disposition is a CBV 2.0 word or a URI of at most {MaxDispositionLength} characters."));
                continue;
            }
            var full = CbvVocabulary.ExpandDisposition(d);
            if (CbvVocabularyCheck.Check(full, "Disp-", CbvVocabulary.Dispositions, "disposition") is { } error) { errors.Add(new($"{field}[{j}]", error)); continue; }
            var word = NormaliseDisposition(d);
            if (word == "recalled") errors.Add(new($"{field}[{j}]", "recalled records a recall, not a quality hold."));
            else if (normalised.Contains(word)) errors.Add(new($"{field}[{j}]", $"'{word}' is listed twice."));
            else normalised.Add(word);
        }
        return normalised;
    }

    /// <summary>A disposition as an event carries it for the rules: a CBV word bare (non_conformant), any other URI as it is.</summary>
    public static string NormaliseDisposition(string disposition) => CbvVocabulary.ShortName(CbvVocabulary.ExpandDisposition(disposition), "Disp-")!;

    private static bool IsBizStep(string? step) => step is not null && CbvVocabulary.BizSteps.Contains(step);

    /// <summary>The rules as stored and hashed: defaults written out (scope unit; a hold rule's step and scope), dispositions as events carry them.</summary>
    public static IReadOnlyList<ControlRule> Normalise(IReadOnlyList<ControlRule> rules) =>
        rules.Select(r => r.Kind switch
        {
            Requires => r with { Scope = r.Scope ?? "unit" },
            HoldKind => r with
            {
                Step = r.Step ?? HoldRule.Step, Scope = r.Scope ?? "lot",
                HoldDispositions = r.HoldDispositions?.Select(NormaliseDisposition).ToList(),
                ReleaseDispositions = r.ReleaseDispositions?.Select(NormaliseDisposition).ToList(),
            },
            _ => r,
        }).ToList();

    /// <summary>The canonical JSON of a (normalised) rule set: camelCase, no nulls, in the order given.</summary>
    public static string CanonicalJson(IReadOnlyList<ControlRule> rules) => JsonSerializer.Serialize(rules, Canonical);

    public static string Sha256(string canonicalJson) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJson)));

    public static IReadOnlyList<ControlRule> Parse(string canonicalJson) =>
        JsonSerializer.Deserialize<List<ControlRule>>(canonicalJson, Canonical) ?? [];

    /// <summary>The version of a product's rules in force at <paramref name="at"/>: the latest that took effect at or before it, else none.</summary>
    public static RuleSetVersion? InForce(IEnumerable<RuleSetVersion> versions, DateTimeOffset at) =>
        versions.Where(v => v.EffectiveFrom <= at).MaxBy(v => (v.EffectiveFrom, v.Version));

    /// <summary>
    /// The hold rule a product is judged by at a time: that of the version in force then (its version number the
    /// version's), else, with no version or a version without one, the default (<see cref="HoldRule.Default"/>).
    /// </summary>
    public static HoldRule HoldRuleInForce(IEnumerable<RuleSetVersion> versions, DateTimeOffset at) =>
        InForce(versions, at) is { } set && set.Rules.FirstOrDefault(r => r.Kind == HoldKind) is { HoldDispositions: { } hold, ReleaseDispositions: { } release } rule
            ? new HoldRule(rule.Name!, set.Version, hold, release)
            : HoldRule.Default;

    /// <summary>The rules a product is judged by, from a version (null: none): its rules, and the default hold rule when it has none.</summary>
    public static IReadOnlyList<ControlRule> Effective(RuleSetVersion? set) =>
        set is null ? Defaults : set.Rules.Any(r => r.Kind == HoldKind) ? set.Rules : [.. set.Rules, .. Defaults];

    /// <summary>Whether any control point of the set applies to an event at this step (so the capture step loads history only then); the hold rule is the custody step's.</summary>
    public static bool AppliesTo(RuleSetVersion set, string? bizStep) => bizStep is not null && set.Rules.Any(r => r.Step == bizStep && r.Kind != HoldKind);

    /// <summary>
    /// The broken rules: for each product the event names, the rule set in force at its time (<paramref name="inForce"/>,
    /// by GTIN; a product without one has only the built-in rules), each rule of the event's step checked against the
    /// event and the earlier steps of its units and lots (<paramref name="past"/>).
    /// </summary>
    public static List<ControlViolation> Decide(IReadOnlyDictionary<string, RuleSetVersion> inForce, ControlEvent e, IReadOnlySet<PastStep> past)
    {
        var violations = new List<ControlViolation>();
        if (e.BizStep is null) return violations;
        foreach (var product in e.Subjects.GroupBy(s => s.Gtin))
        {
            if (!inForce.TryGetValue(product.Key, out var set)) continue;
            foreach (var rule in set.Rules)
            {
                if (rule.Step != e.BizStep || rule.Kind == HoldKind) continue; // the hold rule is applied by the custody rules
                var named = $"rule '{rule.Name}' (version {set.Version} of GTIN {set.Gtin}'s rules)";
                if (rule.Kind == FieldKind) { CheckField(rule, set, named, e, product.First(), violations); continue; }
                var byLot = rule.Scope == "lot";
                foreach (var s in product)
                {
                    if (s.IsClass && !byLot) continue; // a lot named by class has no unit history
                    var key = byLot ? s.LotKey : s.UnitKey;
                    var met = key is not null && past.Any(p => p.Key == key && p.Step == rule.After && (rule.Disposition is null || p.Disposition == rule.Disposition));
                    if (met) continue;
                    var what = rule.Disposition is null ? rule.After : $"{rule.After} with disposition {rule.Disposition}";
                    var whose = byLot ? s.Lot is null ? "its lot (unknown)" : $"its lot {s.Lot}" : "it";
                    violations.Add(new(rule.Name!, set.Version, s.Epc, s.IsClass ? "quantityList" : "epcList",
                        $"{s.Epc}: {named} requires a {what} event on {whose} before {rule.Step}."));
                }
            }
        }
        return violations;
    }

    private static void CheckField(ControlRule rule, RuleSetVersion set, string named, ControlEvent e, ControlSubject first, List<ControlViolation> violations)
    {
        var field = rule.Field!;
        if (!e.Values.TryGetValue(Key(field), out var values) || values.Count == 0)
        {
            violations.Add(new(rule.Name!, set.Version, first.Epc, field, $"{named} requires the field {field} on {rule.Step} events."));
            return;
        }
        if (rule.Min is null && rule.Max is null) return;
        foreach (var text in values)
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && (rule.Min is not { } min || v >= min) && (rule.Max is not { } max || v <= max))
                continue;
            var range = $"{(rule.Min is { } lo ? lo.ToString(CultureInfo.InvariantCulture) : "-∞")}..{(rule.Max is { } hi ? hi.ToString(CultureInfo.InvariantCulture) : "∞")}";
            violations.Add(new(rule.Name!, set.Version, first.Epc, field, $"{named} requires {field} within {range}; the event gives {Clip(text)}."));
            return;
        }
    }

    /// <summary>The lookup key of a field path: its part after the namespace prefix of the name ("ilmd.cbvmda:lotNumber" is "ilmd.lotNumber").</summary>
    public static string Key(string field)
    {
        var dot = field.IndexOf('.');
        return field[..(dot + 1)] + LocalName(field[(dot + 1)..]);
    }

    /// <summary>A name without its namespace: "{ns}x", "prefix:x", "https://…/x" all give "x".</summary>
    public static string LocalName(string name)
    {
        var i = Math.Max(name.LastIndexOf('}'), Math.Max(name.LastIndexOf(':'), Math.Max(name.LastIndexOf('/'), name.LastIndexOf('#'))));
        return i >= 0 && i < name.Length - 1 ? name[(i + 1)..] : name;
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
