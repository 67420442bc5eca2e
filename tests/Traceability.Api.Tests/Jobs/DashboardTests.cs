using System.Net;
using System.Security.Claims;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.InMemory;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Traceability.Api.Infrastructure.Jobs;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Jobs;

/// <summary>
/// The Hangfire dashboard at /hangfire over HTTP: only the admin's sign-in session gets in, from any address; every
/// request here comes from a non-loopback client address (203.0.113.7) unless it says otherwise.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class DashboardTests(ChainFixture chain)
{
    private const string Remote = "203.0.113.7";

    [Fact]
    public async Task OnlyTheAdminsSignInSessionOpensTheDashboardFromAnyAddress()
    {
        await using var svc = await StartAsync();
        var (member, _) = await svc.MemberAsync("regulator");
        var memberKey = member.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        using var http = svc.RawClient();

        // No session: refused (sent to the sign-in form), remote or local, with or without an API key.
        foreach (var (address, key) in new[] { (Remote, null), ("127.0.0.1", null), (Remote, TraceService.AdminKey), ("127.0.0.1", memberKey) })
        {
            var refused = await SendAsync(http, HttpMethod.Get, "/hangfire", address, apiKey: key);
            refused.StatusCode.Should().Be(HttpStatusCode.Redirect, $"{address} {key}");
            refused.Headers.Location!.ToString().Should().Contain("/hangfire/login");
        }
        (await SendAsync(http, HttpMethod.Get, "/hangfire/stats", Remote)).StatusCode.Should().Be(HttpStatusCode.Redirect, "the dashboard's API too");

        var form = await SendAsync(http, HttpMethod.Get, "/hangfire/login", Remote);
        form.StatusCode.Should().Be(HttpStatusCode.OK);
        (await form.Content.ReadAsStringAsync()).Should().Contain("<form method=\"post\" action=\"/hangfire/login\"").And.Contain("name=\"key\"");

        // A member's key, even a regulator's, and a wrong key: no session.
        foreach (var wrong in new[] { memberKey, "not-a-key", TraceService.AdminKey + "x", "" })
        {
            var denied = await SignInAsync(http, wrong);
            denied.StatusCode.Should().Be(HttpStatusCode.Unauthorized, wrong);
            denied.Headers.Contains("Set-Cookie").Should().BeFalse();
            (await denied.Content.ReadAsStringAsync()).Should().Contain("That is not the admin key.");
        }

        var signedIn = await SignInAsync(http, TraceService.AdminKey, returnUrl: "/hangfire/recurring");
        signedIn.StatusCode.Should().Be(HttpStatusCode.Redirect);
        signedIn.Headers.Location!.ToString().Should().Be("/hangfire/recurring");
        var setCookie = signedIn.Headers.GetValues("Set-Cookie").Single();
        setCookie.Should().StartWith(DashboardAccess.CookieName + "=").And.Contain("httponly").And.Contain("samesite=strict")
            .And.Contain("path=/hangfire").And.Contain("expires=");
        setCookie.Should().NotContain(TraceService.AdminKey, "the cookie holds a protected ticket, never the key");
        var cookie = setCookie.Split(';')[0];

        foreach (var page in new[] { "/hangfire", "/hangfire/recurring", "/hangfire/jobs/succeeded" })
        {
            var ok = await SendAsync(http, HttpMethod.Get, page, Remote, cookie);
            ok.StatusCode.Should().Be(HttpStatusCode.OK, page);
            (await ok.Content.ReadAsStringAsync()).Should().Contain("Traceability jobs");
        }
        (await (await SendAsync(http, HttpMethod.Get, "/hangfire/recurring", Remote, cookie)).Content.ReadAsStringAsync())
            .Should().Contain(AnchoringJob.Id).And.Contain(AuditJob.Id);

        // A ticket changed by one character is refused; signing out ends the session in the browser.
        var forged = cookie[..^2] + (cookie[^2] == 'A' ? 'B' : 'A') + cookie[^1];
        (await SendAsync(http, HttpMethod.Get, "/hangfire", Remote, forged)).StatusCode.Should().Be(HttpStatusCode.Redirect);
        var signedOut = await SendAsync(http, HttpMethod.Post, "/hangfire/logout", Remote, cookie);
        signedOut.Headers.GetValues("Set-Cookie").Single().Should().StartWith(DashboardAccess.CookieName + "=;").And.Contain("expires=Thu, 01 Jan 1970");
    }

    [Fact]
    public async Task SignInSendsTheAdminOnlyToAPageOfTheDashboard()
    {
        await using var svc = await StartAsync();
        using var http = svc.RawClient();
        foreach (var elsewhere in new[] { "https://evil.example/", "//evil.example/hangfire", "/api/v1/members", "/hangfire//evil.example" })
            (await SignInAsync(http, TraceService.AdminKey, elsewhere)).Headers.Location!.ToString().Should().Be("/hangfire", elsewhere);
    }

    [Fact]
    public void TheDashboardFilterAdmitsTheSessionAndNotTheAddress()
    {
        var storage = new InMemoryStorage();
        using var services = new ServiceCollection().BuildServiceProvider();
        bool Admits(ClaimsPrincipal user, string address)
        {
            var http = new DefaultHttpContext { User = user, RequestServices = services };
            http.Connection.RemoteIpAddress = IPAddress.Parse(address);
            http.Connection.LocalIpAddress = IPAddress.Loopback;
            return new DashboardAccess.AdminSessionFilter().Authorize(new AspNetCoreDashboardContext(storage, new DashboardOptions(), http));
        }
        var admin = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Role, "admin")], DashboardAccess.Scheme));
        var sameClaimsOtherScheme = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Role, "admin")], "api-key"));
        var signedInNoRole = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "someone")], DashboardAccess.Scheme));
        var anonymous = new ClaimsPrincipal(new ClaimsIdentity());

        Admits(admin, Remote).Should().BeTrue("a remote address does not matter");
        Admits(admin, "127.0.0.1").Should().BeTrue();
        Admits(anonymous, "127.0.0.1").Should().BeFalse("a local request is not enough (Hangfire's default filter admits it)");
        Admits(sameClaimsOtherScheme, Remote).Should().BeFalse();
        Admits(signedInNoRole, Remote).Should().BeFalse();
        new LocalRequestsOnlyAuthorizationFilter().Authorize(new AspNetCoreDashboardContext(storage, new DashboardOptions(),
            new DefaultHttpContext { RequestServices = services, Connection = { RemoteIpAddress = IPAddress.Loopback, LocalIpAddress = IPAddress.Loopback } }))
            .Should().BeTrue("this is the default the service replaces");
    }

    /// <summary>Schedules on (so the recurring jobs show), and the client address taken from X-Test-Client-Address.</summary>
    private Task<TraceService> StartAsync() =>
        chain.StartServiceAsync(new Dictionary<string, string> { ["TRACE_ANCHOR_SCHEDULE"] = "on", ["TRACE_AUDIT_SCHEDULE"] = "on" },
            b => b.ConfigureServices(s => s.AddSingleton<IStartupFilter, ClientAddressFromHeader>()));

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient http, string key, string? returnUrl = null)
    {
        var fields = new Dictionary<string, string> { ["key"] = key };
        if (returnUrl is not null) fields["returnUrl"] = returnUrl;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hangfire/login") { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add(ClientAddressFromHeader.Header, Remote);
        return await http.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string address, string? cookie = null, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add(ClientAddressFromHeader.Header, address);
        if (cookie is not null) request.Headers.Add("Cookie", cookie);
        if (apiKey is not null) request.Headers.Add("X-Api-Key", apiKey);
        return await http.SendAsync(request);
    }

    /// <summary>The test server has no sockets: this stands in for a client at the address the test names.</summary>
    private sealed class ClientAddressFromHeader : IStartupFilter
    {
        public const string Header = "X-Test-Client-Address";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, following) =>
            {
                if (http.Request.Headers.TryGetValue(Header, out var address)) http.Connection.RemoteIpAddress = IPAddress.Parse(address.ToString());
                return following(http);
            });
            next(app);
        };
    }
}
