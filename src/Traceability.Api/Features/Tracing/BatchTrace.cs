using System.Data.Common;
using Mediator;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Requests;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Tracing;

/// <summary>
/// GET /api/v1/batches/trace?gtin=...&amp;lot=...[&amp;limit=...][&amp;after=...]: the units commissioned in the lot with their
/// current state, a page of at most <c>limit</c> (default <see cref="DefaultLimit"/>, at most <see cref="MaxLimit"/>) in
/// EPC order, <c>nextAfter</c> naming where the next page starts; counts of the whole lot by holder (and region) and by
/// status, the lot's quality hold and recalls, the input lots it was made from and the output lots made from it (through
/// TransformationEvents, both ways, at any depth) with where those went (for the output's owner).
/// <para>
/// The page is what bounds the answer: a lot has no size limit, and an answer listing every unit grew with it (a
/// 90,000-unit lot took 1.3 s and tens of MiB of memory per request). The counts are aggregated by SQLite, not from the
/// listed units, so they cover the whole lot whatever the page, and kept between pages while the ledger does not move
/// (<see cref="LotCounts"/>).
/// </para>
/// </summary>
public sealed class BatchTrace(TraceDbContext db, LotCounts lotCounts) : IQueryHandler<BatchTrace.Query, BatchTrace.TraceResponse>
{
    private const int MaxDepth = 8;

    /// <summary>Units listed when the caller names no limit: a lot of up to this many units comes whole in one answer.</summary>
    public const int DefaultLimit = 1_000;
    public const int MaxLimit = 5_000;
    /// <summary>The longest <c>after</c> accepted: an EPC as the units table stores it is far shorter.</summary>
    public const int MaxAfterLength = 256;

    /// <summary>
    /// Whether a unit (alias u) is in its holder's possession: a serialized item not sold, destroyed or on its way
    /// (in transit, on hold or not), nor recalled and back with its product's owner. A recalled unit still out at a
    /// dealer is held until it is returned; one sold or in transit when it was recalled is not (status_before_hold keeps
    /// the status before a hold or a recall).
    /// </summary>
    public const string HeldPredicate =
        "u.commissioned_sequence IS NOT NULL AND u.gtin IS NOT NULL AND u.holder_member_id IS NOT NULL AND (" +
        "u.status IN ('commissioned', 'packed', 'at_holder') " +
        "OR (u.status = 'on_hold' AND COALESCE(u.status_before_hold, 'at_holder') IN ('commissioned', 'packed', 'at_holder')) " +
        "OR (u.status = 'recalled' AND COALESCE(u.status_before_hold, 'at_holder') IN ('commissioned', 'packed', 'at_holder') " +
        "AND u.holder_member_id <> COALESCE((SELECT p.owner_member_id FROM products p WHERE p.gtin = u.gtin), '')))";

    /// <summary>
    /// Units by holder and region. In the lot's own byHolder, <see cref="Count"/> is the units held (<see cref="HeldPredicate"/>)
    /// and <see cref="Sold"/> those the holder sold; in output lots and recalls, every unit, and no Sold.
    /// </summary>
    public sealed record HolderCount(string? MemberId, string? RegionCode, int Count, int? Sold = null);
    public sealed record TracedUnit(string Epc, string? Serial, string Status, string? HolderMemberId, string? LocationId, string? RegionCode,
        string? ParentEpc, string? ShippedToMemberId, long LastEventSequence);
    public sealed record LotRef(string Gtin, string Lot, long Sequence, int Depth);
    /// <summary>A lot made from this one; how many units and where they are only for the output's owner (and regulators).</summary>
    public sealed record OutputLot(string Gtin, string Lot, long Sequence, int Depth, int? Count, IReadOnlyList<HolderCount>? ByHolder);
    public sealed record HoldRef(long Sequence, string? Epc, string Disposition);
    public sealed record RecallRef(string Id, DateTimeOffset CreatedAt, string Reason, int Units);
    /// <summary>
    /// <see cref="Count"/>, <see cref="ByStatus"/> and <see cref="ByHolder"/> are of the whole lot; <see cref="Units"/> is one
    /// page of at most <see cref="Limit"/> units in EPC order, and <see cref="NextAfter"/> (when more follow) is the value of
    /// <c>after</c> that asks for the next.
    /// </summary>
    public sealed record TraceResponse(string Gtin, string Lot, ItemHistory.ProductRef? Product, int Count, IReadOnlyDictionary<string, int> ByStatus,
        IReadOnlyList<HolderCount> ByHolder, HoldRef? Hold, IReadOnlyList<RecallRef> Recalls, IReadOnlyList<LotRef> InputLots, IReadOnlyList<OutputLot> OutputLots,
        IReadOnlyList<TracedUnit> Units, int Limit, string? NextAfter);

