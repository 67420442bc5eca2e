using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nethereum.JsonRpc.Client;
using Nethereum.Web3;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Verifier;

/// <summary>
/// What <c>--receipt</c> found. <see cref="Kept"/>: the receipt is the service's (signed by an authorised anchorer of
/// the contract), it names the bundle's event, and the event was anchored in a block no later than its deadline.
/// <see cref="BrokenPromise"/>: the receipt is genuine but its deadline passed before (or without) the anchor.
/// </summary>
public sealed record ReceiptOutcome(bool Kept, bool BrokenPromise, string Line, string? Signer = null, DateTimeOffset? Deadline = null)
{
    public JsonObject ToJson() => new()
    {
        ["kept"] = Kept,
        ["brokenPromise"] = BrokenPromise,
        ["signer"] = Signer,
        ["anchorDeadline"] = Deadline?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ["line"] = Line,
    };
}

/// <summary>
/// Checks a signed capture receipt against a proof bundle and the chain (never the API). The receipt may be one
/// receipt object of <c>POST /api/v1/capture</c>'s answer, or the whole answer (the receipt with the bundle's sequence
/// is taken). The receipt's struct hash must be in its <c>receiptsRoot</c> by its <c>receiptProof</c> (a tree of
/// <c>receiptCount</c> receipts); the signature of <c>Receipts(receiptsRoot, receiptCount)</c> is recovered under the
/// EIP-712 domain of the contract the bundle names (or --contract) on the chain the node reports, and the signer must be
/// an anchorer of that contract (<c>isAnchorer</c>, read now). A receipt without <c>receiptsRoot</c> is one signed by
/// itself (<c>Receipt(...)</c>), as the service signed them before one signature covered a whole request.
/// </summary>
public static class ReceiptCheck
{
    public static async Task<ReceiptOutcome> CheckAsync(HttpClient http, JsonNode? receiptJson, ProofBundle bundle, VerificationResult bundleResult,
        ChainOptions options, DateTimeOffset now, CancellationToken ct = default)
    {
        Receipt receipt;
        try { receipt = Receipt.Parse(receiptJson, bundle.Sequence); }
        catch (FormatException e) { return Refused($"malformed receipt: {e.Message}"); }

        if (receipt.Sequence != bundle.Sequence)
            return Refused($"the receipt is for event {receipt.Sequence}, the bundle for event {bundle.Sequence}");
        byte[] digest;
        try { digest = EventHash.Digest(receipt.EventHash); }
        catch (Exception e) when (e is FormatException or ArgumentException) { return Refused($"the receipt's event hash is not an ni: hash: {e.Message}"); }
        if (!digest.AsSpan().SequenceEqual(bundle.LeafDigest))
            return Refused($"the receipt's event hash {receipt.EventHash} is not the bundle's (leaf digest {Hex.Encode(bundle.LeafDigest)})");
        if (receipt.Deadline < receipt.RecordTime)
            return Refused($"the receipt's deadline {Time(receipt.Deadline)} is before its record time {Time(receipt.RecordTime)}");

        var contract = options.Contract ?? bundle.Anchor?.Contract;
        if (contract is null) return Refused("no contract to check the receipt's signature against: the bundle is not anchored; give --contract");

        ReceiptMessage message;
        try { message = ServiceReceipts.Message(digest, checked((long)receipt.Sequence), receipt.RecordTime, receipt.Deadline); }
        catch (OverflowException) { return Refused("the receipt's sequence or times are out of range (a sequence up to 2^63 - 1, times after 1970)"); }
        if (receipt.Batch is { } batch)
        {
            var inRoot = ServiceReceipts.VerifyInRoot(message, batch.Root, batch.Proof, batch.Count);
            if (!inRoot.IsValid)
                return Refused($"the receipt's digest, sequence, recordTime and anchorDeadline are not in its receiptsRoot {Hex.Encode(batch.Root)} " +
                               $"(receiptCount {batch.Count}): {inRoot.Reason} (an altered receipt)");
        }

        var rpc = new HttpRpcClient(http, options.RpcUrl);
        string signer;
        try
        {
            contract = EthAddress.Normalize(contract);
            var chainId = (long)(await new Web3(rpc).Eth.ChainId.SendRequestAsync().WaitAsync(ct).ConfigureAwait(false)).Value;
            var receipts = new ServiceReceipts(chainId, contract);
            try
            {
                signer = receipt.Batch is { } b ? receipts.RecoverBatch(b.Root, b.Count, receipt.Signature) : receipts.Recover(message, receipt.Signature);
            }
            catch (Exception e) when (e is FormatException or ArgumentException) { return Refused($"the receipt's signature cannot be read: {e.Message}"); }

            if (!await new AnchorRegistryClient(rpc, contract).IsAnchorerAsync(signer, ct).ConfigureAwait(false))
                return Refused($"the receipt is signed by {signer}, which is not an anchorer of {contract} on chain {chainId} (a forged or altered receipt)", signer);
        }
        catch (Exception e) when (e is ChainUnavailableException or RpcResponseException or ContractRevertedException or InvalidOperationException or FormatException)
        {
            return Refused($"the chain could not be asked about the receipt's signer: {e.Message}");
        }

        var deadline = receipt.Deadline;
        if (bundleResult.Verified && bundleResult.Timestamp is { } anchoredAt)
        {
            return anchoredAt.ToUnixTimeSeconds() <= deadline.ToUnixTimeSeconds()
                ? new ReceiptOutcome(true, false, $"RECEIPT KEPT: event {receipt.Sequence} was promised by {signer} to be anchored by {Time(deadline)}; "
                                                  + $"anchor {bundleResult.Anchor}'s block is from {Time(anchoredAt)}", signer, deadline)
                : new ReceiptOutcome(false, true, $"broken promise: event {receipt.Sequence} was promised by {signer} to be anchored by {Time(deadline)}, "
                                                  + $"but anchor {bundleResult.Anchor}'s block is from {Time(anchoredAt)} ({(anchoredAt - deadline).TotalSeconds:0} s late)", signer, deadline);
        }

        if (bundleResult.Check != Checks.Anchor) return new ReceiptOutcome(false, false, bundleResult.Reason ?? "the bundle did not verify", signer, deadline);
        return now > deadline
            ? new ReceiptOutcome(false, true, $"broken promise: event {receipt.Sequence} was promised by {signer} to be anchored by {Time(deadline)}; "
                                              + $"it is {Time(now)} and the bundle has no anchor", signer, deadline)
            : new ReceiptOutcome(false, false, $"not anchored yet: {signer} promised to anchor event {receipt.Sequence} by {Time(deadline)} "
                                               + $"({(deadline - now).TotalSeconds:0} s from now)", signer, deadline);
    }

