using System.Numerics;
using Nethereum.Hex.HexTypes;
using Nethereum.JsonRpc.Client;
using TransactionInput = Nethereum.RPC.Eth.DTOs.TransactionInput;
using Nethereum.Signer;
using Traceability.Chain;

namespace Traceability.Testing;

/// <summary>What tests do on a devnet beyond the contract: move ether with Nethereum.</summary>
public static class TestChain
{
    /// <summary>Sends <paramref name="wei"/> from <paramref name="from"/> to <paramref name="to"/> (an EIP-1559 transfer) and waits until it is mined.</summary>
    public static async Task<TransactionReceipt> FundAsync(IClient rpc, EthECKey from, string to, BigInteger wei, CancellationToken ct = default)
    {
        var web3 = await AnchorRegistryClient.SignerWeb3Async(rpc, from, ct);
        var txHash = await web3.TransactionManager.SendTransactionAsync(new TransactionInput
        {
            From = from.GetPublicAddress(), To = to, Value = new HexBigInteger(wei),
        });
        var receipt = await AnchorRegistryClient.WaitForReceiptAsync(web3, txHash, TimeSpan.FromSeconds(30), ct);
        if (!receipt.Succeeded) throw new InvalidOperationException($"The transfer {txHash} to {to} failed.");
        return receipt;
    }
}