    /// <summary>A lot of a product, traced for the caller: the page of units after <paramref name="After"/> (an EPC), <paramref name="Limit"/> long.</summary>
    public sealed record Query(string? Gtin, string? Lot, Caller Caller, string? Limit = null, string? After = null) : IQuery<TraceResponse>, IValidate
    {
        public static string Invalid => "Invalid batch trace";

        public IEnumerable<FieldError> Validate()
        {
            if (!IsGtin(Gtin)) yield return new("gtin", GtinRule);
            if (string.IsNullOrWhiteSpace(Lot)) yield return new("lot", "lot is required.");
            if (ParseLimit(Limit) is null) yield return new("limit", LimitRule);
            if (After is not null && (After.Length == 0 || After.Length > MaxAfterLength))
                yield return new("after", $"after is the nextAfter of a previous page: an EPC of 1 to {MaxAfterLength} characters.");
        }
    }

    public static readonly string LimitRule = $"limit must be a whole number from 1 to {MaxLimit:N0} (units per page; {DefaultLimit:N0} when absent).";

    /// <summary>The page size asked for, the default when absent, or null when it is not a number from 1 to <see cref="MaxLimit"/>.</summary>
    public static int? ParseLimit(string? limit) =>
        limit is null ? DefaultLimit
        : limit.Length <= 6 && limit.All(char.IsAsciiDigit) && int.TryParse(limit, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxLimit ? n
        : null;

    public const string GtinRule = "gtin must be a GTIN-8, -12, -13 or -14 with a valid check digit.";

    public static bool IsGtin(string? gtin) =>
        Gs1Identifiers.TryNormalizeGtin(gtin, out _);

    /// <summary>The GTIN as the units table keys it (14 digits), or a 400.</summary>
    public static string Gtin14(string? gtin, string field = "gtin")
    {
        if (!Gs1Identifiers.TryNormalizeGtin(gtin, out var gtin14)) throw RequestValidationException.ForField(field, GtinRule);
        return gtin14;
    }

    /// <summary>403 unless the caller is a regulator, the admin, or the manufacturer that owns the GTIN.</summary>
    public static async Task RequireOwnerAsync(DbConnection conn, Caller caller, string gtin, CancellationToken ct)
    {
        if (!await VisibilityPolicy.OwnsProductAsync(conn, caller, gtin, ct))
            throw new ForbiddenException($"Only the manufacturer that owns GTIN {gtin}, a regulator or the admin may do this.");
    }

    public async ValueTask<TraceResponse> Handle(Query query, CancellationToken ct)
    {
        var (gtinParameter, lot, caller, limitParameter, after) = query;
        var gtin = Gtin14(gtinParameter);
        if (string.IsNullOrWhiteSpace(lot)) throw RequestValidationException.ForField("lot", "lot is required.");
        var limit = ParseLimit(limitParameter) ?? throw RequestValidationException.ForField("limit", LimitRule);
        var conn = await Sql.OpenAsync(db, ct);
        await RequireOwnerAsync(conn, caller, gtin, ct);

        var product = (await Sql.ListAsync(conn, null, "SELECT name, owner_member_id FROM products WHERE gtin = @g", r => (Name: r.GetString(0), Owner: r.Str(1)), ct,
            ("@g", gtin))).FirstOrDefault();
        var (byStatus, byHolder) = await lotCounts.GetAsync(conn, gtin, lot, product.Owner, ct);
        if (byStatus.Count == 0) throw new NotFoundException($"Lot {lot} of GTIN {gtin}");

        // One more than the page, to know whether another follows; ix_units_lot_epc (gtin, lot, epc) serves the range.
        var units = await Sql.ListAsync(conn, null,
            "SELECT epc, serial, status, holder_member_id, location_id, region_code, parent_epc, shipped_to_member_id, last_event_sequence FROM units " +
            "WHERE gtin = @g AND lot = @l AND commissioned_sequence IS NOT NULL" + (after is null ? "" : " AND epc > @a") + " ORDER BY epc LIMIT @n",
            r => new TracedUnit(r.GetString(0), r.Str(1), r.GetString(2), r.Str(3), r.Str(4), r.Str(5), r.Str(6), r.Str(7), r.GetInt64(8)), ct,
            after is null ? [("@g", gtin), ("@l", lot), ("@n", limit + 1)] : [("@g", gtin), ("@l", lot), ("@n", limit + 1), ("@a", after)]);
        string? nextAfter = null;
        if (units.Count > limit)
        {
            units.RemoveAt(limit);
            nextAfter = units[^1].Epc;
        }
        var hold = (await Sql.ListAsync(conn, null, "SELECT hold_sequence, hold_epc, disposition FROM lot_holds WHERE gtin = @g AND lot = @l AND released_sequence IS NULL",
            r => new HoldRef(r.GetInt64(0), r.Str(1), r.GetString(2)), ct, ("@g", gtin), ("@l", lot))).FirstOrDefault();
        var recalls = await Sql.ListAsync(conn, null, "SELECT id, created_at, reason, units FROM recalls WHERE gtin = @g AND lot = @l ORDER BY created_at",
            r => new RecallRef(r.GetString(0), DbTime.Parse(r.GetString(1)), r.GetString(2), (int)r.GetInt64(3)), ct, ("@g", gtin), ("@l", lot));

        var inputs = await LineageAsync(conn, gtin, lot, backward: true, ct);
        var outputs = new List<OutputLot>();
        foreach (var o in await LineageAsync(conn, gtin, lot, backward: false, ct))
        {
            // A supplier learns which lots its lot went into, not where its customer's goods went.
            if (!await VisibilityPolicy.OwnsProductAsync(conn, caller, o.Gtin, ct))
            {
                outputs.Add(new OutputLot(o.Gtin, o.Lot, o.Sequence, o.Depth, null, null));
                continue;
            }
            var holders = await ByHolderAsync(conn, o.Gtin, o.Lot, ct);
            outputs.Add(new OutputLot(o.Gtin, o.Lot, o.Sequence, o.Depth, holders.Sum(h => h.Count), holders));
        }
        return new TraceResponse(gtin, lot, new ItemHistory.ProductRef(gtin, product.Name), byStatus.Values.Sum(), byStatus, byHolder, hold, recalls,
            inputs, outputs, units, limit, nextAfter);
    }

    public static async Task<List<HolderCount>> ByHolderAsync(DbConnection conn, string gtin, string lot, CancellationToken ct, string? status = null)
    {
        var rows = await Sql.ListAsync(conn, null,
            "SELECT holder_member_id, region_code, COUNT(*) FROM units WHERE gtin = @g AND lot = @l AND commissioned_sequence IS NOT NULL" +
            (status is null ? "" : " AND status = @s") + " GROUP BY holder_member_id, region_code",
            r => new HolderCount(r.Str(0), r.Str(1), (int)r.GetInt64(2)), ct, status is null ? [("@g", gtin), ("@l", lot)] : [("@g", gtin), ("@l", lot), ("@s", status)]);
        return rows.OrderByDescending(h => h.Count).ThenBy(h => h.MemberId, StringComparer.Ordinal).ThenBy(h => h.RegionCode, StringComparer.Ordinal).ToList();
    }

    /// <summary>Lots this one was made from (backward) or that were made from it (forward), breadth first.</summary>
    private static async Task<List<LotRef>> LineageAsync(DbConnection conn, string gtin, string lot, bool backward, CancellationToken ct)
    {
        var sql = backward
            ? "SELECT input_gtin, input_lot, sequence FROM lot_lineage WHERE output_gtin = @g AND output_lot = @l"
            : "SELECT output_gtin, output_lot, sequence FROM lot_lineage WHERE input_gtin = @g AND input_lot = @l";
        var result = new List<LotRef>();
        var seen = new HashSet<(string, string)> { (gtin, lot) };
        var level = new List<(string, string)> { (gtin, lot) };
        for (var depth = 1; level.Count > 0 && depth <= MaxDepth; depth++)
        {
            var next = new List<(string, string)>();
            foreach (var (g, l) in level)
            foreach (var (rg, rl, s) in await Sql.ListAsync(conn, null, sql, r => (r.GetString(0), r.GetString(1), r.GetInt64(2)), ct, ("@g", g), ("@l", l)))
            {
                if (!seen.Add((rg, rl))) continue;
                result.Add(new LotRef(rg, rl, s, depth));
                next.Add((rg, rl));
            }
            level = next;
        }
        return result;
    }
}
