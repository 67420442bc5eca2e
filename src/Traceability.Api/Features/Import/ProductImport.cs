using System.Text.Json;
using Traceability.Api.Domain;
using Traceability.Api.Features.Members;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Validation;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Import;

/// <summary>
/// Products by GTIN, with the rules of POST /api/v1/products: a GTIN with a valid check digit, a name, text limits, an
/// attributes object; a product of another member is refused; a new or own GTIN must lie under the caller's company
/// prefixes (and under no other member's).
/// </summary>
public static class ProductImport
{
    public static readonly string[] Fields = ["gtin", "name", "description", "attributes"];
    private const int Gtin = 0, Name = 1, Description = 2, Attributes = 3;

    private sealed record Row(int Number, string Gtin, string Name, string? Description, string? Attributes);

    public static async Task RunAsync(ImportRun run, IReadOnlyList<ImportRow> rows, CancellationToken ct)
    {
        var caller = run.Caller;
        var valid = new List<Row>(rows.Count);
        var firstRow = new Dictionary<string, int>(rows.Count, StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var errors = run.ErrorCount;
            if (!Gs1Identifiers.TryNormalizeGtin(row[Gtin], out var gtin))
                run.Error(row.Number, "gtin", "gtin must be a GTIN-8, -12, -13 or -14 with a valid check digit.");
            else if (!firstRow.TryAdd(gtin, row.Number))
                run.Error(row.Number, "gtin", $"GTIN {gtin} is on row {firstRow[gtin]} too; a file names each product once.", "duplicate");
            if (row[Name] is null) run.Error(row.Number, "name", "name is required.");
            Limit(run, row, "name", row[Name], TextLimits.Name);
            Limit(run, row, "description", row[Description], TextLimits.Description);
            var attributes = NormalizeObject(row[Attributes], out var attributesOk);
            if (!attributesOk) run.Error(row.Number, "attributes", "attributes must be a JSON object.");
            if (run.ErrorCount > errors || run.RefusedOnReading(row.Number)) { run.Refused++; continue; }
            valid.Add(new Row(row.Number, gtin, row[Name]!, row[Description], attributes));
        }

        var existing = (await Sql.ListInAsync(run.Connection, run.Transaction,
                "SELECT gtin, name, description, attributes_json, owner_member_id FROM products WHERE gtin IN ({in})", valid.Select(v => v.Gtin),
                r => (Gtin: r.GetString(0), Name: r.GetString(1), Description: r.Str(2), Attributes: r.Str(3), Owner: r.Str(4)), ct))
            .ToDictionary(p => p.Gtin, StringComparer.Ordinal);
        var prefixes = await PrefixClaims.LoadAsync(run, ct);

        var writes = new List<object?[]>();
        foreach (var row in valid)
        {
            existing.TryGetValue(row.Gtin, out var old);
            var found = old.Gtin is not null;
            if (found && caller.Role != MemberRole.Admin && old.Owner != caller.MemberId)
            {
                run.Error(row.Number, "gtin", $"GTIN {row.Gtin} belongs to another member.", "owner");
                run.Refused++;
                continue;
            }
            if (caller.Role != MemberRole.Admin && prefixes.Problem(caller.MemberId, row.Gtin[1..], $"GTIN {row.Gtin}") is { } problem)
            {
                run.Error(row.Number, "gtin", problem, "company-prefix");
                run.Refused++;
                continue;
            }
            if (found && old.Name == row.Name && old.Description == row.Description && NormalizeObject(old.Attributes, out _) == row.Attributes)
            {
                run.Unchanged++;
                continue;
            }
            if (found) run.Updated++;
            else run.Created++;
            writes.Add([row.Gtin, row.Name, row.Description, row.Attributes, found ? old.Owner : caller.Role == MemberRole.Admin ? null : caller.MemberId, run.NowText]);
        }
        if (run.Writes)
            await run.UpsertAsync("products", ["gtin", "name", "description", "attributes_json", "owner_member_id", "created_at"], "gtin",
                ["name", "description", "attributes_json"], writes, ct);
    }

    internal static void Limit(ImportRun run, ImportRow row, string field, string? value, int max)
    {
        if (value is not null && value.Length > max) run.Error(row.Number, field, $"{field} is {value.Length} characters long; at most {max} are accepted.");
    }

    /// <summary>A JSON object's compact text (so that whitespace does not make a product "updated"); ok false when the text is not an object.</summary>
    private static string? NormalizeObject(string? json, out bool ok)
    {
        ok = true;
        if (json is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) { ok = false; return null; }
            return JsonSerializer.Serialize(doc.RootElement);
        }
        catch (JsonException)
        {
            ok = false;
            return null;
        }
    }
}

/// <summary>Every member's declared company prefixes, read once per file; the rule of <see cref="CompanyPrefixes.RequireUnderAsync"/> per key.</summary>
internal sealed class PrefixClaims(Dictionary<string, List<string>> byMember)
{
    public static async Task<PrefixClaims> LoadAsync(ImportRun run, CancellationToken ct) =>
        new((await Sql.ListAsync(run.Connection, run.Transaction, "SELECT id, company_prefixes FROM members WHERE company_prefixes <> ''",
                r => (Id: r.GetString(0), Prefixes: r.GetString(1).Split(',', StringSplitOptions.RemoveEmptyEntries).ToList()), ct))
            .ToDictionary(m => m.Id, m => m.Prefixes, StringComparer.Ordinal));

    /// <summary>Why <paramref name="memberId"/> may not register the key, or null when it may.</summary>
    public string? Problem(string memberId, string keyDigits, string what)
    {
        var own = byMember.GetValueOrDefault(memberId) ?? [];
        if (own.Count > 0)
            return CompanyPrefixes.Covers(own, keyDigits) ? null : $"{what} is not under the member's company prefixes ({string.Join(", ", own)}).";
        return byMember.Any(m => m.Key != memberId && CompanyPrefixes.Covers(m.Value, keyDigits)) ? $"{what} is under a company prefix another member declared." : null;
    }
}
