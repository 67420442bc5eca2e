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
/// A cell is refused (a row error naming the field) for what it may not hold (<see cref="CellProblem"/>), a CSV row whose
/// cells do not line up with its header, a JSON field given twice or not valid Unicode.
/// </summary>
public static class ImportRows
{
    public static async Task<(List<ImportRow> Rows, List<RowError> Errors)> ReadJsonAsync(Stream body, IReadOnlyList<string> fields, int maxRows, CancellationToken ct)
    {
        var index = FieldIndex(fields);
        var rows = new List<ImportRow>();
        var errors = new List<RowError>();
        var options = new JsonSerializerOptions { AllowDuplicateProperties = false, MaxDepth = 16 };
        var seen = new HashSet<int>();
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
                    if (!TryText(() => property.Name, out var read) || read is not { } name)
                    {
                        errors.Add(new RowError(number, "row", "a field name is not valid Unicode (a lone surrogate escape such as \\ud800)."));
                        continue;
                    }
                    if (!index.TryGetValue(name, out var i))
                    {
                        errors.Add(new RowError(number, Clip(name), $"'{Clip(name)}' is not a field here; the fields are {string.Join(", ", fields)}."));
                        continue;
                    }
                    if (!seen.Add(i))
                    {
                        errors.Add(new RowError(number, fields[i], $"{fields[i]} is given twice in this row."));
                        continue;
                    }
                    var value = property.Value;
                    if (!TryText(() => value.ValueKind switch
                        {
                            JsonValueKind.String => Empty(value.GetString()),
                            JsonValueKind.Number => value.GetRawText(),
                            JsonValueKind.Null => null,
                            JsonValueKind.Object => value.GetRawText(),
                            JsonValueKind.Array when value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String) =>
                                string.Join(';', value.EnumerateArray().Select(v => v.GetString())),
                            JsonValueKind.Array => value.GetRawText(),
                            _ => Invalid(errors, number, fields[i]),
                        }, out var text))
                    {
                        errors.Add(new RowError(number, fields[i], $"{fields[i]} is not valid Unicode (a lone surrogate escape such as \\ud800)."));
                        continue;
                    }
                    values[i] = text;
                    if (CellProblem(fields[i], text) is { } problem) errors.Add(problem with { Row = number });
                }
                seen.Clear();
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
        var errors = new List<RowError>();
        using var reader = new StreamReader(body, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024);
        var unclosed = 0; // the row a quoted cell opened on and never closed: it would swallow the rest of the file
        var config = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Mode = CsvMode.RFC4180, DetectColumnCountChanges = false,
            BadDataFound = args => { if (args.Field.StartsWith('"') && unclosed == 0) unclosed = args.Context.Parser?.Row ?? -1; },
        };
        using var csv = new CsvParser(reader, config);
        int[]? columns = null;
        var lastNamed = -1;
        try
        {
            while (await csv.ReadAsync())
            {
                ct.ThrowIfCancellationRequested();
                var record = csv.Record ?? [];
                if (columns is null)
                {
                    if (record.Length > MaxColumns)
                        throw RequestValidationException.ForField("header", $"the header row has {record.Length} columns; at most {MaxColumns} are read (the fields are {string.Join(", ", fields)}).");
                    columns = new int[record.Length];
                    var unknown = new List<FieldError>();
                    var named = new HashSet<int>();
                    for (var c = 0; c < record.Length; c++)
                    {
                        var name = (c == 0 ? record[c].TrimStart('\uFEFF') : record[c]).Trim(); // UTF-8 only: its byte-order mark is dropped, a UTF-16 one is not UTF-8
                        if (index.TryGetValue(name, out var i))
                        {
                            columns[c] = i;
                            if (!named.Add(i)) unknown.Add(new FieldError(fields[i], $"column '{Clip(name)}' names the field {fields[i]} twice."));
                        }
                        else if (name.Length == 0) columns[c] = -1; // a trailing separator
                        else unknown.Add(new FieldError(Clip(name), $"column '{Clip(name)}' is not a field here; the fields are {string.Join(", ", fields)}."));
                    }
                    if (unknown.Count > 0) throw new RequestValidationException("Unknown columns in the CSV header", unknown);
                    lastNamed = Array.FindLastIndex(columns, c => c >= 0);
                    continue;
                }
                if (record.Length == 1 && record[0].Length == 0) continue; // a blank line
                var number = rows.Count + 1;
                if (number > maxRows) throw new PayloadTooLargeException($"An import file holds at most {maxRows:N0} rows.");
                var values = new string?[fields.Count];
                // a row of other length than the header: its cells cannot be told apart (a cell beyond the header would be lost)
                if (record.Length <= lastNamed || record.Skip(columns.Length).Any(cell => cell.Trim().Length > 0))
                    errors.Add(new RowError(number, "row", $"the row has {record.Length} cells; the header has {columns.Length}."));
                for (var c = 0; c < record.Length && c < columns.Length; c++)
                {
                    if (columns[c] < 0) continue;
                    values[columns[c]] = Empty(record[c]);
                    if (CellProblem(fields[columns[c]], values[columns[c]]) is { } problem) errors.Add(problem with { Row = number });
                }
                rows.Add(new ImportRow(number, values));
            }
        }
        catch (DecoderFallbackException)
        {
            throw RequestValidationException.ForField("body", "The CSV file is not UTF-8.");
        }
        if (columns is null) throw RequestValidationException.ForField("body", "The CSV file has no header row.");
        if (unclosed != 0) throw RequestValidationException.ForField("body", $"A quoted cell opened on line {unclosed} is never closed (a quote is missing).");
        return (rows, errors);
    }

    /// <summary>The most columns a header may have: every kind has fewer than 10 fields; a wider header is not an import file.</summary>
    public const int MaxColumns = 64;

    /// <summary>Free text, as a spreadsheet would show it: a cell starting with = + - or @ would be a formula there.</summary>
    private static readonly HashSet<string> FreeText = new(StringComparer.Ordinal) { "name", "description", "address" };

    /// <summary>
    /// What no cell may hold: control characters (NUL and the other C0 codes but tab and line breaks; PostgreSQL cannot store
    /// a NUL, and none belongs in master data), and in free text a leading = + - or @: the file came from a spreadsheet
    /// and goes back to one in every export, where such a cell is a formula (CSV injection). Null when the cell is fine.
    /// </summary>
    public static RowError? CellProblem(string field, string? value)
    {
        if (value is null) return null;
        foreach (var ch in value)
            if (char.IsControl(ch) && ch is not ('\t' or '\n' or '\r') && ch < '\u0080')
                return new RowError(0, field, $"{field} holds the control character U+{(int)ch:X4}.", "control-character");
        if (FreeText.Contains(field) && value[0] is '=' or '+' or '-' or '@')
            return new RowError(0, field, $"{field} starts with '{value[0]}': a spreadsheet would run it as a formula; write it without the leading '{value[0]}'.", "formula");
        return null;
    }

    /// <summary>Reads a JSON string; false for text that is not valid Unicode (System.Text.Json throws on a lone surrogate escape).</summary>
    private static bool TryText(Func<string?> read, out string? text)
    {
        try
        {
            text = read();
            return true;
        }
        catch (InvalidOperationException)
        {
            text = null;
            return false;
        }
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
