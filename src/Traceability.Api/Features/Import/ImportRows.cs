using System.Globalization;
using System.Text;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;
using Traceability.Api.Infrastructure.Errors;

namespace Traceability.Api.Features.Import;

/// <summary>One row of an import file: its number (1 = the first data row: the array's first element, the line after the CSV header) and its values by field.</summary>
public sealed record ImportRow(int Number, string?[] Values)
{
    public string? this[int field] => Values[field];
}

/// <summary>A problem with one row of an import file, naming the field (and the rule, when one applies).</summary>
public sealed record RowError(int Row, string Field, string Message, string? Rule = null);

/// <summary>
/// Reads an import file into rows of text values, streaming: a JSON array of objects, or CSV (RFC 4180 quoting, a header
/// row naming the fields, UTF-8). Field names are matched without regard to case; a field the kind does not have is
/// refused (a misspelt column would otherwise be dropped silently). In JSON a number is taken as its text, an array of
/// strings as its items joined with ';', an object or an array of objects as its JSON text. Empty cells are null.
/// </summary>
public static class ImportRows
{
    public static async Task<(List<ImportRow> Rows, List<RowError> Errors)> ReadJsonAsync(Stream body, IReadOnlyList<string> fields, int maxRows, CancellationToken ct)
    {
        var index = FieldIndex(fields);
        var rows = new List<ImportRow>();
        var errors = new List<RowError>();
        var options = new JsonSerializerOptions { AllowDuplicateProperties = false, MaxDepth = 16 };
        try
        {
            await foreach (var element in JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(body, options, ct))
            {
                var number = rows.Count + 1;
                if (number > maxRows) throw new PayloadTooLargeException($"An import file holds at most {maxRows:N0} rows.");
                var values = new string?[fields.Count];
                rows.Add(new ImportRow(number, values));
                if (element.ValueKind != JsonValueKind.Object)
                {
                    errors.Add(new RowError(number, "row", "each element of the array is an object of fields."));
                    continue;
                }
                foreach (var property in element.EnumerateObject())
                {
                    if (!index.TryGetValue(property.Name, out var i))
                    {
                        errors.Add(new RowError(number, Clip(property.Name), $"'{Clip(property.Name)}' is not a field here; the fields are {string.Join(", ", fields)}."));
                        continue;
                    }
                    values[i] = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => Empty(property.Value.GetString()),
                        JsonValueKind.Number => property.Value.GetRawText(),
                        JsonValueKind.Null => null,
                        JsonValueKind.Object => property.Value.GetRawText(),
                        JsonValueKind.Array when property.Value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String) =>
                            string.Join(';', property.Value.EnumerateArray().Select(v => v.GetString())),
                        JsonValueKind.Array => property.Value.GetRawText(),
                        _ => Invalid(errors, number, fields[i]),
                    };
                }
            }
        }
        catch (JsonException e)
        {
            throw RequestValidationException.ForField("body", $"The file is not a JSON array of objects: {e.Message}");
        }
        return (rows, errors);
    }

    public static async Task<(List<ImportRow> Rows, List<RowError> Errors)> ReadCsvAsync(Stream body, IReadOnlyList<string> fields, int maxRows, CancellationToken ct)
    {
        var index = FieldIndex(fields);
        var rows = new List<ImportRow>();
        using var reader = new StreamReader(body, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024);
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { Mode = CsvMode.RFC4180, BadDataFound = null, DetectColumnCountChanges = false };
        using var csv = new CsvParser(reader, config);
        int[]? columns = null;
        try
        {
            while (await csv.ReadAsync())
            {
                ct.ThrowIfCancellationRequested();
                var record = csv.Record ?? [];
                if (columns is null)
                {
                    columns = new int[record.Length];
                    var unknown = new List<FieldError>();
                    for (var c = 0; c < record.Length; c++)
                    {
                        var name = record[c].Trim();
                        if (index.TryGetValue(name, out var i)) columns[c] = i;
                        else if (name.Length == 0) columns[c] = -1; // a trailing separator
                        else unknown.Add(new FieldError(Clip(name), $"column '{Clip(name)}' is not a field here; the fields are {string.Join(", ", fields)}."));
                    }
                    if (unknown.Count > 0) throw new RequestValidationException("Unknown columns in the CSV header", unknown);
                    continue;
                }
                if (record.Length == 1 && record[0].Length == 0) continue; // a blank line
                var number = rows.Count + 1;
                if (number > maxRows) throw new PayloadTooLargeException($"An import file holds at most {maxRows:N0} rows.");
                var values = new string?[fields.Count];
                for (var c = 0; c < record.Length && c < columns.Length; c++)
                    if (columns[c] >= 0) values[columns[c]] = Empty(record[c]);
                rows.Add(new ImportRow(number, values));
            }
        }
        catch (DecoderFallbackException)
        {
            throw RequestValidationException.ForField("body", "The CSV file is not UTF-8.");
        }
        if (columns is null) throw RequestValidationException.ForField("body", "The CSV file has no header row.");
        return (rows, []);
    }

    private static Dictionary<string, int> FieldIndex(IReadOnlyList<string> fields)
    {
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < fields.Count; i++) index[fields[i]] = i;
        return index;
    }

    private static string? Empty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string? Invalid(List<RowError> errors, int row, string field)
    {
        errors.Add(new RowError(row, field, $"{field} must be text."));
        return null;
    }

    private static string Clip(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
