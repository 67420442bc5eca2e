using System.Net;
using System.Net.Http.Json;
using Traceability.Api.Tests.Consumer;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Analytics;

/// <summary>The console's cookie session over HTTP: what the cookie holds, what it grants, the CSRF header, sign-out, the CSP.</summary>
[Collection(ChainCollection.Name)]
public sealed class ConsoleSessionTests(ChainFixture chain)
{
    [Fact]
    public async Task SigningInSetsAnHttpOnlyStrictCookieWithoutTheKeyThatTheApiAcceptsWithTheCsrfHeaderForChanges()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        var key = setup.Maker.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        using var browser = setup.Service.Client(); // keeps cookies like a browser

        var page = await browser.GetAsync("/console");
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Headers.GetValues("Content-Security-Policy").Single().Should().StartWith("default-src 'self'").And.Contain("script-src 'self';");

        (await browser.PostAsJsonAsync("/console/session", new { apiKey = key })).StatusCode.Should().Be(HttpStatusCode.Forbidden, "the sign-in needs the console's header");
        browser.DefaultRequestHeaders.Add("X-Trace-Console", "1");
        (await browser.PostAsJsonAsync("/console/session", new { apiKey = "tk_wrong" })).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var signIn = await browser.PostAsJsonAsync("/console/session", new { apiKey = key });
        signIn.StatusCode.Should().Be(HttpStatusCode.OK);
        var setCookie = signIn.Headers.GetValues("Set-Cookie").Single();
        setCookie.Should().StartWith("trace_console=").And.Contain("httponly").And.Contain("samesite=strict").And.NotContain(key);
        (await signIn.ReadAsync<Traceability.Api.Features.Console.ConsoleApi.SessionInfo>()).Role.Should().Be("manufacturer");

        (await browser.GetAsync("/api/v1/analytics/overview")).StatusCode.Should().Be(HttpStatusCode.OK, "the session authenticates API calls");
        setup.Service.Execute("INSERT INTO alerts (type, gtin, at, detail) VALUES ('counterfeit', @g, '2026-11-01T00:00:00.000Z', '{}')", ("@g", setup.Gtin));
        var id = setup.Service.Scalar("SELECT MAX(id) FROM alerts");
        (await browser.PostAsync($"/api/v1/alerts/{id}/handled", null)).StatusCode.Should().Be(HttpStatusCode.OK);

        browser.DefaultRequestHeaders.Remove("X-Trace-Console");
        (await browser.PostAsync($"/api/v1/alerts/{id}/handled", null)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a change by cookie needs the CSRF header");
        (await browser.GetAsync("/api/v1/analytics/overview")).StatusCode.Should().Be(HttpStatusCode.OK, "reads do not");
        (await browser.DeleteAsync("/console/session")).StatusCode.Should().Be(HttpStatusCode.Forbidden);

        browser.DefaultRequestHeaders.Add("X-Trace-Console", "1");
        (await browser.DeleteAsync("/console/session")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await browser.GetAsync("/api/v1/analytics/overview")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "signed out");
        (await browser.GetAsync("/console/session")).StatusCode.Should().Be(HttpStatusCode.NoContent, "not signed in");
    }

    [Fact]
    public async Task TheConsoleServesItsBundledFilesAndNothingElse()
    {
        var setup = await ConsumerSetup.StartAsync(chain);
        await using var _ = setup.Service;
        foreach (var path in new[] { "/console/app.js", "/console/console.css", "/console/vendor/echarts.min.js", "/console/vendor/maps/china.json", "/console/vendor/maps/44.json" })
        {
            var r = await setup.Anonymous.GetAsync(path);
            r.StatusCode.Should().Be(HttpStatusCode.OK, path);
            r.Headers.Contains("Content-Security-Policy").Should().BeTrue(path);
        }
        (await setup.Anonymous.GetAsync("/console/../appsettings.json")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await setup.Anonymous.GetAsync("/console/nothing.js")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
