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
/// query, a lot trace, and a consumer scan of a unit. Units are commissioned in lots of SOAK_LOT_UNITS (default 2,000),
/// a new lot when one is full, as a plant does; the trace turns alternate between the lot being filled (its first page)
/// and an older, full lot (every page, following nextAfter). Every minute it samples the API's memory (RSS, split into
/// anonymous, file-backed and shared pages, and the managed heap and GC-committed memory from /metrics), its CPU time,
/// the machine's load and the latency percentiles per kind into bench-results/soak.json. Fails (exit 1) on any 5xx or
/// failed request, on memory that is not flat after the warm-up (see <see cref="Growth"/>), or on events left
/// unanchored at the end.
/// </summary>
public static class Soak
{
    private const string AdminKey = "soak-admin-key";
    private const string Gtin = "10614141073464";
    private const string Sgln = "urn:epc:id:sgln:0614141.00777.0";
    private static readonly string[] Turns = ["capture", "history", "epcis-query", "trace", "consumer"];
    /// <summary>Latency kinds: the turns, the trace turn split into the lot being filled and an older lot's pages.</summary>
    private static readonly string[] Kinds = ["capture", "history", "epcis-query", "trace", "trace-old", "consumer"];

    public static async Task<int> RunAsync()
    {
        var minutes = Setting("SOAK_MINUTES", 30);
        var workers = Setting("SOAK_WORKERS", 4);
        var maxGrowthMiB = Setting("SOAK_MAX_GROWTH_MIB", 64);
        var lotUnits = Setting("SOAK_LOT_UNITS", 2_000);
        if (lotUnits < 10) throw new InvalidOperationException("SOAK_LOT_UNITS must be 10 or more");
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
            return await LoadAsync(api, new Uri($"http://127.0.0.1:{port}/"), minutes, workers, maxGrowthMiB, lotUnits);
        }
        finally
        {
            if (!api.HasExited) { api.Kill(entireProcessTree: true); api.WaitForExit(); }
        }
    }

    private static async Task<int> LoadAsync(Process api, Uri baseAddress, int minutes, int workers, int maxGrowthMiB, int lotUnits)
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
        long LotOf(long s) => (s - 1) / lotUnits + 1;
        // An older lot's trace, page after page: the cursor must cover the lot, each unit once.
        async Task TraceOldLotAsync(long lot)
        {
            string? after = null;
            var seen = 0L;
            for (var page = 0; page < 1_000; page++)
            {
                JsonNode? body = null;
                var url = $"api/v1/batches/trace?gtin={Gtin}&lot=S{lot}" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");
                if (!await Timed("trace-old", async () =>
                    {
                        var response = await maker.GetAsync(url);
                        if (response.IsSuccessStatusCode) body = JsonNode.Parse(await response.Content.ReadAsStringAsync());
                        return response;
                    })) return;
                seen += body!["units"]!.AsArray().Count;
                after = (string?)body["nextAfter"];
                if (after is null)
                {
                    if (seen != (long)body["count"]!) { Interlocked.Increment(ref failures); errors.Enqueue($"trace-old: lot S{lot} paged {seen} units of {(long)body["count"]!}"); }
                    return;
                }
            }
        }
        async Task Worker(int id)
        {
            var traces = 0;
            for (var turn = id; !stop.IsCancellationRequested; turn++)
            {
                long known;
                lock (stored) known = stored.Count == 0 ? 0 : stored[Random.Shared.Next(stored.Count)] + Random.Shared.Next(10);
                switch (turn % Turns.Length)
                {
                    case 0:
                        var batch = Enumerable.Range(0, 10).Select(_ => Interlocked.Increment(ref serial)).ToArray();
                        if (await Timed("capture", () => maker.PostAsync("api/v1/capture", new StringContent(Document(batch.Select(s => (Epc(s), LotOf(s)))), Encoding.UTF8, "application/ld+json"))))
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
                        long current; // the lot of the last stored batch: the one being filled, and known to exist
                        lock (stored) current = LotOf(stored[^1]);
                        if (traces++ % 2 == 0 || current == 1) await Timed("trace", () => maker.GetAsync($"api/v1/batches/trace?gtin={Gtin}&lot=S{current}"));
                        else await TraceOldLotAsync(1 + Random.Shared.NextInt64(current - 1));
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
            var memory = ProcessMemory(api.Id);
            var runtime = await RuntimeMemoryAsync(http);
            var sample = new JsonObject
            {
                ["minute"] = minute,
                ["rssMiB"] = memory.Rss,
                ["rssAnonMiB"] = memory.Anon,
                ["rssFileMiB"] = memory.File,
                ["rssShmemMiB"] = memory.Shmem,
                ["managedHeapMiB"] = runtime.Heap,
                ["gcCommittedMiB"] = runtime.Committed,
                ["gen2Collections"] = runtime.Gen2,
                ["sqliteMiB"] = runtime.Sqlite,
                ["apiCpuSeconds"] = CpuSeconds(api.Id),
                ["loadAverage"] = Machine.LoadAverage(),
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
        var (growth, window, warmUp) = Growth(rss);
        var problems = new List<string>();
        if (serverErrors > 0) problems.Add($"{serverErrors} answers were 5xx");
        if (failures > 0) problems.Add($"{failures} requests failed (4xx or no answer)");
        if (growth > maxGrowthMiB)
            problems.Add($"RSS grew by {growth:0.#} MiB after the warm-up: mean of minutes {warmUp - window + 1}-{warmUp} to mean of the last {window} (bound {maxGrowthMiB} MiB)");
        if (anchored < lastEvent) problems.Add($"events {anchored + 1}..{lastEvent} were not anchored 2.5 minutes after the load stopped");
        if (audit.GetProperty("status").GetString() != "ok") problems.Add($"the self-audit says {audit.GetProperty("status").GetString()}: {audit.GetProperty("summary").GetString()}");
        foreach (var e in errors.Take(10)) Console.Error.WriteLine($"  {e}");

        var heaps = samples.Select(s => (double?)s!["managedHeapMiB"]).ToArray();
        var summary = $"soak {minutes} min: {lastEvent:N0} events captured in lots of {lotUnits:N0}, {Kinds.Sum(k => samples.Sum(s => (long)s![k]!["requests"]!)):N0} requests, " +
            $"{serverErrors} 5xx, {failures} failed, RSS {rss[0]:0} → {rss[^1]:0} MiB (max {rss.Max():0}; after the warm-up {growth:+0.#;-0.#} MiB)" +
            (heaps[0] is { } h0 && heaps[^1] is { } h1 ? $", managed heap {h0:0} → {h1:0} MiB" : "") + $", capture p99 {samples.Max(s => (double)s!["capture"]!["p99ms"]!):0.#} ms (worst minute), " +
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
            ["minutes"] = minutes, ["workers"] = workers, ["lotUnits"] = lotUnits, ["maxGrowthMiB"] = maxGrowthMiB, ["gcSettings"] = GcSettings(),
            ["summary"] = summary, ["ok"] = problems.Count == 0,
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

    /// <summary>
    /// Whether memory is flat: the mean RSS of the last minutes against the mean of the last minutes of the warm-up
    /// (the first third of the run; windows of five minutes, shorter in short runs). The warm-up is left out because
    /// bounded things fill then by design — the consumer views (20,000), SQLite's page caches (TRACE_SQLITE_MEMORY_MIB),
    /// the GC's heap count adapting to the load — and means, not single minutes, because the GC's committed memory
    /// swings by tens of MiB from one minute to the next. A leak keeps growing after the warm-up.
    /// </summary>
    internal static (double Growth, int Window, int WarmUp) Growth(IReadOnlyList<double> rss)
    {
        var warmUp = Math.Max(1, rss.Count / 3);
        var window = Math.Min(5, warmUp);
        var before = rss.Skip(warmUp - window).Take(window).Average();
        var after = rss.Skip(rss.Count - window).Average();
        return (Math.Round(after - before, 1), window, warmUp);
    }

    private sealed record Memory(double Rss, double Anon, double File, double Shmem);

    /// <summary>The API's resident memory in MiB: all of it, anonymous (heaps, native allocations), file-backed (the code, SQLite's memory map), shared (SQLite's -shm).</summary>
    private static Memory ProcessMemory(int pid)
    {
        var kib = File.ReadLines($"/proc/{pid}/status").Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => long.TryParse(p[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture, out var v) ? v : 0);
        double MiB(string key) => Math.Round(kib.GetValueOrDefault(key) / 1024.0, 1);
        return new Memory(MiB("VmRSS"), MiB("RssAnon"), MiB("RssFile"), MiB("RssShmem"));
    }

    /// <summary>The API's user and system CPU seconds so far (/proc/pid/stat, in clock ticks of 1/100 s).</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return Math.Round((long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0, 1);
    }

    private sealed record Runtime(double? Heap, double? Committed, long? Gen2, double? Sqlite);

    /// <summary>
    /// The managed heap after the last GC (all generations, LOH and POH), the memory the GC has committed, the gen2
    /// collections so far (the runtime's meter) and SQLite's own memory (the service's), from /metrics; nulls when the
    /// API does not export them.
    /// </summary>
    private static async Task<Runtime> RuntimeMemoryAsync(HttpClient http)
    {
        string text;
        try { text = await http.GetStringAsync("metrics"); }
        catch (HttpRequestException) { return new Runtime(null, null, null, null); }
        var lines = text.Split('\n').Where(l => !l.StartsWith('#')).ToArray();
        double? Sum(string name, string? label = null)
        {
            var values = lines.Where(l => (l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal)) && (label is null || l.Contains(label, StringComparison.Ordinal)))
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(p => p.Length >= 2)
                .Select(p => double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN).Where(v => !double.IsNaN(v)).ToArray();
            return values.Length == 0 ? null : values.Sum();
        }
        double? MiB(double? bytes) => bytes is { } b ? Math.Round(b / 1024 / 1024, 1) : null;
        return new Runtime(MiB(Sum("dotnet_gc_last_collection_heap_size_bytes")), MiB(Sum("dotnet_gc_last_collection_memory_committed_size_bytes")),
            Sum("dotnet_gc_collections_total", "gen2") is { } g ? (long)g : null, MiB(Sum("trace_sqlite_memory_bytes")));
    }

    /// <summary>The GC settings the API ran with: its runtimeconfig's, and any DOTNET_ variables given to this run.</summary>
    private static string GcSettings()
    {
        var given = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("DOTNET_gc", StringComparison.OrdinalIgnoreCase) || k.StartsWith("DOTNET_GC", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}");
        var config = Environment.GetEnvironmentVariable("SOAK_API_DLL") is { } dll && File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json"))
            ? JsonNode.Parse(File.ReadAllText(Path.ChangeExtension(dll, ".runtimeconfig.json")))?["runtimeOptions"]?["configProperties"]?.AsObject()
                .Where(p => p.Key.StartsWith("System.GC.", StringComparison.Ordinal)).Select(p => $"{p.Key}={p.Value}")
            : null;
        var all = (config ?? []).Concat(given).ToArray();
        return all.Length == 0 ? "runtime defaults" : string.Join(", ", all);
    }

    private static int Setting(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private static string Document(IEnumerable<(string Epc, long Lot)> units) => new JsonObject
    {
        ["@context"] = new JsonArray("https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"),
        ["type"] = "EPCISDocument", ["schemaVersion"] = "2.0", ["creationDate"] = "2026-11-01T08:00:00Z",
        ["epcisBody"] = new JsonObject
        {
            ["eventList"] = new JsonArray([.. units.Select(unit => (JsonNode)new JsonObject
            {
                ["type"] = "ObjectEvent", ["action"] = "ADD", ["bizStep"] = "commissioning", ["disposition"] = "active",
                ["eventTime"] = "2026-11-01T08:00:00.000+08:00", ["eventTimeZoneOffset"] = "+08:00", ["epcList"] = new JsonArray(unit.Epc),
                ["readPoint"] = new JsonObject { ["id"] = Sgln }, ["bizLocation"] = new JsonObject { ["id"] = Sgln },
                ["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = $"S{unit.Lot}" },
            })]),
        },
    }.ToJsonString();
}
