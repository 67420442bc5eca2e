using System.Numerics;

namespace Traceability.Ledger.Merkle;

/// <summary>Why a proof did not verify.</summary>
public enum MerkleVerificationError
{
    /// <summary>The proof is well formed, but the root it leads to is not the expected root: wrong leaf, wrong or reordered proof, or wrong root.</summary>
    RootMismatch,

    /// <summary>A proof node is missing or not exactly 32 bytes.</summary>
    InvalidProofNode,

    /// <summary>The leaf is malformed: a digest or leaf hash that is missing or not exactly 32 bytes (a 64-byte leaf hash is refused on purpose).</summary>
    InvalidLeaf,

    /// <summary>The expected root is missing or not exactly 32 bytes.</summary>
    InvalidRoot,

    /// <summary>The proof is missing, or shorter than any leaf of a tree of the given size needs.</summary>
    ProofTooShort,

    /// <summary>The proof is longer than any leaf of a tree of the given size needs (or than any tree could need).</summary>
    ProofTooLong,
}

/// <summary>The outcome of a verification: valid, or the error and a sentence saying why not.</summary>
public sealed record MerkleVerification(bool IsValid, MerkleVerificationError? Error, string? Reason)
{
    public static MerkleVerification Valid { get; } = new(true, null, null);

    internal static MerkleVerification Fail(MerkleVerificationError error, string reason) => new(false, error, reason);
}

/// <summary>
/// Checks proofs of <see cref="StandardMerkleTree"/> leaves the way OpenZeppelin's <c>MerkleProof.verify</c> and
/// <c>StandardMerkleTree.verify</c> do: fold the proof over the leaf hash with the sorted-pair node hash and compare
/// with the root. Unlike those, it reports why a proof fails, and never throws on malformed input: the inputs are
/// expected to come from untrusted proof bundles.
/// </summary>
public static class MerkleProofVerifier
{
    /// <summary>
    /// No proof of any tree that can exist is longer: a leaf at depth 64 needs a tree of at least 2^63 leaves.
    /// Longer proofs are refused before any hashing.
    /// </summary>
    public const int MaxProofLength = 64;

    /// <summary>
    /// Verifies that <paramref name="leaf"/> is in the tree with this <paramref name="root"/>.
    /// Expects a 32-byte root, a 32-byte digest in the leaf and 32-byte proof nodes.
    /// </summary>
    public static MerkleVerification Verify(byte[] root, MerkleLeaf leaf, IReadOnlyList<byte[]> proof)
    {
        var leafHash = HashOrReason(leaf, out var failure);
        return leafHash is null ? failure! : VerifyLeafHash(root, leafHash, proof);
    }

    /// <summary>
    /// As <see cref="Verify(byte[], MerkleLeaf, IReadOnlyList{byte[]})"/>, also checking the proof length against the
    /// tree's <paramref name="leafCount"/> (an anchor's event count): in OpenZeppelin's layout every proof of a tree of
    /// n leaves has floor(log2 n) or floor(log2(2n - 1)) nodes, so a truncated or padded proof is named as such.
    /// </summary>
    public static MerkleVerification Verify(byte[] root, MerkleLeaf leaf, IReadOnlyList<byte[]> proof, int leafCount)
    {
        var leafHash = HashOrReason(leaf, out var failure);
        return leafHash is null ? failure! : VerifyLeafHash(root, leafHash, proof, leafCount);
    }

    /// <summary>
    /// Verifies a leaf hash (the contract's <c>verify(sequence, leaf, proof)</c> takes the same 32-byte value).
    /// Expects a 32-byte root, a 32-byte leaf hash and 32-byte proof nodes.
    /// </summary>
    public static MerkleVerification VerifyLeafHash(byte[] root, byte[] leafHash, IReadOnlyList<byte[]> proof)
    {
        var malformed = CheckShape(root, leafHash, proof);
        if (malformed is not null) return malformed;

        Span<byte> computed = stackalloc byte[MerkleHashing.NodeSize];
        Fold(leafHash, proof, computed);
        return computed.SequenceEqual(root)
            ? MerkleVerification.Valid
            : MerkleVerification.Fail(
                MerkleVerificationError.RootMismatch,
                $"The proof leads to the root 0x{Convert.ToHexStringLower(computed)}, not the expected 0x{Convert.ToHexStringLower(root)}.");
    }

    /// <summary>
    /// As <see cref="VerifyLeafHash(byte[], byte[], IReadOnlyList{byte[]})"/>, also checking the proof length against
    /// the tree's <paramref name="leafCount"/> (at least 1).
    /// </summary>
    public static MerkleVerification VerifyLeafHash(byte[] root, byte[] leafHash, IReadOnlyList<byte[]> proof, int leafCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(leafCount, 1);
        var malformed = CheckShape(root, leafHash, proof);
        if (malformed is not null) return malformed;

        var (shortest, longest) = ProofLengthRange(leafCount);
        if (proof.Count < shortest)
        {
            return MerkleVerification.Fail(MerkleVerificationError.ProofTooShort,
                $"A proof in a tree of {leafCount} leaves has {Describe(shortest, longest)} nodes; this one has {proof.Count}.");
        }

        if (proof.Count > longest)
        {
            return MerkleVerification.Fail(MerkleVerificationError.ProofTooLong,
                $"A proof in a tree of {leafCount} leaves has {Describe(shortest, longest)} nodes; this one has {proof.Count}.");
        }

        return VerifyLeafHash(root, leafHash, proof);
    }

