using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Traceability.Api.Tests.Support;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Tests.Hostile;

/// <summary>
/// One service (real SQLite file, real Hardhat node) with a cast the hostile inputs are sent as: two manufacturers of
/// distinct company prefixes, each with a product and a plant; two dealers, a carrier, a regulator; one unit commissioned
/// (event 1); the first manufacturer's order to the first dealer, its named query, and a failed EPCIS capture job. Shared
/// by the corpus theory and the generated documents: started once for the class.
/// </summary>
public sealed class HostileWorld : IAsyncDisposable
{
    public const string Gtin = "10614141073464";
    public const string Loc = "urn:epc:id:sgln:0614141.00777.0";
    public const string Loc2 = "urn:epc:id:sgln:0614142.00001.0";
    public const string Lot = "L1";
    private static int _serial;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqliteConnection? _db;

    public TraceService Service { get; private set; } = null!;
    public Dictionary<string, HttpClient> Clients { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);
    private bool _started;

    public static string Gtin2 { get; } = "1061414200001" + Gs1Identifiers.CheckDigit("1061414200001");

    /// <summary>A fresh serial of <see cref="Gtin"/>'s SGTIN (never used before in this run).</summary>
    public static string NewEpc() => $"urn:epc:id:sgtin:0614141.107346.H{Interlocked.Increment(ref _serial)}";

