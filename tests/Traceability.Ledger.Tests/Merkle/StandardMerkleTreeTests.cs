using Traceability.Ledger.Crypto;
using Traceability.Ledger.Merkle;

namespace Traceability.Ledger.Tests.Merkle;

public class StandardMerkleTreeTests
{
    private static byte[] Digest(int i) => Keccak256.Hash(BitConverter.GetBytes(i));

    private static List<MerkleLeaf> Leaves(int count, ulong firstSequence = 1) =>
        Enumerable.Range(0, count).Select(i => new MerkleLeaf(firstSequence + (ulong)i, Digest(i))).ToList();

    [Fact]
    public void BuildThrowsGivenNoLeaves()
    {
        var build = () => StandardMerkleTree.Build([]);

        build.Should().Throw<ArgumentException>().WithMessage("*at least one leaf*");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void BuildThrowsGivenDigestNot32Bytes(int length)
    {
        var leaves = Leaves(3);
        leaves[1] = new MerkleLeaf(2, new byte[length]);

        var build = () => StandardMerkleTree.Build(leaves);

        build.Should().Throw<ArgumentException>().WithMessage($"*32 bytes*not {length}*").Which.ParamName.Should().Be("leaves[1].Digest");
    }

    [Fact]
    public void BuildThrowsGivenMissingDigest()
    {
        var build = () => StandardMerkleTree.Build([new MerkleLeaf(1, null!)]);

        build.Should().Throw<ArgumentException>().WithMessage("*missing*");
    }

    [Fact]
    public void BuildThrowsGivenTwoLeavesWithTheSameSequence()
    {
        var leaves = Leaves(4);
        leaves[3] = leaves[3] with { Sequence = leaves[0].Sequence };

        var build = () => StandardMerkleTree.Build(leaves);

        build.Should().Throw<ArgumentException>().WithMessage("*Two leaves have the sequence 1*");
    }

    [Fact]
    public void LeafHashThrowsGiven64ByteDigest()
    {
        var hash = () => new MerkleLeaf(1, new byte[64]).Hash();

        hash.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void GetProofThrowsKeyNotFoundGivenAbsentSequence()
    {
        var inOrder = StandardMerkleTree.Build(Leaves(10, firstSequence: 100));
        var shuffled = StandardMerkleTree.Build(Leaves(10, firstSequence: 100).OrderBy(l => l.Digest[0]).ToList());

        inOrder.Invoking(t => t.GetProof(99)).Should().Throw<KeyNotFoundException>().WithMessage("*99*");
        inOrder.Invoking(t => t.GetProof(110)).Should().Throw<KeyNotFoundException>();
        shuffled.Invoking(t => t.GetProof(99)).Should().Throw<KeyNotFoundException>();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10)]
    public void GetProofAtThrowsGivenIndexOutsideTheValues(int valueIndex)
    {
        var tree = StandardMerkleTree.Build(Leaves(10));

        tree.Invoking(t => t.GetProofAt(valueIndex)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void GetProofAtReturnsAListWhoseNodesMatchWriteProofAt()
    {
        var tree = StandardMerkleTree.Build(Leaves(37));
        var buffer = new byte[32 * 8];

        for (var i = 0; i < tree.Count; i++)
        {
            var proof = tree.GetProofAt(i);
            var written = tree.WriteProofAt(i, buffer);
            proof.Count.Should().Be(written).And.Be(tree.ProofLengthAt(i));
            for (var p = 0; p < written; p++) proof[p].Should().Equal(buffer[(32 * p)..(32 * p + 32)]);
            proof.Invoking(l => l[written]).Should().Throw<ArgumentOutOfRangeException>();
            proof[0][0] ^= 0xff; // a copy: changing it leaves the tree alone
            proof[0].Should().Equal(buffer[..32]);
        }
    }

    [Fact]
    public void WriteProofAtThrowsGivenTooSmallDestination()
    {
        var tree = StandardMerkleTree.Build(Leaves(37));

        tree.Invoking(t => t.WriteProofAt(0, new byte[32])).Should().Throw<ArgumentException>().WithMessage("*needs*");
    }

    [Fact]
    public void BuildReturnsRootEqualToTheLeafHashGivenOneLeaf()
    {
        var leaf = new MerkleLeaf(42, Digest(42));

        var tree = StandardMerkleTree.Build([leaf]);

        tree.Root.Should().Equal(leaf.Hash());
        tree.GetProof(42).Should().BeEmpty();
        tree.Tree.Should().ContainSingle().Which.Should().Equal(leaf.Hash());
    }

    [Fact]
    public void BuildReturnsTheSameTreeAndProofsGivenTheLeavesInAnyOrder()
    {
        var leaves = Leaves(1000);
        var shuffled = leaves.OrderBy(l => Convert.ToHexString(Keccak256.Hash(l.Digest))).ToList();

        var a = StandardMerkleTree.Build(leaves);
        var b = StandardMerkleTree.Build(shuffled);

        b.Root.Should().Equal(a.Root);
        b.Tree.Should().BeEquivalentTo(a.Tree, o => o.WithStrictOrdering());
        foreach (var leaf in leaves.Take(50)) b.GetProof(leaf.Sequence).Should().BeEquivalentTo(a.GetProof(leaf.Sequence), o => o.WithStrictOrdering());
    }

    [Theory]
    [InlineData(8191)]
    [InlineData(8193)]
    [InlineData(40_000)]
    public void BuildReturnsTheReferenceLayoutGivenTreesLargeEnoughToHashInParallel(int count)
    {
        var leaves = Leaves(count, firstSequence: 7);

        var tree = StandardMerkleTree.Build(leaves);

        var reference = ReferenceLayout(leaves);
        tree.Tree.Count.Should().Be(reference.Count);
        for (var i = 0; i < reference.Count; i++)
        {
            if (!tree.Tree[i].AsSpan().SequenceEqual(reference[i])) Assert.Fail($"node {i} differs from the reference layout");
        }

        for (var i = 0; i < count; i += 997)
        {
            MerkleProofVerifier.Verify(tree.Root, leaves[i], tree.GetProofAt(i), count).IsValid.Should().BeTrue();
        }
    }

    /// <summary>A line-by-line port of @openzeppelin/merkle-tree's MerkleTreeImpl.prepare and core.makeMerkleTree.</summary>
    private static List<byte[]> ReferenceLayout(IReadOnlyList<MerkleLeaf> leaves)
    {
        var hashed = leaves.Select((leaf, valueIndex) => (hash: leaf.Hash(), valueIndex)).ToList();
        hashed = hashed.OrderBy(h => h.hash, Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y))).ToList(); // OrderBy is stable
        var tree = new byte[2 * hashed.Count - 1][];
        for (var i = 0; i < hashed.Count; i++) tree[tree.Length - 1 - i] = hashed[i].hash;
        for (var i = tree.Length - 1 - hashed.Count; i >= 0; i--)
        {
            var (a, b) = (tree[2 * i + 1], tree[2 * i + 2]);
            var sorted = a.AsSpan().SequenceCompareTo(b) <= 0 ? a.Concat(b) : b.Concat(a);
            tree[i] = Keccak256.Hash(sorted.ToArray());
        }

        return [.. tree];
    }
}
