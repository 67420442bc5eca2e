using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Codes;
using Traceability.Api.Features.Consumer;
using Traceability.Api.Tests.Support;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Tests.Consumer;

/// <summary>A manufacturer with a product, a factory and a store in master data, and helpers to issue, commission and scan codes.</summary>
public sealed class ConsumerSetup
{
    public const string Factory = "urn:epc:id:sgln:0614141.00777.0";     // Shanghai Pudong (310115)
    public const string Store = "urn:epc:id:sgln:0614141.00888.0";       // Shenzhen (440300)
    public const string Lot = "LOT-2026-11";
    private static int _product = 100;

    private ConsumerSetup(TraceService svc, HttpClient maker, string makerId, string gtin)
    {
        Service = svc;
        Maker = maker;
        MakerId = makerId;
        Gtin = gtin;
        Anonymous = svc.Client();
    }

    public TraceService Service { get; }
    public HttpClient Maker { get; }
    public string MakerId { get; }
    public string Gtin { get; }
    public HttpClient Anonymous { get; }

    public static string NewGtin()
    {
        var body = "1061414" + Interlocked.Increment(ref _product).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        return body + Gs1Identifiers.CheckDigit(body);
    }

    public static async Task<ConsumerSetup> StartAsync(ChainFixture chain, IDictionary<string, string>? settings = null,
        Action<Microsoft.AspNetCore.Hosting.IWebHostBuilder>? configure = null)
    {
        var all = new Dictionary<string, string> { ["TRACE_PUBLIC_BASE_URL"] = "https://trace.example.cn" };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) all[k] = v;
        var svc = await chain.StartServiceAsync(all, configure);
        var (maker, makerId) = await svc.MemberAsync("manufacturer", "华东乳业 Dairy Co.", "0614141000005");
        var gtin = NewGtin();
        (await maker.PostAsJsonAsync("/api/v1/products", new { gtin, name = "有机纯牛奶 Organic Milk 250ml", description = "UHT" })).EnsureSuccessStatusCode();
        (await maker.PostAsJsonAsync("/api/v1/locations", new { id = Factory, name = "浦东工厂 Pudong plant", regionCode = "310115" })).EnsureSuccessStatusCode();
        (await maker.PostAsJsonAsync("/api/v1/locations", new { id = Store, name = "深圳门店 Shenzhen store", regionCode = "440300" })).EnsureSuccessStatusCode();
        return new ConsumerSetup(svc, maker, makerId, gtin);
    }

    public async Task<JsonArray> IssueAsync(int count, string lot = Lot)
    {
        var r = await Maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = Gtin, lot, count });
        r.EnsureSuccessStatusCode();
        return (await TraceService.JsonAsync(r))["codes"]!.AsArray();
    }

    /// <summary>POST /api/v1/codes/generate for the setup's product: the codes issued.</summary>
    public async Task<IReadOnlyList<CodesApi.IssuedCode>> IssueCodesAsync(int count, string lot = Lot) =>
        (await (await Maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = Gtin, lot, count })).ReadAsync<CodesApi.GenerateResponse>()).Codes;

    public static JsonObject Event(string epc, string bizStep, string place, DateTimeOffset at, string disposition = "active") => new()
    {
        ["type"] = "ObjectEvent",
        ["eventTime"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz"),
        ["eventTimeZoneOffset"] = "+08:00",
        ["epcList"] = new JsonArray(epc),
        ["action"] = bizStep == "commissioning" ? "ADD" : "OBSERVE",
        ["bizStep"] = bizStep,
        ["disposition"] = disposition,
        ["readPoint"] = new JsonObject { ["id"] = place },
        ["bizLocation"] = new JsonObject { ["id"] = place },
    };

    /// <summary>Issues one code and commissions it at the factory (and, when asked, ships it with a purchase order); returns the code.</summary>
    public async Task<JsonNode> CommissionedAsync(bool shipWithPurchaseOrder = false, string lot = Lot)
    {
        var code = (await IssueAsync(1, lot))[0]!;
        code["lot"] = lot;
        var epc = (string)code["epc"]!;
        var commissioning = Event(epc, "commissioning", Factory, DateTimeOffset.Parse("2026-11-01T08:00:00+08:00"));
        commissioning["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = (string?)code["lot"] ?? Lot };
        var events = new List<JsonObject> { commissioning };
        if (shipWithPurchaseOrder)
        {
            var ship = Event(epc, "shipping", Factory, DateTimeOffset.Parse("2026-11-02T09:30:00+08:00"), "in_transit");
            ship["bizTransactionList"] = new JsonArray(new JsonObject { ["type"] = "po", ["bizTransaction"] = "urn:epcglobal:cbv:bt:0614141000005:PO-77" });
            events.Add(ship);
        }
        (await TraceService.CaptureAsync(Maker, EpcisDocs.Document([.. events]))).EnsureSuccessStatusCode();
        return code;
    }

    /// <summary>
    /// A dealer with a warehouse in <paramref name="warehouseRegion"/>, to which the maker ships the codes (owning_party: the
    /// warehouse) and where the dealer receives them: the tracing projection then records the dealer in units.shipped_to_member_id.
    /// </summary>
    public async Task<(HttpClient Dealer, string DealerId)> ShipToDealerAsync(string name, string[] territory, string warehouseRef, string warehouseRegion, params JsonNode[] codes)
    {
        var (dealer, dealerId) = await Service.MemberAsync("dealer", name, regions: territory);
        var warehouse = $"urn:epc:id:sgln:0614141.{warehouseRef}.0";
        (await dealer.PostAsJsonAsync("/api/v1/locations", new { id = warehouse, name = name + " warehouse", regionCode = warehouseRegion })).EnsureSuccessStatusCode();
        var epcs = codes.Select(c => (string)c["epc"]!).ToArray();
        var ship = Event(epcs[0], "shipping", Factory, DateTimeOffset.Parse("2026-11-02T09:30:00+08:00"), "in_transit");
        ship["epcList"] = new JsonArray(epcs.Select(e => (JsonNode)e).ToArray());
        ship.Remove("bizLocation");
        ship["destinationList"] = new JsonArray(new JsonObject { ["type"] = "owning_party", ["destination"] = warehouse });
        (await TraceService.CaptureAsync(Maker, EpcisDocs.Document(ship))).StatusCode.Should().Be(System.Net.HttpStatusCode.Created);
        var receive = Event(epcs[0], "receiving", warehouse, DateTimeOffset.Parse("2026-11-03T10:00:00+08:00"), "in_progress");
        receive["epcList"] = new JsonArray(epcs.Select(e => (JsonNode)e).ToArray());
        var received = await TraceService.CaptureAsync(dealer, EpcisDocs.Document(receive));
        received.StatusCode.Should().Be(System.Net.HttpStatusCode.Created, await received.Content.ReadAsStringAsync());
        return (dealer, dealerId);
    }

    /// <summary>The path of the code's Digital Link (without the public host), e.g. /01/…/10/…/21/….</summary>
    public static string PathOf(JsonNode code) => new Uri((string)code["digitalLink"]!).AbsolutePath;

    public static string ShortPath(string gtin, JsonNode code) => $"/01/{gtin}/21/{(string)code["serial"]!}";

    public async Task<(int Status, JsonNode Body)> ScanJsonAsync(string path, string? region = null, HttpClient? client = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, region is null ? path : $"{path}?region={region}");
        request.Headers.Accept.ParseAdd("application/json");
        var r = await (client ?? Anonymous).SendAsync(request);
        return ((int)r.StatusCode, await TraceService.JsonAsync(r));
    }

    /// <summary>The consumer page as JSON (Accept: application/json): the status and the page.</summary>
    public async Task<(int Status, ConsumerApi.ConsumerJson Body)> ScanAsync(string path, string? region = null, HttpClient? client = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, region is null ? path : $"{path}?region={region}");
        request.Headers.Accept.ParseAdd("application/json");
        var r = await (client ?? Anonymous).SendAsync(request);
        return ((int)r.StatusCode, await r.Content.ReadFromJsonAsync<ConsumerApi.ConsumerJson>(ApiAnswers.Json) ?? throw new InvalidOperationException("no page"));
    }

    /// <summary>GET /api/v1/alerts?type= as the maker (or <paramref name="client"/>): the alerts, newest first.</summary>
    public async Task<IReadOnlyList<AlertsApi.AlertResponse>> AlertListAsync(string type, HttpClient? client = null) =>
        (await (client ?? Maker).GetAnswerAsync<AlertsApi.AlertPage>($"/api/v1/alerts?type={type}")).Items;

    public async Task<(int Status, string Html)> ScanHtmlAsync(string path, string acceptLanguage = "en-US,en;q=0.9")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html");
        request.Headers.AcceptLanguage.ParseAdd(acceptLanguage);
        var r = await Anonymous.SendAsync(request);
        return ((int)r.StatusCode, await r.Content.ReadAsStringAsync());
    }

    public async Task<JsonArray> AlertsAsync(string type, HttpClient? client = null) =>
        (await TraceService.JsonAsync(await (client ?? Maker).GetAsync($"/api/v1/alerts?type={type}")))["items"]!.AsArray();
}
