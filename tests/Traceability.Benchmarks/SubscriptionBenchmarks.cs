using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Traceability.Benchmarks;

/// <summary>
/// Subscription delivery lag: the service (Release build) on real Kestrel in its own process captures 1,000 events/s
/// (a 100-event document every 100 ms) while a stream subscription to a named query matching every event delivers to a
/// webhook receiver on Kestrel in this process. Lag is the receipt time of each event minus the recordTime the service
/// gave it (one machine, one clock). Events recorded during the warm-up are not counted. Every event must arrive, once.
/// </summary>
/// <remarks>Settings: BENCH_SUBSCRIPTION_SECONDS (measured seconds of capture, default 30), BENCH_SUBSCRIPTION_RATE (events/s, default 1,000).</remarks>
public static class SubscriptionBenchmarks
{
    public const double TargetP99Ms = 2_000;
    private const int EventsPerDocument = 100;
    private const int WarmupSeconds = 5;

    public static IReadOnlyList<Figure> Run(Action<string> log)
    {
        var root = CaptureBenchmarks.RepoRoot();
        var dll = Path.Combine(root, "src", "Traceability.Api", "bin", "Release", "net10.0", "Traceability.Api.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build it first (scripts/bench subscriptions does)");
        var seconds = CaptureBenchmarks.Setting("BENCH_SUBSCRIPTION_SECONDS", 30);
        var rate = CaptureBenchmarks.Setting("BENCH_SUBSCRIPTION_RATE", 1_000);
        var interval = TimeSpan.FromSeconds(EventsPerDocument / (double)rate);

        var received = new ConcurrentDictionary<string, double>(); // eventID -> lag in ms
        var duplicates = 0;
        var posts = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        using var receiver = builder.Build();
        receiver.MapPost("/hook", async (HttpContext http) =>
        {
            var body = await JsonDocument.ParseAsync(http.Request.Body);
            var now = DateTimeOffset.UtcNow;
            Interlocked.Increment(ref posts);
            foreach (var e in body.RootElement.GetProperty("epcisBody").GetProperty("queryResults").GetProperty("resultsBody").GetProperty("eventList").EnumerateArray())
            {
                var recorded = DateTimeOffset.Parse(e.GetProperty("recordTime").GetString()!, CultureInfo.InvariantCulture);
                if (!received.TryAdd(e.GetProperty("eventID").GetString()!, (now - recorded).TotalMilliseconds)) Interlocked.Increment(ref duplicates);
            }
            return Results.Ok();
        });
        receiver.StartAsync().GetAwaiter().GetResult();
        var hook = receiver.Urls.First() + "/hook";

        var dataDir = Directory.CreateTempSubdirectory("trace-bench-subscriptions-").FullName;
        using var api = CaptureBenchmarks.ApiProcess.Start(dll, dataDir, log, new Dictionary<string, string> { ["TRACE_SUBSCRIPTION_ALLOW_LOOPBACK"] = "on" });
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16, UseProxy = false }) { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };
            api.WaitUntilAnswering(http, TimeSpan.FromSeconds(60));
            var key = CaptureBenchmarks.CreateManufacturer(http);
            Post(http, key, "epcis/queries", """{"name":"everything","query":{"eventType":["ObjectEvent"]}}""");
            Post(http, key, "epcis/queries/everything/subscriptions", $$"""{"dest":"{{hook}}","signatureToken":"bench-secret","stream":true}""");
            log($"  API pid {api.Pid} at {api.BaseAddress}; receiver at {hook}; {rate:N0} events/s as {EventsPerDocument}-event documents every {interval.TotalMilliseconds:F0} ms");

            var serials = new CaptureBenchmarks.SerialCounter();
            var template = new CaptureBenchmarks.DocumentTemplate(EventsPerDocument);
            var (warmIds, _, _) = Capture(http, key, template, serials, interval, TimeSpan.FromSeconds(WarmupSeconds));
            var load0 = Machine.LoadAverage();
            var (ids, elapsed, captureLatency) = Capture(http, key, template, serials, interval, TimeSpan.FromSeconds(seconds));
            var achieved = ids.Count / elapsed;
            log($"  captured {ids.Count:N0} events in {elapsed:F1} s ({achieved:N0} events/s; capture p99 {captureLatency.P99:F0} ms) after a {WarmupSeconds} s warm-up; load average {load0} -> {Machine.LoadAverage()}");

            var all = warmIds.Count + ids.Count;
            var clock = Stopwatch.StartNew();
            while (received.Count < all && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(50);
            if (received.Count < all) throw new InvalidOperationException($"{all - received.Count} of {all} events were not delivered within 60 s of the end of capture");
            if (duplicates > 0) throw new InvalidOperationException($"{duplicates} events were delivered twice");

            var lags = ids.Select(id => received[id]).ToList();
            var stats = CaptureBenchmarks.LatencyStats.Of(lags);
            log($"  delivered all {all:N0} events once in {posts:N0} POSTs; lag p50 {stats.P50:F0} ms, p99 {stats.P99:F0} ms, max {stats.Max:F0} ms");
            return
            [
                new Figure("subscription delivery lag p99", Math.Round(stats.P99), "ms",
                    $"recordTime to receipt at a webhook receiver on loopback, stream subscription to a named query matching every event; {achieved:N0} events/s captured for {elapsed:F0} s " +
                    $"({EventsPerDocument}-event documents); {lags.Count:N0} events, every one delivered once, in {posts:N0} POSTs (warm-up included)",
                    $"< {TargetP99Ms:N0} ms", stats.P99 < TargetP99Ms),
                new Figure("subscription delivery lag p50", Math.Round(stats.P50), "ms", $"max {stats.Max:F0} ms"),
                new Figure("capture rate during the subscription run", Math.Round(achieved), "events/s", $"asked {rate:N0}; capture latency of a document p50 {captureLatency.P50:F0} ms, p99 {captureLatency.P99:F0} ms"),
            ];
        }
        finally
        {
            api.Stop();
            receiver.StopAsync().GetAwaiter().GetResult();
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Captures a document every <paramref name="interval"/> for <paramref name="duration"/>; the eventIDs captured (as /epcis answers them), the seconds taken, and the capture latencies.</summary>
    private static (List<string> Ids, double Seconds, CaptureBenchmarks.LatencyStats Latency) Capture(HttpClient http, string key,
        CaptureBenchmarks.DocumentTemplate template, CaptureBenchmarks.SerialCounter serials, TimeSpan interval, TimeSpan duration)
    {
        var ids = new List<string>();
        var latencies = new List<double>();
        var clock = Stopwatch.StartNew();
        for (var n = 0; clock.Elapsed < duration; n++)
        {
            var due = interval * n;
            if (due > clock.Elapsed) Thread.Sleep(due - clock.Elapsed);
            var started = Stopwatch.GetTimestamp();
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/capture") { Content = new ByteArrayContent(template.Next(serials)) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
            request.Headers.Add("X-Api-Key", key);
            using var response = http.Send(request);
            var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"capture answered {(int)response.StatusCode}: {text[..Math.Min(2000, text.Length)]}");
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            using var json = JsonDocument.Parse(text);
            foreach (var r in json.RootElement.GetProperty("receipts").EnumerateArray()) ids.Add(r.GetProperty("eventId").GetString()!);
        }
        return (ids, clock.Elapsed.TotalSeconds, CaptureBenchmarks.LatencyStats.Of(latencies));
    }

    private static void Post(HttpClient http, string key, string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Api-Key", key);
        using var response = http.Send(request);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /{path} answered {(int)response.StatusCode}: {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
    }
}
