using System.Globalization;
using System.Text.Json.Nodes;
using Nethereum.JsonRpc.Client;
using Nethereum.Web3;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Verifier;

/// <summary>The checks of a bundle, in the order they run; a result names the first that failed.</summary>
public static class Checks
{
    public const string Bundle = "bundle";
    public const string EventHash = "event-hash";
    public const string Leaf = "leaf";
    public const string Proof = "proof";
    public const string Anchor = "anchor";
    public const string Chain = "chain";
    public const string Contract = "contract";
    public const string AnchorOnChain = "anchor-on-chain";
    public const string Root = "root";
    public const string Range = "range";
    public const string ContractVerify = "contract-verify";
    public const string Transaction = "transaction";
}

/// <summary>Where to read the chain: the RPC URL, and the contract when it should override the bundle's.</summary>
public sealed record ChainOptions(Uri RpcUrl, string? Contract = null)
{
    public static readonly Uri DefaultRpcUrl = new("http://127.0.0.1:8545");

    /// <summary>--rpc when given, else TRACE_CHAIN_RPC, else http://127.0.0.1:8545.</summary>
    public static Uri ResolveRpcUrl(string? rpcOption) =>
        new(rpcOption ?? NonEmpty(Environment.GetEnvironmentVariable("TRACE_CHAIN_RPC")) ?? DefaultRpcUrl.ToString());

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}

/// <summary>
/// The outcome of verifying one bundle. When <see cref="Verified"/> is false, <see cref="Check"/> names the first
/// check that failed (one of <see cref="Checks"/>) and <see cref="Reason"/> says why in one sentence.
/// </summary>
public sealed record VerificationResult(
    bool Verified,
    string? Check,
    string? Reason,
    ulong? Sequence = null,
    string? EventHash = null,
    ulong? Anchor = null,
    ulong? FirstEventSequence = null,
    ulong? LastEventSequence = null,
    long? Block = null,
    DateTimeOffset? Timestamp = null,
    string? Contract = null,
    long? ChainId = null)
{
    /// <summary>The one line the verifier prints: "VERIFIED event ..." or "FAILED: reason".</summary>
    public string ToLine() => Verified
        ? $"VERIFIED event {Sequence} ({EventHash}) in anchor {Anchor} (events {FirstEventSequence}..{LastEventSequence}), "
          + $"block {(Block?.ToString(CultureInfo.InvariantCulture) ?? "unknown")}, anchored at {Timestamp:yyyy-MM-dd'T'HH:mm:ss'Z'}, "
          + $"contract {Contract} on chain {ChainId}"
        : $"FAILED: {Reason}";

    public JsonObject ToJson() => new()
    {
        ["verified"] = Verified,
        ["reason"] = Reason,
        ["check"] = Check,
        ["sequence"] = Sequence,
        ["eventHash"] = EventHash,
        ["anchor"] = Anchor,
        ["firstEventSequence"] = FirstEventSequence,
        ["lastEventSequence"] = LastEventSequence,
        ["block"] = Block,
        ["timestamp"] = Timestamp?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ["contract"] = Contract,
        ["chainId"] = ChainId,
    };
}

/// <summary>
/// Verifies a proof bundle against the chain, trusting neither the API nor the bundle: recomputes the CBV 2.0 event
/// hash from the event, the leaf from the sequence and the hash, the root from the proof; then reads the anchor from
/// the AnchorRegistry contract and compares root and event range. Stops at the first check that fails. Never throws
/// for bad input or an unreachable chain: those are failed results.
/// </summary>
public sealed class BundleVerifier(HttpClient http)
{
    public async Task<VerificationResult> VerifyAsync(JsonNode? bundleJson, ChainOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);

