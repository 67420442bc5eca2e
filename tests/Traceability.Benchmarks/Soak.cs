using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Traceability.Benchmarks;

/// <summary>
/// scripts/soak: SOAK_MINUTES (default 30) of mixed load against the Release API as its own process, on the data folder
/// scripts/soak prepared (SOAK_DATA_DIR: Anvil's deployment record and chain key), anchoring every minute through the
/// recurring job. SOAK_WORKERS loops (default 4) each pick, in turn: a 10-event capture, an item history, an EPCIS
/// query, a lot trace, and a consumer scan of a unit. Every minute it samples the API's RSS and the latency percentiles
/// per kind into bench-results/soak.json. Fails (exit 1) on any 5xx or failed request, on RSS growing by more than
/// SOAK_MAX_GROWTH_MIB (default 128) from the end of the first minute to the end, or on events left unanchored at the end.
/// </summary>
public static class Soak
{
    private const string AdminKey = "soak-admin-key";
    private const string Gtin = "10614141073464";
    private const string Sgln = "urn:epc:id:sgln:0614141.00777.0";
    private static readonly string[] Kinds = ["capture", "history", "epcis-query", "trace", "consumer"];

    public static async Task<int> RunAsync()
    {
        var minutes = Setting("SOAK_MINUTES", 30);
        var workers = Setting("SOAK_WORKERS", 4);
        var maxGrowthMiB = Setting("SOAK_MAX_GROWTH_MIB", 128);
        var dataDir = Environment.GetEnvironmentVariable("SOAK_DATA_DIR") ?? throw new InvalidOperationException("SOAK_DATA_DIR is not set: run scripts/soak");
        var dll = Environment.GetEnvironmentVariable("SOAK_API_DLL") ?? throw new InvalidOperationException("SOAK_API_DLL is not set: run scripts/soak");
        var port = Traceability.Testing.FreePorts.Next();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(dll)! };
        foreach (var a in new[] { dll, "--urls", $"http://127.0.0.1:{port}" }) psi.ArgumentList.Add(a);
        psi.Environment["TRACE_DATA_DIR"] = dataDir;
        psi.Environment["TRACE_ADMIN_KEY"] = AdminKey;
        psi.Environment["TRACE_ANCHOR_SCHEDULE"] = "on";
        psi.Environment["TRACE_ANCHOR_INTERVAL"] = "60";
        psi.Environment["TRACE_AUDIT_SCHEDULE"] = "off";
        psi.Environment["TRACE_CONSUMER_RATE_LIMIT"] = "0";
        psi.Environment["TRACE_LOG_FORMAT"] = "json";
        using var log = new StreamWriter(Path.Combine(dataDir, "api.log"), append: true) { AutoFlush = true };
        using var api = Process.Start(psi)!;
        api.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        api.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        api.BeginOutputReadLine();
        api.BeginErrorReadLine();
        try
        {
            return await LoadAsync(api, new Uri($"http://127.0.0.1:{port}/"), minutes, workers, maxGrowthMiB);
        }
        finally
        {
            if (!api.HasExited) { api.Kill(entireProcessTree: true); api.WaitForExit(); }
        }
    }

    private static async Task<int> LoadAsync(Process api, Uri baseAddress, int minutes, int workers, int maxGrowthMiB)
    {
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        for (var i = 0; ; i++)
        {
            if (api.HasExited) throw new InvalidOperationException($"the API exited ({api.ExitCode}) before answering");
            try { (await http.GetAsync("health")).Dispose(); break; }
            catch (HttpRequestException) when (i < 600) { await Task.Delay(100); }
        }
        var member = await (await http.PostAsJsonAsync("api/v1/members", new { name = "Soak Dairy", role = "manufacturer", gln = "0614141000005" })).Content.ReadFromJsonAsync<JsonElement>();
        var key = member.GetProperty("apiKey").GetString()!;
        using var maker = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        maker.DefaultRequestHeaders.Add("X-Api-Key", key);
        (await maker.PostAsJsonAsync("api/v1/products", new { gtin = Gtin, name = "UHT milk 1 L" })).EnsureSuccessStatusCode();
        (await maker.PostAsJsonAsync("api/v1/locations", new { id = Sgln, name = "Pudong plant", regionCode = "310115" })).EnsureSuccessStatusCode();
        using var consumer = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        consumer.DefaultRequestHeaders.Accept.ParseAdd("application/json");

        var latencies = Kinds.ToDictionary(k => k, _ => new ConcurrentBag<double>());
        var errors = new ConcurrentQueue<string>();
        long serial = 0, serverErrors = 0, failures = 0, captured = 0;
        var stored = new List<long>(); // the first serial of each stored batch: queries name units that exist
        var stop = new CancellationTokenSource(TimeSpan.FromMinutes(minutes));

        async Task<bool> Timed(string kind, Func<Task<HttpResponseMessage>> send)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                using var response = await send();
                latencies[kind].Add(clock.Elapsed.TotalMilliseconds);
                if ((int)response.StatusCode >= 500) { Interlocked.Increment(ref serverErrors); errors.Enqueue($"{kind}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}"); }
                else if (!response.IsSuccessStatusCode) { Interlocked.Increment(ref failures); errors.Enqueue($"{kind}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}"); }
                return response.IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref failures);
                errors.Enqueue($"{kind}: {e.GetType().Name} {e.Message}");
                return false;
            }
        }

        string Epc(long s) => $"urn:epc:id:sgtin:0614141.107346.{s}";
        async Task Worker(int id)
        {
            for (var turn = id; !stop.IsCancellationRequested; turn++)
            {
                long known;
                lock (stored) known = stored.Count == 0 ? 0 : stored[Random.Shared.Next(stored.Count)] + Random.Shared.Next(10);
                switch (turn % Kinds.Length)
                {
                    case 0:
                        var batch = Enumerable.Range(0, 10).Select(_ => Interlocked.Increment(ref serial)).ToArray();
                        if (await Timed("capture", () => maker.PostAsync("api/v1/capture", new StringContent(Document(batch.Select(Epc)), Encoding.UTF8, "application/ld+json"))))
                        {
                            Interlocked.Add(ref captured, 10);
                            lock (stored) stored.Add(batch[0]);
                        }
                        break;
                    case 1 when known > 0:
                        await Timed("history", () => maker.GetAsync($"api/v1/codes/history?epc={Uri.EscapeDataString(Epc(known))}"));
                        break;
                    case 2 when known > 0:
                        await Timed("epcis-query", () => maker.GetAsync($"epcis/events?MATCH_anyEPC={Uri.EscapeDataString(Epc(known))}"));
                        break;
                    case 3 when known > 0:
                        await Timed("trace", () => maker.GetAsync($"api/v1/batches/trace?gtin={Gtin}&lot=S1&limit=10"));
                        break;
                    case 4 when known > 0:
                        await Timed("consumer", () => consumer.GetAsync($"01/{Gtin}/21/{known}"));
                        break;
                }
            }
        }

        Console.WriteLine($"soak: {minutes} min, {workers} workers, API pid {api.Id} at {baseAddress}");
        var samples = new JsonArray();
        var loops = Enumerable.Range(0, workers).Select(Worker).ToArray();
        var started = Stopwatch.StartNew();
        for (var minute = 1; minute <= minutes; minute++)
        {
            var next = TimeSpan.FromMinutes(minute) - started.Elapsed;
            if (next > TimeSpan.Zero) await Task.Delay(next);
            var sample = new JsonObject
            {
                ["minute"] = minute,
                ["rssMiB"] = Math.Round(RssKiB(api.Id) / 1024.0, 1),
                ["captured"] = Interlocked.Read(ref captured),
                ["serverErrors"] = Interlocked.Read(ref serverErrors),
                ["failures"] = Interlocked.Read(ref failures),
                ["anchored"] = await LastAnchoredAsync(http),
            };
            foreach (var kind in Kinds)
            {
                var ms = latencies[kind].ToArray();
                latencies[kind] = [];
                Array.Sort(ms);
                sample[kind] = new JsonObject
                {
                    ["requests"] = (long)ms.Length,
                    ["p50ms"] = Percentile(ms, 0.50), ["p95ms"] = Percentile(ms, 0.95), ["p99ms"] = Percentile(ms, 0.99),
                };
            }
            samples.Add(sample);
            Console.WriteLine(sample.ToJsonString());
        }
        await Task.WhenAll(loops);

        // The last anchoring: everything captured is anchored within two runs of the job.
        var lastEvent = Interlocked.Read(ref captured);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2.5);
        long anchored;
        while ((anchored = await LastAnchoredAsync(http)) < lastEvent && DateTime.UtcNow < deadline) await Task.Delay(2000);
        var audit = await (await http.PostAsync("api/v1/audit/run", null)).Content.ReadFromJsonAsync<JsonElement>();

        var rss = samples.Select(s => (double)s!["rssMiB"]!).ToArray();
        var growth = rss[^1] - rss[0];
        var problems = new List<string>();
        if (serverErrors > 0) problems.Add($"{serverErrors} answers were 5xx");
        if (failures > 0) problems.Add($"{failures} requests failed (4xx or no answer)");
        if (growth > maxGrowthMiB) problems.Add($"RSS grew by {growth:0.#} MiB from minute 1 to minute {minutes} (bound {maxGrowthMiB} MiB)");
        if (anchored < lastEvent) problems.Add($"events {anchored + 1}..{lastEvent} were not anchored 2.5 minutes after the load stopped");
        if (audit.GetProperty("status").GetString() != "ok") problems.Add($"the self-audit says {audit.GetProperty("status").GetString()}: {audit.GetProperty("summary").GetString()}");
        foreach (var e in errors.Take(10)) Console.Error.WriteLine($"  {e}");

        var summary = $"soak {minutes} min: {lastEvent:N0} events captured, {Kinds.Sum(k => samples.Sum(s => (long)s![k]!["requests"]!)):N0} requests, " +
            $"{serverErrors} 5xx, {failures} failed, RSS {rss[0]:0} → {rss[^1]:0} MiB (max {rss.Max():0}), capture p99 {samples.Max(s => (double)s!["capture"]!["p99ms"]!):0.#} ms (worst minute), " +
            $"{anchored:N0} of {lastEvent:N0} events anchored in {(long)(await Json(http, "api/v1/anchors?limit=1"))["total"]!} anchors, audit {audit.GetProperty("status").GetString()}" +
            (problems.Count == 0 ? ": OK" : $": FAILED ({string.Join("; ", problems)})");
        Console.WriteLine(summary);

        var directory = Environment.GetEnvironmentVariable("BENCH_RESULTS_DIR") ?? Path.Combine(Directory.GetCurrentDirectory(), "bench-results");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "soak.json");
        var runs = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))!.AsArray() : [];
        var machine = Machine.Describe();
        runs.Add(new JsonObject
        {
            ["date"] = machine.Date, ["commit"] = machine.Commit, ["cores"] = machine.Cores, ["cpu"] = machine.Cpu, ["loadAverageAtEnd"] = Machine.LoadAverage(),
            ["minutes"] = minutes, ["workers"] = workers, ["maxGrowthMiB"] = maxGrowthMiB, ["summary"] = summary, ["ok"] = problems.Count == 0,
            ["samples"] = samples,
        });
        File.WriteAllText(path, runs.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine($"appended to {path}");
        return problems.Count == 0 ? 0 : 1;
    }

    private static async Task<JsonNode> Json(HttpClient http, string url) => JsonNode.Parse(await http.GetStringAsync(url))!;

    /// <summary>The last event sequence in a confirmed anchor (the anchors are listed oldest first).</summary>
    private static async Task<long> LastAnchoredAsync(HttpClient http)
    {
        var page = await Json(http, "api/v1/anchors?limit=1");
        var total = (long)page["total"]!;
        if (total == 0) return 0;
        for (var offset = total - 1; offset >= 0 && offset >= total - 5; offset--)
        {
            var a = (await Json(http, $"api/v1/anchors?offset={offset}&limit=1"))["items"]![0]!;
            if ((string)a["status"]! == "confirmed") return (long)a["lastEventSequence"]!;
        }
        return 0;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)], 2);

    private static long RssKiB(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).FirstOrDefault();

    private static int Setting(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private static string Document(IEnumerable<string> epcs) => new JsonObject
    {
        ["@context"] = new JsonArray("https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"),
        ["type"] = "EPCISDocument", ["schemaVersion"] = "2.0", ["creationDate"] = "2026-11-01T08:00:00Z",
        ["epcisBody"] = new JsonObject
        {
            ["eventList"] = new JsonArray([.. epcs.Select(epc => (JsonNode)new JsonObject
            {
                ["type"] = "ObjectEvent", ["action"] = "ADD", ["bizStep"] = "commissioning", ["disposition"] = "active",
                ["eventTime"] = "2026-11-01T08:00:00.000+08:00", ["eventTimeZoneOffset"] = "+08:00", ["epcList"] = new JsonArray(epc),
                ["readPoint"] = new JsonObject { ["id"] = Sgln }, ["bizLocation"] = new JsonObject { ["id"] = Sgln },
                ["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = "S1" },
            })]),
        },
    }.ToJsonString();
}
