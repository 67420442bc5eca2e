using Traceability.Api.Domain;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Tracing;

/// <summary>
/// The custody step of the capture pipeline. For each new event: load the facts (<see cref="UnitStore"/>), decide by the
/// custody rules (<see cref="CustodyRules"/>, pure), then either report the broken rules or write what the event does,
/// raise the hold and recall alerts, and record who took part and which lots moved; all in the capture's transaction.
/// <para>
/// What is tracked: every unit commissioned through this ledger, and every container packed here. The rules apply to
/// tracked units, and to SGTINs of products in the master data that were never commissioned ("a unit not commissioned
/// cannot move"). EPCs of products the consortium does not know (the GS1 example documents) pass untracked.
/// </para>
/// <para>
/// An inspection is judged by the hold rule of each product in force at its eventTime (<see cref="IHoldRules"/>, kept
/// with the products' control points); without that source (a pipeline built by hand) every product has the default rule.
/// </para>
/// </summary>
public sealed class CustodyStep(IHoldRules? holdRules = null, UnitStore? store = null) : ICaptureStep
{
    public const string RecallNamespace = "https://traceability.example/epcis/";

    private readonly UnitStore _store = store ?? new UnitStore();
    private readonly Dictionary<string, RecallRecord> _recalls = new(StringComparer.Ordinal);

    /// <summary>A recall recorded by this capture (one recall may span several events).</summary>
    private sealed class RecallRecord
    {
        public required string Reason { get; init; }
        public string? Gtin { get; set; }
        public string? Lot { get; set; }
        public long First { get; set; } = long.MaxValue;
        public long Last { get; set; }
        public int Units { get; set; }
    }

    public async ValueTask BeginAsync(CaptureContext context, IReadOnlyList<ValidatedEvent> events, CancellationToken ct) =>
        await _store.BeginAsync(context, events, ct);

