using Traceability.Api.Domain;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Tracing;

/// <summary>
/// What each kind of event does to the units when it breaks no custody rule (the second column of
/// <see cref="CustodyRules.Table"/>). Pure: the units of the facts are copied before they change.
/// </summary>
public static class CustodyEffects
{
    public delegate void Effect(Changes changes);

    /// <summary>The units an event touched so far (copies of the facts' units, or new ones), and the outcome being built.</summary>
    public sealed class Changes(CustodyEvent e, CustodyFacts facts, CustodyOutcome outcome)
    {
        private readonly Dictionary<string, Unit> _touched = new(StringComparer.Ordinal);

        public CustodyEvent Event { get; } = e;
        public CustodyFacts Facts { get; } = facts;
        public CustodyOutcome Outcome { get; } = outcome;
        public string Caller => Facts.Caller.MemberId;

        /// <summary>The unit as this event leaves it (a copy, touched), or null when it does not exist.</summary>
        public Unit? Touch(string epc)
        {
            if (_touched.TryGetValue(epc, out var unit)) return unit;
            if (!Facts.Units.TryGetValue(epc, out var before)) return null;
            unit = before.Copy();
            _touched[epc] = unit;
            Outcome.Units.Add(unit);
            return unit;
        }

        public void Add(Unit unit)
        {
            _touched[unit.Epc] = unit;
            Outcome.Units.Add(unit);
        }

        public bool Touched(string epc) => _touched.ContainsKey(epc);

        /// <summary>The targets that exist and everything inside them, touched.</summary>
        public List<Unit> TargetsAndContents() =>
            Event.Targets.Concat(Facts.Contents).Distinct(StringComparer.Ordinal).Select(Touch).OfType<Unit>().ToList();
    }

    public static void Observe(Changes c)
    {
        foreach (var t in c.Event.Targets) c.Touch(t);
    }

    public static void Commission(Changes c) => CommissionUnits(c, c.Event.Targets);

    /// <summary>New units held by the caller where the event happened; a unit commissioned into a lot on quality hold starts on hold.</summary>
    private static void CommissionUnits(Changes c, IReadOnlyList<string> epcs)
    {
        var (e, f) = (c.Event, c.Facts);
        foreach (var epc in epcs)
        {
            if (c.Touch(epc) is not null || !Trackable(epc)) continue; // existing codes of unknown products: tracked as they are
            var key = Gs1Key.Parse(epc);
            var unit = new Unit
            {
                Epc = epc, Gtin = key.Gtin, Serial = key.Serial, Lot = e.Lot, Status = UnitStatus.Commissioned, HolderMemberId = c.Caller,
                LocationId = f.Location?.Id ?? e.Where, RegionCode = f.Location?.RegionCode, CommissionedSequence = e.Sequence,
            };
            if (unit.Gtin is not null && unit.Lot is not null && f.OpenHolds.ContainsKey((unit.Gtin, unit.Lot)))
            {
                unit.StatusBeforeHold = unit.Status;
                unit.Status = UnitStatus.OnHold;
            }
            c.Add(unit);
        }
    }

    /// <summary>A serialized GS1 unit (an SGTIN or other GTIN-based code) or container (an SSCC).</summary>
    public static bool Trackable(string epc) => Gs1Key.GtinOf(epc) is not null || epc.Contains("/00/", StringComparison.Ordinal);

    public static void Pack(Changes c)
    {
        var (e, f) = (c.Event, c.Facts);
        var parent = e.Parent!;
        if (c.Touch(parent) is null)
        {
            var key = Gs1Key.Parse(parent);
            var first = e.Children.Select(f.Units.GetValueOrDefault).FirstOrDefault(u => u is not null);
            c.Add(new Unit
            {
                Epc = parent, Gtin = key.Gtin, Serial = key.Serial, Status = UnitStatus.Commissioned, HolderMemberId = c.Caller,
                LocationId = f.Location?.Id ?? first?.LocationId ?? e.Where, RegionCode = f.Location?.RegionCode ?? first?.RegionCode,
            });
        }
        foreach (var child in e.Children)
        {
            if (c.Touch(child) is { } unit)
            {
                if (unit.ParentEpc != parent) unit.MoveTo(UnitStatus.Packed);
                unit.ParentEpc = parent;
            }
            c.Outcome.Packed.Add((child, parent));
        }
        foreach (var inside in f.Contents) c.Touch(inside);
    }

    public static void Unpack(Changes c)
    {
        var (e, f) = (c.Event, c.Facts);
        var parent = e.Parent!;
        var container = c.Touch(parent);
        var children = e.Children.Count > 0 ? e.Children : f.ParentChildren;
        foreach (var child in children)
        {
            if (c.Touch(child) is { } unit)
            {
                unit.ParentEpc = null;
                if (unit.Status == UnitStatus.Packed || unit.StatusBeforeHold == UnitStatus.Packed)
                {
                    // Out of a container nobody received yet, a unit is as commissioned; else it is at its holder.
                    var resumed = container?.Status == UnitStatus.Commissioned ? UnitStatus.Commissioned : UnitStatus.AtHolder;
                    if (unit.Status == UnitStatus.OnHold) unit.StatusBeforeHold = resumed;
                    else unit.Status = resumed;
                }
                unit.HolderMemberId = container?.HolderMemberId ?? unit.HolderMemberId;
                unit.LocationId = f.Location?.Id ?? container?.LocationId ?? unit.LocationId;
                unit.RegionCode = f.Location?.RegionCode ?? container?.RegionCode ?? unit.RegionCode;
            }
            c.Outcome.Unpacked.Add((child, parent));
        }
        foreach (var inside in f.Contents) c.Touch(inside);
    }

