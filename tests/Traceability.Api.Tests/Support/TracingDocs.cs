using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Tests.Support;

/// <summary>
/// EPCIS events for the tracing tests, each with its own eventTime a minute after the previous one (containment windows
/// are by event time), and GS1 keys with valid check digits under the company prefix 6901234.
/// </summary>
public sealed class TracingDocs
{
    public const string CompanyPrefix = "6901234";
    private DateTimeOffset _clock = DateTimeOffset.Parse("2026-11-02T08:00:00+08:00", CultureInfo.InvariantCulture);
    private static int _sscc;

    public static string Gtin(string itemRef5) => Check("0" + CompanyPrefix + itemRef5);

    public static string Unit(string gtin, string serial) => $"https://id.gs1.org/01/{gtin}/21/{serial}";

    public static string SgtinUrn(string gtin, string serial) => $"urn:epc:id:sgtin:{CompanyPrefix}.{gtin[0]}{gtin.Substring(1 + CompanyPrefix.Length, 12 - CompanyPrefix.Length)}.{serial}";

    public static string Sgln(string locationRef5) => $"urn:epc:id:sgln:{CompanyPrefix}.{locationRef5}.0";

    public static string SglnDigitalLink(string locationRef5) => $"https://id.gs1.org/414/{Check(CompanyPrefix + locationRef5)}";

    public static string Gln(string partyRef5) => Check(CompanyPrefix + partyRef5);

    public static string Pgln(string partyRef5) => $"urn:epc:id:pgln:{CompanyPrefix}.{partyRef5}";

    /// <summary>A new SSCC: unique within the process (a counter shared by every instance), nine digits of serial reference.</summary>
    public string NextSscc() =>
        $"https://id.gs1.org/00/{Check("0" + CompanyPrefix + (Interlocked.Increment(ref _sscc) % 1_000_000_000).ToString("D9", CultureInfo.InvariantCulture))}";

    private static string Check(string digits) => digits + Gs1Identifiers.CheckDigit(digits);

    private JsonObject Event(string type, string? action, string? bizStep, string? disposition, string? where)
    {
        _clock = _clock.AddMinutes(1);
        var e = new JsonObject
        {
            ["type"] = type,
            ["eventTime"] = _clock.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
            ["eventTimeZoneOffset"] = "+08:00",
        };
        if (action is not null) e["action"] = action;
        if (bizStep is not null) e["bizStep"] = bizStep;
        if (disposition is not null) e["disposition"] = disposition;
        if (where is not null) e["bizLocation"] = new JsonObject { ["id"] = where };
        return e;
    }

    private static JsonArray List(IEnumerable<string> values) => new(values.Select(v => (JsonNode)v).ToArray());

