using System.Collections.Concurrent;
using System.Data.Common;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Tracing;

/// <summary>
/// A lot's counts for the batch trace (by status; by holder and region, held and sold), kept between requests while
/// the ledger has not moved. Units change only when events are appended (the custody step, in the capture's transaction,
/// appends under one lock — on PostgreSQL an advisory lock across instances — and commits in sequence order), and the
/// held count depends on nothing else but the product's owner; so while the last sequence of the ledger and the owner are
/// those the counts were read at, they are still the lot's. The last sequence is read before the counts: counts read
/// after a newer commit are kept under the older sequence, and the next request, seeing the newer one, reads them again.
/// <para>
/// Without this, every page of a lot listed page by page read the whole lot (twice): 20 pages of a 100,000-unit lot read
/// 4,000,000 unit rows.
/// </para>
/// </summary>
public sealed class LotCounts
{
    /// <summary>Lots kept; past this the cache starts afresh (a lot costs one read of its units to count again).</summary>
    public const int MaxLots = 1_000;

    public sealed record Counts(IReadOnlyDictionary<string, int> ByStatus, IReadOnlyList<BatchTrace.HolderCount> ByHolder);

    private sealed record Entry(long LastSequence, string? Owner, Counts Counts);

    private readonly ConcurrentDictionary<(string Database, string Gtin, string Lot), Entry> _lots = new();

    /// <summary>The counts of the lot (empty for a lot without commissioned units), read again only when the ledger moved.</summary>
    public async Task<Counts> GetAsync(DbConnection conn, string gtin, string lot, string? owner, CancellationToken ct)
    {
        var last = await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(sequence), 0) FROM events", ct);
        var key = (conn.DataSource + "/" + conn.Database, gtin, lot);
        if (_lots.TryGetValue(key, out var kept) && kept.LastSequence == last && kept.Owner == owner) return kept.Counts;
        var counts = await ReadAsync(conn, gtin, lot, ct);
        if (_lots.Count >= MaxLots) _lots.Clear();
        _lots[key] = new Entry(last, owner, counts);
        return counts;
    }

    /// <summary>
    /// One pass over the lot's units, grouped by status, holder and region. byHolder counts the units in each holder's
    /// possession as stock does (<see cref="BatchTrace.HeldPredicate"/>, which GET /api/v1/stock counts by too: not sold,
    /// destroyed, in transit, nor recalled and back with the product's owner), with the units each holder sold apart.
    /// </summary>
    public static async Task<Counts> ReadAsync(DbConnection conn, string gtin, string lot, CancellationToken ct)
    {
        var rows = await Sql.ListAsync(conn, null,
            $"SELECT u.status, u.holder_member_id, u.region_code, COUNT(*), SUM(CASE WHEN {BatchTrace.HeldPredicate} THEN 1 ELSE 0 END) " +
            "FROM units u WHERE u.gtin = @g AND u.lot = @l AND u.commissioned_sequence IS NOT NULL GROUP BY u.status, u.holder_member_id, u.region_code",
            r => (Status: r.GetString(0), Holder: r.Str(1), Region: r.Str(2), Count: (int)r.GetInt64(3), Held: (int)r.GetInt64(4)), ct, ("@g", gtin), ("@l", lot));
        var byStatus = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var byHolder = new Dictionary<(string?, string?), (int Held, int Sold)>();
        foreach (var (status, holder, region, count, held) in rows)
        {
            byStatus[status] = byStatus.GetValueOrDefault(status) + count;
            var (h, s) = byHolder.GetValueOrDefault((holder, region));
            byHolder[(holder, region)] = (h + held, s + (status == "sold" ? count : 0));
        }
        return new Counts(
            byStatus.ToDictionary(StringComparer.Ordinal),
            byHolder.Select(kv => new BatchTrace.HolderCount(kv.Key.Item1, kv.Key.Item2, kv.Value.Held, kv.Value.Sold))
                .Where(h => h.Count > 0 || h.Sold > 0)
                .OrderByDescending(h => h.Count).ThenBy(h => h.MemberId, StringComparer.Ordinal).ThenBy(h => h.RegionCode, StringComparer.Ordinal).ToList());
    }
}
