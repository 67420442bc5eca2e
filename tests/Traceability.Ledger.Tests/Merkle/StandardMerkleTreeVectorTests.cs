using System.Text;
using System.Text.Json;
using Traceability.Ledger.Crypto;
using Traceability.Ledger.Merkle;

namespace Traceability.Ledger.Tests.Merkle;

/// <summary>The C# tree against every vector file made by @openzeppelin/merkle-tree 1.0.8.</summary>
public class StandardMerkleTreeVectorTests
{
    public static TheoryData<int> FullVectorSizes()
    {
        var sizes = new TheoryData<int>();
        for (var size = 1; size <= 64; size++) sizes.Add(size);
        sizes.Add(1000);
        return sizes;
    }

    [Theory]
    [MemberData(nameof(FullVectorSizes))]
    public void BuildReturnsJsRootTreeAndProofsGivenVectorFile(int size)
    {
        var vector = MerkleVectors.Load($"tree-{size}.json");
        vector.GetProperty("producedBy").GetString().Should().Contain("make-vectors.js");
        var leaves = vector.GetProperty("values").EnumerateArray().Select(MerkleVectors.Leaf).ToList();
        leaves.Should().HaveCount(size);

        var tree = StandardMerkleTree.Build(leaves);

        tree.Count.Should().Be(size);
        MerkleVectors.ToHex(tree.Root).Should().Be(vector.GetProperty("root").GetString());
        tree.Tree.Select(MerkleVectors.ToHex).Should().Equal(vector.GetProperty("tree").EnumerateArray().Select(e => e.GetString()));

        var treeIndices = vector.GetProperty("treeIndices").EnumerateArray().Select(e => e.GetInt32()).ToList();
        var leafHashes = vector.GetProperty("leafHashes").EnumerateArray().Select(e => e.GetString()).ToList();
        var proofs = vector.GetProperty("proofs").EnumerateArray().ToList();
        var buffer = new byte[32 * 64];
        for (var i = 0; i < size; i++)
        {
            var expectedProof = proofs[i].EnumerateArray().Select(e => e.GetString()).ToList();
            tree.TreeIndexAt(i).Should().Be(treeIndices[i]);
            MerkleVectors.ToHex(leaves[i].Hash()).Should().Be(leafHashes[i]);
            MerkleVectors.ToHex(tree.LeafHashAt(i)).Should().Be(leafHashes[i]);
            tree.GetProofAt(i).Select(MerkleVectors.ToHex).Should().Equal(expectedProof, $"value {i}");
            tree.GetProof(leaves[i].Sequence).Select(MerkleVectors.ToHex).Should().Equal(expectedProof, $"sequence {leaves[i].Sequence}");

            var written = tree.WriteProofAt(i, buffer);
            written.Should().Be(expectedProof.Count);
            Enumerable.Range(0, written).Select(p => MerkleVectors.ToHex(buffer[(32 * p)..(32 * p + 32)])).Should().Equal(expectedProof);

            MerkleProofVerifier.Verify(tree.Root, leaves[i], tree.GetProofAt(i), size).Should().Be(MerkleVerification.Valid);
        }
    }

    [Fact]
    public void BuildReturnsJsRootTreeHashAndSampledProofsGivenTenThousandLeaves()
    {
        var vector = MerkleVectors.Load("tree-10000.json");
        var leaves = MerkleVectors.Regenerate(10_000);

        var tree = StandardMerkleTree.Build(leaves);

        MerkleVectors.ToHex(tree.Root).Should().Be(vector.GetProperty("root").GetString());
        MerkleVectors.ToHex(Keccak256.Hash(tree.Tree.SelectMany(node => node).ToArray())).Should().Be(vector.GetProperty("treeHash").GetString());
        MerkleVectors.ToHex(Keccak256.Hash(leaves.SelectMany(leaf => leaf.Hash()).ToArray())).Should().Be(vector.GetProperty("leafHashesHash").GetString());
        var treeIndices = string.Join(",", Enumerable.Range(0, tree.Count).Select(tree.TreeIndexAt));
        MerkleVectors.ToHex(Keccak256.Hash(Encoding.UTF8.GetBytes(treeIndices))).Should().Be(vector.GetProperty("treeIndicesHash").GetString());

        var samples = vector.GetProperty("proofs").EnumerateArray().ToList();
        samples.Should().HaveCountGreaterThan(100);
        foreach (var sample in samples)
        {
            var valueIndex = sample.GetProperty("valueIndex").GetInt32();
            tree.GetProofAt(valueIndex).Select(MerkleVectors.ToHex)
                .Should().Equal(sample.GetProperty("proof").EnumerateArray().Select(e => e.GetString()), $"value {valueIndex}");
        }
    }

