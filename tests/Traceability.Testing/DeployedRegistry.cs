using System.Numerics;
using Nethereum.Signer;
using Traceability.Chain;

namespace Traceability.Testing;

/// <summary>AnchorRegistry deployed on a node by Hardhat's account #0, with a fresh anchorer key funded and authorised.</summary>
public sealed record DeployedRegistry(string Contract, long DeployBlock, EthECKey Owner, EthECKey Anchorer)
{
    public static string ArtifactPath => Path.Combine(RepoPaths.Root, "artifacts", "contracts", "AnchorRegistry.sol", "AnchorRegistry.json");

    public static async Task<DeployedRegistry> DeployAsync(Uri rpcUrl, CancellationToken ct = default)
    {
        await HardhatNode.EnsureCompiledAsync();
        using var http = new HttpClient();
        var rpc = new HttpRpcClient(http, rpcUrl);
        var owner = new EthECKey(HardhatNode.DefaultAccountKey);
        var anchorer = EthECKey.GenerateKey();
        var (address, block) = await AnchorRegistryClient.DeployAsync(rpc, owner, AnchorRegistryClient.LoadBytecode(ArtifactPath), ct);
        var asOwner = new AnchorRegistryClient(rpc, address, owner);
        await TestChain.FundAsync(rpc, owner, anchorer.GetPublicAddress(), BigInteger.Pow(10, 19), ct);
        await asOwner.WaitForReceiptAsync(await asOwner.SetAnchorerAsync(anchorer.GetPublicAddress(), true, ct), TimeSpan.FromSeconds(30), ct);
        return new DeployedRegistry(address, block, owner, anchorer);
    }
}
