using Traceability.Ledger.Crypto;

namespace Traceability.Ledger.Merkle;

/// <summary>
/// The tree a member signs over the events of one capture document: OpenZeppelin's <c>StandardMerkleTree</c> over the
/// leaf encoding <c>["bytes32"]</c>, one leaf per event in document order, each the 32-byte SHA-256 value of the
/// event's CBV 2.0 hash (the same digest the anchoring leaves carry). Its root is the <c>eventsRoot</c> of the
/// EIP-712 message <c>EventsSigned(bytes32 eventsRoot, uint256 eventCount)</c>; JavaScript gets the same root with
/// <c>StandardMerkleTree.of(digests.map(d =&gt; [d]), ["bytes32"]).root</c>. The service signs its capture receipts over
/// the same tree, its leaves the receipts' EIP-712 struct hashes (Traceability.Chain's <c>ServiceReceipts</c>).
/// </summary>
public static class SignedEventsTree
{
    /// <summary>The leaf encoding, as OpenZeppelin's <c>StandardMerkleTree.of(values, LeafEncoding)</c> takes it.</summary>
    public static IReadOnlyList<string> LeafEncoding { get; } = ["bytes32"];

    /// <summary>The most events one signed tree covers (bounded like a capture document, far below the tree's own limit).</summary>
    public const int MaxEvents = 1_000_000;

    /// <summary>
    /// The tree over <paramref name="digests"/> in document order; value index i is the i-th event
    /// (<see cref="StandardMerkleTree.GetProofAt"/>). Throws <see cref="ArgumentException"/> when there is no digest,
    /// too many, or one that is not 32 bytes.
    /// </summary>
    public static StandardMerkleTree Build(IReadOnlyList<byte[]> digests)
    {
        ArgumentNullException.ThrowIfNull(digests);
        var n = digests.Count;
        if (n == 0) throw new ArgumentException("A signed tree needs at least one event.", nameof(digests));
        if (n > MaxEvents) throw new ArgumentException($"A signed tree covers at most {MaxEvents} events, not {n}.", nameof(digests));

        var keys = new StandardMerkleTree.LeafKey[n];
        var sequences = new ulong[n];
        Span<byte> hash = stackalloc byte[MerkleHashing.NodeSize];
        for (var i = 0; i < n; i++)
        {
            HashLeaf(MerkleLeaf.CheckedDigest(digests[i], $"{nameof(digests)}[{i}]"), hash);
            keys[i] = new StandardMerkleTree.LeafKey(hash, i);
            sequences[i] = (ulong)i;
        }
        return StandardMerkleTree.FromLeafKeys(keys, sequences, lookup: null);
    }

    /// <summary>The leaf hash <c>keccak256(bytes.concat(keccak256(abi.encode(digest))))</c> of a 32-byte digest.</summary>
    public static byte[] LeafHash(byte[] digest)
    {
        var hash = new byte[MerkleHashing.NodeSize];
        HashLeaf(MerkleLeaf.CheckedDigest(digest, nameof(digest)), hash);
        return hash;
    }

    /// <summary>
    /// Whether <paramref name="digest"/> is a leaf of the signed tree with this <paramref name="eventsRoot"/> and
    /// <paramref name="eventCount"/> leaves; never throws on malformed input (it comes from untrusted bundles).
    /// </summary>
    public static MerkleVerification Verify(byte[] eventsRoot, byte[] digest, IReadOnlyList<byte[]> proof, long eventCount)
    {
        if (digest is not { Length: MerkleHashing.NodeSize })
            return MerkleVerification.Fail(MerkleVerificationError.InvalidLeaf, "The event digest must be 32 bytes.");
        if (eventCount is < 1 or > MaxEvents)
            return MerkleVerification.Fail(MerkleVerificationError.ProofTooLong, $"A signed tree covers 1 to {MaxEvents} events, not {eventCount}.");
        return MerkleProofVerifier.VerifyLeafHash(eventsRoot, LeafHash(digest), proof, (int)eventCount);
    }

    // abi.encode(bytes32) is the 32 bytes themselves; OpenZeppelin hashes a leaf value twice.
    private static void HashLeaf(ReadOnlySpan<byte> digest, Span<byte> destination)
    {
        Span<byte> inner = stackalloc byte[MerkleHashing.NodeSize];
        Keccak256.Hash(digest, inner);
        Keccak256.Hash(inner, destination);
    }
}
