using Traceability.Testing;

namespace Traceability.Verifier.Tests;

[CollectionDefinition(Name)]
public sealed class VerifierCollection : ICollectionFixture<VerifierFixture>
{
    public const string Name = "verifier on a hardhat node";
}

/// <summary>
/// A real Hardhat node with two ledgers on two registries, anchored once for the whole test run:
/// <list type="bullet">
/// <item><see cref="Main"/>: the GS1 conformance events (when ../shared is present) and crafted ones. Anchor 1 holds
/// events 1..5, anchor 2 events 6..11; anchor 3 claims events 12..13 but its tree holds events 12 and 14 (a dishonest
/// operator, for the range check); events 15.. are not anchored.</item>
/// <item><see cref="Other"/>: crafted events only, two honest anchors (3 and 4 events), and one event not anchored.</item>
/// </list>
/// </summary>
public sealed class VerifierFixture : IAsyncLifetime
{
    public const ulong FirstUnanchored = 15;
    public const ulong OutsideRange = 14;

    private const int EventCount = 18;

    private HardhatNode? _node;

    /// <summary>The GS1 reference hashes of Main's first events (those taken from the conformance files), in order.</summary>
    public IReadOnlyList<string> ReferenceHashes { get; private set; } = [];

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };
    public Uri RpcUrl => _node!.RpcUrl;
    public TestLedger Main { get; private set; } = null!;
    public TestLedger Other { get; private set; } = null!;

    /// <summary>The bundle verifier reading the node, with the bundle's own contract.</summary>
    public BundleVerifier Verifier => new(Http);
    public ChainOptions Chain => new(RpcUrl);

    public async Task InitializeAsync()
    {
        _node = await HardhatNode.StartAsync();

        // events 1..3: the three ReferenceEventHashAlgorithm documents; 4..7: XML events translated to JSON-LD; 8..: JSON-LD
        var conformance = RepoPaths.Shared is null
            ? []
            : new[] { "ReferenceEventHashAlgorithm.jsonld", "ReferenceEventHashAlgorithm2.jsonld", "ReferenceEventHashAlgorithm3.jsonld" }
                .SelectMany(TestLedger.ConformanceEvents)
                .Concat(TestLedger.ConformanceEvents("SensorDataExamples.xml").Take(4))
                .Concat(TestLedger.ConformanceEvents("epcisDocWithVariousEventTypes.jsonld"))
                .ToList();
        ReferenceHashes = conformance.Select(c => c.ReferenceHash).Take(EventCount).ToList();
        var events = conformance.Select(c => c.Json).Concat(Enumerable.Range(1, EventCount).Select(TestLedger.CraftedEvent)).Take(EventCount).ToList();
        Main = await TestLedger.CreateAsync(Http, RpcUrl, events);
        await Main.AnchorAsync(5);
        await Main.AnchorAsync(6);
        await Main.AnchorAsync(2, [Main.Event(12).Leaf, Main.Event(OutsideRange).Leaf]);

        Other = await TestLedger.CreateAsync(Http, RpcUrl, Enumerable.Range(100, 8).Select(TestLedger.CraftedEvent));
        await Other.AnchorAsync(3);
        await Other.AnchorAsync(4);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        Http.Dispose();
    }
}
