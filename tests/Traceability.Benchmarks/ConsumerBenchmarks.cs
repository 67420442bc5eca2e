using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Traceability.Ledger.Epcis;
using Traceability.Testing;

namespace Traceability.Benchmarks;

/// <summary>
/// scripts/bench consumer: the consumer page (HTML) and the consumer JSON of anchored, chain-verified codes, served by
/// the built service on Kestrel (Release, SQLite, rate limit off) and loaded from loopback by an open-loop generator:
/// requests are sent on a fixed schedule at the target rate whether or not earlier ones have answered, and each
/// latency is counted from the request's scheduled time (no coordinated omission). Every request records a scan.
/// </summary>
public static class ConsumerBenchmarks
{
    public const int TargetRate = 500;
    public const double TargetP99Ms = 20;
    private const int Codes = 200;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(20);

    public static IReadOnlyList<Figure> Run(Action<string> log) => RunAsync(log).GetAwaiter().GetResult();

    private static async Task<IReadOnlyList<Figure>> RunAsync(Action<string> log)
    {
        log("  starting a Hardhat node and the service (Release) on Kestrel");
        await using var node = await HardhatNode.StartAsync();
        var registry = await DeployedRegistry.DeployAsync(node.RpcUrl);
        await using var service = await ServiceOnKestrel.StartAsync(node.RpcUrl, registry, new Dictionary<string, string>
        {
            ["TRACE_CONSUMER_RATE_LIMIT"] = "0", // the limiter would refuse a load generator on one address
            ["Logging__LogLevel__Default"] = "Warning",
        });
        var paths = await SetUpAsync(service, log);

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = service.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        log("  warming up (3,000 requests, 16 at a time)");
        await ClosedLoopAsync(http, paths, "application/json", 16, 1500);
        await ClosedLoopAsync(http, paths, "text/html", 16, 1500);

        var figures = new List<Figure>();
        foreach (var (name, accept) in new[] { ("JSON", "application/json"), ("HTML", "text/html") })
        {
            log($"  {name}: open loop at {TargetRate} requests/s for {Duration.TotalSeconds:F0} s");
            var run = await OpenLoopAsync(http, paths, accept, TargetRate, Duration);
            log($"    sent {run.Sent:N0}, ok {run.Ok:N0}, errors {run.Errors}, achieved {run.Achieved:F0}/s, p50 {run.P50:F2} ms, p99 {run.P99:F2} ms, max {run.Max:F2} ms");
            var clean = run.Errors == 0;
            figures.Add(new Figure($"consumer {name} p99 latency at {TargetRate} requests/s", Math.Round(run.P99, 2), "ms",
                $"open loop, {run.Sent:N0} requests over {Duration.TotalSeconds:F0} s to {Codes} anchored codes; p50 {run.P50:F2} ms, p99.9 {run.P999:F2} ms, max {run.Max:F2} ms; {run.Errors} errors",
                $"< {TargetP99Ms} ms", run.P99 < TargetP99Ms && clean));
            figures.Add(new Figure($"consumer {name} throughput sustained", Math.Round(run.Achieved, 1), "requests/s",
                $"answered requests per second of the open-loop run ({run.Ok:N0} answered 200)", $">= {TargetRate} requests/s", run.Achieved >= TargetRate * 0.99 && clean));
        }
        foreach (var (name, accept) in new[] { ("JSON", "application/json"), ("HTML", "text/html") })
        {
            var clock = Stopwatch.StartNew();
            var n = await ClosedLoopAsync(http, paths, accept, 16, 6000);
            var rate = n / clock.Elapsed.TotalSeconds;
            log($"  {name}: closed loop, 16 in flight: {rate:F0} requests/s");
            figures.Add(new Figure($"consumer {name} maximum throughput", Math.Round(rate, 0), "requests/s", "closed loop, 16 requests in flight, 6,000 requests (generator on the same cores)"));
        }
        return figures;
    }