    private static readonly Lazy<List<JsonElement>> ProofCases =
        new(() => MerkleVectors.Load("proof-cases.json").GetProperty("cases").EnumerateArray().ToList());

    public static TheoryData<string> ProofCaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var c in ProofCases.Value) names.Add(c.GetProperty("name").GetString()!);
        return names;
    }

    [Theory]
    [MemberData(nameof(ProofCaseNames))]
    public void VerifyAgreesWithJsVerifyGivenProofCase(string name)
    {
        var c = ProofCases.Value.Single(e => e.GetProperty("name").GetString() == name);
        var size = c.GetProperty("size").GetInt32();
        var root = MerkleVectors.Hex(c.GetProperty("root"));
        var leaf = MerkleVectors.Leaf(c.GetProperty("leaf"));
        var proof = MerkleVectors.HexList(c.GetProperty("proof"));
        var jsVerify = c.GetProperty("jsVerify").GetBoolean();
        name.EndsWith("/happy-path", StringComparison.Ordinal).Should().Be(jsVerify, "only the happy paths are good proofs");

        var result = MerkleProofVerifier.Verify(root, leaf, proof);
        var sized = MerkleProofVerifier.Verify(root, leaf, proof, size);

        result.IsValid.Should().Be(jsVerify);
        sized.IsValid.Should().Be(jsVerify);
        if (jsVerify)
        {
            result.Should().Be(MerkleVerification.Valid);
            MerkleVectors.ToHex(MerkleProofVerifier.ProcessProof(leaf.Hash(), proof)).Should().Be(MerkleVectors.ToHex(root));
            return;
        }

        MerkleVectors.ToHex(MerkleProofVerifier.ProcessProof(leaf.Hash(), proof)).Should().NotBe(MerkleVectors.ToHex(root));

        // Without the tree size, a well-formed wrong proof can only be told apart by the root it leads to.
        result.Error.Should().Be(MerkleVerificationError.RootMismatch);
        result.Reason.Should().Contain("root");

        // With it, a proof of an impossible length is named for its length.
        var (shortest, longest) = MerkleProofVerifier.ProofLengthRange(size);
        var expected = proof.Count < shortest ? MerkleVerificationError.ProofTooShort
            : proof.Count > longest ? MerkleVerificationError.ProofTooLong
            : MerkleVerificationError.RootMismatch;
        sized.Error.Should().Be(expected);
        if (name.EndsWith("/extended-proof", StringComparison.Ordinal) && size is 1 or 2 or 8 or 64)
        {
            sized.Error.Should().Be(MerkleVerificationError.ProofTooLong, "every leaf of a power-of-two tree has the same depth");
        }

        if (name.Contains("/truncated-proof", StringComparison.Ordinal) && size is 2 or 8 or 64)
        {
            sized.Error.Should().Be(MerkleVerificationError.ProofTooShort, "every leaf of a power-of-two tree has the same depth");
        }
    }

    [Fact]
    public void ProofCasesCoverEveryKindOfBadProof()
    {
        var names = ProofCases.Value.Select(e => e.GetProperty("name").GetString()!).ToList();
        foreach (var kind in new[] { "happy-path", "wrong-leaf-digest", "wrong-leaf-sequence", "other-leafs-proof", "wrong-root", "truncated-proof", "reordered-proof", "reversed-proof", "extended-proof" })
        {
            names.Should().Contain(n => n.EndsWith("/" + kind, StringComparison.Ordinal), kind);
        }
    }
}