    public async ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
    {
        var e = appended.Validated.Event;
        var identifiers = appended.Validated.Identifiers;
        var custody = CustodyEvent.Of(e, appended.Sequence, identifiers,
            await HoldRulesAsync(context, e, identifiers.Select(i => Gs1Key.GtinOf(i.Epc)), ct));
        var facts = await _store.LoadFactsAsync(context, custody, e.Destinations, ct);
        // an inspection's lots (of the units it names, what is inside them, the classes) are each judged by their product's rule
        if (custody.Kind == EventKind.Inspect
            && await HoldRulesAsync(context, e, facts.Units.Values.Select(u => u.Gtin).Concat(custody.AllClasses.Select(q => q.Gtin)), ct) is { } rules)
            facts = facts with { HoldRules = rules };
        var outcome = CustodyRules.Decide(custody, facts);
        if (outcome.Refused)
        {
            foreach (var v in outcome.Violations) context.Violations.Add(new FieldError(v.Field, v.Message, appended.Validated.Index, v.Rule, v.Epc));
            return;
        }

        foreach (var (hold, units) in await _store.WriteAsync(context, custody, e.EventTime, outcome, facts.Units, ct))
            await AlertWriter.RaiseAsync(context.Connection, context.Transaction, AlertTypes.Hold, hold.Epc, hold.Gtin, hold.Lot,
                new { sequence = custody.Sequence, disposition = hold.Disposition, inspectedBy = context.Caller.MemberId, units },
                context.RecordTime, $"hold:{hold.Gtin}:{hold.Lot}:{custody.Sequence}", ct);
        if (custody.Kind == EventKind.Recall) await RecallAsync(context, e, custody.Sequence, outcome, ct);

        var gtins = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (epc, _) in appended.Validated.Identifiers)
            if (Gs1Key.GtinOf(epc) is { } g) gtins.Add(g);
        foreach (var list in (IReadOnlyList<QuantityElement>[])[e.QuantityList, e.ChildQuantityList, e.InputQuantityList, e.OutputQuantityList])
            foreach (var q in list)
            if (Gs1Key.GtinOf(q.EpcClassDigitalLink) is { } g) gtins.Add(g);
        foreach (var u in outcome.Units)
            if (u.Gtin is not null) gtins.Add(u.Gtin);
        await _store.RecordPartiesAsync(context, e, custody.Sequence, gtins, ct);
        await UnitStore.RecordLotsAsync(context, custody.Sequence, LotQuantities(custody, outcome), ct);
    }

    /// <summary>The hold rules in force at an inspection's time of these products; null for other events (they need none) or without a source.</summary>
    private async Task<Dictionary<string, HoldRule>?> HoldRulesAsync(CaptureContext context, EpcisEvent e, IEnumerable<string?> gtins, CancellationToken ct)
    {
        if (holdRules is null || e.Disposition is null || CbvVocabulary.ShortName(e.BizStep, "BizStep-") != HoldRule.Step) return null;
        var rules = new Dictionary<string, HoldRule>(StringComparer.Ordinal);
        foreach (var gtin in gtins)
            if (gtin is not null && !rules.ContainsKey(gtin)) rules[gtin] = await holdRules.InForceAsync(context, gtin, e.EventTime, ct);
        return rules;
    }

    /// <summary>Units of each lot the event moved: its items, and the quantities of its quantity lists.</summary>
    private static Dictionary<(string Gtin, string Lot), long> LotQuantities(CustodyEvent e, CustodyOutcome outcome)
    {
        var counts = new Dictionary<(string Gtin, string Lot), long>();
        foreach (var u in outcome.Units)
            if (u.IsItem && u.Lot is not null) counts[(u.Gtin!, u.Lot)] = counts.GetValueOrDefault((u.Gtin!, u.Lot)) + 1;
        foreach (var q in e.AllClasses)
            if (q.Quantity is { } n) counts[(q.Gtin, q.Lot)] = counts.GetValueOrDefault((q.Gtin, q.Lot)) + n;
        return counts;
    }

    /// <summary>A recall alert per lot, holder and region; the recall record when the event names a recall (by a manufacturer or regulator).</summary>
    private async Task RecallAsync(CaptureContext context, Ledger.Epcis.EpcisEvent e, long sequence, CustodyOutcome outcome, CancellationToken ct)
    {
        var recallId = e.Extensions.FirstOrDefault(x => x.Name == "{" + RecallNamespace + "}recallId")?.Value;
        var reason = e.Extensions.FirstOrDefault(x => x.Name == "{" + RecallNamespace + "}reason")?.Value ?? "";
        var items = outcome.Units.Where(u => u.IsItem).ToList();
        if (recallId is not null && !(context.Caller.SeesEverything || context.Caller.Role == MemberRole.Manufacturer)) recallId = null;
        if (recallId is not null)
        {
            if (!_recalls.TryGetValue(recallId, out var record)) _recalls[recallId] = record = new RecallRecord { Reason = reason };
            record.First = Math.Min(record.First, sequence);
            record.Last = Math.Max(record.Last, sequence);
            record.Units += items.Count;
            record.Gtin ??= items.FirstOrDefault()?.Gtin;
            record.Lot ??= items.FirstOrDefault()?.Lot;
        }
        foreach (var g in items.GroupBy(u => (u.Gtin, u.Lot, u.HolderMemberId, u.RegionCode)))
        {
            await AlertWriter.RaiseAsync(context.Connection, context.Transaction, AlertTypes.Recall, g.Count() == 1 ? g.First().Epc : null, g.Key.Gtin, g.Key.Lot,
                new { sequence, recallId, reason, holderMemberId = g.Key.HolderMemberId, regionCode = g.Key.RegionCode, units = g.Count() },
                context.RecordTime, $"recall:{sequence}:{g.Key.Gtin}:{g.Key.Lot}:{g.Key.HolderMemberId}:{g.Key.RegionCode}", ct);
        }
    }

    public async ValueTask CompleteAsync(CaptureContext context, CancellationToken ct)
    {
        if (context.Violations.Count == 0)
            foreach (var (id, r) in _recalls)
                if (r.Gtin is not null && r.Lot is not null)
                    await UnitStore.WriteRecallAsync(context, id, r.Gtin, r.Lot, r.Reason, r.First, r.Last, r.Units, ct);
        _recalls.Clear();
        _store.Complete();
    }
}