        ProofBundle bundle;
        try { bundle = ProofBundle.Parse(bundleJson); }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            return Fail(Checks.Bundle, $"malformed bundle: {e.Message}");
        }

        var offline = VerifyOffline(bundle);
        if (offline is not null) return offline;

        if (bundle.Anchor is null)
        {
            return Fail(Checks.Anchor, $"not anchored yet: event {bundle.Sequence} has no anchor, proof or root in the bundle (its event hash and leaf check out)", bundle);
        }

        return await VerifyOnChainAsync(bundle, bundle.Anchor, options, ct).ConfigureAwait(false);
    }

    /// <summary>The checks that need no chain: event hash, leaf, proof to root. Null when they all pass.</summary>
    private static VerificationResult? VerifyOffline(ProofBundle bundle)
    {
        string computed;
        try { computed = EventHash.Compute(EpcisParser.ParseEventJson(bundle.EventJson)); }
        catch (Exception e) when (e is EpcisFormatException or FormatException or ArgumentException or InvalidOperationException)
        {
            return Fail(Checks.EventHash, $"event hash: the event is not EPCIS 2.0 JSON-LD this verifier can hash: {e.Message}", bundle);
        }

        if (!string.Equals(computed, bundle.EventHash, StringComparison.Ordinal))
        {
            return Fail(Checks.EventHash, $"event hash mismatch: the event hashes to {computed}, the bundle says {bundle.EventHash}", bundle);
        }

        var digest = Ledger.Epcis.EventHash.Digest(bundle.EventHash);
        if (bundle.LeafSequence != bundle.Sequence || !digest.AsSpan().SequenceEqual(bundle.LeafDigest))
        {
            return Fail(Checks.Leaf,
                $"leaf mismatch: the leaf is [{bundle.LeafSequence}, {Hex.Encode(bundle.LeafDigest)}], "
                + $"expected [{bundle.Sequence}, {Hex.Encode(digest)}] from the sequence and the event hash", bundle);
        }

        if (bundle.Proof is null || bundle.Root is null) return null; // not anchored yet: reported after the offline checks

        var verification = MerkleProofVerifier.Verify(bundle.Root, new MerkleLeaf(bundle.Sequence, digest), bundle.Proof);
        if (!verification.IsValid)
        {
            return Fail(Checks.Proof, $"proof does not lead to the bundle's root ({verification.Error}): {verification.Reason}", bundle);
        }

        return null;
    }

    private async Task<VerificationResult> VerifyOnChainAsync(ProofBundle bundle, BundleAnchor anchor, ChainOptions options, CancellationToken ct)
    {
        var contract = options.Contract ?? anchor.Contract;
        if (contract is null) return Fail(Checks.Contract, "no contract: the bundle's anchor names none and no --contract was given", bundle);
        try { contract = EthAddress.Normalize(contract); }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return Fail(Checks.Contract, $"'{contract}' is not a contract address", bundle);
        }

        var rpc = new HttpRpcClient(http, options.RpcUrl);
        var web3 = new Web3(rpc);
        var endpoint = rpc.SafeEndpoint;
        try
        {
            var chainId = (long)(await web3.Eth.ChainId.SendRequestAsync().WaitAsync(ct).ConfigureAwait(false)).Value;
            if (anchor.ChainId is { } expected && expected != chainId)
            {
                return Fail(Checks.Chain, $"chain mismatch: the bundle's anchor is on chain {expected}, the node at {endpoint} is chain {chainId}", bundle, contract, chainId);
            }

            var code = await web3.Eth.GetCode.SendRequestAsync(contract).WaitAsync(ct).ConfigureAwait(false);
            if (code is null or "" or "0x")
            {
                return Fail(Checks.Contract, $"no contract at {contract} on chain {chainId} ({endpoint})", bundle, contract, chainId);
            }

            var registry = new AnchorRegistryClient(rpc, contract);
            AnchorRecord? onChain;
            try { onChain = await registry.GetAnchorAsync(anchor.Sequence, ct).ConfigureAwait(false); }
            catch (Exception e) when (e is ContractRevertedException or InvalidOperationException or FormatException or ArgumentException)
            {
                return Fail(Checks.Contract, $"{contract} on chain {chainId} does not answer getAnchor as an AnchorRegistry: {e.Message}", bundle, contract, chainId);
            }

            if (onChain is null)
            {
                var count = await registry.AnchorCountAsync(ct).ConfigureAwait(false);
                return Fail(Checks.AnchorOnChain,
                    $"unknown anchor: anchor {anchor.Sequence} is not on contract {contract} on chain {chainId} (it holds {count} anchors)", bundle, contract, chainId);
            }

            var result = new VerificationResult(true, null, null, bundle.Sequence, bundle.EventHash, anchor.Sequence,
                (ulong)onChain.FirstEventSequence, (ulong)onChain.LastEventSequence, anchor.BlockNumber, onChain.Timestamp, contract, chainId);

            if (!onChain.Root.AsSpan().SequenceEqual(bundle.Root))
            {
                return result with
                {
                    Verified = false, Check = Checks.Root,
                    Reason = $"root mismatch: anchor {anchor.Sequence} on chain has root {Hex.Encode(onChain.Root)}, the proof leads to {Hex.Encode(bundle.Root!)}",
                };
            }

            if (bundle.Sequence < onChain.FirstEventSequence || bundle.Sequence > onChain.LastEventSequence)
            {
                return result with
                {
                    Verified = false, Check = Checks.Range,
                    Reason = $"sequence outside the anchor's range: event {bundle.Sequence} is not in anchor {anchor.Sequence}'s events {onChain.FirstEventSequence}..{onChain.LastEventSequence}",
                };
            }

            var leafHash = new MerkleLeaf(bundle.Sequence, bundle.LeafDigest).Hash();
            if (!await registry.VerifyAsync(anchor.Sequence, leafHash, bundle.Proof!, ct).ConfigureAwait(false))
            {
                return result with
                {
                    Verified = false, Check = Checks.ContractVerify,
                    Reason = $"the contract's verify({anchor.Sequence}, leaf, proof) returned false",
                };
            }

            return await CheckTransactionAsync(registry, anchor, contract, result, ct).ConfigureAwait(false);
        }
        catch (ChainUnavailableException e)
        {
            return Fail(Checks.Chain, $"chain unreachable: {e.Message}", bundle, contract);
        }
        catch (RpcResponseException e)
        {
            return Fail(Checks.Chain, $"the node at {endpoint} answered with an error: {e.Message}", bundle, contract);
        }
    }

    /// <summary>
    /// When the bundle names the anchoring transaction, its receipt must exist, have succeeded, have gone to the
    /// contract and be in the block the bundle states. The block printed is the receipt's.
    /// </summary>
    private static async Task<VerificationResult> CheckTransactionAsync(AnchorRegistryClient registry, BundleAnchor anchor, string contract, VerificationResult result, CancellationToken ct)
    {
        if (anchor.TxHash is null) return result;
        TransactionReceipt? receipt;
        try { receipt = await registry.GetReceiptAsync(anchor.TxHash, ct).ConfigureAwait(false); }
        catch (Exception e) when (e is FormatException or ArgumentException or RpcResponseException)
        {
            return result with { Verified = false, Check = Checks.Transaction, Reason = $"transaction: '{anchor.TxHash}' is not a transaction hash" };
        }

        string? problem = receipt switch
        {
            null => $"transaction {anchor.TxHash} is not on chain {result.ChainId}",
            { Succeeded: false } => $"transaction {anchor.TxHash} reverted",
            { To: var to } when to is null || !string.Equals(EthAddress.Normalize(to), contract, StringComparison.Ordinal) =>
                $"transaction {anchor.TxHash} was sent to {to ?? "no contract"}, not {contract}",
            { BlockNumber: var block } when anchor.BlockNumber is { } stated && stated != block =>
                $"transaction {anchor.TxHash} is in block {block}, the bundle says block {stated}",
            _ => null,
        };
        return problem is null
            ? result with { Block = receipt!.BlockNumber }
            : result with { Verified = false, Check = Checks.Transaction, Reason = $"anchoring transaction mismatch: {problem}" };
    }

    private static VerificationResult Fail(string check, string reason, ProofBundle? bundle = null, string? contract = null, long? chainId = null) =>
        new(false, check, reason, bundle?.Sequence, bundle?.EventHash, bundle?.Anchor?.Sequence,
            Block: bundle?.Anchor?.BlockNumber, Contract: contract ?? bundle?.Anchor?.Contract, ChainId: chainId ?? bundle?.Anchor?.ChainId);
}
