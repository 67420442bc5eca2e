using System.Numerics;
using Traceability.Chain;

namespace Traceability.Testing;

/// <summary>AnchorRegistry deployed on a node by Hardhat's account #0, with a fresh anchorer key funded and authorised.</summary>
public sealed record DeployedRegistry(string Contract, long DeployBlock, EthKey Owner, EthKey Anchorer)
{
    public static string ArtifactPath => Path.Combine(RepoPaths.Root, "artifacts", "contracts", "AnchorRegistry.sol", "AnchorRegistry.json");

    public static async Task<DeployedRegistry> DeployAsync(Uri rpcUrl, CancellationToken ct = default)
    {
        await HardhatNode.EnsureCompiledAsync();
        using var http = new HttpClient();
        var rpc = new EthereumRpcClient(http, rpcUrl);
        var owner = EthKey.FromHex(HardhatNode.DefaultAccountKey);
        var anchorer = EthKey.Generate();
        var (address, block) = await AnchorRegistryClient.DeployAsync(rpc, owner, AnchorRegistryClient.LoadBytecode(ArtifactPath), ct);
        var asOwner = new AnchorRegistryClient(rpc, address, owner);
        await rpc.WaitForReceiptAsync(await rpc.SendTransactionAsync(owner, anchorer.Address, BigInteger.Pow(10, 19), [], ct), TimeSpan.FromSeconds(30), ct);
        await rpc.WaitForReceiptAsync(await asOwner.SetAnchorerAsync(anchorer.Address, true, ct), TimeSpan.FromSeconds(30), ct);
        return new DeployedRegistry(address, block, owner, anchorer);
    }
}
