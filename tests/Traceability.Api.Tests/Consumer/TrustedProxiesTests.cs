using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Tests.Support;
using Traceability.Testing;

namespace Traceability.Api.Tests.Consumer;

/// <summary>
/// TRACE_TRUSTED_PROXIES, on the service running on real Kestrel (requests from 127.0.0.1 play the reverse proxy): the
/// consumer rate limit counts per client named by X-Forwarded-For only when the request comes from a trusted proxy.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class TrustedProxiesTests(ChainFixture chain)
{
    // An unknown code: the "unknown code" page is a consumer endpoint, limited like the others.
    private const string Page = "/01/09506000134352/21/NO-SUCH-CODE";

    [Fact]
    public async Task BehindATrustedProxyEachForwardedClientHasItsOwnBudget()
    {
        await using var service = await StartAsync(new() { ["TRACE_TRUSTED_PROXIES"] = "10.9.8.7, 127.0.0.0/8" });
        (await StatusesAsync(service, "203.0.113.1", 3)).Should().Equal(HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests);
        (await StatusesAsync(service, "203.0.113.2", 1)).Should().Equal(HttpStatusCode.NotFound);
        // a client behind two proxies: the address before the last trusted hop counts
        (await StatusesAsync(service, "198.51.100.9, 10.9.8.7", 1)).Should().Equal(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task WithoutTrustedProxiesForwardedHeadersAreIgnored()
    {
        await using var service = await StartAsync([]);
        (await StatusesAsync(service, "203.0.113.1", 2)).Should().Equal(HttpStatusCode.NotFound, HttpStatusCode.NotFound);
        (await StatusesAsync(service, "203.0.113.2", 1)).Should().Equal([HttpStatusCode.TooManyRequests], "the header is anyone's to send: the budget is 127.0.0.1's");
    }

    [Theory]
    [InlineData("10.0.0.1", 1)]
    [InlineData("10.0.0.0/8, ::1 ,fd00::/8", 3)]
    public void ReadsAddressesAndNetworks(string value, int count)
    {
        var options = new TraceOptions();
        TraceOptions.Bind(options, Config(value));
        options.TrustedProxies.Should().HaveCount(count);
        options.TrustedProxies[0].Contains(IPAddress.Parse("10.0.0.1")).Should().BeTrue();
    }

    [Fact]
    public void RefusesAValueThatIsNotAnAddressNamingTheVariable()
    {
        var act = () => TraceOptions.Bind(new TraceOptions(), Config("10.0.0.1, proxy.internal"));
        act.Should().Throw<OptionsValidationException>().WithMessage("*TRACE_TRUSTED_PROXIES*'proxy.internal'*");
    }

    private static IConfiguration Config(string proxies) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["TRACE_TRUSTED_PROXIES"] = proxies }).Build();

    private async Task<ServiceOnKestrel> StartAsync(Dictionary<string, string> settings)
    {
        settings["TRACE_CONSUMER_RATE_LIMIT"] = "2";
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        return await ServiceOnKestrel.StartAsync(chain.Node.RpcUrl, registry, settings);
    }

    private static async Task<List<HttpStatusCode>> StatusesAsync(ServiceOnKestrel service, string forwardedFor, int requests)
    {
        using var http = new HttpClient { BaseAddress = service.BaseUrl };
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < requests; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Page);
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.Add("X-Forwarded-For", forwardedFor);
            using var response = await http.SendAsync(request);
            statuses.Add(response.StatusCode);
        }
        return statuses;
    }
}
