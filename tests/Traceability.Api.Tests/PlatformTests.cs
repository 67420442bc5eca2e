using System.Net;
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

        var health = await TraceService.JsonAsync(await anonymous.GetAsync("/health"));
        ((string)health["status"]!).Should().Be("healthy");
        ((string)health["database"]!["status"]!).Should().Be("ok");
        ((string)health["chain"]!["status"]!).Should().Be("ok");

        var info = await TraceService.JsonAsync(await anonymous.GetAsync("/api/v1/chain"));
        ((long)info["chainId"]!).Should().Be(31337);
        ((string)info["contract"]!).Should().Be(svc.Registry.Contract);
        using var http = new HttpClient();
        var code = await new Nethereum.Web3.Web3(new HttpRpcClient(http, chain.Node.RpcUrl)).Eth.GetCode.SendRequestAsync((string)info["contract"]!);
        code.Should().StartWith("0x").And.NotBe("0x", "the contract the API names is deployed on the chain");

        var document = await TraceService.JsonAsync(await anonymous.GetAsync("/swagger/v1/swagger.json"));
        document["paths"]!.AsObject().Select(p => p.Key).Should().Contain(["/api/v1/capture", "/api/v1/events/{sequence}/proof", "/api/v1/anchors/run", "/health"]);
        var ui = await anonymous.GetAsync("/swagger/index.html");
        ui.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ui.Content.ReadAsStringAsync()).Should().Contain("swagger-ui");
    }

    [Fact]
    public async Task HealthSaysDegradedWithTheReasonWhenNoChainIsConfigured()
    {
        var dir = Directory.CreateTempSubdirectory("trace-nochain-").FullName;
        await using var svc = new TraceService(dir, new Uri("http://127.0.0.1:9"), new DeployedRegistry("0x0000000000000000000000000000000000000001", 0, Nethereum.Signer.EthECKey.GenerateKey(), Nethereum.Signer.EthECKey.GenerateKey()));
        var response = await svc.Client().GetAsync("/health");
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        var body = await TraceService.JsonAsync(response);
        ((string)body["status"]!).Should().Be("degraded");
        ((string)body["chain"]!["detail"]!).Should().Contain("127.0.0.1:9");
    }
}
