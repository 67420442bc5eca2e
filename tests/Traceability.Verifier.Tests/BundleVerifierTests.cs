using System.Text.Json.Nodes;
using Traceability.Chain;
using Traceability.Testing;

namespace Traceability.Verifier.Tests;

/// <summary>Proof bundles built from real anchors on a real Hardhat node, verified whole and then tampered with one field at a time.</summary>
[Collection(VerifierCollection.Name)]
public sealed class BundleVerifierTests(VerifierFixture fixture)
{
    private const ulong InAnchor2 = 8; // anchor 2 holds events 6..11: its proofs have two or three nodes

    private Task<VerificationResult> VerifyAsync(JsonNode bundle, ChainOptions? chain = null) =>
        fixture.Verifier.VerifyAsync(bundle, chain ?? fixture.Chain);

    private static async Task<VerificationResult> ShouldFail(Task<VerificationResult> verification, string check, string reasonPart)
    {
        var result = await verification;
        result.Verified.Should().BeFalse();
        result.Check.Should().Be(check, because: result.Reason);
        result.Reason.Should().Contain(reasonPart);
        result.ToLine().Should().StartWith("FAILED: ");
        return result;
    }

    [Fact]
    public async Task VerifiesEveryAnchoredEventOfHonestAnchors()
    {
        foreach (var anchor in fixture.Main.Anchors.Take(2).Concat(fixture.Other.Anchors))
        {
            var ledger = fixture.Main.Anchors.Contains(anchor) ? fixture.Main : fixture.Other;
            foreach (var leaf in anchor.Leaves)
            {
                var result = await VerifyAsync(ledger.Bundle(leaf.Sequence));
                result.Verified.Should().BeTrue(result.Reason);
                result.Check.Should().BeNull();
                result.Anchor.Should().Be(anchor.Sequence);
                result.FirstEventSequence.Should().Be(anchor.First);
                result.LastEventSequence.Should().Be(anchor.Last);
                result.Block.Should().Be(anchor.Block);
                result.Contract.Should().Be(ledger.Contract);
                result.ChainId.Should().Be(31337);
            }
        }
    }

    [SharedFact]
    public async Task VerifiesConformanceEventsWhoseHashesAreTheGs1ReferenceHashes()
    {
        // event 1 is the first event of ReferenceEventHashAlgorithm.jsonld, whose context declares the "example" prefix;
        // events 4..7 were XML, served as JSON-LD
        fixture.ReferenceHashes.Should().HaveCount(18);
        fixture.Main.Bundle(1)["event"]!["@context"]!.ToJsonString().Should().Contain("example");
        for (var i = 0; i < 13; i++) // the events of anchors 1 and 2
        {
            var sequence = (ulong)i + 1;
            var bundle = fixture.Main.Bundle(sequence);
            bundle["eventHash"]!.GetValue<string>().Should().Be(fixture.ReferenceHashes[i], $"event {sequence} is a GS1 vector");
            if (sequence <= 11) (await VerifyAsync(bundle)).Verified.Should().BeTrue($"event {sequence} is in an honest anchor");
        }
    }

    [Fact]
    public async Task VerifiedLineNamesEventAnchorRangeBlockTimeContractAndChain()
    {
        var anchor = fixture.Main.Anchors[1];
        var result = await VerifyAsync(fixture.Main.Bundle(InAnchor2));
        var onChain = await fixture.Main.Anchorer.GetAnchorAsync(2, CancellationToken.None);

        result.ToLine().Should().Be(
            $"VERIFIED event {InAnchor2} ({fixture.Main.Event(InAnchor2).Hash}) in anchor 2 (events 6..11), block {anchor.Block}, "
            + $"anchored at {onChain!.Timestamp.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}, contract {fixture.Main.Contract} on chain 31337");
        var json = result.ToJson();
        json["verified"]!.GetValue<bool>().Should().BeTrue();
        json["sequence"]!.GetValue<ulong>().Should().Be(InAnchor2);
        json["anchor"]!.GetValue<ulong>().Should().Be(2);
        json["block"]!.GetValue<long>().Should().Be(anchor.Block);
        json["contract"]!.GetValue<string>().Should().Be(fixture.Main.Contract);
        json["chainId"]!.GetValue<long>().Should().Be(31337);
        json["timestamp"]!.GetValue<string>().Should().EndWith("Z");
        json["reason"].Should().BeNull();
    }

