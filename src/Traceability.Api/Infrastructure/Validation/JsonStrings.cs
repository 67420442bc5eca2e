using System.Text.Json;

namespace Traceability.Api.Infrastructure.Validation;

/// <summary>
/// JSON text may escape half of a surrogate pair (<c>"\ud800"</c>): it parses, but is no Unicode text, and
/// System.Text.Json throws (InvalidOperationException, not JsonException) only when the string is read. Bodies read as
/// JSON nodes are checked with this once, so a later read cannot fail with a 500.
/// </summary>
public static class JsonStrings
{
    /// <summary>Where the first key or string that is not valid Unicode is (the property it belongs to), or null when every one is.</summary>
    public static string? FirstInvalid(ReadOnlySpan<byte> json, int maxDepth)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        string? property = null;
        while (reader.Read())
        {
            if (reader.TokenType is not (JsonTokenType.PropertyName or JsonTokenType.String)) continue;
            try
            {
                var text = reader.GetString();
                if (reader.TokenType == JsonTokenType.PropertyName) property = text;
            }
            catch (InvalidOperationException)
            {
                return reader.TokenType == JsonTokenType.PropertyName
                    ? property is null ? "a key" : $"the key after '{property}'"
                    : property is null ? "a value" : $"'{property}'";
            }
        }
        return null;
    }

    /// <summary>The message of a 400 for <see cref="FirstInvalid"/>'s answer.</summary>
    public static string Message(string where) => $"{where} is not valid Unicode text: a lone surrogate escape such as \\ud800.";
}
