using System.Net;
using System.Net.Sockets;
using Nethereum.Signer;

namespace Traceability.Chain.Tests.Integration;

/// <summary>A node that is not there, or a URL that is not a node: every call is <see cref="ChainUnavailableException"/>.</summary>
public class ChainUnavailableTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task CallsThrowChainUnavailableGivenUnreachableRpcUrl()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var rpc = new HttpRpcClient(http, new Uri($"http://127.0.0.1:{ClosedPort()}/secret-api-key"));
        var registry = new AnchorRegistryClient(rpc, "0x5FbDB2315678afecb367f032d93F642f64180aa3", EthECKey.GenerateKey());

        var chainId = (await new Nethereum.Web3.Web3(rpc).Invoking(w => w.Eth.ChainId.SendRequestAsync())
            .Should().ThrowAsync<ChainUnavailableException>()).Which;
        chainId.Message.Should().Contain("127.0.0.1").And.NotContain("secret-api-key");
        await registry.Invoking(r => r.AnchorCountAsync(None)).Should().ThrowAsync<ChainUnavailableException>();
        await registry.Invoking(r => r.GetAnchorAsync(1, None)).Should().ThrowAsync<ChainUnavailableException>();
        await registry.Invoking(r => r.SendAnchorAsync(1, new byte[32], 1, 1, None)).Should().ThrowAsync<ChainUnavailableException>();
    }

    [Fact]
    public async Task CallsThrowChainUnavailableGivenUrlThatIsNotJsonRpc()
    {
        using var listener = new HttpListenerStub("<html>not a node</html>");
        using var http = new HttpClient();
        var registry = new AnchorRegistryClient(new HttpRpcClient(http, listener.Url), "0x5FbDB2315678afecb367f032d93F642f64180aa3");

        await registry.Invoking(r => r.AnchorCountAsync(None)).Should().ThrowAsync<ChainUnavailableException>().WithMessage("*not JSON*");
    }

    [Fact]
    public async Task SharedHttpClientServesSeveralRpcClientsGivenOneHttpClient()
    {
        // Nethereum's own RpcClient would set BaseAddress on a client that already sent: this transport must not.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var port = ClosedPort();
        for (var i = 0; i < 2; i++)
        {
            var rpc = new HttpRpcClient(http, new Uri($"http://127.0.0.1:{port}"));
            await new Nethereum.Web3.Web3(rpc).Invoking(w => w.Eth.Blocks.GetBlockNumber.SendRequestAsync())
                .Should().ThrowAsync<ChainUnavailableException>();
        }
        http.BaseAddress.Should().BeNull();
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