    public async Task<HostileWorld> StartAsync(ChainFixture chain)
    {
        await _gate.WaitAsync();
        try
        {
            if (_started) return this;
            Service = await chain.StartServiceAsync(new Dictionary<string, string> { ["TRACE_CONSUMER_RATE_LIMIT"] = "0" });
            Clients["admin"] = Service.Admin;
            Clients["anonymous"] = Service.Client();
            Clients["badkey"] = Service.Client("tk_0000000000000000000000000000000000000000000000000000000000000000");
            var m1 = await MemberAsync("manufacturer", new { name = "Acme Dairy", role = "manufacturer", gln = "0614141000005", companyPrefixes = new[] { "0614141" } });
            var m2 = await MemberAsync("manufacturer2", new { name = "Other Foods", role = "manufacturer", companyPrefixes = new[] { "0614142" } });
            var dealer = await MemberAsync("dealer", new { name = "Shop", role = "dealer", regionCodes = new[] { "310000" } });
            await MemberAsync("dealer2", new { name = "Other shop", role = "dealer", regionCodes = new[] { "440000" } });
            var carrier = await MemberAsync("logistics", new { name = "Carrier", role = "logistics" });
            var regulator = await MemberAsync("regulator", new { name = "Authority", role = "regulator" });
            Values["M1"] = m1;
            Values["M2"] = m2;
            Values["DEALER"] = dealer;
            Values["LOGISTICS"] = carrier;
            Values["REGULATOR"] = regulator;
            Values["GTIN"] = Gtin;
            Values["GTIN2"] = Gtin2;
            Values["LOC"] = Loc;
            Values["LOC2"] = Loc2;
            Values["LOT"] = Lot;

            (await Clients["manufacturer"].PostAsJsonAsync("/api/v1/products", new { gtin = Gtin, name = "UHT milk 1 L" })).EnsureSuccessStatusCode();
            (await Clients["manufacturer2"].PostAsJsonAsync("/api/v1/products", new { gtin = Gtin2, name = "Rice 5 kg" })).EnsureSuccessStatusCode();
            (await Clients["manufacturer"].PostAsJsonAsync("/api/v1/locations", new { id = Loc, name = "Pudong plant", regionCode = "310115" })).EnsureSuccessStatusCode();
            (await Clients["manufacturer2"].PostAsJsonAsync("/api/v1/locations", new { id = Loc2, name = "Other plant", regionCode = "440300" })).EnsureSuccessStatusCode();
            var issued = (await (await Clients["manufacturer"].PostAsJsonAsync("/api/v1/codes/generate", new { gtin = Gtin, lot = Lot, count = 1 }))
                .ReadAsync<Traceability.Api.Features.Codes.CodesApi.GenerateResponse>()).Codes[0];
            Values["EPC"] = issued.Epc;
            Values["SERIAL"] = issued.Serial;
            var first = Commissioning(issued.Epc);
            var captured = await TraceService.CaptureAsync(Clients["manufacturer"], first.ToJsonString());
            captured.EnsureSuccessStatusCode();
            Values["SEQ"] = "1";

            var order = await Clients["manufacturer"].PostAsJsonAsync("/api/v1/orders",
                new { number = "PO-1", type = "outbound", shipTo = dealer, lines = new[] { new { gtin = Gtin, lot = Lot, quantity = 5 } } });
            order.EnsureSuccessStatusCode();
            Values["ORDER"] = (string)(await TraceService.JsonAsync(order))["id"]!.ToString();
            using var query = new StringContent("{\"name\":\"shipped\",\"query\":{\"EQ_bizStep\":\"shipping\"}}", Encoding.UTF8, "application/json");
            (await Clients["manufacturer"].PostAsync("/epcis/queries", query)).EnsureSuccessStatusCode();
            Values["QUERY"] = "shipped";
            var withoutTime = Event(NewEpc());
            withoutTime.Remove("eventTime");
            using var job = new StringContent(Document(withoutTime).ToJsonString(), Encoding.UTF8, "application/ld+json");
            var submitted = await Clients["manufacturer"].PostAsync("/epcis/capture", job); // read, but refused: a failed job, nothing captured
            submitted.StatusCode.Should().Be(System.Net.HttpStatusCode.Accepted);
            Values["JOB"] = submitted.Headers.Location!.ToString().Split('/')[^1];

            _db = new SqliteConnection($"Data Source={Service.DatabasePath};Pooling=False;Mode=ReadOnly");
            _db.Open();
            _started = true;
            return this;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string> MemberAsync(string as_, object body)
    {
        var member = await (await Service.Admin.PostAsJsonAsync("/api/v1/members", body))
            .ReadAsync<Traceability.Api.Features.Members.MembersApi.CreateMemberResponse>(System.Net.HttpStatusCode.Created);
        Clients[as_] = Service.Client(member.ApiKey);
        return member.Id;
    }

    /// <summary>A valid capture document: <see cref="Gtin"/>'s unit <paramref name="epc"/> commissioned at the plant.</summary>
    public static JsonObject Commissioning(string epc) => Document(Event(epc));

    public static JsonObject Event(string epc) => new()
    {
        ["type"] = "ObjectEvent",
        ["eventTime"] = "2026-11-01T08:00:00.000+08:00",
        ["eventTimeZoneOffset"] = "+08:00",
        ["epcList"] = new JsonArray(epc),
        ["action"] = "ADD",
        ["bizStep"] = "commissioning",
        ["disposition"] = "active",
        ["readPoint"] = new JsonObject { ["id"] = Loc },
        ["bizLocation"] = new JsonObject { ["id"] = Loc },
        ["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = Lot },
    };

    public static JsonObject Document(params JsonObject[] events) => new()
    {
        ["@context"] = new JsonArray(EpcisDocs.Context, new JsonObject { ["example"] = "https://ns.example.com/epcis/" }),
        ["type"] = "EPCISDocument",
        ["schemaVersion"] = "2.0",
        ["creationDate"] = "2026-11-01T08:00:00.000Z",
        ["epcisBody"] = new JsonObject { ["eventList"] = new JsonArray(events.Select(e => (JsonNode)e).ToArray()) },
    };

    public static string Xml(string epc, string inner = "", string prolog = "") =>
        prolog + "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\" xmlns:example=\"https://ns.example.com/epcis/\" schemaVersion=\"2.0\" creationDate=\"2026-11-01T00:00:00Z\"><EPCISBody><EventList>" +
        "<ObjectEvent><eventTime>2026-11-01T08:00:00.000+08:00</eventTime><eventTimeZoneOffset>+08:00</eventTimeZoneOffset>" +
        $"<epcList><epc>{epc}</epc></epcList><action>ADD</action><bizStep>commissioning</bizStep><disposition>active</disposition>" +
        $"<readPoint><id>{Loc}</id></readPoint>{inner}</ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>";

    /// <summary>The row counts a refused request must leave as they were.</summary>
    public string Counts()
    {
        using var cmd = _db!.CreateCommand();
        cmd.CommandText = "SELECT (SELECT COUNT(*) FROM events) || '/' || (SELECT COALESCE(MAX(sequence), 0) FROM events) || ' events, ' || " +
            "(SELECT COUNT(*) FROM event_epcs) || ' epcs, ' || (SELECT COUNT(*) FROM units) || ' units, ' || (SELECT COUNT(*) FROM members) || ' members, ' || " +
            "(SELECT COUNT(*) FROM products) || ' products, ' || (SELECT COUNT(*) FROM locations) || ' locations, ' || (SELECT COUNT(*) FROM codes) || ' codes, ' || " +
            "(SELECT COUNT(*) FROM recalls) || ' recalls, ' || (SELECT COUNT(*) FROM orders) || ' orders, ' || (SELECT COUNT(*) FROM order_lines) || ' order lines, ' || " +
            "(SELECT COUNT(*) FROM order_units) || ' order units, ' || (SELECT COUNT(*) FROM code_lookups) || ' lookups, ' || (SELECT COUNT(*) FROM control_rule_sets) || ' rule sets, ' || " +
            "(SELECT COUNT(*) FROM epcis_queries) || ' queries, ' || (SELECT COUNT(*) FROM subscriptions) || ' subscriptions, ' || (SELECT COUNT(*) FROM capture_jobs) || ' jobs, ' || " +
            "(SELECT COUNT(*) FROM member_keys) || ' keys, ' || (SELECT COUNT(*) FROM member_addresses) || ' addresses'";
        return (string)cmd.ExecuteScalar()!;
    }

    public long EventCount()
    {
        using var cmd = _db!.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM events";
        return (long)cmd.ExecuteScalar()!;
    }

    public string Fill(string text)
    {
        if (!text.Contains('{')) return text;
        text = System.Text.RegularExpressions.Regex.Replace(text, @"\{LONG:([0-9]+)\}", m => new string('x', int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
        var sb = new StringBuilder(text);
        foreach (var (k, v) in Values) sb.Replace("{" + k + "}", v);
        while (sb.ToString().IndexOf("{NEWEPC}", StringComparison.Ordinal) is var i and >= 0) sb.Remove(i, 8).Insert(i, NewEpc());
        return sb.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        _db?.Dispose();
        if (_started) await Service.DisposeAsync();
    }
}
