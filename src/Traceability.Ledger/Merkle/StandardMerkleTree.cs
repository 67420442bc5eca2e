using System.Buffers.Binary;
using System.Collections;
using System.Collections.Concurrent;
using System.Numerics;

namespace Traceability.Ledger.Merkle;

/// <summary>
/// OpenZeppelin's <c>StandardMerkleTree</c> (@openzeppelin/merkle-tree 1.0.8, default options) over the leaf
/// encoding <c>["uint256","bytes32"]</c>: the same leaf hashes, leaf order, array layout, root and proofs, so that
/// its proofs verify with <c>MerkleProof.verify</c> on-chain and with the JavaScript library.
/// </summary>
/// <remarks>
/// The layout (<c>core.js makeMerkleTree</c>): leaves are hashed, sorted ascending by hash (a stable sort, so equal
/// hashes keep their input order), and stored at the end of an array of <c>2n - 1</c> nodes in reverse, the
/// k-th smallest leaf at index <c>2n - 2 - k</c>; node <c>i</c> has children <c>2i + 1</c> and <c>2i + 2</c>;
/// the root is node 0. A proof is the list of siblings from the leaf up to (not including) the root.
/// Here the whole array is one flat byte array of 32-byte nodes; nothing is allocated per node.
/// </remarks>
public sealed class StandardMerkleTree
{
    private const int NodeSize = MerkleHashing.NodeSize;
    private const int ParallelChunk = 8192;

    /// <summary>The most leaves one tree holds: its array of 2n - 1 nodes must fit in one .NET byte array.</summary>
    public static readonly int MaxLeaves = (Array.MaxLength / NodeSize + 1) / 2;

    private readonly byte[] _nodes;          // (2n - 1) * 32 bytes, node i at [32i, 32i + 32)
    private readonly int[] _treeIndexOfValue;
    private readonly ulong[] _sequences;     // input order
    private readonly Dictionary<ulong, int>? _valueIndexBySequence; // null when _sequences is strictly increasing

    private StandardMerkleTree(byte[] nodes, int[] treeIndexOfValue, ulong[] sequences, Dictionary<ulong, int>? valueIndexBySequence)
    {
        _nodes = nodes;
        _treeIndexOfValue = treeIndexOfValue;
        _sequences = sequences;
        _valueIndexBySequence = valueIndexBySequence;
        Tree = new NodeList(nodes);
    }

    /// <summary>The root, node 0 of the layout, as a new 32-byte array.</summary>
    public byte[] Root => _nodes.AsSpan(0, NodeSize).ToArray();

    /// <summary>The number of leaves (values).</summary>
    public int Count => _treeIndexOfValue.Length;

    /// <summary>The array layout, as the JS library's <c>dump().tree</c>: 2n - 1 nodes of 32 bytes, each read returning a new array.</summary>
    public IReadOnlyList<byte[]> Tree { get; }

    /// <summary>
    /// Builds the tree over <paramref name="leaves"/> (the input order is the "value index" order).
    /// Throws <see cref="ArgumentException"/> when there are no leaves (OpenZeppelin refuses an empty tree too),
    /// when a digest is not exactly 32 bytes, or when two leaves have the same sequence (the sequence is an
    /// event's identity and <see cref="GetProof"/> looks leaves up by it).
    /// </summary>
    public static StandardMerkleTree Build(IReadOnlyList<MerkleLeaf> leaves)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        var n = leaves.Count;
        if (n == 0) throw new ArgumentException("A Merkle tree needs at least one leaf; an empty tree has no root.", nameof(leaves));
        if (n > MaxLeaves) throw new ArgumentException($"A tree holds at most {MaxLeaves} leaves, not {n}.", nameof(leaves));

        var sequences = new ulong[n];
        var digests = new byte[n][];
        var increasing = true;
        for (var i = 0; i < n; i++)
        {
            var leaf = leaves[i];
            MerkleLeaf.CheckedDigest(leaf.Digest, $"{nameof(leaves)}[{i}].{nameof(MerkleLeaf.Digest)}");
            sequences[i] = leaf.Sequence;
            digests[i] = leaf.Digest;
            if (i > 0 && sequences[i] <= sequences[i - 1]) increasing = false;
        }

        var lookup = increasing ? null : IndexBySequence(sequences);

