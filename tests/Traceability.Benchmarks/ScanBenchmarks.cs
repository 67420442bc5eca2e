using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Traceability.Benchmarks;

/// <summary>
/// Scanning out against orders: the service (Release) on real Kestrel in its own process, anchoring off. (a) batches
/// of 5,000 codes (raw GS1 element strings behind ]d2, as a line scanner sends them) against one order, one after the
/// other: codes/s, each batch parsed, decided, shipped in one EPCIS event and counted on the order (target >= 5,000
/// codes/s); (b) one code per request, 16 in flight, each scanner on its own order: p50/p99 (target p99 &lt; 20 ms).
/// Every code is a fresh commissioned unit, so every verdict is "accepted" (checked).
/// </summary>
/// <remarks>BENCH_SCAN_BATCHES (batches of (a), default 8), BENCH_SINGLE_SECONDS (seconds of (b), default 10), BENCH_KEEP_DATA=1 (keep the
/// service's data folder and log).</remarks>
public static class ScanBenchmarks
{
    public const double TargetCodesPerSecond = 5_000;
    public const double TargetSingleP99Ms = 20;
    private const int BatchSize = 5_000;
    private const int Scanners = 16;
    private const int PerScanner = 5_000; // enough codes for a long warm-up and the measured seconds at about 2,000 requests/s
    private const string AdminKey = "bench-admin-key-0123456789";
    private const string Gtin = "06901234000016";

