using Traceability.Api.Infrastructure.Errors;

namespace Traceability.Api.Infrastructure.Validation;

/// <summary>
/// The longest free text the service stores per field: names are shown on consumer pages and in exports, reasons and
/// extension values travel with events into every reader's answer; a megabyte "name" is never meant.
/// </summary>
public static class TextLimits
{
    public const int Name = 200;
    public const int Description = 2_000;
    public const int Address = 500;
    public const int Reason = 1_000;
    public const int ExtensionValue = 4_096;

    /// <summary>Adds an error naming the field when <paramref name="value"/> is longer than <paramref name="max"/> characters, or holds a NUL (PostgreSQL cannot store one).</summary>
    public static void Check(List<FieldError> errors, string field, string? value, int max)
    {
        if (value is not null && value.Length > max)
            errors.Add(new FieldError(field, $"{field} is {value.Length} characters long; at most {max} are accepted."));
        else if (value is not null && value.Contains('\0', StringComparison.Ordinal))
            errors.Add(new FieldError(field, $"{field} holds a NUL character (U+0000), which no text field stores."));
    }
}

/// <summary>
/// GS1 keys and GB/T 2260 codes are ASCII digits. (Regex \d also matches other scripts' digits, and $ matches before
/// a final newline: neither belongs in a key.)
/// </summary>
public static class Digits
{
    public static bool Exactly(string? value, int length) => value is not null && value.Length == length && IsAscii(value);

    public static bool IsAscii(string value) => value.Length > 0 && value.All(char.IsAsciiDigit);
}
