namespace Traceability.Api.Tests.Support;

/// <summary>
/// One real Hardhat node for the test collection, reached through a <see cref="TcpProxy"/> so tests can cut the
/// service off the chain. Each test deploys its own AnchorRegistry, so tests do not see each other's anchors.
/// </summary>
public sealed class ChainFixture : IAsyncLifetime
{
    public HardhatNode Node { get; private set; } = null!;
    public TcpProxy Proxy { get; private set; } = null!;

    /// <summary>The data folders of this collection's tests, removed when they are all done.</summary>
    public TestFolders Folders { get; } = new();

    public async Task InitializeAsync()
    {
        Node = await HardhatNode.StartAsync();
        Proxy = new TcpProxy(Node.Port);
        Proxy.Start();
    }

    /// <summary>
    /// A service that checks member signatures: the owner's key registers signing addresses on chain, and
    /// <paramref name="requireSignatures"/> sets TRACE_REQUIRE_SIGNATURES.
    /// </summary>
    public Task<TraceService> StartSigningServiceAsync(bool requireSignatures = false) => StartServiceAsync(new Dictionary<string, string>
    {
        ["TRACE_CHAIN_OWNER_KEY"] = HardhatNode.DefaultAccountKey,
        ["TRACE_REQUIRE_SIGNATURES"] = requireSignatures ? "true" : "false",
    });

    /// <summary>A fresh registry and a data folder; the service's RPC goes through the proxy. <paramref name="configure"/> adds to the host (e.g. a log sink).</summary>
    public async Task<TraceService> StartServiceAsync(IDictionary<string, string>? settings = null, Action<Microsoft.AspNetCore.Hosting.IWebHostBuilder>? configure = null)
    {
        var registry = await DeployedRegistry.DeployAsync(Node.RpcUrl);
        var dir = Folders.Create("trace-api-test-");
        return Start(dir, registry, settings, configure);
    }

    public TraceService Start(string dataDir, DeployedRegistry registry, IDictionary<string, string>? settings = null,
        Action<Microsoft.AspNetCore.Hosting.IWebHostBuilder>? configure = null) =>
        new(dataDir, Proxy.Url, registry, settings, configure);

    public async Task DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Node.DisposeAsync();
        Folders.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ChainCollection : ICollectionFixture<ChainFixture>
{
    public const string Name = "chain";
}
