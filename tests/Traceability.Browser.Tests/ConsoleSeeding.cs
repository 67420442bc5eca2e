using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Traceability.Browser.Tests;

/// <summary>What the console's browser tests seed through the API (places, EPCIS events), and their phone-sized pages.</summary>
internal static class ConsoleSeeding
{
    public static async Task PlaceAsync(HttpClient member, string id, string name, string region) =>
        (await member.PostAsJsonAsync("/api/v1/locations", new { id, name, regionCode = region })).EnsureSuccessStatusCode();

    /// <summary>An ObjectEvent at <paramref name="place"/> (read point and business location), in China's time zone.</summary>
    public static JsonObject Event(string bizStep, string action, string place, string disposition, DateTimeOffset at, params string[] epcs) => new()
    {
        ["type"] = "ObjectEvent",
        ["eventTime"] = at.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
        ["eventTimeZoneOffset"] = "+08:00", ["epcList"] = new JsonArray(epcs.Select(e => (JsonNode)e).ToArray()), ["action"] = action,
        ["bizStep"] = bizStep, ["disposition"] = disposition,
        ["readPoint"] = new JsonObject { ["id"] = place }, ["bizLocation"] = new JsonObject { ["id"] = place },
    };

    /// <summary>The events in one EPCIS document through POST /api/v1/capture, which must answer 201.</summary>
    public static async Task CaptureAsync(HttpClient client, params JsonObject[] events)
    {
        var doc = new JsonObject
        {
            ["@context"] = new JsonArray("https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"),
            ["type"] = "EPCISDocument", ["schemaVersion"] = "2.0", ["creationDate"] = "2026-11-01T08:00:00.000Z",
            ["epcisBody"] = new JsonObject { ["eventList"] = new JsonArray(events.Select(e => (JsonNode)e).ToArray()) },
        };
        var r = await client.PostAsync("/api/v1/capture", new StringContent(doc.ToJsonString(), Encoding.UTF8, "application/ld+json"));
        r.StatusCode.Should().Be(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
    }

    /// <summary>A phone-sized page that records every JavaScript error and console error (CSP violations included).</summary>
    public static async Task<(IPage Page, List<string> Errors)> PageAsync(BrowserFixture fixture, string locale = "en-US")
    {
        var page = await fixture.PhoneAsync(locale);
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") lock (errors) errors.Add(m.Text); };
        page.PageError += (_, e) => { lock (errors) errors.Add(e); };
        return (page, errors);
    }
}
