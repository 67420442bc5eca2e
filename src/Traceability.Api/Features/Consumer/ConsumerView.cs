using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Codes;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Consumer;

public sealed record PlaceView(string Name, string RegionCode);
public sealed record AnchorView(long Sequence, long ChainId, string Contract, string? TxHash, long? BlockNumber);

/// <summary>One public step of the journey. <see cref="ProofPublic"/>: its proof bundle may be downloaded by anyone (see <see cref="PublicEvents"/>).</summary>
public sealed record StepView(long Sequence, string Step, DateTimeOffset Time, PlaceView? Place, AnchorView? Anchor, ChainCheck? Check, bool ProofPublic);

/// <summary>
/// Witness confirmation of the anchors a page shows: the fewest cosignatures any of them has, out of the contract's
/// witnesses, the threshold k, and whether every one is final.
/// </summary>
public sealed record Confirmation(int Cosigners, int Witnesses, int Threshold, bool Final)
{
    public static async Task<Confirmation?> ForAsync(ConsumerModel model, Consortium.AnchorWitnesses witnesses, CancellationToken ct)
    {
        if (model.Verification != Verification.Verified) return null;
        Confirmation? weakest = null;
        foreach (var anchor in model.Steps.Select(s => s.Anchor?.Sequence).OfType<long>().Distinct())
        {
            if (await witnesses.GetAsync(anchor, ct) is not { Witnesses: > 0 } w) return null;
            var c = new Confirmation(w.Cosigners.Count, w.Witnesses, w.Threshold, w.Final);
            weakest = weakest is null ? c : new(Math.Min(weakest.Cosigners, c.Cosigners), c.Witnesses, c.Threshold, weakest.Final && c.Final);
        }
        return weakest;
    }
}

/// <summary>The badge: every shown event anchored and checked against the chain, or why not.</summary>
public enum Verification { Verified, Pending, NoEvents, Unavailable, Mismatch }

/// <summary>Everything the consumer page and the consumer JSON show about one code.</summary>
public sealed record ConsumerModel
{
    public required string Gtin { get; init; }
    public required string Serial { get; init; }
    public required string Epc { get; init; }
    public bool Known { get; init; }
    public string? ProductName { get; init; }
    public string? ProductDescription { get; init; }
    public string? Lot { get; init; }
    public string? PathLot { get; init; }
    public DateTimeOffset? ProductionDate { get; init; }
    public string? Manufacturer { get; init; }
    public required string Status { get; init; }
    public Unit? Unit { get; init; }
    public IReadOnlyList<StepView> Steps { get; init; } = [];
    public Verification Verification { get; init; }
    public AnchorView? LatestAnchor { get; init; }
    public ScanSummary? Scans { get; init; }
    /// <summary>An installed unit's service record as it stands at the request (not cached: it changes with the date).</summary>
    public Lifecycle.ServiceView? Service { get; init; }
    /// <summary>How many members' witnesses confirmed the anchors shown (read per request from the chain), or null when there are none to ask.</summary>
    public Confirmation? Confirmation { get; init; }

    /// <summary>The label's lot (the /10/ part of the scanned Digital Link) is not the lot the code was issued or made in.</summary>
    public bool LotMismatch => PathLot is not null && Lot is not null && !string.Equals(PathLot, Lot, StringComparison.Ordinal);
}

/// <summary>
/// Builds the consumer view of a code from the ledger: the item's own events and those of the cases and pallets it
/// travelled in (while it was in them), keeping only public steps (<see cref="PublicEvents.Steps"/>), each with its
/// place (location master data: name and region), its anchor and the server's check against the chain.
/// </summary>
public static class ConsumerViews
{
    private const int ContainerDepth = 2;

