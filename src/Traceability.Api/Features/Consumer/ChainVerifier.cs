using System.Collections.Concurrent;
using System.Numerics;
using Traceability.Api.Domain;
using Traceability.Api.Features.Anchoring;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Api.Features.Consumer;

/// <summary>What the server found when it checked one event against the chain.</summary>
public enum ChainCheck
{
    /// <summary>The event's hash, recomputed from the stored event, is a leaf of a tree whose root the chain holds for its anchor.</summary>
    Verified,
    /// <summary>The check ran and failed: the chain's root, range or the recomputed hash disagrees with the database.</summary>
    Mismatch,
    /// <summary>The chain could not be asked (down, or not configured); nothing is cached.</summary>
    Unavailable,
}

/// <summary>
/// The check behind the consumer badge, done on the server. For an event in a confirmed anchor: recompute the CBV 2.0
/// hash from the stored JSON-LD, build the leaf, take its proof from the anchor's tree, and verify it (OpenZeppelin
/// rules, <see cref="MerkleProofVerifier"/>) against the root read from the contract's getAnchor, checking that the
/// event lies in the range the chain records. Anchors on the chain are never overwritten, so the chain's record of an
/// anchor is read once and kept, and so is each event's verdict; a chain that does not answer is asked again next time.
/// Both are kept up to a bound (<see cref="MaxAnchors"/>, <see cref="MaxVerdicts"/>) and started afresh past it: the
/// ledger grows without end, a long-running process's memory must not (a verdict is about 40 bytes; a million events
/// verified once each would otherwise stay in memory for good). Forgetting costs a chain read or a proof again, no more.
/// </summary>
public sealed class ChainVerifier(ChainConnection chain, AnchorTrees trees, ILogger<ChainVerifier> log)
{
    public const int MaxAnchors = 10_000;
    public const int MaxVerdicts = 100_000;
    private readonly ConcurrentDictionary<long, AnchorRecord> _onChain = new();
    private readonly ConcurrentDictionary<long, bool> _verdicts = new();

    public async Task<ChainCheck> CheckAsync(TraceDbContext db, Anchor anchor, TraceEvent e, CancellationToken ct)
    {
        if (_verdicts.TryGetValue(e.Sequence, out var known)) return known ? ChainCheck.Verified : ChainCheck.Mismatch;
        var record = await OnChainAsync(anchor.Sequence, ct);
        if (record is null) return ChainCheck.Unavailable;

        bool ok;
        string? why = null;
        if (e.Sequence < record.FirstEventSequence || e.Sequence > record.LastEventSequence)
        {
            ok = false;
            why = $"the chain's anchor {anchor.Sequence} covers events {record.FirstEventSequence}..{record.LastEventSequence}";
        }
        else
        {
            string recomputed;
            try { recomputed = EventHash.Compute(EpcisParser.ParseEventJson(e.Json)); }
            catch (EpcisFormatException ex) { recomputed = "unparseable: " + ex.Message; }
            if (!string.Equals(recomputed, e.EventHash, StringComparison.Ordinal))
            {
                ok = false;
                why = "the stored event no longer hashes to its recorded event hash";
            }
            else
            {
                var tree = await trees.GetAsync(db, anchor, ct);
                var leaf = new MerkleLeaf((ulong)e.Sequence, EventHash.Digest(recomputed));
                var result = MerkleProofVerifier.Verify(record.Root, leaf, tree.GetProof((ulong)e.Sequence));
                ok = result.IsValid;
                why = result.Reason;
            }
        }
        if (!ok) log.LogWarning("Event {Sequence} does not verify against anchor {Anchor} on the chain: {Reason}", e.Sequence, anchor.Sequence, why);
        if (_verdicts.Count >= MaxVerdicts) _verdicts.Clear();
        _verdicts[e.Sequence] = ok;
        return ok ? ChainCheck.Verified : ChainCheck.Mismatch;
    }

    private async Task<AnchorRecord?> OnChainAsync(long anchorSequence, CancellationToken ct)
    {
        if (_onChain.TryGetValue(anchorSequence, out var cached)) return cached;
        if (chain.Registry is null) return null;
        try
        {
            var record = await chain.Registry.GetAnchorAsync(new BigInteger(anchorSequence), ct);
            if (record is not null)
            {
                if (_onChain.Count >= MaxAnchors) _onChain.Clear();
                _onChain[anchorSequence] = record;
            }
            // Unknown to the chain: a range that holds no event, so the check fails (and says why).
            return record ?? new AnchorRecord(anchorSequence, new byte[32], BigInteger.Zero, BigInteger.MinusOne, default, "");
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            log.LogInformation("The chain did not answer getAnchor({Anchor}): {Message}", anchorSequence, ex.Message);
            return null;
        }
    }
}
