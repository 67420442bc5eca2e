using System.Globalization;
using System.Text.Json.Nodes;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;
using Traceability.Testing;

namespace Traceability.Verifier.Tests;

/// <summary>One captured event: its sequence, its self-contained JSON-LD (with "@context"), its CBV 2.0 hash.</summary>
public sealed record LedgerEvent(ulong Sequence, string Json, string Hash)
{
    public byte[] Digest => EventHash.Digest(Hash);
    public MerkleLeaf Leaf => new(Sequence, Digest);
}

/// <summary>An anchor written to the chain: the tree over its leaves and the transaction that wrote the root.</summary>
public sealed record LedgerAnchor(ulong Sequence, ulong First, ulong Last, IReadOnlyList<MerkleLeaf> Leaves, StandardMerkleTree Tree, string TxHash, long Block);

/// <summary>
/// What the API would hold, played by the test: captured events numbered from 1, anchored in ranges on a real
/// AnchorRegistry with the anchorer key, and the documented JSON views of them (proof bundles, anchors, leaves, events).
/// </summary>
public sealed class TestLedger
{
    private readonly List<LedgerEvent> _events = [];
    private readonly List<LedgerAnchor> _anchors = [];

    private TestLedger(HttpClient http, Uri rpcUrl, DeployedRegistry registry, long chainId)
    {
        RpcUrl = rpcUrl;
        Registry = registry;
        ChainId = chainId;
        Rpc = new HttpRpcClient(http, rpcUrl);
        Anchorer = new AnchorRegistryClient(Rpc, registry.Contract, registry.Anchorer);
    }

    public Uri RpcUrl { get; }
    public DeployedRegistry Registry { get; }
    public string Contract => Registry.Contract;
    public long ChainId { get; }
    public HttpRpcClient Rpc { get; }
    public AnchorRegistryClient Anchorer { get; }
    public IReadOnlyList<LedgerEvent> Events => _events;
    public IReadOnlyList<LedgerAnchor> Anchors => _anchors;

    /// <summary>Deploys a fresh registry on the node and captures <paramref name="eventJsons"/> as events 1..n.</summary>
    public static async Task<TestLedger> CreateAsync(HttpClient http, Uri rpcUrl, IEnumerable<string> eventJsons)
    {
        var registry = await DeployedRegistry.DeployAsync(rpcUrl);
        var chainId = (long)(await new Nethereum.Web3.Web3(new HttpRpcClient(http, rpcUrl)).Eth.ChainId.SendRequestAsync()).Value;
        var ledger = new TestLedger(http, rpcUrl, registry, chainId);
        foreach (var json in eventJsons) ledger.Capture(json);
        return ledger;
    }

    public LedgerEvent Capture(string eventJson)
    {
        var e = new LedgerEvent((ulong)_events.Count + 1, eventJson, EventHash.Compute(EpcisParser.ParseEventJson(eventJson)));
        _events.Add(e);
        return e;
    }

    public LedgerEvent Event(ulong sequence) => _events[(int)sequence - 1];

    /// <summary>
    /// Anchors the next <paramref name="count"/> events. <paramref name="leavesOverride"/> lets a test play a dishonest
    /// operator whose tree does not hold the events of the range it claims.
    /// </summary>
    public async Task<LedgerAnchor> AnchorAsync(int count, IReadOnlyList<MerkleLeaf>? leavesOverride = null)
    {
        var first = _anchors.Count == 0 ? 1UL : _anchors[^1].Last + 1;
        var last = first + (ulong)count - 1;
        var leaves = leavesOverride ?? _events.Where(e => e.Sequence >= first && e.Sequence <= last).Select(e => e.Leaf).ToList();
        var tree = StandardMerkleTree.Build(leaves);
        var sequence = (ulong)_anchors.Count + 1;
        var tx = await Anchorer.SendAnchorAsync(sequence, tree.Root, first, last, CancellationToken.None);
        var receipt = await Anchorer.WaitForReceiptAsync(tx, TimeSpan.FromSeconds(30), CancellationToken.None);
        receipt.Succeeded.Should().BeTrue();
        var anchor = new LedgerAnchor(sequence, first, last, leaves, tree, tx, receipt.BlockNumber);
        _anchors.Add(anchor);
        return anchor;
    }

    public LedgerAnchor AnchorOf(ulong eventSequence) => _anchors.Single(a => a.Leaves.Any(l => l.Sequence == eventSequence));

