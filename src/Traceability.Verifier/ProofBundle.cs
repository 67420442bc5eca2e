using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Chain;

namespace Traceability.Verifier;

/// <summary>The anchor part of a proof bundle: where the bundle says the root was written.</summary>
public sealed record BundleAnchor(ulong Sequence, long? ChainId, string? Contract, string? TxHash, long? BlockNumber, string? Status);

/// <summary>
/// A proof bundle as served by <c>GET /api/v1/events/{sequence}/proof</c>, read field by field from untrusted JSON.
/// <see cref="Proof"/>, <see cref="Root"/> and <see cref="Anchor"/> are all null before the event is anchored.
/// </summary>
public sealed record ProofBundle(
    string EventJson,
    string EventHash,
    ulong Sequence,
    ulong LeafSequence,
    byte[] LeafDigest,
    IReadOnlyList<byte[]>? Proof,
    byte[]? Root,
    BundleAnchor? Anchor)
{
    /// <summary>Reads a bundle; <see cref="FormatException"/> names the first field that is missing or malformed.</summary>
    public static ProofBundle Parse(JsonNode? bundle)
    {
        if (bundle is not JsonObject o) throw new FormatException("the bundle is not a JSON object");

        if (o["event"] is not JsonObject ev) throw new FormatException("'event' is missing or not a JSON object");
        var eventHash = RequiredString(o, "eventHash");
        var sequence = RequiredUInt(o["sequence"], "sequence");

        if (o["leaf"] is not JsonObject leaf) throw new FormatException("'leaf' is missing or not a JSON object");
        if (leaf["encoding"] is not JsonArray encoding
            || encoding.Count != 2
            || encoding[0]?.GetValueKind() != JsonValueKind.String || (string?)encoding[0] != "uint256"
            || encoding[1]?.GetValueKind() != JsonValueKind.String || (string?)encoding[1] != "bytes32")
        {
            throw new FormatException("'leaf.encoding' is not [\"uint256\",\"bytes32\"]");
        }

        if (leaf["value"] is not JsonArray value || value.Count != 2) throw new FormatException("'leaf.value' is not a pair [sequence, digest]");
        var leafSequence = RequiredUInt(value[0], "leaf.value[0]");
        var leafDigest = Bytes32(value[1], "leaf.value[1]");

        IReadOnlyList<byte[]>? proof = null;
        if (o["proof"] is JsonArray proofArray)
        {
            proof = proofArray.Select((node, i) => Bytes32(node, $"proof[{i}]")).ToList();
        }
        else if (o["proof"] is not null)
        {
            throw new FormatException("'proof' is neither an array nor null");
        }

        var root = o["root"] is null ? null : Bytes32(o["root"], "root");

        BundleAnchor? anchor = null;
        if (o["anchor"] is JsonObject a)
        {
            var contract = OptionalString(a, "anchor.contract", "contract");
            if (contract is not null && !IsAddress(contract)) throw new FormatException($"'anchor.contract' is not an address: {contract}");
            anchor = new BundleAnchor(
                RequiredUInt(a["sequence"], "anchor.sequence"),
                OptionalLong(a["chainId"], "anchor.chainId"),
                contract,
                OptionalString(a, "anchor.txHash", "txHash"),
                OptionalLong(a["blockNumber"], "anchor.blockNumber"),
                OptionalString(a, "anchor.status", "status"));
        }
        else if (o["anchor"] is not null)
        {
            throw new FormatException("'anchor' is neither an object nor null");
        }

        if (anchor is not null && (proof is null || root is null))
            throw new FormatException("the bundle has an anchor but no proof or no root");

        return new ProofBundle(ev.ToJsonString(), eventHash, sequence, leafSequence, leafDigest, proof, root, anchor);
    }

    private static bool IsAddress(string s)
    {
        try { EthAddress.Parse(s); return true; }
        catch (Exception e) when (e is FormatException or ArgumentException) { return false; }
    }

    private static string RequiredString(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string)v! : throw new FormatException($"'{name}' is missing or not a string");

    private static string? OptionalString(JsonObject o, string path, string name) => o[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => (string)v!,
        _ => throw new FormatException($"'{path}' is not a string"),
    };

    /// <summary>A non-negative integer written as a JSON number or a decimal string (the leaf value writes it as a string).</summary>
    private static ulong RequiredUInt(JsonNode? node, string path)
    {
        if (node is JsonValue v)
        {
            var kind = v.GetValueKind();
            var text = kind switch
            {
                JsonValueKind.Number => v.ToJsonString(),
                JsonValueKind.String => (string)v!,
                _ => null,
            };
            if (text is not null && text.Length > 0 && text.All(char.IsAsciiDigit)
                && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                return n;
            }
        }
        throw new FormatException($"'{path}' is missing or not a non-negative integer");
    }

    private static long? OptionalLong(JsonNode? node, string path) =>
        node is null ? null : checked((long)RequiredUInt(node, path));

    private static byte[] Bytes32(JsonNode? node, string path)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            var s = (string)v!;
            if (s.Length == 66 && s.StartsWith("0x", StringComparison.Ordinal) && s.AsSpan(2).ContainsAnyExcept(HexDigits) is false)
                return Convert.FromHexString(s.AsSpan(2));
        }
        throw new FormatException($"'{path}' is not a 32-byte hex value (0x followed by 64 hex digits)");
    }

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");
}
