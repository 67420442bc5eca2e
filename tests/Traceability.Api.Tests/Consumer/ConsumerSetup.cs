using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
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

    public static async Task<ConsumerSetup> StartAsync(ChainFixture chain, IDictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string> { ["TRACE_PUBLIC_BASE_URL"] = "https://trace.example.cn" };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) all[k] = v;
        var svc = await chain.StartServiceAsync(all);
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
    public async Task<JsonNode> CommissionedAsync(bool shipWithPurchaseOrder = false)
    {
        var code = (await IssueAsync(1))[0]!;
        var epc = (string)code["epc"]!;
        var events = new List<JsonObject> { Event(epc, "commissioning", Factory, DateTimeOffset.Parse("2026-11-01T08:00:00+08:00")) };
        if (shipWithPurchaseOrder)
        {
            var ship = Event(epc, "shipping", Factory, DateTimeOffset.Parse("2026-11-02T09:30:00+08:00"), "in_transit");
            ship["bizTransactionList"] = new JsonArray(new JsonObject { ["type"] = "po", ["bizTransaction"] = "urn:epcglobal:cbv:bt:0614141000005:PO-77" });
            events.Add(ship);
        }
        (await TraceService.CaptureAsync(Maker, EpcisDocs.Document([.. events]))).EnsureSuccessStatusCode();
        return code;
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

    /// <summary>Writes a unit's current state directly, standing in for the tracing projection where a test needs a given state.</summary>
    public void SetUnit(string epcUrn, string status, string? shippedTo = null)
    {
        using var conn = new SqliteConnection($"Data Source={Service.DatabasePath};Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "INSERT INTO units (epc, gtin, lot, serial, status, shipped_to_member_id, last_event_sequence, updated_at) " +
                          "VALUES ($e, $g, $l, $s, $st, $to, 0, '2026-11-03T00:00:00.000Z') " +
                          "ON CONFLICT (epc) DO UPDATE SET status = excluded.status, shipped_to_member_id = excluded.shipped_to_member_id";
        cmd.Parameters.AddWithValue("$e", Gs1Identifiers.ToCanonicalDigitalLink(epcUrn));
        cmd.Parameters.AddWithValue("$g", Gtin);
        cmd.Parameters.AddWithValue("$l", Lot);
        cmd.Parameters.AddWithValue("$s", epcUrn[(epcUrn.LastIndexOf('.') + 1)..]);
        cmd.Parameters.AddWithValue("$st", status);
        cmd.Parameters.AddWithValue("$to", (object?)shippedTo ?? DBNull.Value);
        cmd.ExecuteNonQuery();
    }
}
