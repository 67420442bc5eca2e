using Traceability.Api.Features.Capture;

namespace Traceability.Api.Features.Tracing;

/// <summary>What an inspection's disposition does to a lot under its product's hold rule.</summary>
public enum HoldVerdict
{
    None,
    Hold,
    Release,
}

/// <summary>
/// A product's hold rule: which dispositions of an inspection (bizStep <see cref="Step"/>) put the lot on hold and which
/// release it. A product is judged by the hold rule of the version of its control points in force at the event's time,
/// or, when that version has none (or there is no version), by <see cref="Default"/>, the quality hold every product
/// has. Dispositions are CBV words (<c>non_conformant</c>) or user-vocabulary URIs, as the custody event carries them.
/// Who may hold or release is not part of the rule: the custody rules decide it (the lot's owner, a member holding units
/// of it, a regulator).
/// </summary>
public sealed record HoldRule(string Name, long? Version, IReadOnlyList<string> HoldDispositions, IReadOnlyList<string> ReleaseDispositions)
{
    public const string Step = "inspecting";

    /// <summary>The default: an inspection non_conformant or damaged holds the lot, conformant releases it.</summary>
    public static readonly HoldRule Default = new("quality-hold", null, ["non_conformant", "damaged"], ["conformant"]);

    public HoldVerdict Verdict(string? disposition) =>
        disposition is null ? HoldVerdict.None
        : HoldDispositions.Contains(disposition) ? HoldVerdict.Hold
        : ReleaseDispositions.Contains(disposition) ? HoldVerdict.Release
        : HoldVerdict.None;

    /// <summary>The rule of a GTIN among those given; the default for any other, and for a code without a GTIN (a container).</summary>
    public static HoldRule Of(IReadOnlyDictionary<string, HoldRule>? rules, string? gtin) =>
        gtin is not null && rules is not null && rules.TryGetValue(gtin, out var rule) ? rule : Default;

    /// <summary>
    /// Whether an inspection with this disposition is a verdict on lots: it holds or releases under the rule of any
    /// product whose codes it names (an event naming no code, or a code without GTIN, by the default rule).
    /// </summary>
    public static bool AnyJudges(IReadOnlyDictionary<string, HoldRule>? rules, IReadOnlyCollection<string?> gtins, string? disposition) =>
        gtins.Count == 0 ? Default.Verdict(disposition) != HoldVerdict.None : gtins.Any(g => Of(rules, g).Verdict(disposition) != HoldVerdict.None);
}

/// <summary>
/// The hold rule of a product in force at a time, for the custody step. Kept with the product's control points (their
/// versions are ledger events), which the lifecycle feature reads; without it every product has the default rule.
/// </summary>
public interface IHoldRules
{
    ValueTask<HoldRule> InForceAsync(CaptureContext context, string gtin, DateTimeOffset at, CancellationToken ct);
}
