using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Lifecycle;

/// <summary>
/// The lifecycle step of the capture pipeline (after custody, which has already written the units). For each new event:
/// <list type="number">
/// <item>a rule change (an event carrying <c>trace:controlRules</c> and its SHA-256) by the product's owner is recorded
/// as a new version of that product's rules, numbered by the event's sequence and in force from its eventTime;</item>
/// <item>the control points in force at the event's time are checked (<see cref="ControlRules.Decide"/>, pure);</item>
/// <item>installing, inspecting and repairing events on installed units keep their service record and due dates.</item>
/// </list>
/// Rule versions of the document's products are read once per capture (<see cref="ProductRuleSets"/>, shared with the
/// custody step, which applies the hold rule); history only when a rule of the event's step asks.
/// </summary>
public sealed class ControlPointStep(ProductRuleSets ruleSets) : ICaptureStep
{
    public const string Namespace = CustodyStep.RecallNamespace;
    public const string RulesField = "{" + Namespace + "}controlRules";
    public const string HashField = "{" + Namespace + "}controlRulesSha256";
    /// <summary>The business step of a rule change: a user vocabulary word (CBV has none for configuring a process).</summary>
    public const string RuleChangeStep = Namespace + "bizstep/rule_change";

    private readonly Dictionary<string, (string? Owner, ServiceTerms? Terms)> _products = new(StringComparer.Ordinal);

