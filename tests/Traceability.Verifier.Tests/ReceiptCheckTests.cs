using System.Globalization;
using System.Text.Json.Nodes;
using Nethereum.Signer;
using Traceability.Chain;
using Traceability.Ledger.Epcis;

namespace Traceability.Verifier.Tests;

/// <summary>
/// <c>--receipt</c>: capture answers signed as the service signs them (one signature per request over the receipts
/// tree, ServiceReceipts) with the real anchorer key of the fixture's registry, checked against real anchors; then
/// altered one field at a time.
/// </summary>
[Collection(VerifierCollection.Name)]
public sealed class ReceiptCheckTests(VerifierFixture fixture)
{
    private const ulong InAnchor2 = 8; // anchor 2 holds events 6..11
    private static readonly DateTimeOffset Later = DateTimeOffset.UtcNow.AddDays(1);

    /// <summary>The capture answer {receipts: [...]} of a request that captured <paramref name="sequences"/>, signed by <paramref name="key"/>.</summary>
    private JsonObject Answer(IEnumerable<ulong> sequences, DateTimeOffset recordTime, DateTimeOffset deadline, EthECKey? key = null)
    {
        var events = sequences.Select(fixture.Main.Event).ToList();
        var receipts = new ServiceReceipts(fixture.Main.ChainId, fixture.Main.Contract);
        using var signer = new RecoverableSigner(key ?? fixture.Main.Registry.Anchorer);
        var batch = receipts.SignBatch(events.Select(e => ServiceReceipts.Message(e.Digest, (long)e.Sequence, recordTime, deadline)).ToList(), signer);
        return new JsonObject
        {
            ["receipts"] = new JsonArray(events.Select((e, i) => (JsonNode)new JsonObject
            {
                ["eventId"] = e.Hash,
                ["eventHash"] = e.Hash,
                ["sequence"] = e.Sequence,
                ["recordTime"] = Iso(recordTime),
                ["anchorDeadline"] = Iso(deadline),
                ["receiptSignature"] = batch.Signature,
                ["receiptsRoot"] = Hex.Encode(batch.Root),
                ["receiptCount"] = batch.Count,
                ["receiptProof"] = new JsonArray(batch.ProofAt(i).Select(p => (JsonNode)p).ToArray()),
            }).ToArray()),
        };
    }

