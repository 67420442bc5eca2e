namespace Traceability.Api.Features.Capture;

/// <summary>
/// The CBV 2.0 standard vocabularies a capture is checked against. A value under https://ref.gs1.org/cbv/BizStep- (or
/// Disp-, BTT-, SDT-) must be one of these words; other URIs are user vocabularies and allowed.
/// The lists equal ../shared/conformance/epcis-spec/cbv-context-*.jsonld (a test compares them).
/// </summary>
public static class CbvVocabulary
{
    public const string Base = "https://ref.gs1.org/cbv/";

    public static readonly IReadOnlySet<string> BizSteps = new HashSet<string>(StringComparer.Ordinal)
    {
        "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning", "creating_class_instance",
        "cycle_counting", "decommissioning", "departing", "destroying", "disassembling", "dispensing", "encoding",
        "entering_exiting", "holding", "inspecting", "installing", "killing", "loading", "other", "packing", "picking",
        "receiving", "removing", "repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling",
        "sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing", "transporting",
        "unloading", "unpacking", "void_shipping",
    };

    public static readonly IReadOnlySet<string> Dispositions = new HashSet<string>(StringComparer.Ordinal)
    {
        "active", "available", "completeness_inferred", "completeness_verified", "conformant", "container_closed",
        "container_open", "damaged", "destroyed", "dispensed", "disposed", "encoded", "expired", "in_progress",
        "in_transit", "inactive", "mismatch_instance", "mismatch_class", "mismatch_quantity", "needs_replacement",
        "no_pedigree_match", "non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
        "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen", "unavailable", "unknown",
    };

    public static readonly IReadOnlySet<string> BizTransactionTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma", "testprd", "testres", "upevt",
    };

    public static readonly IReadOnlySet<string> SourceDestinationTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "location", "owning_party", "possessing_party",
    };

    /// <summary>Null when <paramref name="uri"/> is allowed: a listed CBV word under <paramref name="prefix"/>, or any other URI.</summary>
    public static string? Check(string? uri, string prefix, IReadOnlySet<string> words, string what)
    {
        if (uri is null) return null;
        var full = Base + prefix;
        if (uri.StartsWith(full, StringComparison.Ordinal))
            return words.Contains(uri[full.Length..]) ? null : $"'{uri[full.Length..]}' is not a CBV 2.0 {what}.";
        if (uri.StartsWith(Base, StringComparison.Ordinal)) return $"'{uri}' is not a CBV 2.0 {what}.";
        return Uri.TryCreate(uri, UriKind.Absolute, out _) ? null : $"'{uri}' is neither a CBV 2.0 {what} nor a URI.";
    }
}
