using System.Security.Cryptography;
using Traceability.Api.Domain;
using Traceability.Api.Features.Analytics;
using Traceability.Api.Features.Members;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Validation;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Import;

/// <summary>
/// Dealers by GLN: members with the role dealer and their territory (GB/T 2260 codes, against which sales and scans are
/// checked for diversion). A dealer a manufacturer imports is registered by it, and it alone updates it through the
/// import; a dealer the operator created, or another manufacturer registered, is left as it is (a row that says the same
/// is unchanged, one that differs is refused). A GLN of a member that is not a dealer is refused. Imported dealers get no
/// key: the operator issues one (POST /api/v1/members/{id}/keys) when the dealer joins.
/// </summary>
public static class DealerImport
{
    public static readonly string[] Fields = ["gln", "name", "regionCodes", "address"];
    private const int Gln = 0, Name = 1, RegionCodes = 2, Address = 3;
    private static readonly char[] Separators = [';', ',', '|', ' ', '\t'];

    private sealed record Row(int Number, string Gln, string Name, string RegionCodes, string? Address);

    public static async Task RunAsync(ImportRun run, IReadOnlyList<ImportRow> rows, RegionTable regions, CancellationToken ct)
    {
        var caller = run.Caller;
        var valid = new List<Row>(rows.Count);
        var firstRow = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var errors = run.ErrorCount;
            var gln = row[Gln];
            if (!Digits.Exactly(gln, 13) || Gs1Identifiers.CheckDigit(gln.AsSpan(0, 12)) != gln![12])
                run.Error(row.Number, "gln", "gln must be 13 digits with a valid check digit.");
            else if (!firstRow.TryAdd(gln, row.Number))
                run.Error(row.Number, "gln", $"GLN {gln} is on row {firstRow[gln]} too; a file names each dealer once.", "duplicate");
            if (row[Name] is null) run.Error(row.Number, "name", "name is required.");
            ProductImport.Limit(run, row, "name", row[Name], TextLimits.Name);
            ProductImport.Limit(run, row, "address", row[Address], TextLimits.Address);
            var territory = (row[RegionCodes] ?? "").Split(Separators, StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
            if (territory.Count == 0) run.Error(row.Number, "regionCodes", "regionCodes (the dealer's territory, GB/T 2260 codes) is required.");
            else if (territory.Count > CompanyPrefixes.MaxPerMember) run.Error(row.Number, "regionCodes", $"at most {CompanyPrefixes.MaxPerMember} region codes.");
            else foreach (var code in territory) LocationImport.CheckRegion(run, row.Number, "regionCodes", code, regions);
            if (run.ErrorCount > errors || run.RefusedOnReading(row.Number)) { run.Refused++; continue; }
            valid.Add(new Row(row.Number, gln!, row[Name]!, string.Join(',', territory), row[Address]));
        }

        var existing = (await Sql.ListInAsync(run.Connection, run.Transaction,
                "SELECT gln, id, role, name, region_codes, address, registered_by FROM members WHERE gln IN ({in}) ORDER BY created_at, id", valid.Select(v => v.Gln),
                r => (Gln: r.GetString(0), Id: r.GetString(1), Role: r.GetString(2), Name: r.GetString(3), Regions: r.GetString(4), Address: r.Str(5), RegisteredBy: r.Str(6)), ct))
            .GroupBy(m => m.Gln).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        var writes = new List<object?[]>();
        foreach (var row in valid)
        {
            var found = existing.GetValueOrDefault(row.Gln);
            if (found is { Count: > 1 })
            {
                Refuse(run, row, $"GLN {row.Gln} belongs to {found.Count} members; the operator sorts that out first.", "owner");
                continue;
            }
            if (found is [var old])
            {
                var same = old.Name == row.Name && old.Regions == row.RegionCodes && old.Address == row.Address;
                if (old.Role != MemberRole.Dealer.ToWire()) Refuse(run, row, $"GLN {row.Gln} is the GLN of a member that is a {old.Role}, not a dealer.", "role");
                else if (same) run.Unchanged++;
                else if (caller.Role != MemberRole.Admin && old.RegisteredBy != caller.MemberId)
                    Refuse(run, row, $"dealer {old.Id} (GLN {row.Gln}) was registered by {(old.RegisteredBy is null ? "the operator" : "another member")}; only it changes the dealer.", "owner");
                else
                {
                    run.Updated++;
                    writes.Add([old.Id, row.Name, old.Role, row.Gln, row.RegionCodes, row.Address, run.NowText, "", old.RegisteredBy]);
                }
                continue;
            }
            run.Created++;
            writes.Add(["m_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), row.Name, MemberRole.Dealer.ToWire(), row.Gln, row.RegionCodes, row.Address,
                run.NowText, "", caller.Role == MemberRole.Admin ? null : caller.MemberId]);
        }
        if (run.Writes)
            await run.UpsertAsync("members", ["id", "name", "role", "gln", "region_codes", "address", "created_at", "company_prefixes", "registered_by"], "id",
                ["name", "region_codes", "address"], writes, ct);
    }

    private static void Refuse(ImportRun run, Row row, string message, string rule)
    {
        run.Error(row.Number, "gln", message, rule);
        run.Refused++;
    }
}