    /// <summary>
    /// The root that <paramref name="proof"/> leads to from <paramref name="leafHash"/> (OpenZeppelin's
    /// <c>processProof</c>), as a new 32-byte array. Throws <see cref="ArgumentException"/> when the leaf hash or a
    /// proof node is not exactly 32 bytes.
    /// </summary>
    public static byte[] ProcessProof(byte[] leafHash, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(leafHash);
        ArgumentNullException.ThrowIfNull(proof);
        // WARNING: see CheckShape: a 64-byte "leaf" is refused, never hashed down to 32 bytes.
        if (leafHash.Length != MerkleHashing.NodeSize)
        {
            throw new ArgumentException($"A leaf hash is 32 bytes, not {leafHash.Length}.", nameof(leafHash));
        }

        for (var i = 0; i < proof.Count; i++)
        {
            if (proof[i] is null || proof[i].Length != MerkleHashing.NodeSize)
            {
                throw new ArgumentException($"Proof node {i} is not 32 bytes.", nameof(proof));
            }
        }

        var root = new byte[MerkleHashing.NodeSize];
        Fold(leafHash, proof, root);
        return root;
    }

    /// <summary>The fewest and most proof nodes a leaf of a tree of <paramref name="leafCount"/> leaves has.</summary>
    public static (int Shortest, int Longest) ProofLengthRange(int leafCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(leafCount, 1);
        // Leaves sit at indices n-1 .. 2n-2 of the layout; the depth of index i is floor(log2(i + 1)).
        return (BitOperations.Log2((uint)leafCount), BitOperations.Log2((uint)(2L * leafCount - 1)));
    }

    private static void Fold(byte[] leafHash, IReadOnlyList<byte[]> proof, Span<byte> result)
    {
        leafHash.CopyTo(result);
        for (var i = 0; i < proof.Count; i++) MerkleHashing.HashChildren(result, proof[i], result);
    }

    private static byte[]? HashOrReason(MerkleLeaf leaf, out MerkleVerification? failure)
    {
        failure = null;
        if (leaf.Digest is null || leaf.Digest.Length != MerkleHashing.NodeSize)
        {
            failure = MerkleVerification.Fail(MerkleVerificationError.InvalidLeaf,
                $"The leaf digest must be 32 bytes, not {(leaf.Digest is null ? "missing" : leaf.Digest.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))}.");
            return null;
        }

        return leaf.Hash();
    }

    private static MerkleVerification? CheckShape(byte[]? root, byte[]? leafHash, IReadOnlyList<byte[]>? proof)
    {
        if (root is null || root.Length != MerkleHashing.NodeSize)
        {
            return MerkleVerification.Fail(MerkleVerificationError.InvalidRoot,
                $"The root must be 32 bytes, not {LengthOf(root)}.");
        }

        // WARNING: never accept a 64-byte value as a leaf. 64 bytes is exactly the input of a node hash (two
        // concatenated children), so a caller that hashed such a value itself, or a verifier that took the
        // concatenation of two inner nodes as a "leaf", would let an attacker prove an inner node as if it were a
        // leaf (a second-preimage attack on the tree). The tree's leaves are 32-byte double hashes of the encoded
        // value, keccak256(keccak256(abi.encode(...))), precisely so that no leaf can be confused with a node.
        if (leafHash is not null && leafHash.Length == 2 * MerkleHashing.NodeSize)
        {
            return MerkleVerification.Fail(MerkleVerificationError.InvalidLeaf,
                "A 64-byte value was given as a leaf hash: refused, since it could be two inner nodes posing as a leaf. "
                + "Pass the 32-byte leaf hash keccak256(keccak256(abi.encode(sequence, digest))), or verify the MerkleLeaf itself.");
        }

        if (leafHash is null || leafHash.Length != MerkleHashing.NodeSize)
        {
            return MerkleVerification.Fail(MerkleVerificationError.InvalidLeaf,
                $"The leaf hash must be 32 bytes, not {LengthOf(leafHash)}.");
        }

        if (proof is null)
        {
            return MerkleVerification.Fail(MerkleVerificationError.ProofTooShort, "The proof is missing.");
        }

        if (proof.Count > MaxProofLength)
        {
            return MerkleVerification.Fail(MerkleVerificationError.ProofTooLong,
                $"The proof has {proof.Count} nodes; no tree that can exist needs more than {MaxProofLength}.");
        }

        for (var i = 0; i < proof.Count; i++)
        {
            if (proof[i] is null || proof[i].Length != MerkleHashing.NodeSize)
            {
                return MerkleVerification.Fail(MerkleVerificationError.InvalidProofNode,
                    $"Proof node {i} must be 32 bytes, not {LengthOf(proof[i])}.");
            }
        }

        return null;
    }

    private static string LengthOf(byte[]? value) =>
        value is null ? "missing" : value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Describe(int shortest, int longest) =>
        shortest == longest ? $"{shortest}" : $"{shortest} or {longest}";
}