        // Leaf hashes, in input order, then sorted ascending (ties by input order: the JS sort is stable).
        var keys = new LeafKey[n];
        ForRange(n, (from, to) =>
        {
            Span<byte> hash = stackalloc byte[NodeSize];
            for (var i = from; i < to; i++)
            {
                MerkleHashing.HashLeaf(sequences[i], digests[i], hash);
                keys[i] = new LeafKey(hash, i);
            }
        });
        return FromLeafKeys(keys, sequences, lookup);
    }

    /// <summary>
    /// Builds a tree whose leaf hashes are already computed (<paramref name="keys"/>, in input order); the value at
    /// input index i is named by <paramref name="sequences"/>[i] (<paramref name="lookup"/> null when they increase).
    /// </summary>
    internal static StandardMerkleTree FromLeafKeys(LeafKey[] keys, ulong[] sequences, Dictionary<ulong, int>? lookup)
    {
        var n = keys.Length;
        keys.AsSpan().Sort(default(LeafKeyComparer));

        var nodeCount = 2 * n - 1;
        var nodes = GC.AllocateUninitializedArray<byte>(nodeCount * NodeSize);
        var treeIndexOfValue = new int[n];
        ForRange(n, (from, to) =>
        {
            for (var k = from; k < to; k++)
            {
                var treeIndex = nodeCount - 1 - k;
                keys[k].WriteTo(nodes.AsSpan(treeIndex * NodeSize, NodeSize));
                treeIndexOfValue[keys[k].ValueIndex] = treeIndex;
            }
        });

        // Internal nodes n-2 .. 0, one depth at a time from the deepest: a node's children are one depth below it.
        if (n > 1)
        {
            for (var depth = BitOperations.Log2((uint)(n - 1)); depth >= 0; depth--)
            {
                var first = (1 << depth) - 1;
                var last = Math.Min((2 << depth) - 2, n - 2);
                ForRange(last - first + 1, (from, to) =>
                {
                    for (var i = first + from; i < first + to; i++)
                    {
                        MerkleHashing.HashChildren(
                            nodes.AsSpan((2 * i + 1) * NodeSize, NodeSize),
                            nodes.AsSpan((2 * i + 2) * NodeSize, NodeSize),
                            nodes.AsSpan(i * NodeSize, NodeSize));
                    }
                });
            }
        }

        return new StandardMerkleTree(nodes, treeIndexOfValue, sequences, lookup);
    }

    /// <summary>
    /// The proof of the leaf whose value has this <paramref name="sequence"/>: its siblings from the leaf up,
    /// as OpenZeppelin's <c>getProof</c>. Throws <see cref="KeyNotFoundException"/> when no leaf has it.
    /// </summary>
    public IReadOnlyList<byte[]> GetProof(ulong sequence) => GetProofAt(ValueIndexOf(sequence));

    /// <summary>
    /// The proof of the value at <paramref name="valueIndex"/> in the input order given to <see cref="Build"/>
    /// (OpenZeppelin's <c>getProof(index)</c>). Throws <see cref="ArgumentOutOfRangeException"/> outside 0..Count-1.
    /// The list is a view of this (immutable) tree: one small object per proof, each node read returning a new
    /// 32-byte array; keeping it keeps the tree's node array alive.
    /// </summary>
    public IReadOnlyList<byte[]> GetProofAt(int valueIndex)
    {
        var length = ProofLengthAt(valueIndex); // checks the index
        return new ProofList(_nodes, _treeIndexOfValue[valueIndex], length);
    }

    /// <summary>The number of nodes in the proof of the value at <paramref name="valueIndex"/> (0 for a one-leaf tree).</summary>
    public int ProofLengthAt(int valueIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(valueIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(valueIndex, Count);
        return BitOperations.Log2((uint)_treeIndexOfValue[valueIndex] + 1);
    }

    /// <summary>
    /// Writes the proof of the value at <paramref name="valueIndex"/> as consecutive 32-byte nodes into
    /// <paramref name="destination"/>, which needs <c>32 * ProofLengthAt(valueIndex)</c> bytes, and returns the
    /// number of nodes written. The allocation-free form of <see cref="GetProofAt"/>.
    /// </summary>
    public int WriteProofAt(int valueIndex, Span<byte> destination)
    {
        var length = ProofLengthAt(valueIndex);
        if (destination.Length < length * NodeSize)
        {
            throw new ArgumentException($"The proof needs {length * NodeSize} bytes, the destination has {destination.Length}.", nameof(destination));
        }

        var index = _treeIndexOfValue[valueIndex];
        for (var p = 0; p < length; p++)
        {
            _nodes.AsSpan(SiblingIndex(index) * NodeSize, NodeSize).CopyTo(destination.Slice(p * NodeSize, NodeSize));
            index = (index - 1) / 2;
        }

        return length;
    }

    /// <summary>Where the value at <paramref name="valueIndex"/> sits in <see cref="Tree"/> (the JS dump's <c>values[i].treeIndex</c>).</summary>
    public int TreeIndexAt(int valueIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(valueIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(valueIndex, Count);
        return _treeIndexOfValue[valueIndex];
    }

    /// <summary>The leaf hash of the value at <paramref name="valueIndex"/>, as a new 32-byte array.</summary>
    public byte[] LeafHashAt(int valueIndex) => _nodes.AsSpan(TreeIndexAt(valueIndex) * NodeSize, NodeSize).ToArray();

    /// <summary>The value index of the leaf with this <paramref name="sequence"/>; <see cref="KeyNotFoundException"/> when absent.</summary>
    public int ValueIndexOf(ulong sequence)
    {
        if (_valueIndexBySequence is not null)
        {
            if (_valueIndexBySequence.TryGetValue(sequence, out var found)) return found;
        }
        else
        {
            var found = Array.BinarySearch(_sequences, sequence);
            if (found >= 0) return found;
        }

        throw new KeyNotFoundException($"No leaf of this tree has the sequence {sequence}.");
    }

    private static int SiblingIndex(int index) => (index & 1) == 1 ? index + 1 : index - 1;

    private static Dictionary<ulong, int> IndexBySequence(ulong[] sequences)
    {
        var lookup = new Dictionary<ulong, int>(sequences.Length);
        for (var i = 0; i < sequences.Length; i++)
        {
            if (!lookup.TryAdd(sequences[i], i))
            {
                throw new ArgumentException($"Two leaves have the sequence {sequences[i]} (value indices {lookup[sequences[i]]} and {i}).", "leaves");
            }
        }

        return lookup;
    }

    /// <summary>Runs <paramref name="body"/> over [0, count) in chunks, on several cores when the range is large.</summary>
    private static void ForRange(int count, Action<int, int> body)
    {
        if (count <= ParallelChunk || Environment.ProcessorCount == 1)
        {
            body(0, count);
            return;
        }

        Parallel.ForEach(Partitioner.Create(0, count, ParallelChunk), range => body(range.Item1, range.Item2));
    }

    /// <summary>A leaf hash as four big-endian words (so that comparing words compares the hashes as numbers) and its value index.</summary>
    internal readonly struct LeafKey
    {
        private readonly ulong _w0, _w1, _w2, _w3;
        public readonly int ValueIndex;

        public LeafKey(ReadOnlySpan<byte> hash, int valueIndex)
        {
            _w0 = BinaryPrimitives.ReadUInt64BigEndian(hash);
            _w1 = BinaryPrimitives.ReadUInt64BigEndian(hash[8..]);
            _w2 = BinaryPrimitives.ReadUInt64BigEndian(hash[16..]);
            _w3 = BinaryPrimitives.ReadUInt64BigEndian(hash[24..]);
            ValueIndex = valueIndex;
        }

        public void WriteTo(Span<byte> destination)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination, _w0);
            BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _w1);
            BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _w2);
            BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _w3);
        }

        public int CompareTo(in LeafKey other)
        {
            if (_w0 != other._w0) return _w0 < other._w0 ? -1 : 1;
            if (_w1 != other._w1) return _w1 < other._w1 ? -1 : 1;
            if (_w2 != other._w2) return _w2 < other._w2 ? -1 : 1;
            if (_w3 != other._w3) return _w3 < other._w3 ? -1 : 1;
            return ValueIndex.CompareTo(other.ValueIndex); // equal hashes: input order, as the JS library's stable sort
        }
    }

    private readonly struct LeafKeyComparer : IComparer<LeafKey>
    {
        public int Compare(LeafKey x, LeafKey y) => x.CompareTo(y);
    }

    /// <summary>The proof of the leaf at <paramref name="leafTreeIndex"/>: node p is the sibling of its ancestor p levels up.</summary>
    private sealed class ProofList(byte[] nodes, int leafTreeIndex, int length) : IReadOnlyList<byte[]>
    {
        public int Count => length;

        public byte[] this[int index]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfNegative(index);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, length);
                var ancestor = ((leafTreeIndex + 1) >> index) - 1; // parent(i) = (i - 1) / 2, applied index times
                return nodes.AsSpan(SiblingIndex(ancestor) * NodeSize, NodeSize).ToArray();
            }
        }

        public IEnumerator<byte[]> GetEnumerator()
        {
            for (var i = 0; i < length; i++) yield return this[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>A read-only view of the flat node array as 32-byte nodes; each read copies.</summary>
    private sealed class NodeList(byte[] nodes) : IReadOnlyList<byte[]>
    {
        public int Count => nodes.Length / NodeSize;

        public byte[] this[int index]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfNegative(index);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
                return nodes.AsSpan(index * NodeSize, NodeSize).ToArray();
            }
        }

        public IEnumerator<byte[]> GetEnumerator()
        {
            for (var i = 0; i < Count; i++) yield return this[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
