using Traceability.Api.Features.Analytics;
using Traceability.Api.Features.Members;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Validation;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Import;

/// <summary>
/// Locations by SGLN, with the rules of POST /api/v1/locations: an SGLN (URN or Digital Link), a name, a region; the
/// location is the caller's (the admin or a regulator may name another member, <c>memberId</c>); another member's
/// location is refused; its GLN must lie under the member's company prefixes. The region must be a current GB/T 2260 code.
/// </summary>
public static class LocationImport
{
    public static readonly string[] Fields = ["id", "name", "regionCode", "memberId"];
    private const int Id = 0, Name = 1, RegionCode = 2, MemberId = 3;

    private sealed record Row(int Number, string Id, string Name, string RegionCode, string? MemberId);

    public static async Task RunAsync(ImportRun run, IReadOnlyList<ImportRow> rows, RegionTable regions, CancellationToken ct)
    {
        var caller = run.Caller;
        var valid = new List<Row>(rows.Count);
        var firstRow = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var errors = run.ErrorCount;
            string? id = null;
            if (row[Id] is not { } text || !Gs1Identifiers.TryCanonicalId(text, out var canonical, out _) || !canonical.Contains("/414/", StringComparison.Ordinal))
                run.Error(row.Number, "id", "id must be an SGLN URN (urn:epc:id:sgln:...) or its GS1 Digital Link (.../414/...).");
            else if (!firstRow.TryAdd(canonical, row.Number))
                run.Error(row.Number, "id", $"location {canonical} is on row {firstRow[canonical]} too; a file names each location once.", "duplicate");
            else id = canonical;
            if (row[Name] is null) run.Error(row.Number, "name", "name is required.");
            ProductImport.Limit(run, row, "name", row[Name], TextLimits.Name);
            CheckRegion(run, row.Number, "regionCode", row[RegionCode], regions);
            var memberId = caller.SeesEverything ? row[MemberId] : caller.MemberId;
            if (!caller.SeesEverything && row[MemberId] is { } named && named != caller.MemberId)
                run.Error(row.Number, "memberId", "a member registers its own locations; only the operator or a regulator names another member.");
            if (run.ErrorCount > errors || run.RefusedOnReading(row.Number)) { run.Refused++; continue; }
            valid.Add(new Row(row.Number, id!, row[Name]!, row[RegionCode]!, memberId));
        }

        var members = (await Sql.ListInAsync(run.Connection, run.Transaction, "SELECT id FROM members WHERE id IN ({in})",
            valid.Select(v => v.MemberId).OfType<string>(), r => r.GetString(0), ct)).ToHashSet(StringComparer.Ordinal);
        var existing = (await Sql.ListInAsync(run.Connection, run.Transaction, "SELECT id, name, region_code, member_id FROM locations WHERE id IN ({in})",
                valid.Select(v => v.Id), r => (Id: r.GetString(0), Name: r.GetString(1), Region: r.GetString(2), Member: r.Str(3)), ct))
            .ToDictionary(l => l.Id, StringComparer.Ordinal);
        var prefixes = await PrefixClaims.LoadAsync(run, ct);

        var writes = new List<object?[]>();
        foreach (var row in valid)
        {
            string? problem = null, rule = null, field = "id";
            existing.TryGetValue(row.Id, out var old);
            var found = old.Id is not null;
            if (row.MemberId is not null && !members.Contains(row.MemberId)) (problem, field) = ($"No member '{row.MemberId}'.", "memberId");
            else if (found && MembersApi.LocationTakeover(old.Member, caller) is { } refusal) (problem, rule) = (refusal, "owner");
            else if (MembersApi.GlnOf(row.Id) is { } gln && row.MemberId is not null && prefixes.Problem(row.MemberId, gln, $"SGLN {row.Id}") is { } p)
                (problem, rule) = (p, "company-prefix");
            if (problem is not null)
            {
                run.Error(row.Number, field, problem, rule);
                run.Refused++;
                continue;
            }
            if (found && old.Name == row.Name && old.Region == row.RegionCode && old.Member == row.MemberId)
            {
                run.Unchanged++;
                continue;
            }
            if (found) run.Updated++;
            else run.Created++;
            writes.Add([row.Id, row.Name, row.RegionCode, row.MemberId, run.NowText]);
        }
        if (run.Writes)
            await run.UpsertAsync("locations", ["id", "name", "region_code", "member_id", "created_at"], "id", ["name", "region_code", "member_id"], writes, ct);
    }

    /// <summary>A six-digit GB/T 2260 code of a current region (a withdrawn code names the one that replaced it).</summary>
    internal static bool CheckRegion(ImportRun run, int row, string field, string? code, RegionTable regions)
    {
        if (!Digits.Exactly(code, 6))
        {
            run.Error(row, field, $"{field} must be a six-digit GB/T 2260 code{(code is null ? "" : $"; '{Clip(code)}' is not")}.");
            return false;
        }
        var region = regions.Find(code!);
        if (region is null) run.Error(row, field, $"{code} is not a GB/T 2260 region code.");
        else if (region.Successor is { } successor) run.Error(row, field, $"{code} ({region.Name}) was withdrawn in {region.WithdrawnIn}; its region is now {successor}.");
        return region is { Successor: null };
    }

    private static string Clip(string value) => value.Length <= 20 ? value : value[..20] + "…";
}
