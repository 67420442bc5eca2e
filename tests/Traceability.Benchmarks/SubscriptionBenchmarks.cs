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
/// gave it (one machine, one clock). Every event must arrive, once.
/// <para>The load is open-loop: a document is sent every 100 ms whether or not the previous ones have been answered
/// (up to <see cref="MaxInFlight"/> at once), so a slow answer does not lower the rate asked; the documents are made
/// before the clock starts, and the answers read after it stops, so the load generator spends its CPU outside the run.
/// If the service cannot keep up, the documents queue up and the rate reached is what is reported.</para>
/// <para>Phases: a warm-up, capture alone (the API's CPU per event without a subscription), then the subscription is
/// made, a second warm-up, and the measured run. The difference of the API's CPU per event is what delivering costs.</para>
/// </summary>
/// <remarks>Settings: BENCH_SUBSCRIPTION_SECONDS (measured seconds, default 30), BENCH_SUBSCRIPTION_RATE (events/s, default
/// 1,000), BENCH_SUBSCRIPTION_CONTROL_SECONDS (capture alone, default 10; 0 leaves it out).</remarks>
public static class SubscriptionBenchmarks
{
    public const double TargetP99Ms = 2_000;
    private const int EventsPerDocument = 100;
    private const int WarmupSeconds = 5;
    private const int MaxInFlight = 16;

