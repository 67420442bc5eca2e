using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Traceability.Api.Tests.Support;

/// <summary>Plain JSON-RPC calls to the Hardhat node, independent of the service's Ethereum client: mine blocks, read receipts.</summary>
public static class RawRpc
{
    private static readonly HttpClient Http = new();

    public static async Task<JsonNode?> CallAsync(Uri rpcUrl, string method, params object[] parameters)
    {
        var response = await Http.PostAsJsonAsync(rpcUrl, new { jsonrpc = "2.0", id = 1, method, @params = parameters });
        response.EnsureSuccessStatusCode();
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        if (body["error"] is { } error) throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
        return body["result"];
    }

    public static long Quantity(JsonNode? hex) => long.Parse(((string)hex!)[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>Mines <paramref name="blocks"/> empty blocks (hardhat_mine).</summary>
    public static Task MineAsync(Uri rpcUrl, int blocks) => CallAsync(rpcUrl, "hardhat_mine", "0x" + blocks.ToString("x", CultureInfo.InvariantCulture));

    public static async Task<long> BlockNumberAsync(Uri rpcUrl) => Quantity(await CallAsync(rpcUrl, "eth_blockNumber"));

    public static async Task<JsonNode> ReceiptAsync(Uri rpcUrl, string txHash) =>
        await CallAsync(rpcUrl, "eth_getTransactionReceipt", txHash) ?? throw new InvalidOperationException($"no receipt for {txHash}");
}