    /// <summary>A manufacturer, a product, two places, 200 issued codes commissioned and shipped, all anchored on the chain.</summary>
    private static async Task<List<string>> SetUpAsync(ServiceOnKestrel service, Action<string> log)
    {
        const string factory = "urn:epc:id:sgln:0614141.00777.0", warehouse = "urn:epc:id:sgln:0614141.00888.0";
        var (maker, _) = await service.MemberAsync("manufacturer", "Bench Dairy Co.", "0614141000005");
        var body = "1061414000777";
        var gtin = body + Gs1Identifiers.CheckDigit(body);
        (await maker.PostAsJsonAsync("/api/v1/products", new { gtin, name = "Organic Milk 250ml" })).EnsureSuccessStatusCode();
        (await maker.PostAsJsonAsync("/api/v1/locations", new { id = factory, name = "Pudong plant", regionCode = "310115" })).EnsureSuccessStatusCode();
        (await maker.PostAsJsonAsync("/api/v1/locations", new { id = warehouse, name = "Suzhou DC", regionCode = "320505" })).EnsureSuccessStatusCode();
        var generated = JsonNode.Parse(await (await maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin, lot = "BENCH", count = Codes })).Content.ReadAsStringAsync())!;
        var codes = generated["codes"]!.AsArray();
        var events = new JsonArray();
        foreach (var c in codes)
        {
            events.Add(Event((string)c!["epc"]!, "commissioning", "ADD", factory, "2026-11-01T08:00:00.000+08:00"));
            events.Add(Event((string)c["epc"]!, "shipping", "OBSERVE", factory, "2026-11-02T09:00:00.000+08:00"));
            events.Add(Event((string)c["epc"]!, "receiving", "OBSERVE", warehouse, "2026-11-02T15:00:00.000+08:00"));
        }
        var doc = new JsonObject
        {
            ["@context"] = new JsonArray("https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"),
            ["type"] = "EPCISDocument", ["schemaVersion"] = "2.0", ["creationDate"] = "2026-11-01T08:00:00.000Z",
            ["epcisBody"] = new JsonObject { ["eventList"] = events },
        };
        var capture = await maker.PostAsync("/api/v1/capture", new StringContent(doc.ToJsonString(), Encoding.UTF8, "application/ld+json"));
        if (capture.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"capture failed: {await capture.Content.ReadAsStringAsync()}");
        var anchor = await service.Admin.PostAsync("/api/v1/anchors/run", null);
        if (anchor.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"anchoring failed: {await anchor.Content.ReadAsStringAsync()}");
        log($"  {Codes} codes issued, {events.Count} events captured and anchored");
        return codes.Select(c => new Uri((string)c!["digitalLink"]!).AbsolutePath).ToList();
    }

    private static JsonObject Event(string epc, string step, string action, string place, string time) => new()
    {
        ["type"] = "ObjectEvent", ["eventTime"] = time, ["eventTimeZoneOffset"] = "+08:00", ["epcList"] = new JsonArray(epc),
        ["action"] = action, ["bizStep"] = step, ["disposition"] = step == "shipping" ? "in_transit" : "active",
        ["readPoint"] = new JsonObject { ["id"] = place }, ["bizLocation"] = new JsonObject { ["id"] = place },
    };

    private static async Task<bool> GetAsync(HttpClient http, string path, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(accept);
        request.Headers.AcceptLanguage.ParseAdd("zh-CN,zh;q=0.9");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        var body = await response.Content.ReadAsByteArrayAsync();
        return response.StatusCode == HttpStatusCode.OK && body.Length > 0;
    }

    private static async Task<int> ClosedLoopAsync(HttpClient http, List<string> paths, string accept, int concurrency, int total)
    {
        var next = -1;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total)
                if (!await GetAsync(http, paths[i % paths.Count], accept)) throw new InvalidOperationException($"GET {paths[i % paths.Count]} failed");
        });
        await Task.WhenAll(workers);
        return total;
    }

    private sealed record OpenLoopRun(int Sent, int Ok, int Errors, double Achieved, double P50, double P99, double P999, double Max);

    private static async Task<OpenLoopRun> OpenLoopAsync(HttpClient http, List<string> paths, string accept, int rate, TimeSpan duration)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latencies = new double[total];
        var ok = new bool[total];
        var pending = new Task[total];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait);
            var index = i;
            pending[i] = Task.Run(async () =>
            {
                try { ok[index] = await GetAsync(http, paths[index % paths.Count], accept); }
                catch (HttpRequestException) { ok[index] = false; }
                catch (TaskCanceledException) { ok[index] = false; }
                latencies[index] = (clock.Elapsed - due).TotalMilliseconds; // from the scheduled send time
            });
        }
        await Task.WhenAll(pending);
        var elapsed = clock.Elapsed.TotalSeconds;
        var sorted = latencies.Order().ToArray();
        double Percentile(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        var okCount = ok.Count(x => x);
        return new OpenLoopRun(total, okCount, total - okCount, okCount / elapsed, Percentile(0.50), Percentile(0.99), Percentile(0.999), sorted[^1]);
    }
}