    public static async Task<ConsumerModel> LoadAsync(TraceDbContext db, ChainVerifier verifier, string gtin14, string serial, string? pathLot, CancellationToken ct)
    {
        var epc = DigitalLinks.Canonical(gtin14, serial);
        var code = await db.Database.SqlQueryRaw<IssuedRow>("SELECT lot AS \"Lot\", issued_by AS \"IssuedBy\" FROM codes WHERE epc = {0}", epc)
            .FirstOrDefaultAsync(ct);
        var sequences = await JourneySequencesAsync(db, epc, ct);
        var product = await db.Products.AsNoTracking().FirstOrDefaultAsync(p => p.Gtin == gtin14, ct);
        var known = code is not null || sequences.Count > 0;
        if (!known)
            return new ConsumerModel { Gtin = gtin14, Serial = serial, Epc = epc, Known = false, ProductName = product?.Name, PathLot = pathLot, Status = "unknown", Verification = Verification.NoEvents };

        var unit = await db.Units.AsNoTracking().FirstOrDefaultAsync(u => u.Epc == epc, ct);
        var events = sequences.Count == 0 ? [] : await db.Events.AsNoTracking().Where(e => sequences.Contains(e.Sequence)).OrderBy(e => e.Sequence).ToListAsync(ct);
        var shown = events.Where(e => CbvVocabulary.BizStepName(e.BizStep) is { } s && PublicEvents.Steps.Contains(s)).ToList();

        var placeIds = shown.Select(PlaceId).OfType<string>().Distinct().ToList();
        var places = await db.Locations.AsNoTracking().Where(l => placeIds.Contains(l.Id)).ToDictionaryAsync(l => l.Id, ct);
        var anchors = new List<Anchor>();
        if (shown.Count > 0)
        {
            var (min, max) = (shown[0].Sequence, shown[^1].Sequence);
            anchors = await db.Anchors.AsNoTracking()
                .Where(a => a.Status == AnchorStatus.Confirmed && a.FirstEventSequence <= max && a.LastEventSequence >= min).ToListAsync(ct);
        }

        var steps = new List<StepView>(shown.Count);
        foreach (var e in shown)
        {
            var anchor = anchors.FirstOrDefault(a => a.Covers(e.Sequence));
            ChainCheck? check = anchor is null ? null : await verifier.CheckAsync(db, anchor, e, ct);
            var placeId = PlaceId(e);
            var place = placeId is not null && places.TryGetValue(placeId, out var l) ? new PlaceView(l.Name, l.RegionCode) : null;
            using var json = JsonDocument.Parse(e.Json);
            steps.Add(new StepView(e.Sequence, CbvVocabulary.BizStepName(e.BizStep)!, LocalTime(e.EventTime, json.RootElement), place,
                anchor is null ? null : new AnchorView(anchor.Sequence, anchor.ChainId, anchor.Contract, anchor.TxHash, anchor.BlockNumber),
                check, PublicEvents.HasOnlyPublicFields(json.RootElement)));
        }

        var commissioning = events.FirstOrDefault(e => CbvVocabulary.BizStepName(e.BizStep) == "commissioning");
        var ownerId = product?.OwnerMemberId ?? commissioning?.SubmitterId ?? code?.IssuedBy;
        var manufacturer = ownerId is null ? null : await db.Members.AsNoTracking().Where(m => m.Id == ownerId).Select(m => m.Name).FirstOrDefaultAsync(ct);
        string? ilmdLot = null;
        DateTimeOffset? produced = null;
        if (commissioning is not null)
        {
            using var json = JsonDocument.Parse(commissioning.Json);
            ilmdLot = PublicEvents.IlmdLot(json.RootElement);
            produced = LocalTime(commissioning.EventTime, json.RootElement);
        }

        var verification =
            steps.Count == 0 ? Verification.NoEvents
            : steps.Any(s => s.Anchor is null) ? Verification.Pending
            : steps.Any(s => s.Check == ChainCheck.Mismatch) ? Verification.Mismatch
            : steps.Any(s => s.Check == ChainCheck.Unavailable) ? Verification.Unavailable
            : Verification.Verified;

        return new ConsumerModel
        {
            Gtin = gtin14, Serial = serial, Epc = epc, Known = true,
            ProductName = product?.Name, ProductDescription = product?.Description,
            Lot = code?.Lot ?? ilmdLot ?? unit?.Lot, PathLot = pathLot,
            ProductionDate = produced, Manufacturer = manufacturer,
            Status = unit?.Status ?? (commissioning is not null ? UnitStatus.Commissioned : "issued"),
            Unit = unit, Steps = steps, Verification = verification,
            LatestAnchor = steps.Where(s => s.Anchor is not null).Select(s => s.Anchor).MaxBy(a => a!.Sequence),
        };
    }

