using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Capture;

/// <summary>
/// Checks a value against a CBV 2.0 standard vocabulary (the word lists are the Ledger's <see cref="CbvVocabulary"/>):
/// a value under https://ref.gs1.org/cbv/BizStep- (or Disp-, BTT-, SDT-) must be one of its words; other URIs are
/// user vocabularies and allowed.
/// </summary>
public static class CbvVocabularyCheck
{
    /// <summary>Null when <paramref name="uri"/> is allowed: a listed CBV word under <paramref name="prefix"/>, or any other URI.</summary>
    public static string? Check(string? uri, string prefix, IReadOnlySet<string> words, string what)
    {
        if (uri is null) return null;
        var full = CbvVocabulary.Cbv + prefix;
        if (uri.StartsWith(full, StringComparison.Ordinal))
            return words.Contains(uri[full.Length..]) ? null : $"'{uri[full.Length..]}' is not a CBV 2.0 {what}.";
        if (uri.StartsWith(CbvVocabulary.Cbv, StringComparison.Ordinal)) return $"'{uri}' is not a CBV 2.0 {what}.";
        return Uri.TryCreate(uri, UriKind.Absolute, out _) ? null : $"'{uri}' is neither a CBV 2.0 {what} nor a URI.";
    }
}