    private static string Iso(DateTimeOffset t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    private static IEnumerable<ulong> Anchor2 => Enumerable.Range(6, 6).Select(i => (ulong)i);

    private async Task<ReceiptOutcome> CheckAsync(JsonNode receipt, ulong sequence, ChainOptions? chain = null)
    {
        var bundle = fixture.Main.Bundle(sequence);
        chain ??= fixture.Chain;
        var result = await fixture.Verifier.VerifyAsync(bundle, chain);
        var asRead = JsonNode.Parse(receipt.ToJsonString()); // as the verifier reads it from a file
        return await ReceiptCheck.CheckAsync(fixture.Http, asRead, ProofBundle.Parse(bundle), result, chain, DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task EveryReceiptOfARequestIsKeptWhenItsAnchorsBlockIsBeforeTheDeadline()
    {
        var answer = Answer(Anchor2, DateTimeOffset.UtcNow.AddMinutes(-1), Later);
        answer["receipts"]![0]!["receiptProof"]!.AsArray().Should().NotBeEmpty();
        foreach (var sequence in Anchor2)
        {
            var outcome = await CheckAsync(answer, sequence); // the whole answer: the receipt with the bundle's sequence is taken
            outcome.Kept.Should().BeTrue(outcome.Line);
            outcome.Signer.Should().Be(EthAddress.Normalize(fixture.Main.Registry.Anchorer.GetPublicAddress()));
            outcome.Line.Should().StartWith($"RECEIPT KEPT: event {sequence} was promised by ");
        }
        var one = answer["receipts"]![2]!.DeepClone(); // one receipt object by itself
        (await CheckAsync(one, 8)).Kept.Should().BeTrue();
    }

    [Fact]
    public async Task AOneEventRequestsReceiptHasAnEmptyProofAndIsKept()
    {
        var answer = Answer([1], DateTimeOffset.UtcNow.AddMinutes(-1), Later);
        answer["receipts"]![0]!["receiptProof"]!.AsArray().Should().BeEmpty();
        answer["receipts"]![0]!["receiptCount"]!.GetValue<int>().Should().Be(1);
        (await CheckAsync(answer, 1)).Kept.Should().BeTrue();
    }

    public static TheoryData<string, string> Alterations() => new()
    {
        { "anchorDeadline", "are not in its receiptsRoot" },
        { "recordTime", "are not in its receiptsRoot" },
        { "proof node", "are not in its receiptsRoot" },
        { "proof shortened", "are not in its receiptsRoot" },
        { "receiptsRoot", "are not in its receiptsRoot" },
        { "receiptCount", "which is not an anchorer of" },
        { "signed by another key", "which is not an anchorer of" },
        { "signature", "which is not an anchorer of" },
        { "eventHash", "is not the bundle's" },
        { "receiptProof missing", "malformed receipt: 'receiptProof' is missing" },
        { "receiptCount zero", "malformed receipt: 'receiptCount' is missing or not a positive integer" },
        { "receiptsRoot short", "malformed receipt: 'receiptsRoot' is not 32 bytes" },
    };

    [Theory]
    [MemberData(nameof(Alterations))]
    public async Task AReceiptAlteredAfterSigningIsRefusedSayingHow(string alteration, string reason)
    {
        var answer = Answer(Anchor2, DateTimeOffset.UtcNow.AddMinutes(-1), Later,
            alteration == "signed by another key" ? EthECKey.GenerateKey() : null);
        var r = answer["receipts"]![2]!.AsObject(); // event 8
        switch (alteration)
        {
            case "anchorDeadline": r["anchorDeadline"] = Iso(Later.AddDays(30)); break;
            case "recordTime": r["recordTime"] = Iso(DateTimeOffset.UtcNow.AddMinutes(-2)); break;
            case "proof node":
                var node = Hex.Decode((string)r["receiptProof"]![0]!);
                node[0] ^= 1;
                r["receiptProof"]![0] = Hex.Encode(node);
                break;
            case "proof shortened": r["receiptProof"]!.AsArray().RemoveAt(r["receiptProof"]!.AsArray().Count - 1); break;
            case "receiptsRoot": r["receiptsRoot"] = answer["receipts"]![0]!["receiptProof"]![0]!.DeepClone(); break;
            case "receiptCount": r["receiptCount"] = 7; break;
            case "signed by another key": break;
            case "signature":
                var other = Answer([1], DateTimeOffset.UtcNow, Later);
                r["receiptSignature"] = other["receipts"]![0]!["receiptSignature"]!.DeepClone();
                break;
            case "eventHash": r["eventHash"] = fixture.Main.Event(9).Hash; break;
            case "receiptProof missing": r.Remove("receiptProof"); break;
            case "receiptCount zero": r["receiptCount"] = 0; break;
            case "receiptsRoot short": r["receiptsRoot"] = "0x1234"; break;
            default: throw new ArgumentOutOfRangeException(nameof(alteration));
        }

        var outcome = await CheckAsync(answer, 8);
        outcome.Kept.Should().BeFalse();
        outcome.BrokenPromise.Should().BeFalse();
        outcome.Line.Should().StartWith("receipt: ").And.Contain(reason);
    }

    [Fact]
    public async Task AGenuineReceiptWhoseDeadlinePassedBeforeItsAnchorIsABrokenPromise()
    {
        var recorded = DateTimeOffset.FromUnixTimeSeconds(1_577_836_800); // 2020-01-01, long before the fixture anchored
        var outcome = await CheckAsync(Answer(Anchor2, recorded, recorded.AddMinutes(10)), InAnchor2);
        outcome.Kept.Should().BeFalse();
        outcome.BrokenPromise.Should().BeTrue();
        outcome.Line.Should().StartWith($"broken promise: event {InAnchor2} was promised by ").And.Contain("but anchor 2's block is from");
    }

    [Fact]
    public async Task AnEventNotAnchoredAfterItsDeadlineIsABrokenPromiseAndBeforeItNotYetOne()
    {
        var unanchored = VerifierFixture.FirstUnanchored;
        var chain = fixture.Chain with { Contract = fixture.Main.Contract };
        var recorded = DateTimeOffset.UtcNow.AddMinutes(-20);
        var late = await CheckAsync(Answer([unanchored], recorded, recorded.AddMinutes(10)), unanchored, chain);
        (late.Kept, late.BrokenPromise).Should().Be((false, true));
        late.Line.Should().Contain("and the bundle has no anchor");

        var pending = await CheckAsync(Answer([unanchored], recorded, Later), unanchored, chain);
        (pending.Kept, pending.BrokenPromise).Should().Be((false, false));
        pending.Line.Should().StartWith("not anchored yet: ");
    }

    [Fact]
    public async Task AReceiptSignedByItselfAsBeforeOneSignaturePerRequestIsStillChecked()
    {
        var e = fixture.Main.Event(InAnchor2);
        var recorded = DateTimeOffset.UtcNow.AddMinutes(-1);
        var message = ServiceReceipts.Message(e.Digest, (long)e.Sequence, recorded, Later);
        var typedData = new Nethereum.ABI.EIP712.TypedData<Nethereum.ABI.EIP712.Domain>
        {
            Domain = new Nethereum.ABI.EIP712.Domain { Name = "Traceability", Version = "1", ChainId = fixture.Main.ChainId, VerifyingContract = fixture.Main.Contract },
            Types = Nethereum.ABI.EIP712.MemberDescriptionFactory.GetTypesMemberDescription(typeof(Nethereum.ABI.EIP712.Domain), typeof(ReceiptMessage)),
            PrimaryType = "Receipt",
        };
        var signature = new Nethereum.Signer.EIP712.Eip712TypedDataSigner().SignTypedDataV4(message, typedData, fixture.Main.Registry.Anchorer);
        var receipt = new JsonObject
        {
            ["eventId"] = e.Hash, ["eventHash"] = e.Hash, ["sequence"] = e.Sequence,
            ["recordTime"] = Iso(recorded), ["anchorDeadline"] = Iso(Later), ["receiptSignature"] = signature,
        };
        (await CheckAsync(receipt, InAnchor2)).Kept.Should().BeTrue();

        receipt["anchorDeadline"] = Iso(Later.AddDays(1));
        (await CheckAsync(receipt, InAnchor2)).Line.Should().Contain("which is not an anchorer of");
    }
}