    [Fact]
    public async Task FailsEventHashGivenEditedEventJson()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        var ev = bundle["event"]!.AsObject();
        ev["eventTime"] = "2019-01-01T00:00:00.000Z";
        await ShouldFail(VerifyAsync(bundle), Checks.EventHash, "event hash mismatch");
    }

    [Fact]
    public async Task FailsEventHashGivenAnAddedField()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["event"]!["bizLocation"] = new JsonObject { ["id"] = "urn:epc:id:sgln:0614141.00888.0" };
        await ShouldFail(VerifyAsync(bundle), Checks.EventHash, "event hash mismatch");
    }

    [Fact]
    public async Task FailsEventHashGivenEditedEventHash()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["eventHash"] = fixture.Main.Event(InAnchor2 + 1).Hash;
        await ShouldFail(VerifyAsync(bundle), Checks.EventHash, "the bundle says " + fixture.Main.Event(InAnchor2 + 1).Hash);
    }

    [Fact]
    public async Task FailsEventHashGivenAnEventThatIsNotEpcis()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["event"] = new JsonObject { ["hello"] = "world" };
        await ShouldFail(VerifyAsync(bundle), Checks.EventHash, "event hash");
    }

    [Fact]
    public async Task FailsLeafGivenEditedLeafDigest()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["leaf"]!["value"]![1] = Hex.Encode(fixture.Main.Event(InAnchor2 + 1).Digest);
        await ShouldFail(VerifyAsync(bundle), Checks.Leaf, "leaf mismatch");
    }

    [Fact]
    public async Task FailsLeafGivenEditedLeafSequence()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["leaf"]!["value"]![0] = "9";
        await ShouldFail(VerifyAsync(bundle), Checks.Leaf, "leaf mismatch");
    }

    [Fact]
    public async Task FailsLeafGivenEditedSequence()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["sequence"] = InAnchor2 + 1;
        await ShouldFail(VerifyAsync(bundle), Checks.Leaf, "leaf mismatch");
    }

    [Fact]
    public async Task FailsProofGivenTruncatedProof()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        var proof = bundle["proof"]!.AsArray();
        proof.Count.Should().BeGreaterThan(1);
        proof.RemoveAt(proof.Count - 1);
        await ShouldFail(VerifyAsync(bundle), Checks.Proof, "proof does not lead to the bundle's root");
    }

    [Fact]
    public async Task FailsProofGivenEmptyProof()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["proof"] = new JsonArray();
        await ShouldFail(VerifyAsync(bundle), Checks.Proof, "proof does not lead");
    }

    [Fact]
    public async Task FailsProofGivenReorderedProof()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        var nodes = bundle["proof"]!.AsArray().Select(n => n!.GetValue<string>()).Reverse().ToArray();
        nodes.Distinct().Should().HaveCount(nodes.Length);
        bundle["proof"] = new JsonArray(nodes.Select(n => (JsonNode)n).ToArray());
        await ShouldFail(VerifyAsync(bundle), Checks.Proof, "RootMismatch");
    }

    [Fact]
    public async Task FailsProofGivenEditedRoot()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["root"] = Hex.Encode(fixture.Main.Anchors[0].Tree.Root);
        await ShouldFail(VerifyAsync(bundle), Checks.Proof, "proof does not lead");
    }

    [Fact]
    public async Task FailsRootGivenAConsistentBundleOfATreeThatWasNeverAnchored()
    {
        // A forger rebuilds a tree holding the event and writes its own proof and root: only the chain can tell.
        var ev = fixture.Main.Event(InAnchor2);
        var forged = Traceability.Ledger.Merkle.StandardMerkleTree.Build([ev.Leaf, fixture.Main.Event(1).Leaf, fixture.Main.Event(2).Leaf]);
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["proof"] = new JsonArray(forged.GetProof(InAnchor2).Select(p => (JsonNode)Hex.Encode(p)).ToArray());
        bundle["root"] = Hex.Encode(forged.Root);
        await ShouldFail(VerifyAsync(bundle), Checks.Root, "root mismatch: anchor 2 on chain has root " + Hex.Encode(fixture.Main.Anchors[1].Tree.Root));
    }

    [Fact]
    public async Task FailsRootGivenAnotherAnchorsSequence()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["anchor"]!["sequence"] = 1;
        await ShouldFail(VerifyAsync(bundle), Checks.Root, "root mismatch: anchor 1");
    }

    [Fact]
    public async Task FailsAnchorOnChainGivenAnUnknownAnchorSequence()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["anchor"]!["sequence"] = 99;
        await ShouldFail(VerifyAsync(bundle), Checks.AnchorOnChain, "unknown anchor: anchor 99 is not on contract");
    }

    [Fact]
    public async Task FailsRangeGivenAnEventOutsideItsAnchorsRange()
    {
        // anchor 3 claims events 12..13 on chain, but its tree holds event 14
        var result = await ShouldFail(VerifyAsync(fixture.Main.Bundle(VerifierFixture.OutsideRange)), Checks.Range,
            "event 14 is not in anchor 3's events 12..13");
        result.Anchor.Should().Be(3);
    }

    [Fact]
    public async Task FailsRootGivenABundlePointingToAnotherRegistry()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["anchor"]!["contract"] = fixture.Other.Contract;
        await ShouldFail(VerifyAsync(bundle), Checks.Root, "root mismatch");
    }

    [Fact]
    public async Task FailsAnchorOnChainGivenAFreshRegistryWithoutAnchors()
    {
        var empty = await DeployedRegistry.DeployAsync(fixture.RpcUrl);
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["anchor"]!["contract"] = empty.Contract;
        await ShouldFail(VerifyAsync(bundle), Checks.AnchorOnChain, "(it holds 0 anchors)");
    }

    [Fact]
    public async Task FailsContractGivenAnAddressWithoutCode()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["anchor"]!["contract"] = Nethereum.Signer.EthECKey.GenerateKey().GetPublicAddress();
        await ShouldFail(VerifyAsync(bundle), Checks.Contract, "no contract at");
    }

    [Fact]
    public async Task ContractOptionOverridesTheBundles()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["anchor"]!["contract"] = fixture.Other.Contract;
        var result = await VerifyAsync(bundle, fixture.Chain with { Contract = fixture.Main.Contract });
        result.Verified.Should().BeTrue(result.Reason);

        await ShouldFail(VerifyAsync(fixture.Main.Bundle(InAnchor2), fixture.Chain with { Contract = fixture.Other.Contract }), Checks.Root, "root mismatch");
    }

    [Fact]
    public async Task FailsChainGivenAnotherChainId()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["anchor"]!["chainId"] = 1;
        await ShouldFail(VerifyAsync(bundle), Checks.Chain, "the bundle's anchor is on chain 1, the node at");
    }

    [Fact]
    public async Task FailsChainGivenAnUnreachableNode()
    {
        var down = new ChainOptions(new Uri($"http://127.0.0.1:{HardhatNode.FreePort()}"));
        var result = await ShouldFail(VerifyAsync(fixture.Main.Bundle(InAnchor2), down), Checks.Chain, "chain unreachable: ");
        result.ToLine().Should().NotContain("\n");
    }

    [Fact]
    public async Task FailsTransactionGivenAWrongBlockNumber()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["anchor"]!["blockNumber"] = fixture.Main.Anchors[1].Block - 1;
        await ShouldFail(VerifyAsync(bundle), Checks.Transaction, $"the bundle says block {fixture.Main.Anchors[1].Block - 1}");
    }

    [Fact]
    public async Task FailsTransactionGivenAnotherAnchorsTransaction()
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle["anchor"]!["txHash"] = fixture.Other.Anchors[0].TxHash;
        bundle["anchor"]!.AsObject().Remove("blockNumber");
        await ShouldFail(VerifyAsync(bundle), Checks.Transaction, "was sent to " + fixture.Other.Contract);
    }

    [Fact]
    public async Task FailsAnchorGivenABundleNotAnchoredYet()
    {
        var bundle = fixture.Main.Bundle(VerifierFixture.FirstUnanchored);
        bundle["anchor"].Should().BeNull();
        var result = await ShouldFail(VerifyAsync(bundle), Checks.Anchor, "not anchored yet");
        result.ToLine().Should().StartWith("FAILED: not anchored yet");
    }

    [Fact]
    public async Task FailsEventHashBeforeNotAnchoredGivenAnEditedUnanchoredEvent()
    {
        var bundle = fixture.Main.Bundle(VerifierFixture.FirstUnanchored);
        bundle["event"]!["eventTime"] = "2001-01-01T00:00:00.000Z";
        await ShouldFail(VerifyAsync(bundle), Checks.EventHash, "event hash mismatch");
    }

    [Theory]
    [InlineData("event", "'event' is missing")]
    [InlineData("eventHash", "'eventHash' is missing")]
    [InlineData("sequence", "'sequence' is missing")]
    [InlineData("leaf", "'leaf' is missing")]
    [InlineData("proof", "an anchor but no proof")]
    [InlineData("root", "an anchor but no proof or no root")]
    public async Task FailsBundleGivenAMissingField(string field, string reasonPart)
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        bundle.Remove(field);
        await ShouldFail(VerifyAsync(bundle), Checks.Bundle, reasonPart);
    }

    [Theory]
    [InlineData("""{"root": "0x1234"}""", "'root' is not a 32-byte hex value")]
    [InlineData("""{"proof": ["0xzz"]}""", "'proof[0]' is not a 32-byte hex value")]
    [InlineData("""{"sequence": -1}""", "'sequence' is missing or not a non-negative integer")]
    [InlineData("""{"sequence": 8.5}""", "'sequence' is missing or not a non-negative integer")]
    [InlineData("""{"leaf": {"encoding": ["bytes32","uint256"], "value": ["8","0x00"]}}""", "'leaf.encoding'")]
    [InlineData("""{"anchor": {"chainId": 31337}}""", "'anchor.sequence'")]
    [InlineData("""{"anchor": {"sequence": 2, "contract": "0x1234"}}""", "'anchor.contract' is not an address")]
    [InlineData("""{"anchor": 5}""", "'anchor' is neither an object nor null")]
    public async Task FailsBundleGivenAMalformedField(string patch, string reasonPart)
    {
        var bundle = fixture.Main.Bundle(InAnchor2);
        foreach (var (key, value) in JsonNode.Parse(patch)!.AsObject()) bundle[key] = value?.DeepClone();
        var result = await VerifyAsync(bundle);
        result.Verified.Should().BeFalse();
        result.Reason.Should().Contain(reasonPart);
    }

    [Fact]
    public async Task FailsBundleGivenJsonThatIsNotAnObject()
    {
        await ShouldFail(fixture.Verifier.VerifyAsync(new JsonArray(), fixture.Chain), Checks.Bundle, "not a JSON object");
        await ShouldFail(fixture.Verifier.VerifyAsync(null, fixture.Chain), Checks.Bundle, "not a JSON object");
    }
}