    public static void Ship(Changes c)
    {
        foreach (var unit in c.TargetsAndContents())
        {
            unit.MoveTo(UnitStatus.InTransit);
            if (c.Facts.Destination is { } to) unit.ShippedToMemberId = to;
        }
    }

    public static void Receive(Changes c)
    {
        var location = c.Facts.Location;
        foreach (var unit in c.TargetsAndContents())
        {
            unit.MoveTo(UnitStatus.AtHolder);
            unit.HolderMemberId = c.Caller;
            unit.LocationId = location?.Id ?? unit.LocationId;
            unit.RegionCode = location?.RegionCode ?? unit.RegionCode;
        }
    }

    public static void Sell(Changes c)
    {
        var location = c.Facts.Location;
        foreach (var t in c.Event.Targets)
        {
            if (c.Touch(t) is not { } unit) continue;
            unit.MoveTo(UnitStatus.Sold);
            if (unit.ParentEpc is not null) c.Outcome.Unpacked.Add((unit.Epc, unit.ParentEpc));
            unit.ParentEpc = null;
            unit.LocationId = location?.Id ?? unit.LocationId;
            unit.RegionCode = location?.RegionCode ?? unit.RegionCode;
        }
    }

    /// <summary>The unit is at its site: installed there (the service record is kept by the lifecycle step).</summary>
    public static void Install(Changes c)
    {
        var location = c.Facts.Location;
        foreach (var t in c.Event.Targets)
        {
            if (c.Touch(t) is not { } unit) continue;
            unit.MoveTo(UnitStatus.Installed);
            if (unit.ParentEpc is not null) c.Outcome.Unpacked.Add((unit.Epc, unit.ParentEpc));
            unit.ParentEpc = null;
            unit.LocationId = location?.Id ?? unit.LocationId;
            unit.RegionCode = location?.RegionCode ?? unit.RegionCode;
        }
    }

    public static void Destroy(Changes c)
    {
        foreach (var unit in c.TargetsAndContents())
        {
            unit.Status = UnitStatus.Destroyed;
            unit.StatusBeforeHold = null;
        }
    }

    public static void Recall(Changes c)
    {
        foreach (var unit in c.TargetsAndContents())
        {
            if (unit.Status is UnitStatus.Destroyed or UnitStatus.Recalled) continue;
            // What the unit was before (sold, in transit, at a holder) is kept, so stock does not count a sold unit
            // that was recalled as held again.
            unit.StatusBeforeHold = unit.EffectiveStatus;
            unit.Status = UnitStatus.Recalled;
        }
    }

    /// <summary>
    /// A verdict on a unit (or a lot named by class) holds every lot involved, wherever its units are, when its product's
    /// hold rule names the disposition a hold disposition (the default: non_conformant, damaged), and releases it when a
    /// release disposition (conformant). The units of the lot are held and released by the store, in bulk.
    /// </summary>
    public static void Inspect(Changes c)
    {
        var (e, f) = (c.Event, c.Facts);
        // An installed unit's inspection is a field inspection (its service record), not a verdict on its lot.
        var units = c.TargetsAndContents().Where(u => u.Status != UnitStatus.Installed);
        var lots = units.Where(u => u.Gtin is not null && u.Lot is not null).Select(u => (Gtin: u.Gtin!, Lot: u.Lot!, u.Epc))
            .Concat(e.AllClasses.Select(q => (q.Gtin, q.Lot, q.Epc)))
            .DistinctBy(x => (x.Gtin, x.Lot));
        foreach (var (gtin, lot, epc) in lots)
        {
            var open = f.OpenHolds.TryGetValue((gtin, lot), out var held) ? held : (long?)null;
            switch (f.HoldRuleOf(gtin).Verdict(e.Disposition))
            {
                case HoldVerdict.Release when open is not null:
                    c.Outcome.Holds.Add(new HoldChange(gtin, lot, epc, e.Disposition!, open));
                    break;
                case HoldVerdict.Hold when open is null: // else the same hold episode
                    c.Outcome.Holds.Add(new HoldChange(gtin, lot, epc, e.Disposition!, null));
                    break;
            }
        }
    }

    public static void Transform(Changes c)
    {
        var e = c.Event;
        CommissionUnits(c, e.Outputs);
        var inputs = e.Inputs.Select(c.Touch).OfType<Unit>().ToList();
        foreach (var o in e.Outputs)
            foreach (var i in e.Inputs)
                c.Outcome.Lineage.Add((o, i));

        var inputLots = inputs.Where(u => u.Gtin is not null && u.Lot is not null).Select(u => (u.Gtin!, u.Lot!))
            .Concat(e.InputClasses.Select(q => (q.Gtin, q.Lot))).Distinct().ToList();
        var outputLots = e.Outputs.Select(o => c.Touched(o) ? c.Touch(o) : null).OfType<Unit>()
            .Where(u => u.Gtin is not null && u.Lot is not null).Select(u => (u.Gtin!, u.Lot!))
            .Concat(e.OutputClasses.Select(q => (q.Gtin, q.Lot))).Distinct().ToList();
        foreach (var output in outputLots)
            foreach (var input in inputLots)
                c.Outcome.LotLineage.Add((output, input));
    }
}