    private static ReceiptOutcome Refused(string reason, string? signer = null) => new(false, false, $"receipt: {reason}", signer);

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The tree a receipt's signature covers: <c>receiptsRoot</c>, <c>receiptCount</c> and the receipt's <c>receiptProof</c>.</summary>
    private sealed record ReceiptBatch(byte[] Root, long Count, IReadOnlyList<byte[]> Proof);

    /// <summary>
    /// The fields of a capture receipt the check reads. <see cref="Batch"/> is null for a receipt signed by itself (one
    /// EIP-712 <c>Receipt</c> signature per event, as the service signed before it signed one root per request).
    /// </summary>
    private sealed record Receipt(ulong Sequence, string EventHash, DateTimeOffset RecordTime, DateTimeOffset Deadline, string Signature, ReceiptBatch? Batch)
    {
        public static Receipt Parse(JsonNode? node, ulong wanted)
        {
            if (node is JsonObject { } whole && whole["receipts"] is JsonArray list)
                node = list.FirstOrDefault(r => r?["sequence"] is JsonValue v && v.TryGetValue<ulong>(out var s) && s == wanted)
                       ?? throw new FormatException($"the capture answer holds no receipt for event {wanted}");
            if (node is not JsonObject o) throw new FormatException("the receipt is not a JSON object");
            var sequence = o["sequence"] is JsonValue sv && sv.TryGetValue<ulong>(out var n) ? n : throw new FormatException("'sequence' is missing or not a non-negative integer");
            return new Receipt(sequence, Text(o, "eventHash"), Instant(o, "recordTime"), Instant(o, "anchorDeadline"), Text(o, "receiptSignature"),
                o.ContainsKey("receiptsRoot") ? ParseBatch(o) : null);
        }

        private static ReceiptBatch ParseBatch(JsonObject o)
        {
            var root = Word(Text(o, "receiptsRoot"), "'receiptsRoot'");
            var count = o["receiptCount"] is JsonValue cv && cv.TryGetValue<long>(out var c) && c >= 1
                ? c : throw new FormatException("'receiptCount' is missing or not a positive integer");
            if (o["receiptProof"] is not JsonArray proof) throw new FormatException("'receiptProof' is missing or not an array");
            if (proof.Count > MerkleProofVerifier.MaxProofLength)
                throw new FormatException($"'receiptProof' has {proof.Count} nodes; no tree needs more than {MerkleProofVerifier.MaxProofLength}");
            return new ReceiptBatch(root, count, proof.Select((p, i) => Word(p is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string)v! : "", $"'receiptProof'[{i}]")).ToList());
        }

        private static byte[] Word(string hex, string what)
        {
            byte[] bytes;
            try { bytes = Hex.Decode(hex); }
            catch (FormatException) { throw new FormatException($"{what} is not hex"); }
            return bytes.Length == 32 ? bytes : throw new FormatException($"{what} is not 32 bytes of hex");
        }

        private static string Text(JsonObject o, string name) =>
            o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? (string)v! : throw new FormatException($"'{name}' is missing or not a string (was the receipt signed?)");

        private static DateTimeOffset Instant(JsonObject o, string name) =>
            DateTimeOffset.TryParse(Text(o, name), CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) && Text(o, name).Contains('T')
                ? t : throw new FormatException($"'{name}' is not an ISO 8601 date and time");
    }
}
