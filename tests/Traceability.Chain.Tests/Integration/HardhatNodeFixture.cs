using System.Numerics;
using Nethereum.Signer;
using Traceability.Testing;

namespace Traceability.Chain.Tests.Integration;

[CollectionDefinition(Name)]
public sealed class HardhatCollection : ICollectionFixture<HardhatNodeFixture>
{
    public const string Name = "hardhat node";
}

/// <summary>
/// A real Hardhat node (<see cref="HardhatNode"/>) on a free local port, started once per test run and killed with its
/// process tree at the end. Hardhat's default account #0 is the deployer and owner.
/// </summary>
public sealed class HardhatNodeFixture : IAsyncLifetime
{
    private static readonly TimeSpan ReceiptTimeout = TimeSpan.FromSeconds(30);

    private HardhatNode? _node;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };
    public EthECKey Owner { get; } = new(HardhatNode.DefaultAccountKey);
    public int Port => _node!.Port;
    public HttpRpcClient Rpc { get; private set; } = null!;
    public Nethereum.Web3.Web3 Web3 { get; private set; } = null!;
    public byte[] Bytecode { get; private set; } = [];

    public async Task InitializeAsync()
    {
        await HardhatNode.EnsureCompiledAsync();
        Bytecode = AnchorRegistryClient.LoadBytecode(DeployedRegistry.ArtifactPath);
        _node = await HardhatNode.StartAsync();
        Rpc = new HttpRpcClient(Http, _node.RpcUrl);
        Web3 = new Nethereum.Web3.Web3(Rpc);
        (await Web3.Eth.ChainId.SendRequestAsync()).Value.Should().Be(31337);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        Http.Dispose();
    }

    /// <summary>What the node printed so far, for failure messages.</summary>
    public string Log => _node?.Output ?? "";

    /// <summary>Deploys a fresh AnchorRegistry owned by <see cref="Owner"/>, so each test starts from anchor 0.</summary>
    public async Task<(AnchorRegistryClient Owner, string Address, long Block)> DeployRegistryAsync()
    {
        var (address, block) = await AnchorRegistryClient.DeployAsync(Rpc, Owner, Bytecode, CancellationToken.None);
        return (new AnchorRegistryClient(Rpc, address, Owner), address, block);
    }

    /// <summary>A new key funded with 1 ETH by <see cref="Owner"/> and authorised as an anchorer of <paramref name="registry"/>.</summary>
    public async Task<EthECKey> NewAnchorerAsync(AnchorRegistryClient registry)
    {
        var key = await NewFundedKeyAsync();
        await MinedAsync(await registry.SetAnchorerAsync(key.GetPublicAddress(), true, CancellationToken.None));
        return key;
    }

    public async Task<EthECKey> NewFundedKeyAsync()
    {
        var key = EthECKey.GenerateKey();
        await TestChain.FundAsync(Rpc, Owner, key.GetPublicAddress(), BigInteger.Pow(10, 18));
        return key;
    }

    /// <summary>Waits for the receipt and asserts that the transaction succeeded.</summary>
    public async Task<TransactionReceipt> MinedAsync(string txHash)
    {
        var receipt = await AnchorRegistryClient.WaitForReceiptAsync(Web3, txHash, ReceiptTimeout, CancellationToken.None);
        receipt.Succeeded.Should().BeTrue($"transaction {txHash} should succeed");
        return receipt;
    }
}