    public async ValueTask BeginAsync(CaptureContext context, IReadOnlyList<ValidatedEvent> events, CancellationToken ct)
    {
        var gtins = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in events)
            foreach (var (epc, _) in v.Identifiers)
                if (Gs1Key.GtinOf(epc) is { } g) gtins.Add(g);
        await ruleSets.BeginAsync(context, gtins, ct);
    }

    public async ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
    {
        var v = appended.Validated;
        var e = v.Event;
        if (e.Extensions.Any(x => x.Name == RulesField))
        {
            await RecordRulesAsync(context, appended, ct);
            return;
        }

        var bizStep = CbvVocabulary.BizStepName(e.BizStep);
        if (ruleSets.AnyVersions) // most captures have no product with rules to check
        {
            var inForce = new Dictionary<string, RuleSetVersion>(StringComparer.Ordinal);
            foreach (var (epc, _) in v.Identifiers)
                if (Gs1Key.GtinOf(epc) is { } g && !inForce.ContainsKey(g) && await ruleSets.VersionsAsync(context, g, ct) is { Count: > 0 } versions
                    && ControlRules.InForce(versions, e.EventTime) is { } set && ControlRules.AppliesTo(set, bizStep))
                    inForce[g] = set;
            if (inForce.Count > 0) await CheckAsync(context, appended, bizStep, inForce, ct);
        }

        if (bizStep is "installing" or "inspecting" or "repairing" && !Refused(context, v.Index))
            await ServiceAsync(context, appended, bizStep, ct);
    }

    private static bool Refused(CaptureContext context, int index) => context.Violations.Any(x => x.Index == index);

    // ---- rule changes ------------------------------------------------------------------------------------------------

    private async Task RecordRulesAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
    {
        var v = appended.Validated;
        var e = v.Event;
        void Refuse(string field, string message) => context.Violations.Add(new FieldError(field, message, v.Index, "control-rules", e.QuantityList.FirstOrDefault()?.EpcClass ?? ""));

        var json = e.Extensions.First(x => x.Name == RulesField).Value;
        var hash = e.Extensions.FirstOrDefault(x => x.Name == HashField)?.Value;
        var gtin = e.QuantityList.Count == 1 ? Gs1Key.GtinOf(e.QuantityList[0].EpcClassDigitalLink) : null;
        if (gtin is null) { Refuse("quantityList", "A rule change names its product by one GTIN class in quantityList."); return; }
        var (owner, _) = await ProductAsync(context, gtin, ct);
        if (owner is null && !_products.ContainsKey(gtin)) { Refuse("quantityList", $"GTIN {gtin} is not in the master data."); return; }
        if (context.Caller.Role != MemberRole.Admin && owner != context.Caller.MemberId)
        {
            Refuse("quantityList", $"Only the owner of GTIN {gtin} sets its rules.");
            return;
        }
        IReadOnlyList<ControlRule> rules;
        try { rules = ControlRules.Parse(json); }
        catch (System.Text.Json.JsonException) { Refuse(RulesField, "trace:controlRules is not a JSON list of rules."); return; }
        var errors = ControlRules.Validate(rules);
        if (errors.Count > 0) { Refuse(errors[0].Field, errors[0].Message); return; }
        var canonical = ControlRules.CanonicalJson(ControlRules.Normalise(rules));
        if (canonical != json) { Refuse(RulesField, "trace:controlRules is not in canonical form (as PUT /api/v1/products/{gtin}/rules writes it)."); return; }
        var sha = ControlRules.Sha256(canonical);
        if (hash != sha) { Refuse(HashField, $"trace:controlRulesSha256 must be the SHA-256 of trace:controlRules ({sha})."); return; }

        await context.ExecAsync("INSERT INTO control_rule_sets (gtin, version, effective_from, rules_json, sha256, member_id) VALUES (@g, @v, @f, @j, @h, @m)", ct,
            ("@g", gtin), ("@v", appended.Sequence), ("@f", DbTime.Format(e.EventTime)), ("@j", canonical), ("@h", sha), ("@m", context.Caller.MemberId));
        ruleSets.Add(new RuleSetVersion(gtin, appended.Sequence, e.EventTime, ControlRules.Normalise(rules), sha));
    }

    // ---- control points ------------------------------------------------------------------------------------------

    private static async Task CheckAsync(CaptureContext context, AppendedEvent appended, string? bizStep, Dictionary<string, RuleSetVersion> inForce, CancellationToken ct)
    {
        var v = appended.Validated;
        var e = v.Event;
        var needsLots = inForce.Values.Any(s => s.Rules.Any(r => r.Step == bizStep && r.Kind == ControlRules.Requires && r.Scope == "lot"));
        var needsUnits = inForce.Values.Any(s => s.Rules.Any(r => r.Step == bizStep && r.Kind == ControlRules.Requires && r.Scope != "lot"));

        var subjects = new List<ControlSubject>();
        foreach (var (epc, role) in v.Identifiers)
        {
            if (role is not (EpcRoles.Epc or EpcRoles.Child or EpcRoles.Input)) continue;
            var key = Gs1Key.Parse(epc);
            if (key.Gtin is null || !inForce.ContainsKey(key.Gtin)) continue;
            if (key.IsLgtin) { subjects.Add(new ControlSubject(epc, key.Gtin, key.Lot, IsClass: true)); continue; }
            var lot = e.LotNumber;
            if (needsLots)
                lot = (await context.ListAsync("SELECT lot FROM units WHERE epc = @e", r => r.Str(0), ct, ("@e", epc))).FirstOrDefault() ?? lot;
            subjects.Add(new ControlSubject(epc, key.Gtin, lot));
        }

        var past = new HashSet<PastStep>();
        var at = DbTime.Format(e.EventTime);
        if (needsUnits)
            foreach (var s in subjects.Where(s => !s.IsClass))
                foreach (var (step, disposition) in await context.ListAsync(
                             "SELECT e.biz_step, e.disposition FROM event_epcs x JOIN events e ON e.sequence = x.sequence WHERE x.epc = @k AND e.sequence < @s AND e.event_time <= @t",
                             r => (r.Str(0), r.Str(1)), ct, ("@k", s.Epc), ("@s", appended.Sequence), ("@t", at)))
                    Add(past, s.UnitKey, step, disposition);
        if (needsLots)
            foreach (var s in subjects.Where(s => s.Lot is not null).DistinctBy(s => s.LotKey))
                foreach (var (step, disposition) in await context.ListAsync(
                             "SELECT e.biz_step, e.disposition FROM event_lots l JOIN events e ON e.sequence = l.sequence WHERE l.gtin = @g AND l.lot = @l AND e.sequence < @s AND e.event_time <= @t",
                             r => (r.Str(0), r.Str(1)), ct, ("@g", s.Gtin), ("@l", s.Lot), ("@s", appended.Sequence), ("@t", at)))
                    Add(past, s.LotKey!, step, disposition);

        var control = new ControlEvent(bizStep, ValuesOf(e), subjects);
        foreach (var x in ControlRules.Decide(inForce, control, past))
            context.Violations.Add(new FieldError(x.Field, x.Message, v.Index, x.RuleAndVersion, x.Epc));
    }

    private static void Add(HashSet<PastStep> past, string key, string? bizStep, string? disposition)
    {
        if (CbvVocabulary.BizStepName(bizStep) is { } step) past.Add(new PastStep(key, step, CbvVocabulary.ShortName(disposition, "Disp-")));
    }

    /// <summary>The event's ILMD, extension and sensor values by field key (ilmd.NAME, extension.NAME, sensor.TYPE; names without namespace).</summary>
    public static Dictionary<string, IReadOnlyList<string>> ValuesOf(EpcisEvent e)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string key, string? value)
        {
            if (value is null) return;
            if (!values.TryGetValue(key, out var list)) values[key] = list = [];
            list.Add(value);
        }
        foreach (var (name, value) in e.Ilmd) Add("ilmd." + ControlRules.LocalName(name), value);
        foreach (var x in e.Extensions) Add("extension." + x.LocalName, x.Value);
        foreach (var sensor in e.SensorElements)
            foreach (var report in sensor.Reports)
                if (report["type"] is { } type) Add("sensor." + ControlRules.LocalName(type), report["value"]);
        return values.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal);
    }

    // ---- after-sales service -----------------------------------------------------------------------------------------

    private async Task ServiceAsync(CaptureContext context, AppendedEvent appended, string bizStep, CancellationToken ct)
    {
        var v = appended.Validated;
        var e = v.Event;
        foreach (var (epc, role) in v.Identifiers)
        {
            if (role != EpcRoles.Epc || !Gs1Key.Parse(epc).IsSgtin) continue;
            var unit = (await context.ListAsync("SELECT status, holder_member_id, gtin, lot, location_id, region_code, commissioned_sequence FROM units WHERE epc = @e",
                r => (Status: r.GetString(0), Holder: r.Str(1), Gtin: r.Str(2), Lot: r.Str(3), Location: r.Str(4), Region: r.Str(5), Commissioned: r.Long(6)), ct, ("@e", epc)))
                .Cast<(string Status, string? Holder, string? Gtin, string? Lot, string? Location, string? Region, long? Commissioned)?>().FirstOrDefault();
            if (unit is not { Status: UnitStatus.Installed } u || u.Gtin is null) continue; // service records are kept for installed units only
            var (owner, terms) = await ProductAsync(context, u.Gtin, ct);
            var record = await RecordAsync(context, epc, ct);

            if (bizStep == "installing")
            {
                DateTimeOffset? produced = u.Commissioned is { } c
                    ? (await context.ListAsync("SELECT event_time FROM events WHERE sequence = @s", r => DbTime.Parse(r.GetString(0)), ct, ("@s", c))).FirstOrDefault()
                    : null;
                if (produced == default(DateTimeOffset)) produced = null;
                var due = DueDates.Of(terms, e.EventTime, produced, record?.LastInspection, record?.LastRepair);
                await context.ExecAsync(
                    "INSERT INTO service_units (epc, gtin, lot, site_id, region_code, installer_member_id, installed_at, installed_sequence, produced_at, " +
                    "inspection_due, pressure_test_due, service_life_ends, updated_at) VALUES (@e, @g, @l, @site, @rg, @by, @at, @s, @p, @id, @pd, @le, @u) " +
                    "ON CONFLICT (epc) DO UPDATE SET site_id = excluded.site_id, region_code = excluded.region_code, installer_member_id = excluded.installer_member_id, " +
                    "installed_at = excluded.installed_at, installed_sequence = excluded.installed_sequence, inspection_due = excluded.inspection_due, " +
                    "pressure_test_due = excluded.pressure_test_due, service_life_ends = excluded.service_life_ends, updated_at = excluded.updated_at", ct,
                    ("@e", epc), ("@g", u.Gtin), ("@l", u.Lot), ("@site", u.Location), ("@rg", u.Region), ("@by", context.Caller.MemberId),
                    ("@at", DbTime.Format(e.EventTime)), ("@s", appended.Sequence), ("@p", produced is { } pt ? DbTime.Format(pt) : null),
                    ("@id", Fmt(due.Inspection)), ("@pd", Fmt(due.PressureTest)), ("@le", Fmt(due.ServiceLifeEnds)), ("@u", DbTime.Format(context.RecordTime)));
                continue;
            }
            if (record is null) continue;
            var mayService = context.Caller.SeesEverything || context.Caller.Role == MemberRole.Service || u.Holder == context.Caller.MemberId || owner == context.Caller.MemberId;
            if (!mayService)
            {
                context.Violations.Add(new FieldError("epcList", $"Only a service member, the holder, the product's owner or a regulator records the {bizStep} of installed unit {epc}.",
                    v.Index, "service-not-allowed", epc));
                continue;
            }
            // A later record never moves the dates back: an event reported late (earlier eventTime) does not undo a newer one.
            var disposition = CbvVocabulary.ShortName(e.Disposition, "Disp-");
            if (bizStep == "inspecting" && (record.LastInspection is null || e.EventTime >= record.LastInspection))
            {
                var due = DueDates.Of(terms, record.InstalledAt, record.Produced, e.EventTime, record.LastRepair);
                await context.ExecAsync("UPDATE service_units SET last_inspection_at = @at, last_inspection_result = @d, last_inspection_sequence = @s, inspection_due = @id, updated_at = @u WHERE epc = @e", ct,
                    ("@at", DbTime.Format(e.EventTime)), ("@d", disposition), ("@s", appended.Sequence), ("@id", Fmt(due.Inspection)), ("@u", DbTime.Format(context.RecordTime)), ("@e", epc));
            }
            else if (bizStep == "repairing" && (record.LastRepair is null || e.EventTime >= record.LastRepair))
            {
                var due = DueDates.Of(terms, record.InstalledAt, record.Produced, record.LastInspection, e.EventTime);
                await context.ExecAsync("UPDATE service_units SET last_repair_at = @at, last_repair_sequence = @s, pressure_test_due = @pd, updated_at = @u WHERE epc = @e", ct,
                    ("@at", DbTime.Format(e.EventTime)), ("@s", appended.Sequence), ("@pd", Fmt(due.PressureTest)), ("@u", DbTime.Format(context.RecordTime)), ("@e", epc));
            }
        }
    }

    private sealed record ServiceRow(DateTimeOffset InstalledAt, DateTimeOffset? Produced, DateTimeOffset? LastInspection, DateTimeOffset? LastRepair);

    private static async Task<ServiceRow?> RecordAsync(CaptureContext context, string epc, CancellationToken ct) =>
        (await context.ListAsync("SELECT installed_at, produced_at, last_inspection_at, last_repair_at FROM service_units WHERE epc = @e",
            r => new ServiceRow(DbTime.Parse(r.GetString(0)), Time(r.Str(1)), Time(r.Str(2)), Time(r.Str(3))), ct, ("@e", epc))).FirstOrDefault();

    private static DateTimeOffset? Time(string? text) => text is null ? null : DbTime.Parse(text);

    private static string? Fmt(DateTimeOffset? t) => t is { } x ? DbTime.Format(x) : null;

    /// <summary>A product's owner and service terms (cached for the capture); (null, null) when the GTIN is not in the master data.</summary>
    private async Task<(string? Owner, ServiceTerms? Terms)> ProductAsync(CaptureContext context, string gtin, CancellationToken ct)
    {
        if (_products.TryGetValue(gtin, out var known)) return known;
        var rows = await context.ListAsync("SELECT owner_member_id, service_json FROM products WHERE gtin = @g", r => (r.Str(0), r.Str(1)), ct, ("@g", gtin));
        if (rows.Count == 0) return (null, null);
        return _products[gtin] = (rows[0].Item1, ServiceTerms.FromJson(rows[0].Item2));
    }

    public ValueTask CompleteAsync(CaptureContext context, CancellationToken ct)
    {
        ruleSets.Clear();
        _products.Clear();
        return ValueTask.CompletedTask;
    }
}
