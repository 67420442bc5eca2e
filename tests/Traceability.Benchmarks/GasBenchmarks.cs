using System.Numerics;
using Nethereum.Signer;
using Traceability.Chain;
using Traceability.Testing;

namespace Traceability.Benchmarks;

/// <summary>
/// scripts/bench gas: the gas each AnchorRegistry transaction the service and its members send costs, read from the
/// receipts of a fresh deployment on a Hardhat node (the same EVM rules as the devnet): anchor (the first and a later
/// one), registerMember and revokeMember, setWitness and setWitnessThreshold, and cosign (the first cosignature of an
/// anchor and the one that makes it final). Gas does not depend on the machine's load.
/// </summary>
public static class GasBenchmarks
{
    public static IReadOnlyList<Figure> Run(Action<string> log) => RunAsync(log).GetAwaiter().GetResult();

    private static async Task<IReadOnlyList<Figure>> RunAsync(Action<string> log)
    {
        await HardhatNode.EnsureCompiledAsync();
        await using var node = await HardhatNode.StartAsync();
        using var http = new HttpClient();
        var rpc = new HttpRpcClient(http, node.RpcUrl);
        var owner = new EthECKey(HardhatNode.DefaultAccountKey);
        var (contract, block) = await AnchorRegistryClient.DeployAsync(rpc, owner, AnchorRegistryClient.LoadBytecode(DeployedRegistry.ArtifactPath), default);
        log($"  AnchorRegistry deployed at {contract} in block {block} on Hardhat {node.RpcUrl}");
        var registry = new AnchorRegistryClient(rpc, contract, owner);
        var figures = new List<Figure>();

        async Task<long> Gas(string name, Task<string> send, string detail)
        {
            var receipt = await registry.WaitForReceiptAsync(await send, TimeSpan.FromSeconds(60), default);
            if (!receipt.Succeeded) throw new InvalidOperationException($"{name} reverted in block {receipt.BlockNumber}");
            log($"  {name}: {receipt.GasUsed:N0} gas");
            figures.Add(new Figure($"gas per {name}", receipt.GasUsed, "gas", detail));
            return receipt.GasUsed;
        }

        await Gas("setAnchorer()", registry.SetAnchorerAsync(owner.GetPublicAddress(), true, default), "the owner authorises the service's anchoring key");
        var root1 = Root(1);
        await Gas("anchor() (the first)", registry.SendAnchorAsync(1, root1, 1, 1_000, default), "sequence 1, events 1..1,000: a new anchor row and the Anchored event");
        await Gas("anchor() (a later one)", registry.SendAnchorAsync(2, Root(2), 1_001, 2_000, default), "sequence 2, events 1,001..2,000");

        var member = EthECKey.GenerateKey().GetPublicAddress();
        await Gas("registerMember()", registry.RegisterMemberAsync(member, MemberSignatures.MemberIdBytes32("m_bench0000000001"), default),
            "the owner registers a member's signing address (POST /api/v1/members/{id}/addresses)");
        await Gas("revokeMember()", registry.RevokeMemberAsync(member, default), "DELETE /api/v1/members/{id}/addresses/{address}");

        var witnesses = new[] { EthECKey.GenerateKey(), EthECKey.GenerateKey() };
        for (var i = 0; i < witnesses.Length; i++)
        {
            await TestChain.FundAsync(rpc, owner, witnesses[i].GetPublicAddress(), BigInteger.Pow(10, 18));
            await Gas(i == 0 ? "setWitness() (the first witness)" : "setWitness() (a further one)",
                registry.SetWitnessAsync(witnesses[i].GetPublicAddress(), true, default), "POST /api/v1/consortium/witnesses");
        }
        await Gas("setWitnessThreshold()", registry.SetWitnessThresholdAsync(2, default), "PUT /api/v1/consortium/threshold {k: 2}");
        for (var i = 0; i < witnesses.Length; i++)
        {
            var asWitness = new AnchorRegistryClient(rpc, contract, witnesses[i]);
            var receipt = await asWitness.WaitForReceiptAsync(await asWitness.CosignAsync(1, root1, default), TimeSpan.FromSeconds(60), default);
            var name = i == 0 ? "cosign() (the first of an anchor)" : "cosign() (the one that makes it final, k = 2)";
            log($"  {name}: {receipt.GasUsed:N0} gas");
            figures.Add(new Figure($"gas per {name}", receipt.GasUsed, "gas", "a witness's cosignature, paid by the witness (scripts/verify witness)"));
        }
        if (!await registry.IsFinalAsync(1, default)) throw new InvalidOperationException("anchor 1 is not final after two cosignatures with k = 2");
        return figures;
    }

    private static byte[] Root(int n)
    {
        var root = new byte[32];
        root[0] = (byte)n;
        root[31] = 0xAB;
        return root;
    }
}