    public static IReadOnlyList<Figure> Run(Action<string> log)
    {
        var root = CaptureBenchmarks.RepoRoot();
        var dll = CaptureBenchmarks.ApiDll(); // BENCH_API_DLL or this Release build
        var batches = CaptureBenchmarks.Setting("BENCH_SCAN_BATCHES", 8);
        var singleSeconds = CaptureBenchmarks.Setting("BENCH_SINGLE_SECONDS", 10);
        var dataDir = Directory.CreateTempSubdirectory("trace-bench-scan-").FullName;
        using var api = CaptureBenchmarks.ApiProcess.Start(dll, dataDir, log);
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false }) { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
            api.WaitUntilAnswering(http, TimeSpan.FromSeconds(60));
            var maker = Member(http, "manufacturer", "6901234000016");
            var dealer = Member(http, "dealer", "6901234000023");
            Send(http, maker.Key, HttpMethod.Post, "api/v1/products", new { gtin = Gtin, name = "Bench milk" });
            Send(http, dealer.Key, HttpMethod.Post, "api/v1/locations", new { id = "urn:epc:id:sgln:6901234.00010.0", name = "Bench store", regionCode = "310115" });

            // the units: one commissioning event per 5,000 codes
            var batchUnits = (batches + 1) * BatchSize;
            var total = batchUnits + Scanners * PerScanner;
            var clock = Stopwatch.StartNew();
            for (var from = 0; from < total; from += BatchSize) Commission(http, maker.Key, from, Math.Min(BatchSize, total - from));
            log($"  commissioned {total:N0} units in {clock.Elapsed.TotalSeconds:F1} s; API pid {api.Pid}, data {dataDir}");

            // (a) batches against one order
            var order = Order(http, maker.Key, dealer.Id, "BENCH-BATCH", batchUnits);
            Scan(http, maker.Key, order, Codes(0, BatchSize)); // warm-up
            var cpu0 = api.CpuSeconds();
            var perBatch = new List<double>();
            clock.Restart();
            for (var i = 1; i <= batches; i++)
            {
                var started = Stopwatch.GetTimestamp();
                Scan(http, maker.Key, order, Codes(i * BatchSize, BatchSize));
                perBatch.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            var elapsed = clock.Elapsed.TotalSeconds;
            var apiCpu = api.CpuSeconds() - cpu0;
            var rate = batches * BatchSize / elapsed;
            log($"  (a) {batches} batches of {BatchSize:N0} codes in {elapsed:F1} s: {rate:N0} codes/s (per batch {string.Join(", ", perBatch.Select(ms => ms.ToString("F0", CultureInfo.InvariantCulture)))} ms); " +
                $"API CPU {apiCpu:F1} s = {batches * BatchSize / apiCpu:N0} codes per API CPU-second; load average {Machine.LoadAverage()}");
            var scanned = Scanned(http, maker.Key, order);
            if (scanned != batchUnits) throw new InvalidOperationException($"the order counts {scanned} units scanned; {batchUnits} were accepted");

            // (b) single codes, 16 scanners on 16 orders
            var orders = Enumerable.Range(0, Scanners).Select(s => Order(http, maker.Key, dealer.Id, $"BENCH-SINGLE-{s}", PerScanner)).ToArray();
            var samples = new List<double>[Scanners];
            var next = new int[Scanners];
            void Phase(TimeSpan length, bool record)
            {
                var stop = DateTime.UtcNow + length;
                Task.WaitAll(Enumerable.Range(0, Scanners).Select(s => Task.Run(async () =>
                {
                    var mine = samples[s] = [];
                    for (; next[s] < PerScanner && DateTime.UtcNow < stop; next[s]++)
                    {
                        var code = Codes(batchUnits + s * PerScanner + next[s], 1)[0];
                        var started = Stopwatch.GetTimestamp();
                        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/v1/orders/{orders[s]}/scans") { Content = JsonContent.Create(new { code }) };
                        request.Headers.Add("X-Api-Key", maker.Key);
                        using var response = await http.SendAsync(request);
                        var text = await response.Content.ReadAsStringAsync();
                        if (response.StatusCode != HttpStatusCode.OK || !text.Contains("\"accepted\":1,", StringComparison.Ordinal))
                            throw new InvalidOperationException($"scan answered {(int)response.StatusCode}: {text[..Math.Min(text.Length, 1000)]}");
                        if (record) mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                })).ToArray());
            }
            // Warm-up until the API's JIT is done with the single-code path: at least 5 s, then until a second passes with
            // at most a few methods compiled (at most 30 s). A fixed 5 s measured thousands of methods still being
            // compiled at tier 1 during the measured seconds, the JIT taking up to half a core of the two.
            var warm = Stopwatch.StartNew();
            var jit = JitMethods(http);
            while (true)
            {
                Phase(TimeSpan.FromSeconds(1), record: false);
                var now = JitMethods(http);
                var quiet = now is null || now - jit <= WarmJitMethods; // an API without the counter: the 5 s of old
                jit = now;
                if ((quiet && warm.Elapsed.TotalSeconds >= 5) || warm.Elapsed.TotalSeconds >= 30) break;
            }
            var warmup = warm.Elapsed.TotalSeconds;
            var singleCpu0 = api.CpuSeconds();
            clock.Restart();
            Phase(TimeSpan.FromSeconds(singleSeconds), record: true);
            var singleElapsed = clock.Elapsed.TotalSeconds;
            var jitInWindow = JitMethods(http) - jit;
            var singleCpu = api.CpuSeconds() - singleCpu0;
            var all = samples.SelectMany(x => x).ToList();
            var latency = CaptureBenchmarks.LatencyStats.Of(all);
            log($"  (b) {all.Count:N0} single-code scans, {Scanners} in flight, in {singleElapsed:F1} s: {all.Count / singleElapsed:N0} requests/s; p50 {latency.P50:F2} ms, p99 {latency.P99:F2} ms, max {latency.Max:F1} ms; " +
                $"API CPU {singleCpu:F1} s = {singleCpu * 1000 / Math.Max(1, all.Count):F2} ms per scan; after {warmup:F0} s of warm-up, {jitInWindow?.ToString("N0", CultureInfo.InvariantCulture) ?? "?"} methods JIT-compiled while measured; load average {Machine.LoadAverage()}");

            return
            [
                new Figure("scanning against an order, batches of 5,000 codes", Math.Round(rate), "codes/s",
                    $"{batches} batches one after the other, raw ]d2 element strings, each batch one shipping event; API CPU {apiCpu:F1} s; load average {Machine.LoadAverage()} on {Environment.ProcessorCount} cores",
                    $">= {TargetCodesPerSecond:N0} codes/s", rate >= TargetCodesPerSecond),
                new Figure("scanning against an order, batched codes per API CPU-second", Math.Round(batches * BatchSize / apiCpu), "codes/CPU-s",
                    "the batches' codes divided by the API's CPU time: less sensitive to other work on the machine"),
                new Figure("single-code scan latency p50", Math.Round(latency.P50, 2), "ms", $"{Scanners} in flight, one order each, {all.Count / singleElapsed:N0} requests/s"),
                new Figure("single-code scan, API CPU per scan", Math.Round(singleCpu * 1000 / Math.Max(1, all.Count), 2), "ms",
                    $"the API's CPU time over the {all.Count:N0} scans of (b): with 16 in flight, p99 is about 16 times this on an idle core"),
                new Figure("single-code scan latency p99", Math.Round(latency.P99, 2), "ms",
                    $"{Scanners} in flight; max {latency.Max:F1} ms; after {warmup:F0} s of warm-up, {jitInWindow?.ToString("N0", CultureInfo.InvariantCulture) ?? "?"} methods JIT-compiled while measured",
                    $"< {TargetSingleP99Ms} ms", latency.P99 < TargetSingleP99Ms),
            ];
        }
        finally
        {
            api.Stop();
            if (Environment.GetEnvironmentVariable("BENCH_KEEP_DATA") is "1") log($"  data kept in {dataDir} (BENCH_KEEP_DATA=1)");
            else try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>A warm-up second with at most this many methods JIT-compiled in the API ends the warm-up.</summary>
    private const long WarmJitMethods = 10;

    /// <summary>The methods the API's JIT has compiled so far (the runtime's counter on GET /metrics), or null without it.</summary>
    private static long? JitMethods(HttpClient http)
    {
        using var response = http.Send(new HttpRequestMessage(HttpMethod.Get, "metrics"));
        foreach (var line in response.Content.ReadAsStringAsync().Result.Split('\n'))
            if (line.StartsWith("dotnet_jit_compiled_methods_total", StringComparison.Ordinal))
                return long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        return null;
    }

    private static string Serial(int n) => "S" + n.ToString("D8", CultureInfo.InvariantCulture);

    private static string[] Codes(int from, int count) =>
        Enumerable.Range(from, count).Select(n => $"]d201{Gtin}21{Serial(n)}\u001d10L1").ToArray();

    private static void Commission(HttpClient http, string key, int from, int count)
    {
        var epcs = string.Join(",", Enumerable.Range(from, count).Select(n => $"\"https://id.gs1.org/01/{Gtin}/21/{Serial(n)}\""));
        var doc = $$$"""
            {"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-01T08:00:00Z",
             "epcisBody":{"eventList":[{"type":"ObjectEvent","action":"ADD","bizStep":"commissioning","disposition":"active",
             "eventTime":"2026-11-01T08:00:00.000+08:00","eventTimeZoneOffset":"+08:00","epcList":[{{{epcs}}}],"ilmd":{"cbvmda:lotNumber":"L1"}}]}}
            """;
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/capture") { Content = new StringContent(doc, Encoding.UTF8, "application/ld+json") };
        request.Headers.Add("X-Api-Key", key);
        using var response = http.Send(request);
        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"commissioning answered {(int)response.StatusCode}: {response.Content.ReadAsStringAsync().Result}");
    }

    private static long Order(HttpClient http, string key, string dealerId, string number, int quantity) =>
        Send(http, key, HttpMethod.Post, "api/v1/orders", new
        {
            number, shipTo = dealerId, shipToLocation = "urn:epc:id:sgln:6901234.00010.0", lines = new[] { new { gtin = Gtin, lot = "L1", quantity } },
        }).GetProperty("id").GetInt64();

    private static void Scan(HttpClient http, string key, long order, string[] codes)
    {
        var body = Send(http, key, HttpMethod.Post, $"api/v1/orders/{order}/scans", new { codes });
        if (body.GetProperty("accepted").GetInt32() != codes.Length) throw new InvalidOperationException($"not every code was accepted: {body.GetProperty("verdicts")[0]}");
    }

    private static long Scanned(HttpClient http, string key, long order)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/orders/{order}");
        request.Headers.Add("X-Api-Key", key);
        using var response = http.Send(request);
        return JsonDocument.Parse(response.Content.ReadAsStringAsync().Result).RootElement.GetProperty("scanned").GetInt64();
    }

    private static (string Key, string Id) Member(HttpClient http, string role, string gln)
    {
        var body = Send(http, AdminKey, HttpMethod.Post, "api/v1/members", new { name = "Bench " + role, role, gln });
        return (body.GetProperty("apiKey").GetString()!, body.GetProperty("id").GetString()!);
    }

    private static JsonElement Send(HttpClient http, string key, HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Api-Key", key);
        using var response = http.Send(request);
        var text = response.Content.ReadAsStringAsync().Result;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {text[..Math.Min(text.Length, 1000)]}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
