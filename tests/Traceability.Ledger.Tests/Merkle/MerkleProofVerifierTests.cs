using Traceability.Ledger.Crypto;
using Traceability.Ledger.Merkle;

namespace Traceability.Ledger.Tests.Merkle;

public class MerkleProofVerifierTests
{
    private static readonly List<MerkleLeaf> Leaves =
        Enumerable.Range(0, 13).Select(i => new MerkleLeaf((ulong)i + 1, Keccak256.Hash(BitConverter.GetBytes(i)))).ToList();

    private static readonly StandardMerkleTree Tree = StandardMerkleTree.Build(Leaves);

    [Fact]
    public void VerifyReturnsValidGivenTheTreesOwnProof()
    {
        foreach (var leaf in Leaves)
        {
            MerkleProofVerifier.Verify(Tree.Root, leaf, Tree.GetProof(leaf.Sequence)).Should().Be(MerkleVerification.Valid);
            MerkleProofVerifier.VerifyLeafHash(Tree.Root, leaf.Hash(), Tree.GetProof(leaf.Sequence), Tree.Count).IsValid.Should().BeTrue();
        }
    }

    [Fact]
    public void VerifyLeafHashReturnsInvalidLeafGiven64ByteLeaf()
    {
        // Two sibling nodes concatenated: hashing them would give their parent, an inner node with a valid proof.
        var treeNodes = Tree.Tree;
        var parentIndex = 1;
        var (left, right) = (treeNodes[2 * parentIndex + 1], treeNodes[2 * parentIndex + 2]);
        var sixtyFour = left.AsSpan().SequenceCompareTo(right) <= 0 ? [.. left, .. right] : right.Concat(left).ToArray();
        var proofOfParent = new[] { treeNodes[2] };

        var result = MerkleProofVerifier.VerifyLeafHash(Tree.Root, sixtyFour, proofOfParent);

        result.IsValid.Should().BeFalse();
        result.Error.Should().Be(MerkleVerificationError.InvalidLeaf);
        result.Reason.Should().Contain("64-byte");
        var process = () => MerkleProofVerifier.ProcessProof(sixtyFour, proofOfParent);
        process.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void VerifyReturnsInvalidLeafGiven64ByteDigest()
    {
        var result = MerkleProofVerifier.Verify(Tree.Root, new MerkleLeaf(1, new byte[64]), Tree.GetProof(1));

        result.Error.Should().Be(MerkleVerificationError.InvalidLeaf);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(31)]
    [InlineData(33)]
    public void VerifyReturnsInvalidProofNodeGivenNodeNot32Bytes(int? length)
    {
        var proof = Tree.GetProof(5).ToList();
        proof[1] = length is null ? null! : new byte[length.Value];

        var result = MerkleProofVerifier.Verify(Tree.Root, Leaves[4], proof);

        result.Error.Should().Be(MerkleVerificationError.InvalidProofNode);
        result.Reason.Should().Contain("Proof node 1");
    }

    [Theory]
    [InlineData(null)]
    [InlineData(20)]
    [InlineData(64)]
    public void VerifyReturnsInvalidRootGivenRootNot32Bytes(int? length)
    {
        var result = MerkleProofVerifier.Verify(length is null ? null! : new byte[length.Value], Leaves[0], Tree.GetProof(1));

        result.Error.Should().Be(MerkleVerificationError.InvalidRoot);
    }

    [Fact]
    public void VerifyReturnsRootMismatchGivenProofOfAnotherTree()
    {
        var other = StandardMerkleTree.Build(Leaves.Take(12).ToList());

        var result = MerkleProofVerifier.Verify(Tree.Root, Leaves[0], other.GetProof(1));

        result.Error.Should().Be(MerkleVerificationError.RootMismatch);
        result.Reason.Should().Contain("0x" + Convert.ToHexStringLower(Tree.Root));
    }

    [Fact]
    public void VerifyReturnsProofTooLongGivenMoreNodesThanAnyTreeNeeds()
    {
        var proof = Enumerable.Repeat(new byte[32], MerkleProofVerifier.MaxProofLength + 1).ToList();

        MerkleProofVerifier.Verify(Tree.Root, Leaves[0], proof).Error.Should().Be(MerkleVerificationError.ProofTooLong);
    }

    [Fact]
    public void VerifyReturnsProofTooShortGivenMissingProof()
    {
        MerkleProofVerifier.Verify(Tree.Root, Leaves[0], null!).Error.Should().Be(MerkleVerificationError.ProofTooShort);
    }

    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(2, 1, 1)]
    [InlineData(3, 1, 2)]
    [InlineData(4, 2, 2)]
    [InlineData(5, 2, 3)]
    [InlineData(1000, 9, 10)]
    [InlineData(1024, 10, 10)]
    public void ProofLengthRangeReturnsTheDepthsOfTheLeavesGivenLeafCount(int leafCount, int shortest, int longest)
    {
        MerkleProofVerifier.ProofLengthRange(leafCount).Should().Be((shortest, longest));
    }

    [Fact]
    public void ProofLengthRangeMatchesEveryProofOfTheTree()
    {
        for (var count = 1; count <= 70; count++)
        {
            var tree = StandardMerkleTree.Build(Leaves.Concat(Enumerable.Range(100, 60).Select(i => new MerkleLeaf((ulong)i, Keccak256.Hash(BitConverter.GetBytes(i))))).Take(count).ToList());
            var lengths = Enumerable.Range(0, count).Select(i => tree.GetProofAt(i).Count).ToList();
            MerkleProofVerifier.ProofLengthRange(count).Should().Be((lengths.Min(), lengths.Max()), $"{count} leaves");
        }
    }
}