    public JsonObject Commission(string lot, string where, params string[] epcs)
    {
        var e = Event("ObjectEvent", "ADD", "commissioning", "active", where);
        e["epcList"] = List(epcs);
        e["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = lot };
        return e;
    }

    public JsonObject Pack(string parent, params string[] children)
    {
        var e = Event("AggregationEvent", "ADD", "packing", "in_progress", null);
        e["parentID"] = parent;
        e["childEPCs"] = List(children);
        return e;
    }

    public JsonObject Unpack(string parent, params string[] children)
    {
        var e = Event("AggregationEvent", "DELETE", "unpacking", "in_progress", null);
        e["parentID"] = parent;
        if (children.Length > 0) e["childEPCs"] = List(children);
        return e;
    }

    /// <summary>Shipping to a party (owning_party: a location SGLN of its, or its PGLN), with a purchase order and a price extension.</summary>
    public JsonObject Ship(string from, string toParty, string purchaseOrder, params string[] epcs)
    {
        var e = Event("ObjectEvent", "OBSERVE", "shipping", "in_transit", null);
        e["readPoint"] = new JsonObject { ["id"] = from };
        e["epcList"] = List(epcs);
        e["bizTransactionList"] = new JsonArray(new JsonObject { ["type"] = "po", ["bizTransaction"] = $"urn:epcglobal:cbv:bt:{CompanyPrefix}000001:{purchaseOrder}" });
        e["destinationList"] = new JsonArray(new JsonObject { ["type"] = "owning_party", ["destination"] = toParty });
        e["example:unitPrice"] = "12.50";
        return e;
    }

    public JsonObject Receive(string where, params string[] epcs)
    {
        var e = Event("ObjectEvent", "OBSERVE", "receiving", "in_progress", where);
        e["epcList"] = List(epcs);
        return e;
    }

    public JsonObject Sell(string where, params string[] epcs)
    {
        var e = Event("ObjectEvent", "OBSERVE", "retail_selling", "retail_sold", where);
        e["epcList"] = List(epcs);
        return e;
    }

    public JsonObject Observe(string bizStep, string? disposition, string? where, params string[] epcs)
    {
        var e = Event("ObjectEvent", "OBSERVE", bizStep, disposition, where);
        e["epcList"] = List(epcs);
        return e;
    }

    /// <summary>An inspection naming a lot by class (an LGTIN in the quantityList), not by its units.</summary>
    public JsonObject InspectLot(string disposition, string where, string gtin, string lot, int quantity = 1)
    {
        var e = Event("ObjectEvent", "OBSERVE", "inspecting", disposition, where);
        e["epcList"] = new JsonArray();
        e["quantityList"] = new JsonArray(new JsonObject { ["epcClass"] = $"https://id.gs1.org/01/{gtin}/10/{lot}", ["quantity"] = quantity });
        return e;
    }

    public JsonObject Transform(string outputLot, string where, string[] inputs, string[] outputs)
    {
        var e = Event("TransformationEvent", null, "commissioning", "active", where);
        e["inputEPCList"] = List(inputs);
        e["outputEPCList"] = List(outputs);
        e["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = outputLot };
        return e;
    }

    public static string Document(params JsonObject[] events) => new JsonObject
    {
        ["@context"] = new JsonArray(EpcisDocs.Context, new JsonObject { ["example"] = "https://example.com/epcis/" }),
        ["type"] = "EPCISDocument",
        ["schemaVersion"] = "2.0",
        ["creationDate"] = "2026-11-02T08:00:00.000Z",
        ["epcisBody"] = new JsonObject { ["eventList"] = new JsonArray(events.Select(e => (JsonNode)e).ToArray()) },
    }.ToJsonString();

    /// <summary>Captures the events as one document; returns the status and the body.</summary>
    public static async Task<(int Status, JsonNode Body)> CaptureAsync(HttpClient client, params JsonObject[] events)
    {
        var response = await TraceService.CaptureAsync(client, Document(events));
        return ((int)response.StatusCode, await TraceService.JsonAsync(response));
    }

    /// <summary>Asserts a capture was refused with 422 naming the rule and the EPC, and returns the problem's errors.</summary>
    public static async Task<IReadOnlyList<FieldError>> RefusedAsync(HttpClient client, string rule, string epc, params JsonObject[] events)
    {
        var (problem, errors) = await (await TraceService.CaptureAsync(client, Document(events))).ReadProblemAsync(System.Net.HttpStatusCode.UnprocessableEntity);
        problem.Type.Should().EndWith("/rule-violation");
        errors.Should().Contain(e => e.Rule == rule && e.Epc == epc, string.Join("; ", errors));
        return errors;
    }

    public static async Task AcceptedAsync(HttpClient client, params JsonObject[] events)
    {
        var (status, body) = await CaptureAsync(client, events);
        status.Should().Be(201, body.ToJsonString());
    }

    public static async Task<(int Status, JsonNode? Body)> GetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 || !(response.Content.Headers.ContentType?.MediaType?.Contains("json") ?? false) ? null : JsonNode.Parse(text));
    }

    /// <summary>GET /api/v1/batches/trace: 200 and the trace.</summary>
    public static Task<BatchTrace.TraceResponse> TraceAsync(HttpClient client, string gtin, string lot) =>
        client.GetAnswerAsync<BatchTrace.TraceResponse>($"/api/v1/batches/trace?gtin={gtin}&lot={Uri.EscapeDataString(lot)}");

    /// <summary>GET /api/v1/codes/history: 200 and the item's history.</summary>
    public static Task<ItemHistory.HistoryResponse> HistoryAsync(HttpClient client, string epc) =>
        client.GetAnswerAsync<ItemHistory.HistoryResponse>($"/api/v1/codes/history?epc={Uri.EscapeDataString(epc)}");

    public static async Task LocationAsync(HttpClient client, string sgln, string name, string region)
    {
        var r = await client.PostAsJsonAsync("/api/v1/locations", new { id = sgln, name, regionCode = region });
        r.EnsureSuccessStatusCode();
    }

    public static async Task ProductAsync(HttpClient client, string gtin, string name)
    {
        var r = await client.PostAsJsonAsync("/api/v1/products", new { gtin, name });
        r.EnsureSuccessStatusCode();
    }
}