    public static IReadOnlyList<Figure> Run(Action<string> log)
    {
        var root = CaptureBenchmarks.RepoRoot();
        var dll = CaptureBenchmarks.ApiDll(); // BENCH_API_DLL or this Release build
        var seconds = CaptureBenchmarks.Setting("BENCH_SUBSCRIPTION_SECONDS", 30);
        var rate = CaptureBenchmarks.Setting("BENCH_SUBSCRIPTION_RATE", 1_000);
        var controlSeconds = int.TryParse(Environment.GetEnvironmentVariable("BENCH_SUBSCRIPTION_CONTROL_SECONDS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) && c >= 0
            ? c : 10;
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
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = MaxInFlight, UseProxy = false }) { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };
            api.WaitUntilAnswering(http, TimeSpan.FromSeconds(60));
            var key = CaptureBenchmarks.CreateManufacturer(http);
            Post(http, key, "epcis/queries", """{"name":"everything","query":{"eventType":["ObjectEvent"]}}""");
            log($"  API pid {api.Pid} at {api.BaseAddress}; receiver at {hook}; {rate:N0} events/s as {EventsPerDocument}-event documents every {interval.TotalMilliseconds:F0} ms, " +
                $"open loop, at most {MaxInFlight} in flight");

            var serials = new CaptureBenchmarks.SerialCounter();
            var template = new CaptureBenchmarks.DocumentTemplate(EventsPerDocument);
            Queue<byte[]> Documents(int phaseSeconds) =>
                new(Enumerable.Range(0, (int)Math.Ceiling(phaseSeconds / interval.TotalSeconds) + 1).Select(_ => template.Next(serials)));

            Capture(http, key, Documents(WarmupSeconds), interval, TimeSpan.FromSeconds(WarmupSeconds));
            Phase? control = null;
            if (controlSeconds > 0)
            {
                control = Capture(http, key, Documents(controlSeconds), interval, TimeSpan.FromSeconds(controlSeconds), api);
                log($"  capture alone: {control.Describe()}");
            }

            Post(http, key, "epcis/queries/everything/subscriptions", $$"""{"dest":"{{hook}}","signatureToken":"bench-secret","stream":true}""");
            var warm = Capture(http, key, Documents(WarmupSeconds), interval, TimeSpan.FromSeconds(WarmupSeconds));
            var measured = Capture(http, key, Documents(seconds), interval, TimeSpan.FromSeconds(seconds), api);
            log($"  with the subscription: {measured.Describe()}");

            var all = warm.Ids.Count + measured.Ids.Count;
            var clock = Stopwatch.StartNew();
            while (received.Count < all && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(50);
            if (received.Count < all) throw new InvalidOperationException($"{all - received.Count} of {all} events were not delivered within 60 s of the end of capture");
            if (duplicates > 0) throw new InvalidOperationException($"{duplicates} events were delivered twice");

            var lags = measured.Ids.Select(id => received[id]).ToList();
            var stats = CaptureBenchmarks.LatencyStats.Of(lags);
            log($"  delivered all {all:N0} events once in {posts:N0} POSTs; lag p50 {stats.P50:F0} ms, p99 {stats.P99:F0} ms, max {stats.Max:F0} ms");

            var load = $"load average {measured.LoadBefore} -> {measured.LoadAfter} on {Environment.ProcessorCount} cores";
            var figures = new List<Figure>
            {
                new("subscription delivery lag p99", Math.Round(stats.P99), "ms",
                    $"recordTime to receipt at a webhook receiver on loopback, stream subscription to a named query matching every event; {measured.Rate:N0} events/s captured for " +
                    $"{measured.Seconds:F0} s ({EventsPerDocument}-event documents, open loop); {lags.Count:N0} events, every one delivered once, in {posts:N0} POSTs (warm-up included); " +
                    $"API {measured.ApiCores:F2} cores; {load}",
                    $"< {TargetP99Ms:N0} ms", stats.P99 < TargetP99Ms),
                new("subscription delivery lag p50", Math.Round(stats.P50), "ms", $"max {stats.Max:F0} ms"),
                new("capture rate during the subscription run", Math.Round(measured.Rate), "events/s",
                    $"asked {rate:N0}; document latency p50 {measured.Latency.P50:F0} ms, p99 {measured.Latency.P99:F0} ms; {measured.Late} of {measured.Documents} documents " +
                    $"sent late because {MaxInFlight} were in flight; {load}", $">= {rate * 0.95:N0} events/s", measured.Rate >= rate * 0.95),
                new("API CPU during the subscription run", Math.Round(measured.ApiCores, 3), "cores",
                    $"API CPU-seconds per second of the run (utime + stime of /proc/<pid>/stat); {measured.EventsPerApiCpuSecond:N0} events per API CPU-second; " +
                    $"the load generator and receiver process: {measured.BenchCores:F2} cores"),
            };
            if (control is not null)
            {
                var delivery = measured.ApiCpuMsPerThousand - control.ApiCpuMsPerThousand;
                figures.Add(new("API CPU per 1,000 events captured, without / with the subscription", Math.Round(measured.ApiCpuMsPerThousand), "ms",
                    $"capture alone {control.ApiCpuMsPerThousand:F0} ms ({control.Rate:N0} events/s for {control.Seconds:F0} s, API {control.ApiCores:F2} cores); with the stream " +
                    $"subscription {measured.ApiCpuMsPerThousand:F0} ms: delivering costs about {delivery:F0} ms of API CPU per 1,000 events (noisy on a busy machine)"));
            }
            return figures;
        }
        finally
        {
            api.Stop();
            receiver.StopAsync().GetAwaiter().GetResult();
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>One phase of capture: the eventIDs captured (as /epcis answers them), how long it took, and what it cost.</summary>
    private sealed record Phase(List<string> Ids, double Seconds, CaptureBenchmarks.LatencyStats Latency, int Documents, int Late, double ApiCpu, double BenchCpu,
        string LoadBefore, string LoadAfter)
    {
        public double Rate => Ids.Count / Seconds;
        public double ApiCores => ApiCpu / Seconds;
        public double BenchCores => BenchCpu / Seconds;
        public double EventsPerApiCpuSecond => ApiCpu > 0 ? Ids.Count / ApiCpu : 0;
        public double ApiCpuMsPerThousand => Ids.Count > 0 ? ApiCpu * 1000 / Ids.Count * 1000 : 0;

        public string Describe() =>
            $"{Ids.Count:N0} events in {Seconds:F1} s ({Rate:N0} events/s; document p50 {Latency.P50:F0} ms, p99 {Latency.P99:F0} ms; {Late} of {Documents} sent late); " +
            $"API {ApiCpu:F1} CPU-s = {ApiCores:F2} cores, {EventsPerApiCpuSecond:N0} events per API CPU-second; bench {BenchCores:F2} cores; load average {LoadBefore} -> {LoadAfter}";
    }

    /// <summary>
    /// Sends one prepared document every <paramref name="interval"/> for <paramref name="duration"/>, without waiting for
    /// the answers (at most <see cref="MaxInFlight"/> at once: a document due while that many are in flight waits and is
    /// counted late), then waits for every answer and reads the receipts.
    /// </summary>
    private static Phase Capture(HttpClient http, string key, Queue<byte[]> documents, TimeSpan interval, TimeSpan duration, CaptureBenchmarks.ApiProcess? api = null)
    {
        var loadBefore = Machine.LoadAverage();
        var apiCpu0 = api?.CpuSeconds() ?? 0;
        var benchCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var slots = new SemaphoreSlim(MaxInFlight);
        var sent = new List<Task<(string Text, double Ms)>>();
        var late = 0;
        var clock = Stopwatch.StartNew();
        for (var n = 0; clock.Elapsed < duration && documents.Count > 0; n++)
        {
            var due = interval * n;
            if (due > clock.Elapsed) Thread.Sleep(due - clock.Elapsed);
            if (!slots.Wait(0))
            {
                late++;
                slots.Wait();
            }
            sent.Add(SendAsync(http, key, documents.Dequeue(), slots));
        }
        var answers = Task.WhenAll(sent).GetAwaiter().GetResult();
        var seconds = clock.Elapsed.TotalSeconds;
        var apiCpu = (api?.CpuSeconds() ?? 0) - apiCpu0;
        var benchCpu = (Process.GetCurrentProcess().TotalProcessorTime - benchCpu0).TotalSeconds;
        var loadAfter = Machine.LoadAverage();

        var ids = new List<string>(answers.Length * EventsPerDocument);
        foreach (var (text, _) in answers)
        {
            using var json = JsonDocument.Parse(text);
            foreach (var r in json.RootElement.GetProperty("receipts").EnumerateArray()) ids.Add(r.GetProperty("eventId").GetString()!);
        }
        return new Phase(ids, seconds, CaptureBenchmarks.LatencyStats.Of(answers.Select(a => a.Ms).ToList()), answers.Length, late, apiCpu, benchCpu, loadBefore, loadAfter);
    }

    private static async Task<(string Text, double Ms)> SendAsync(HttpClient http, string key, byte[] document, SemaphoreSlim slots)
    {
        try
        {
            var started = Stopwatch.GetTimestamp();
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/capture") { Content = new ByteArrayContent(document) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
            request.Headers.Add("X-Api-Key", key);
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"capture answered {(int)response.StatusCode}: {text[..Math.Min(2000, text.Length)]}");
            return (text, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        finally
        {
            slots.Release();
        }
    }

    private static void Post(HttpClient http, string key, string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Api-Key", key);
        using var response = http.Send(request);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /{path} answered {(int)response.StatusCode}: {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
    }
}
