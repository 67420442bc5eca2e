using System.Text.Json.Nodes;

namespace Traceability.Api.Tests.Support;

/// <summary>EPCIS 2.0 JSON-LD documents for tests: commissioning events for fresh serials, and helpers to break them.</summary>
public static class EpcisDocs
{
    public const string Context = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
    private static long _serial = DateTime.UtcNow.Ticks;

    public static string NextSerial() => Interlocked.Increment(ref _serial).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static JsonObject Commissioning(string? serial = null, string companyPrefix = "0614141", string itemRef = "107346", DateTimeOffset? at = null) => new()
    {
        ["type"] = "ObjectEvent",
        ["eventTime"] = (at ?? DateTimeOffset.Parse("2026-11-01T08:00:00.000+08:00")).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz"),
        ["eventTimeZoneOffset"] = "+08:00",
        ["epcList"] = new JsonArray($"urn:epc:id:sgtin:{companyPrefix}.{itemRef}.{serial ?? NextSerial()}"),
        ["action"] = "ADD",
        ["bizStep"] = "commissioning",
        ["disposition"] = "active",
        ["readPoint"] = new JsonObject { ["id"] = "urn:epc:id:sgln:0614141.00777.0" },
    };

    public static string Document(params JsonObject[] events) => new JsonObject
    {
        ["@context"] = new JsonArray(Context),
        ["type"] = "EPCISDocument",
        ["schemaVersion"] = "2.0",
        ["creationDate"] = "2026-11-01T08:00:00.000Z",
        ["epcisBody"] = new JsonObject { ["eventList"] = new JsonArray(events.Select(e => (JsonNode)e).ToArray()) },
    }.ToJsonString();

    public static string Commissioning(int count) => Document(Enumerable.Range(0, count).Select(_ => Commissioning()).ToArray());

    /// <summary>The document without its eventIDs (eventID is not part of the CBV 2.0 hash).</summary>
    public static string WithoutEventIds(string document, string media = "application/ld+json") =>
        media == "application/xml"
            ? System.Text.RegularExpressions.Regex.Replace(document, @"<eventID>[^<]*</eventID>", "")
            : System.Text.RegularExpressions.Regex.Replace(document, @"""eventID""\s*:\s*""[^""]*""\s*,?", "");
}
