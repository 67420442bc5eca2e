using System.Text.Json.Nodes;
using Nethereum.JsonRpc.Client;
using Traceability.Chain;

namespace Traceability.Verifier;

/// <summary>What <c>--min-witnesses k</c> read from the chain about the bundle's anchor.</summary>
public sealed record WitnessOutcome(bool Enough, string Line, AnchorCosignatures? Cosignatures = null)
{
    public JsonObject ToJson() => new()
    {
        ["enough"] = Enough,
        ["cosigners"] = Cosignatures is null ? null : new JsonArray(Cosignatures.Cosigners.Select(c => (JsonNode)c).ToArray()),
        ["threshold"] = Cosignatures?.Threshold,
        ["witnessCount"] = Cosignatures?.WitnessCount,
        ["final"] = Cosignatures?.Final,
        ["line"] = Line,
    };
}

/// <summary>
/// Counts the cosignatures of a verified bundle's anchor on the contract (cosignersOf), never trusting what the bundle
/// says about witnesses: each cosignature means that witness rebuilt exactly this root from the anchor's leaves.
/// </summary>
public static class WitnessCheck
{
    public static async Task<WitnessOutcome> CheckAsync(HttpClient http, VerificationResult verified, ChainOptions options, int minWitnesses, CancellationToken ct = default)
    {
        if (!verified.Verified || verified.Anchor is not { } anchor || verified.Contract is not { } contract)
            return new WitnessOutcome(false, "witnesses: the bundle did not verify, so its anchor's cosignatures were not counted");
        AnchorCosignatures c;
        try { c = await new AnchorRegistryClient(new HttpRpcClient(http, options.RpcUrl), contract).GetCosignaturesAsync(anchor, ct).ConfigureAwait(false); }
        catch (Exception e) when (e is ChainUnavailableException or RpcResponseException or ContractRevertedException or InvalidOperationException)
        {
            return new WitnessOutcome(false, $"witnesses: the contract's cosignatures could not be read: {e.Message}");
        }

        var who = c.Cosigners.Count == 0 ? "no witness" : string.Join(", ", c.Cosigners);
        var standing = $"anchor {anchor} is cosigned by {c.Cosigners.Count} of {c.WitnessCount} witnesses ({who}); threshold {c.Threshold}, {(c.Final ? "final" : "not final")}";
        return c.Cosigners.Count >= minWitnesses
            ? new WitnessOutcome(true, $"WITNESSED: {standing}", c)
            : new WitnessOutcome(false, $"too few witnesses: {standing}; --min-witnesses asks for {minWitnesses}", c);
    }
}
