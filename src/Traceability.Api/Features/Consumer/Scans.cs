using System.Data.Common;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Consumer;

/// <summary>The secret scan addresses are hashed with: TRACE_SCAN_SALT, or generated once and kept in the data folder (scan-salt, mode 0600).</summary>
public sealed class ScanSalt(byte[] key)
{
    public byte[] Key { get; } = key;

    public static ScanSalt LoadOrCreate(string? configured, string dataDir)
    {
        if (!string.IsNullOrWhiteSpace(configured)) return new ScanSalt(Encoding.UTF8.GetBytes(configured.Trim()));
        var path = Path.Combine(dataDir, "scan-salt");
        if (File.Exists(path)) return new ScanSalt(Encoding.UTF8.GetBytes(File.ReadAllText(path).Trim()));
        var salt = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        Directory.CreateDirectory(dataDir);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, salt + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, path, overwrite: true);
        return new ScanSalt(Encoding.UTF8.GetBytes(salt));
    }

    public string HashAddress(IPAddress? address)
    {
        var text = address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
        return Convert.ToHexStringLower(HMACSHA256.HashData(Key, Encoding.UTF8.GetBytes(text)));
    }
}

/// <summary>The browser family of a User-Agent, coarse on purpose (no version, no device): WeChat, Firefox, Chrome, Safari or Other.</summary>
public static class UserAgents
{
    public static string Family(string? ua)
    {
        if (string.IsNullOrEmpty(ua)) return "Other";
        if (ua.Contains("MicroMessenger", StringComparison.Ordinal)) return "WeChat";
        if (ua.Contains("Firefox/", StringComparison.Ordinal) || ua.Contains("FxiOS/", StringComparison.Ordinal)) return "Firefox";
        if (ua.Contains("Chrome/", StringComparison.Ordinal) || ua.Contains("CriOS/", StringComparison.Ordinal)) return "Chrome";
        if (ua.Contains("Safari/", StringComparison.Ordinal)) return "Safari";
        return "Other";
    }
}

/// <summary>
/// GB/T 2260 codes as prefixes: "310000" is the province 31, "310100" the city 3101, "310115" the county. A region lies
/// inside a territory code when its prefix starts with the territory's; when one is coarser than the other (a scan
/// that only says "province 31" against a territory "city 3101") it is not counted as outside: only a definite
/// difference is.
/// </summary>
public static partial class Regions
{
    [GeneratedRegex(@"^\d{6}$")] private static partial Regex SixDigits();

    public static bool IsValid(string? code) => code is not null && SixDigits().IsMatch(code);

    public static string Prefix(string code) =>
        code.EndsWith("0000", StringComparison.Ordinal) ? code[..2] : code.EndsWith("00", StringComparison.Ordinal) ? code[..4] : code;

    /// <summary>The city (first four digits) of a region more precise than a province, else null.</summary>
    public static string? City(string code) => Prefix(code) is { Length: >= 4 } p ? p[..4] : null;

    public static bool Inside(string region, IEnumerable<string> territory)
    {
        var r = Prefix(region);
        return territory.Select(Prefix).Any(t => r.StartsWith(t, StringComparison.Ordinal) || t.StartsWith(r, StringComparison.Ordinal));
    }
}

/// <summary>What the scan counts say about a code after this scan.</summary>
public sealed record ScanSummary(long Count, DateTimeOffset? First, int CitiesIn24Hours, bool TooMany, bool TooManyCities)
{
    public bool Suspicious => TooMany || TooManyCities;
}

/// <summary>
/// Records consumer scans and applies the rules that read them: counterfeit suspicion (more than TRACE_SCAN_LIMIT scans,
/// or scans from 3 or more cities within 24 hours: a warning, and one counterfeit alert per code) and diversion (a scan
/// with ?region= outside the territory of the dealer the unit was shipped to: an alert, never shown to the consumer).
/// </summary>
public sealed class ScanRecorder(TraceOptions options, ScanSalt salt, TimeProvider time, ILogger<ScanRecorder> log)
{
    public const int CityLimit = 3;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _flagged = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _write = new(1, 1);

    public async Task<ScanSummary> RecordAsync(TraceDbContext db, string epc, HttpContext http, string? region, CancellationToken ct)
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
            SchemaMigrator.AddParameter(insert, "@e", epc);
            SchemaMigrator.AddParameter(insert, "@a", DbTime.Format(now));
            SchemaMigrator.AddParameter(insert, "@i", salt.HashAddress(http.Connection.RemoteIpAddress));
            SchemaMigrator.AddParameter(insert, "@r", region);
            SchemaMigrator.AddParameter(insert, "@u", UserAgents.Family(http.Request.Headers.UserAgent.ToString()));
            await insert.ExecuteNonQueryAsync(ct);
            await Analytics.AnalyticsRollup.AddScanAsync(conn, tx, epc, region, now, ct);
            await tx.CommitAsync(ct);
        }
        finally
        {
            _write.Release();
        }

        long count;
        DateTimeOffset? first;
        var cities = new HashSet<string>(StringComparer.Ordinal);
        await using (var stats = Sql.Command(conn, null, "SELECT COUNT(*), MIN(at) FROM scans WHERE epc = @e"))
        {
            SchemaMigrator.AddParameter(stats, "@e", epc);
            await using var r = await stats.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            count = r.GetInt64(0);
            first = r.IsDBNull(1) ? null : DbTime.Parse(r.GetString(1));
        }
        await using (var recent = Sql.Command(conn, null, "SELECT DISTINCT region_code FROM scans WHERE epc = @e AND at >= @since AND region_code IS NOT NULL"))
        {
            SchemaMigrator.AddParameter(recent, "@e", epc);
            SchemaMigrator.AddParameter(recent, "@since", DbTime.Format(now.AddHours(-24)));
            await using var r = await recent.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
                if (Regions.City(r.GetString(0)) is { } city) cities.Add(city);
        }

        return new ScanSummary(count, first, cities.Count, count > options.ScanLimit, cities.Count >= CityLimit);
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

/// <summary>The diversion alert, raised by scans and by sale events alike: the dealer, the territory expected, the region seen.</summary>
public static class Diversion
{
    public sealed record Dealer(string Id, string Name, IReadOnlyList<string> RegionCodes);

    public static async Task RaiseAsync(DbConnection conn, DbTransaction? tx, string epc, Dealer dealer, string region, string source,
        long? eventSequence, DateTimeOffset at, CancellationToken ct)
    {
        var gtin = Gs1Key.GtinOf(epc);
        if (conn.State != System.Data.ConnectionState.Open) await conn.OpenAsync(ct);
        var detail = new
        {
            source,
            dealer = new { id = dealer.Id, name = dealer.Name },
            expectedRegions = dealer.RegionCodes,
            actualRegion = region,
            eventSequence,
        };
        await AlertWriter.RaiseAsync(conn, tx, AlertTypes.Diversion, epc, gtin, await LotOfAsync(conn, tx, epc, ct), detail, at,
            $"diversion:{epc}:{dealer.Id}:{region}", ct);
    }

    private static async Task<string?> LotOfAsync(DbConnection conn, DbTransaction? tx, string epc, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT COALESCE((SELECT lot FROM units WHERE epc = @e), (SELECT lot FROM codes WHERE epc = @e))";
        SchemaMigrator.AddParameter(cmd, "@e", epc);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }
}
