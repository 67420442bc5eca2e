using System.Net;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Consumer;

/// <summary>
/// What the scan counts say about a code after this scan. <see cref="Scanners"/> counts distinct clients (hashed
/// addresses): one phone reloading a genuine unit's page is one scanner, so it cannot turn the page to "counterfeit".
/// </summary>
public sealed record ScanSummary(long Count, DateTimeOffset? First, int CitiesIn24Hours, bool TooMany, bool TooManyCities, long Scanners = 1);

/// <summary>
/// Records consumer scans and applies the rules that read them: counterfeit suspicion (scans by more than TRACE_SCAN_LIMIT distinct clients,
/// or scans from 3 or more cities within 24 hours: a warning, and one counterfeit alert per code) and diversion (a scan
/// with ?region= outside the territory of the dealer the unit was shipped to: an alert, never shown to the consumer).
/// </summary>
public sealed class ScanRecorder(TraceOptions options, ScanSalt salt, TimeProvider time, ILogger<ScanRecorder> log)
{
    public const int CityLimit = 3;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _flagged = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _write = new(1, 1);

    public async Task<ScanSummary> RecordAsync(TraceDbContext db, string epc, IPAddress? client, string? userAgent, string? region, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var conn = await Sql.OpenAsync(db, ct);
        // One scan write at a time per process: SQLite has one writer, and many connections waiting on its lock back off
        // and retry (slowly); queueing here in memory keeps the latency of a burst of scans flat.
        await _write.WaitAsync(ct);
        try
        {
            // The scan and its count in the analytics roll-ups are written together.
            await using var tx = await conn.BeginTransactionAsync(ct);
            await using var insert = Sql.Command(conn, tx, "INSERT INTO scans (epc, at, ip_hash, region_code, ua_family) VALUES (@e, @a, @i, @r, @u)");
            Sql.AddParameter(insert, "@e", epc);
            Sql.AddParameter(insert, "@a", DbTime.Format(now));
            Sql.AddParameter(insert, "@i", salt.HashAddress(client));
            Sql.AddParameter(insert, "@r", region);
            Sql.AddParameter(insert, "@u", UserAgents.Family(userAgent));
            await insert.ExecuteNonQueryAsync(ct);
            await Analytics.AnalyticsRollup.AddScanAsync(conn, tx, epc, region, now, ct);
            await tx.CommitAsync(ct);
        }
        finally
        {
            _write.Release();
        }

        long count, scanners;
        DateTimeOffset? first;
        var cities = new HashSet<string>(StringComparer.Ordinal);
        await using (var stats = Sql.Command(conn, null, "SELECT COUNT(*), MIN(at), COUNT(DISTINCT ip_hash) FROM scans WHERE epc = @e"))
        {
            Sql.AddParameter(stats, "@e", epc);
            await using var r = await stats.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            count = r.GetInt64(0);
            first = r.IsDBNull(1) ? null : DbTime.Parse(r.GetString(1));
            scanners = r.GetInt64(2);
        }
        await using (var recent = Sql.Command(conn, null, "SELECT DISTINCT region_code FROM scans WHERE epc = @e AND at >= @since AND region_code IS NOT NULL"))
        {
            Sql.AddParameter(recent, "@e", epc);
            Sql.AddParameter(recent, "@since", DbTime.Format(now.AddHours(-24)));
            await using var r = await recent.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                if (Regions.City(r.GetString(0)) is { } city) cities.Add(city);
        }

        return new ScanSummary(count, first, cities.Count, scanners > options.ScanLimit, cities.Count >= CityLimit, scanners);
    }

    /// <summary>
    /// One counterfeit alert per code (dedupe key "counterfeit:&lt;epc&gt;"), when the code looks copied: unknown but of a
    /// registered product, scanned too often or in too many cities, or carrying another lot than it was issued for.
    /// </summary>
    public async Task FlagCounterfeitAsync(TraceDbContext db, ConsumerModel m, CancellationToken ct)
    {
        var reason =
            !m.Known ? (m.ProductName is null ? null : "unknown-code")
            : m.LotMismatch ? "lot-mismatch"
            : m.Scans is { TooMany: true } ? "scan-limit"
            : m.Scans is { TooManyCities: true } ? "cities"
            : null;
        if (reason is null || _flagged.ContainsKey(m.Epc)) return;
        var detail = new
        {
            reason,
            scans = m.Scans?.Count,
            scanners = m.Scans?.Scanners,
            scanLimit = options.ScanLimit,
            citiesIn24Hours = m.Scans?.CitiesIn24Hours,
            firstScan = m.Scans?.First,
            labelLot = m.PathLot,
            issuedLot = m.Lot,
        };
        if (await AlertWriter.RaiseAsync(db, AlertTypes.Counterfeit, m.Epc, m.Gtin, m.Lot, detail, time.GetUtcNow(), $"counterfeit:{m.Epc}", ct))
            log.LogWarning("Counterfeit suspected for {Epc}: {Reason}", m.Epc, reason);
        // Raised now or before (the dedupe key holds across restarts and instances): no need to write again from here.
        if (_flagged.Count > 100_000) _flagged.Clear();
        _flagged[m.Epc] = 0;
    }

    /// <summary>A scan that names its region: is it outside the territory of the dealer the unit was shipped to?</summary>
    public async Task CheckDiversionAsync(TraceDbContext db, Unit? unit, string? region, CancellationToken ct)
    {
        if (unit?.ShippedToMemberId is not { } dealerId || region is null) return;
        var dealer = await db.Members.AsNoTracking().FirstOrDefaultAsync(m => m.Id == dealerId, ct);
        if (dealer is null || dealer.RegionCodes.Count == 0 || Regions.Inside(region, dealer.RegionCodes)) return;
        await Diversion.RaiseAsync(db.Database.GetDbConnection(), null, unit.Epc, new Diversion.Dealer(dealer.Id, dealer.Name, dealer.RegionCodes), region, "scan", null, time.GetUtcNow(), ct);
    }

}
