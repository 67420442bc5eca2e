using Traceability.Ledger.Merkle;

namespace Traceability.Ledger.Tests.Merkle;

/// <summary>SignedEventsTree against @openzeppelin/merkle-tree over ["bytes32"] (vectors/make-signed-vectors.js).</summary>
public sealed class SignedEventsTreeTests
{
    public static TheoryData<int> Sizes()
    {
        var data = new TheoryData<int>();
        foreach (var c in MerkleVectors.Load("signed-events.json").GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("size").GetInt32());
        return data;
    }

    private static System.Text.Json.JsonElement Case(int size) =>
        MerkleVectors.Load("signed-events.json").GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("size").GetInt32() == size);

    [Theory]
    [MemberData(nameof(Sizes))]
    public void RootAndEveryProofAreTheJavaScriptLibrarys(int size)
    {
        var c = Case(size);
        var digests = MerkleVectors.HexList(c.GetProperty("digests"));
        var tree = SignedEventsTree.Build(digests);

        MerkleVectors.ToHex(tree.Root).Should().Be(c.GetProperty("root").GetString());
        var proofs = c.GetProperty("proofs").EnumerateArray().ToList();
        for (var i = 0; i < size; i++)
        {
            tree.GetProofAt(i).Select(MerkleVectors.ToHex).Should().Equal(proofs[i].EnumerateArray().Select(p => p.GetString()), $"proof of value {i}");
            SignedEventsTree.Verify(tree.Root, digests[i], tree.GetProofAt(i), size).IsValid.Should().BeTrue();
        }
    }

    [Fact]
    public void ADigestNotSignedOrAWrongCountOrAnAlteredProofDoesNotVerify()
    {
        var c = Case(16);
        var digests = MerkleVectors.HexList(c.GetProperty("digests"));
        var tree = SignedEventsTree.Build(digests);
        var proof = tree.GetProofAt(3);

        SignedEventsTree.Verify(tree.Root, digests[4], proof, 16).Error.Should().Be(MerkleVerificationError.RootMismatch);
        SignedEventsTree.Verify(tree.Root, digests[3], proof, 1).Error.Should().Be(MerkleVerificationError.ProofTooLong);
        SignedEventsTree.Verify(tree.Root, digests[3], proof, 0).IsValid.Should().BeFalse();
        SignedEventsTree.Verify(tree.Root, digests[3], proof.Skip(1).ToList(), 16).IsValid.Should().BeFalse();
        SignedEventsTree.Verify(tree.Root, [1, 2, 3], proof, 16).Error.Should().Be(MerkleVerificationError.InvalidLeaf);
        SignedEventsTree.Verify(new byte[31], digests[3], proof, 16).Error.Should().Be(MerkleVerificationError.InvalidRoot);
    }

    [Fact]
    public void AnEmptyDocumentOrABadDigestIsRefused()
    {
        FluentActions.Invoking(() => SignedEventsTree.Build([])).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => SignedEventsTree.Build([new byte[32], new byte[31]])).Should().Throw<ArgumentException>().WithMessage("*digests[1]*");
    }
}
