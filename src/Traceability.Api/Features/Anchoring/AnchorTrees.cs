using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Api.Features.Anchoring;

/// <summary>
/// Merkle trees of anchors, rebuilt from the stored events' hashes (leaf = [sequence, digest of the ni: hash]) and kept
/// for the few most recently used anchors, so proofs of one anchor's events cost one rebuild.
/// </summary>
public sealed class AnchorTrees
{
    private const int Capacity = 8;
    private readonly ConcurrentDictionary<long, (StandardMerkleTree Tree, string Root)> _trees = new();
    private readonly ConcurrentQueue<long> _order = new();

    public static async Task<List<MerkleLeaf>> LoadLeavesAsync(TraceDbContext db, long first, long last, CancellationToken ct)
    {
        var rows = await db.Events.AsNoTracking()
            .Where(e => e.Sequence >= first && e.Sequence <= last)
            .OrderBy(e => e.Sequence)
            .Select(e => new { e.Sequence, e.EventHash })
            .ToListAsync(ct);
        return rows.Select(r => new MerkleLeaf((ulong)r.Sequence, EventHash.Digest(r.EventHash))).ToList();
    }

    public async Task<StandardMerkleTree> GetAsync(TraceDbContext db, Anchor anchor, CancellationToken ct)
    {
        if (_trees.TryGetValue(anchor.Sequence, out var cached) && cached.Root == anchor.Root) return cached.Tree;
        var leaves = await LoadLeavesAsync(db, anchor.FirstEventSequence, anchor.LastEventSequence, ct);
        var tree = StandardMerkleTree.Build(leaves);
        Remember(anchor.Sequence, tree, anchor.Root);
        return tree;
    }

    public void Remember(long anchorSequence, StandardMerkleTree tree, string root)
    {
        _trees[anchorSequence] = (tree, root);
        _order.Enqueue(anchorSequence);
        while (_trees.Count > Capacity && _order.TryDequeue(out var old))
            if (old != anchorSequence) _trees.TryRemove(old, out _);
    }
}