    /// <summary>The proof bundle of GET /api/v1/events/{sequence}/proof; anchor, proof and root null before anchoring.</summary>
    public JsonObject Bundle(ulong sequence)
    {
        var e = Event(sequence);
        var anchor = _anchors.FirstOrDefault(a => a.Leaves.Any(l => l.Sequence == sequence));
        return new JsonObject
        {
            ["event"] = JsonNode.Parse(e.Json),
            ["eventHash"] = e.Hash,
            ["sequence"] = sequence,
            ["leaf"] = new JsonObject
            {
                ["encoding"] = new JsonArray("uint256", "bytes32"),
                ["value"] = new JsonArray(sequence.ToString(CultureInfo.InvariantCulture), Hex.Encode(e.Digest)),
            },
            ["proof"] = anchor is null ? null : new JsonArray(anchor.Tree.GetProof(sequence).Select(p => (JsonNode)Hex.Encode(p)).ToArray()),
            ["root"] = anchor is null ? null : Hex.Encode(anchor.Tree.Root),
            ["anchor"] = anchor is null ? null : AnchorRef(anchor),
        };
    }

    public JsonObject AnchorRef(LedgerAnchor anchor) => new()
    {
        ["sequence"] = anchor.Sequence,
        ["chainId"] = ChainId,
        ["contract"] = Contract,
        ["txHash"] = anchor.TxHash,
        ["blockNumber"] = anchor.Block,
        ["status"] = "confirmed",
    };

    /// <summary>An item of GET /api/v1/anchors.</summary>
    public JsonObject AnchorJson(LedgerAnchor anchor) => new()
    {
        ["sequence"] = anchor.Sequence,
        ["root"] = Hex.Encode(anchor.Tree.Root),
        ["firstEventSequence"] = anchor.First,
        ["lastEventSequence"] = anchor.Last,
        ["count"] = anchor.Last - anchor.First + 1,
        ["status"] = "confirmed",
        ["txHash"] = anchor.TxHash,
        ["blockNumber"] = anchor.Block,
        ["chainId"] = ChainId,
        ["contract"] = Contract,
    };

    /// <summary>GET /api/v1/anchors/{n}/leaves.</summary>
    public JsonObject LeavesJson(LedgerAnchor anchor) => new()
    {
        ["encoding"] = new JsonArray("uint256", "bytes32"),
        ["values"] = new JsonArray(anchor.Leaves
            .Select(l => (JsonNode)new JsonArray(l.Sequence.ToString(CultureInfo.InvariantCulture), Hex.Encode(l.Digest))).ToArray()),
    };

    /// <summary>GET /api/v1/events/{seq}.</summary>
    public JsonObject EventRecord(ulong sequence)
    {
        var e = Event(sequence);
        var anchor = _anchors.FirstOrDefault(a => a.Leaves.Any(l => l.Sequence == sequence));
        return new JsonObject
        {
            ["sequence"] = sequence,
            ["eventId"] = $"urn:uuid:00000000-0000-4000-8000-{sequence:D12}",
            ["eventHash"] = e.Hash,
            ["recordTime"] = "2025-01-01T00:00:00Z",
            ["submitterId"] = 1,
            ["event"] = JsonNode.Parse(e.Json),
            ["anchor"] = anchor is null ? null : AnchorRef(anchor),
        };
    }

    /// <summary>
    /// Every event of a conformance document under ../shared/conformance/event-hash (JSON-LD or XML) made
    /// self-contained with <see cref="EpcisJsonLd.WriteEvent"/> (what the API stores and serves as "event"), with the
    /// reference hash the GS1 vectors give for it (the document's .hashes file, one per event in order).
    /// </summary>
    public static IReadOnlyList<(string Json, string ReferenceHash)> ConformanceEvents(string document)
    {
        var text = File.ReadAllText(RepoPaths.SharedPath("conformance", "event-hash", document));
        var doc = document.EndsWith(".xml", StringComparison.Ordinal) ? EpcisParser.ParseXml(text) : EpcisParser.ParseJson(text);
        var hashes = File.ReadAllLines(RepoPaths.SharedPath("conformance", "event-hash", Path.ChangeExtension(document, ".hashes")))
            .Select(l => l.Trim()).Where(l => l.StartsWith("ni:", StringComparison.Ordinal)).ToList();
        hashes.Should().HaveCount(doc.Events.Count, $"{document} and its .hashes file list the same events");
        return doc.Events.Select((e, i) => (EpcisJsonLd.WriteEvent(e), hashes[i])).ToList();
    }

    /// <summary>A small ObjectEvent of our own, distinct for each <paramref name="serial"/>.</summary>
    public static string CraftedEvent(int serial) => new JsonObject
    {
        ["@context"] = new JsonArray("https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"),
        ["type"] = "ObjectEvent",
        ["eventTime"] = $"2025-03-01T08:{serial / 60 % 60:D2}:{serial % 60:D2}.000Z",
        ["eventTimeZoneOffset"] = "+08:00",
        ["epcList"] = new JsonArray($"urn:epc:id:sgtin:0614141.107346.{serial}"),
        ["action"] = "OBSERVE",
        ["bizStep"] = "shipping",
        ["disposition"] = "in_transit",
        ["readPoint"] = new JsonObject { ["id"] = "urn:epc:id:sgln:0614141.07346.1234" },
    }.ToJsonString();
}
