using System.Net;
using Traceability.Api.Features.Platform;
using Traceability.Api.Tests.Support;
using Traceability.Chain;

namespace Traceability.Api.Tests;

[Collection(ChainCollection.Name)]
public sealed class PlatformTests(ChainFixture chain)
{
    [Fact]
    public async Task ServesHealthChainAndSwagger()
    {
        await using var svc = await chain.StartServiceAsync();
        using var anonymous = svc.Client();

        var health = await anonymous.GetAnswerAsync<PlatformApi.HealthResponse>("/health");
        health.Status.Should().Be("healthy");
        health.Database.Status.Should().Be("ok");
        health.Chain.Status.Should().Be("ok");

        var info = await anonymous.GetAnswerAsync<PlatformApi.ChainResponse>("/api/v1/chain");
        info.ChainId.Should().Be(31337);
        info.Contract.Should().Be(svc.Registry.Contract);
        using var http = new HttpClient();
        var code = await new Nethereum.Web3.Web3(new HttpRpcClient(http, chain.Node.RpcUrl)).Eth.GetCode.SendRequestAsync(info.Contract!);
        code.Should().StartWith("0x").And.NotBe("0x", "the contract the API names is deployed on the chain");

        // The OpenAPI document: its own format, read as JSON.
        var document = await TraceService.JsonAsync(await anonymous.GetAsync("/swagger/v1/swagger.json"));
        document["paths"]!.AsObject().Select(p => p.Key).Should().Contain(["/api/v1/capture", "/api/v1/events/{sequence}/proof", "/api/v1/anchors/run", "/health"]);
        var ui = await anonymous.GetAsync("/swagger/index.html");
        ui.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ui.Content.ReadAsStringAsync()).Should().Contain("swagger-ui");
    }

    [Fact]
    public async Task HealthSaysDegradedWithTheReasonWhenNoChainIsConfigured()
    {
        var dir = chain.Folders.Create("trace-nochain-");
        await using var svc = new TraceService(dir, new Uri("http://127.0.0.1:9"), new DeployedRegistry("0x0000000000000000000000000000000000000001", 0, Nethereum.Signer.EthECKey.GenerateKey(), Nethereum.Signer.EthECKey.GenerateKey()));
        var body = await (await svc.Client().GetAsync("/health")).ReadAsync<PlatformApi.HealthResponse>(HttpStatusCode.ServiceUnavailable);
        body.Status.Should().Be("degraded");
        body.Chain.Detail.Should().Contain("127.0.0.1:9");
    }
}
