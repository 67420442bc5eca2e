using System.Buffers.Binary;
using Traceability.Ledger.Crypto;

namespace Traceability.Ledger.Merkle;

/// <summary>
/// One leaf of the anchoring tree: the value <c>[sequence, digest]</c> under the leaf encoding
/// <c>["uint256","bytes32"]</c>, where <see cref="Digest"/> is the 32-byte SHA-256 value of the event hash.
/// </summary>
/// <remarks>
/// Equality is the record's: <see cref="Digest"/> compares by reference, not by content.
/// </remarks>
public readonly record struct MerkleLeaf(ulong Sequence, byte[] Digest)
{
    /// <summary>The leaf encoding, as OpenZeppelin's <c>StandardMerkleTree.of(values, LeafEncoding)</c> takes it.</summary>
    public static IReadOnlyList<string> LeafEncoding { get; } = ["uint256", "bytes32"];

    /// <summary>
    /// The leaf hash <c>keccak256(bytes.concat(keccak256(abi.encode(sequence, digest))))</c>, as a new 32-byte array.
    /// Throws <see cref="ArgumentException"/> when <see cref="Digest"/> is not exactly 32 bytes.
    /// </summary>
    public byte[] Hash()
    {
        var hash = new byte[MerkleHashing.NodeSize];
        MerkleHashing.HashLeaf(Sequence, CheckedDigest(Digest), hash);
        return hash;
    }

    /// <summary>The value's ABI encoding, <c>abi.encode(uint256 sequence, bytes32 digest)</c>: 64 bytes.</summary>
    public byte[] AbiEncode()
    {
        var encoded = new byte[MerkleHashing.EncodedValueSize];
        MerkleHashing.AbiEncode(Sequence, CheckedDigest(Digest), encoded);
        return encoded;
    }

    internal static ReadOnlySpan<byte> CheckedDigest(byte[]? digest, string parameterName = nameof(Digest))
    {
        if (digest is null) throw new ArgumentException("The leaf digest is missing; it must be 32 bytes.", parameterName);
        if (digest.Length != MerkleHashing.NodeSize)
        {
            throw new ArgumentException($"The leaf digest must be 32 bytes (the SHA-256 value of the event hash), not {digest.Length}.", parameterName);
        }

        return digest;
    }
}

/// <summary>
/// The two hash functions of the tree, kept apart (as transparency-dev/merkle's <c>rfc6962</c> hasher keeps
/// <c>HashLeaf</c> and <c>HashChildren</c>): a leaf is hashed from its encoded value, a node from two 32-byte hashes.
/// OpenZeppelin's tree separates them by hashing the leaf value twice, so that no 64-byte leaf value can be
/// mistaken for a pair of children.
/// </summary>
internal static class MerkleHashing
{
    public const int NodeSize = 32;
    public const int EncodedValueSize = 64;

    /// <summary>abi.encode(uint256, bytes32): the sequence big-endian in the first word, the digest in the second.</summary>
    public static void AbiEncode(ulong sequence, ReadOnlySpan<byte> digest, Span<byte> destination)
    {
        destination[..24].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(24, 8), sequence);
        digest[..NodeSize].CopyTo(destination.Slice(32, NodeSize));
    }

    /// <summary>Leaf hash: keccak256(keccak256(abi.encode(sequence, digest))). <paramref name="digest"/> is 32 bytes.</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static void HashLeaf(ulong sequence, ReadOnlySpan<byte> digest, Span<byte> destination)
    {
        Span<byte> encoded = stackalloc byte[EncodedValueSize];
        AbiEncode(sequence, digest, encoded);
        Span<byte> inner = stackalloc byte[NodeSize];
        Keccak256.Hash(encoded, inner);
        Keccak256.Hash(inner, destination);
    }

    /// <summary>Node hash: keccak256 of the two 32-byte children, the smaller (as a big-endian number) first.</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static void HashChildren(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> destination)
    {
        Span<byte> pair = stackalloc byte[2 * NodeSize];
        if (a.SequenceCompareTo(b) <= 0)
        {
            a.CopyTo(pair);
            b.CopyTo(pair[NodeSize..]);
        }
        else
        {
            b.CopyTo(pair);
            a.CopyTo(pair[NodeSize..]);
        }

        Keccak256.Hash(pair, destination);
    }
}