    /// <summary>The event's place as the locations master data keys it: the canonical Digital Link of bizLocation, else readPoint.</summary>
    private static string? PlaceId(TraceEvent e) =>
        (e.BizLocation ?? e.ReadPoint) is { } id && Gs1Identifiers.TryCanonicalId(id, out var canonical, out _) ? canonical : null;

    /// <summary>The event time in the event's own time zone offset (eventTimeZoneOffset), as the place would have seen it.</summary>
    private static DateTimeOffset LocalTime(DateTimeOffset utc, JsonElement e) =>
        e.TryGetProperty("eventTimeZoneOffset", out var z) && z.ValueKind == JsonValueKind.String &&
        TimeSpan.TryParseExact(z.GetString()!.TrimStart('+'), [@"hh\:mm", @"\-hh\:mm"], CultureInfo.InvariantCulture,
            z.GetString()!.StartsWith('-') ? TimeSpanStyles.AssumeNegative : TimeSpanStyles.None, out var offset)
            ? utc.ToOffset(offset)
            : utc;

    /// <summary>
    /// The events of the item (any role but class) and, for each case or pallet it was aggregated into, that
    /// container's own events from the packing (ADD) until the unpacking (DELETE), up to pallets of cases.
    /// </summary>
    private static async Task<List<long>> JourneySequencesAsync(TraceDbContext db, string epc, CancellationToken ct)
    {
        var include = new SortedSet<long>();
        var frontier = new Queue<(string Epc, long From, long To, int Depth)>();
        frontier.Enqueue((epc, 0, long.MaxValue, 0));
        while (frontier.TryDequeue(out var f))
        {
            var rows = await db.EventEpcs.AsNoTracking().Where(x => x.Epc == f.Epc && x.Sequence >= f.From && x.Sequence <= f.To).ToListAsync(ct);
            foreach (var r in rows)
                if (f.Depth == 0 ? r.Role != EpcRoles.Class : r.Role == EpcRoles.Epc) include.Add(r.Sequence);
            if (f.Depth >= ContainerDepth) continue;

            var aggregations = rows.Where(r => r.Role == EpcRoles.Child).Select(r => r.Sequence).Distinct().Order().ToList();
            if (aggregations.Count == 0) continue;
            var parents = await db.EventEpcs.AsNoTracking().Where(x => aggregations.Contains(x.Sequence) && x.Role == EpcRoles.Parent)
                .ToDictionaryAsync(x => x.Sequence, x => x.Epc, ct);
            var actions = (await db.Events.AsNoTracking().Where(e => aggregations.Contains(e.Sequence)).Select(e => new { e.Sequence, e.Json }).ToListAsync(ct))
                .ToDictionary(e => e.Sequence, e => PublicEvents.Action(e.Json));
            foreach (var seq in aggregations)
            {
                if (!parents.TryGetValue(seq, out var parent) || actions.GetValueOrDefault(seq) != "ADD") continue;
                var until = aggregations.FirstOrDefault(s => s > seq && parents.GetValueOrDefault(s) == parent && actions.GetValueOrDefault(s) == "DELETE");
                frontier.Enqueue((parent, seq + 1, until == 0 ? f.To : until, f.Depth + 1));
            }
        }
        return [.. include];
    }

    private sealed record IssuedRow(string Lot, string IssuedBy);
}

