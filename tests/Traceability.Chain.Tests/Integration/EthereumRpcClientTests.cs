using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace Traceability.Chain.Tests.Integration;

/// <summary>The JSON-RPC client against a real Hardhat node, and against no node at all.</summary>
[Collection(HardhatCollection.Name)]
public class EthereumRpcClientTests(HardhatNodeFixture node)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task ReadMethodsReturnHardhatChainState()
    {
        (await node.Rpc.GetChainIdAsync(None)).Should().Be(31337);
        var number = await node.Rpc.GetBlockNumberAsync(None);
        var block = await node.Rpc.GetBlockByNumberAsync(BlockTag.Latest, None);
        block!.Number.Should().BeGreaterThanOrEqualTo(number);
        block.BaseFeePerGas.Should().NotBeNull();
        (await node.Rpc.GetBlockByNumberAsync(number + 1000, None)).Should().BeNull();
        (await node.Rpc.GetGasPriceAsync(None)).Should().BeGreaterThan(BigInteger.Zero);
        (await node.Rpc.GetMaxPriorityFeePerGasAsync(None)).Should().BeGreaterThan(BigInteger.Zero);
        var history = await node.Rpc.GetFeeHistoryAsync(1, BlockTag.Latest, [50], None);
        history.BaseFeePerGas.Should().HaveCount(2);
        var fees = await node.Rpc.EstimateFeesAsync(None);
        fees.MaxFeePerGas.Should().BeGreaterThanOrEqualTo(fees.MaxPriorityFeePerGas);
        (await node.Rpc.GetCodeAsync(node.Owner.Address, BlockTag.Latest, None)).Should().BeEmpty();
    }

    [Fact]
    public async Task SendTransactionTransfersValueGivenFundedSender()
    {
        var recipient = EthKey.Generate();
        var amount = BigInteger.Parse("1234567890000000000", System.Globalization.CultureInfo.InvariantCulture);

        var receipt = await node.MinedAsync(await node.Rpc.SendTransactionAsync(node.Owner, recipient.Address, amount, [], None));

        (await node.Rpc.GetBalanceAsync(recipient.Address, BlockTag.Latest, None)).Should().Be(amount);
        receipt.GasUsed.Should().Be(21000);
        receipt.From.Should().Be(node.Owner.Address);
        receipt.To.Should().Be(recipient.Address);
    }

    [Fact]
    public async Task SendTransactionUsesConsecutiveNoncesGivenConcurrentSends()
    {
        var sender = await node.NewFundedKeyAsync();
        var hashes = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            node.Rpc.SendTransactionAsync(sender, EthKey.Generate().Address, 1, [], None)));

        foreach (var hash in hashes) await node.MinedAsync(hash);
        (await node.Rpc.GetTransactionCountAsync(sender.Address, BlockTag.Latest, None)).Should().Be(5);
    }

    [Fact]
    public async Task RequestThrowsJsonRpcExceptionGivenUnknownMethod()
    {
        var act = () => node.Rpc.RequestAsync("eth_noSuchMethod", [], None);

        var e = (await act.Should().ThrowAsync<JsonRpcException>()).Which;
        e.Method.Should().Be("eth_noSuchMethod");
        e.Code.Should().NotBe(0);
    }

    [Fact]
    public async Task GetTransactionReceiptReturnsNullGivenUnknownHash()
    {
        var unknown = Hex.Encode(new byte[32]);
        (await node.Rpc.GetTransactionReceiptAsync(unknown, None)).Should().BeNull();

        var act = () => node.Rpc.WaitForReceiptAsync(unknown, TimeSpan.FromMilliseconds(200), None);
        await act.Should().ThrowAsync<TimeoutException>();
    }

    [Fact]
    public async Task CallsThrowChainUnavailableGivenUnreachableRpcUrl()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var rpc = new EthereumRpcClient(http, new Uri($"http://127.0.0.1:{ClosedPort()}/secret-api-key"));
        var registry = new AnchorRegistryClient(rpc, "0x5FbDB2315678afecb367f032d93F642f64180aa3", EthKey.Generate());

        var chainId = (await rpc.Invoking(r => r.GetChainIdAsync(None)).Should().ThrowAsync<ChainUnavailableException>()).Which;
        chainId.Message.Should().Contain("127.0.0.1").And.NotContain("secret-api-key");
        await registry.Invoking(r => r.AnchorCountAsync(None)).Should().ThrowAsync<ChainUnavailableException>();
        await registry.Invoking(r => r.SendAnchorAsync(1, new byte[32], 1, 1, None)).Should().ThrowAsync<ChainUnavailableException>();
    }

    [Fact]
    public async Task CallsThrowChainUnavailableGivenUrlThatIsNotJsonRpc()
    {
        using var listener = new HttpListenerStub("<html>not a node</html>");
        using var http = new HttpClient();
        var rpc = new EthereumRpcClient(http, listener.Url);

        await rpc.Invoking(r => r.GetBlockNumberAsync(None)).Should().ThrowAsync<ChainUnavailableException>().WithMessage("*not JSON*");
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A one-route HTTP server answering every request with a fixed HTML body and status 200.</summary>
    private sealed class HttpListenerStub : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        public HttpListenerStub(string body)
        {
            var port = ClosedPort();
            Url = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(Url.ToString());
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try { context = await _listener.GetContextAsync(); }
                    catch (Exception) { return; }
                    var bytes = System.Text.Encoding.UTF8.GetBytes(body);
                    context.Response.ContentType = "text/html";
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
            });
        }

        public Uri Url { get; }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
