using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nethereum.JsonRpc.Client;
using Traceability.Chain;
using Traceability.Ledger.Merkle;

namespace Traceability.Verifier;

/// <summary>The member signature a bundle carries (its <c>signature</c> object), read from untrusted JSON.</summary>
public sealed record BundleSignature(string Signer, string MemberId, byte[] EventsRoot, long EventCount, IReadOnlyList<byte[]> Proof, byte[] Signature,
    long? ChainId, string? Contract)
{
    /// <summary>Null for a bundle without a signature (absent or null); <see cref="FormatException"/> names a malformed field.</summary>
    public static BundleSignature? Parse(JsonNode? bundle)
    {
        var node = bundle?["signature"];
        if (node is null) return null;
        if (node is not JsonObject o) throw new FormatException("'signature' is neither an object nor null");
        var signer = Text(o, "signer");
        try { signer = EthAddress.Normalize(signer); }
        catch (FormatException) { throw new FormatException($"'signature.signer' is not an address: {signer}"); }
        var memberId = Text(o, "memberId");
        var root = Bytes(Text(o, "eventsRoot"), 32, "signature.eventsRoot");
        var count = Number(o["eventCount"], "signature.eventCount");
        if (o["proof"] is not JsonArray proof || proof.Count > MerkleProofVerifier.MaxProofLength) throw new FormatException("'signature.proof' is not an array of at most 64 nodes");
        var nodes = proof.Select((p, i) => Bytes(p is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string)v! : "", 32, $"signature.proof[{i}]")).ToList();
        if (!MemberSignatures.TryParseSignature(Text(o, "signature"), out var signature)) throw new FormatException("'signature.signature' is not 0x and 130 hex digits");
        long? chainId = o["chainId"] is null ? null : Number(o["chainId"], "signature.chainId");
        var contract = o["contract"] is null ? null : Text(o, "contract");
        return new BundleSignature(signer, memberId, root, count, nodes, signature, chainId, contract);
    }

    private static string Text(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string)v! : throw new FormatException($"'signature.{name}' is missing or not a string");

    private static long Number(JsonNode? node, string path) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) && n >= 0 ? n
            : throw new FormatException($"'{path}' is missing or not a non-negative integer");

    private static byte[] Bytes(string hex, int length, string path)
    {
        if (hex.Length == 2 + 2 * length && hex.StartsWith("0x", StringComparison.Ordinal))
        {
            try { return Convert.FromHexString(hex.AsSpan(2)); }
            catch (FormatException) { }
        }
        throw new FormatException($"'{path}' is not {length} bytes of hex (0x and {2 * length} hex digits)");
    }
}

/// <summary>
/// The member-signature checks of a bundle, run after the anchor checks pass (<see cref="BundleVerifier"/>): the event's
/// digest is in the signed tree (eventsRoot, eventCount, proof), the EIP-712 signature of EventsSigned recovers to the
/// signer, and the chain says the signer was an address of the member when the event's anchor was written
/// (wasMemberWhenAnchored). A bundle without a signature passes unless <c>requireSignature</c>.
/// </summary>
public static class SignatureCheck
{
    public const string Check = "signature";

    /// <summary>
    /// <paramref name="anchored"/>: the bundle's verified result (its Contract, ChainId and Anchor are the chain's).
    /// Returns the result to print and what to add to the VERIFIED line.
    /// </summary>
    public static async Task<(VerificationResult Result, string Suffix, JsonNode? Json)> VerifyAsync(HttpClient http, JsonNode? bundleJson, VerificationResult anchored,
        ChainOptions options, bool requireSignature, CancellationToken ct = default)
    {
        if (!anchored.Verified) return (anchored, "", null);
        BundleSignature? s;
        try { s = BundleSignature.Parse(bundleJson); }
        catch (FormatException e) { return (Fail(anchored, $"malformed bundle: {e.Message}"), "", null); }

        if (s is null)
        {
            return requireSignature
                ? (Fail(anchored, $"unsigned: event {anchored.Sequence} carries no member signature (--require-signature)"), "", null)
                : (anchored, ", unsigned", null);
        }

        var digest = Ledger.Epcis.EventHash.Digest(anchored.EventHash!);
        var inTree = SignedEventsTree.Verify(s.EventsRoot, digest, s.Proof, s.EventCount);
        if (!inTree.IsValid) return (Fail(anchored, $"signature: the event's digest is not in the signed eventsRoot {Hex.Encode(s.EventsRoot)}: {inTree.Reason}"), "", null);

        var chainId = s.ChainId ?? anchored.ChainId ?? 0;
        var contract = s.Contract ?? anchored.Contract!;
        string? recovered;
        try { recovered = MemberSignatures.RecoverEventsSigned(s.Signature, chainId, contract, s.EventsRoot, s.EventCount); }
        catch (FormatException e) { return (Fail(anchored, $"signature: 'signature.contract' {e.Message}"), "", null); }
        if (recovered != s.Signer)
            return (Fail(anchored, $"signature: EventsSigned({Hex.Encode(s.EventsRoot)}, {s.EventCount}) on chain {chainId}, contract {contract} recovers to {recovered ?? "no address"}, not the signer {s.Signer}"), "", null);

        byte[] memberIdBytes;
        try { memberIdBytes = MemberSignatures.MemberIdBytes32(s.MemberId); }
        catch (ArgumentException e) { return (Fail(anchored, $"signature: member id '{s.MemberId}': {e.Message}"), "", null); }

        bool member;
        try
        {
            var registry = new AnchorRegistryClient(new HttpRpcClient(http, options.RpcUrl), anchored.Contract!);
            member = await registry.WasMemberWhenAnchoredAsync(s.Signer, memberIdBytes, anchored.Anchor!.Value, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ChainUnavailableException or RpcResponseException or ContractRevertedException or InvalidOperationException)
        {
            return (Fail(anchored, $"signature: could not ask the chain whether {s.Signer} was an address of member {s.MemberId}: {e.Message}"), "", null);
        }
        if (!member)
            return (Fail(anchored, $"signature: the chain says {s.Signer} was not an address of member {s.MemberId} when anchor {anchored.Anchor} was written (wasMemberWhenAnchored)"), "", null);

        var json = new JsonObject { ["signer"] = s.Signer, ["memberId"] = s.MemberId, ["eventsRoot"] = Hex.Encode(s.EventsRoot), ["eventCount"] = s.EventCount };
        return (anchored, string.Create(CultureInfo.InvariantCulture, $", signed by {s.Signer} of member {s.MemberId} ({s.EventCount} events signed together)"), json);
    }

    private static VerificationResult Fail(VerificationResult anchored, string reason) => anchored with { Verified = false, Check = Check, Reason = reason };
}