/// <summary>
/// What the public sees of an event. The journey shows only consumer-meaningful CBV steps, with their step, place and
/// date: never business transactions, sources and destinations (parties), prices or any extension field.
/// A public proof bundle carries the whole event (the hash is over all of it, so it cannot be redacted); it is offered
/// only for shown events whose fields are all public: no bizTransactionList, sourceList, destinationList,
/// sensorElementList, and no extension field (at the top or in ilmd, beyond CBV master data). Members fetch the others
/// through GET /api/v1/events/{sequence}/proof under the visibility rules.
/// </summary>
public static class PublicEvents
{
    public static readonly IReadOnlySet<string> Steps = new HashSet<string>(StringComparer.Ordinal)
    {
        "commissioning", "packing", "shipping", "departing", "transporting", "arriving", "receiving", "accepting", "loading",
        "unloading", "storing", "stocking", "inspecting", "holding", "unpacking", "retail_selling", "dispensing",
    };

    private static readonly IReadOnlySet<string> PublicFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "@context", "type", "eventID", "eventTime", "eventTimeZoneOffset", "recordTime", "action", "bizStep", "disposition",
        "readPoint", "bizLocation", "epcList", "parentID", "childEPCs", "inputEPCList", "outputEPCList", "quantityList",
        "childQuantityList", "inputQuantityList", "outputQuantityList", "transformationID", "persistentDisposition",
        "certificationInfo", "ilmd", "errorDeclaration",
    };


    public static bool HasOnlyPublicFields(JsonElement e)
    {
        foreach (var p in e.EnumerateObject())
        {
            if (!PublicFields.Contains(p.Name)) return false;
            if (p.Name == "ilmd" && p.Value.ValueKind == JsonValueKind.Object &&
                p.Value.EnumerateObject().Any(i => !i.Name.StartsWith("cbvmda:", StringComparison.Ordinal)))
                return false;
        }
        return true;
    }

    public static string? Action(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.TryGetProperty("action", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
    }

    public static string? IlmdLot(JsonElement e)
    {
        if (!e.TryGetProperty("ilmd", out var ilmd) || ilmd.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in ilmd.EnumerateObject())
            if (p.Name is "cbvmda:lotNumber" or "lotNumber" && p.Value.ValueKind == JsonValueKind.String) return p.Value.GetString();
        return null;
    }
}

/// <summary>
/// The consumer view of a code without its scans, kept in memory while nothing it depends on has changed: the ledger's
/// last event sequence, the number of confirmed anchors, whether the code is issued, and the unit's state row (one
/// indexed query checks all four). Master data (product and place names) may be up to <see cref="MaxAge"/> old.
/// The per-request part (the scan, its counts and alerts) is never cached.
/// </summary>
public sealed class ConsumerViewCache(ChainVerifier verifier)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);
    private const int Capacity = 20_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Version, long LoadedAt, ConsumerModel Model)> _views = new(StringComparer.Ordinal);

    public async Task<ConsumerModel> GetAsync(TraceDbContext db, string gtin14, string serial, string? pathLot, CancellationToken ct)
    {
        var epc = DigitalLinks.Canonical(gtin14, serial);
        var version = await VersionAsync(db, epc, ct);
        var key = epc + "\n" + pathLot;
        var now = Environment.TickCount64;
        if (_views.TryGetValue(key, out var hit) && hit.Version == version && now - hit.LoadedAt < MaxAge.TotalMilliseconds) return hit.Model;
        var model = await ConsumerViews.LoadAsync(db, verifier, gtin14, serial, pathLot, ct);
        // Only settled views are kept: a chain that did not answer is asked again on the next request.
        if (model.Verification != Verification.Unavailable)
        {
            if (_views.Count >= Capacity) _views.Clear();
            _views[key] = (version, now, model);
        }
        return model;
    }

    private static async Task<string> VersionAsync(TraceDbContext db, string epc, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText =
            "SELECT (SELECT MAX(sequence) FROM events), (SELECT COUNT(*) FROM anchors WHERE status = 'confirmed'), " +
            "(SELECT COUNT(*) FROM codes WHERE epc = @e), " +
            "(SELECT status || '|' || COALESCE(shipped_to_member_id, '') || '|' || updated_at FROM units WHERE epc = @e)";
        Sql.AddParameter(cmd, "@e", epc);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return string.Join('|', Enumerable.Range(0, 4).Select(i => r.IsDBNull(i) ? "" : Convert.ToString(r.GetValue(i), CultureInfo.InvariantCulture)));
    }
}
