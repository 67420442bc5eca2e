using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Traceability.Benchmarks;

/// <summary>
/// The capture figures: the service (Release build) on real Kestrel in its own process, loaded over HTTP from this
/// process. (a) 1,000-event documents, 1, 2 and 4 senders, events/s; (b) single-event documents, 16 in flight,
/// requests/s and latency; (c) the same rows inserted straight into a SQLite file (prepared commands, one transaction
/// per 1,000 rows), the limit the HTTP figure is compared with. Peak RSS (VmHWM) of both processes.
/// </summary>
/// <remarks>
/// Settings (environment): BENCH_CAPTURE_SECONDS (seconds per sender count in (a), default 10),
/// BENCH_SINGLE_SECONDS (seconds of (b), default 10), BENCH_RAW_ROWS (rows of (c), default 50,000), BENCH_API_DLL
/// (another build of the service to load instead of src/Traceability.Api/bin/Release), BENCH_CAPTURE_BASE_ONLY=1 ((a), (b), (c)
/// only: for an older build without signed documents, control points or receipts), BENCH_CAPTURE_SAME_TIMES=1 (every
/// document with the same event times, see <see cref="DocumentTemplate"/>), BENCH_KEEP_DATA=1 (keep the
/// service's data folder, e.g. to look at the database).
/// The API process is killed at the end, on failure and on Ctrl-C.
/// </remarks>
public static partial class CaptureBenchmarks
{
    public const double TargetEventsPerSecond = 20_000;
    public const int EventsPerDocument = 1_000;
    private const int SingleInFlight = 16;
    private const string AdminKey = "bench-admin-key-0123456789";

    /// <summary>
    /// (d) the cost of signed receipts: two fresh API processes, the same load, one without an anchoring key (receipts
    /// carry the deadline only) and one with a key and a recorded chain (one EIP-712 signature per request over the root
    /// of its receipts, a proof on each receipt): 2 senders of 1,000-event documents after a warm-up, then single-event
    /// documents, 16 in flight (the request whose one event pays the whole signature); and the signing alone in this process.
    /// </summary>
    private static IEnumerable<Figure> SignedReceipts(string dll, int seconds, int singleSeconds, Action<string> log)
    {
        var rates = new Dictionary<bool, (double Rate, double PerCpu, LatencyStats Latency, double SingleRps, double SingleCpuUs, LatencyStats SingleLatency)>();
        foreach (var signed in new[] { false, true })
        {
            var dir = Directory.CreateTempSubdirectory("trace-bench-receipts-").FullName;
            var key = Nethereum.Signer.EthECKey.GenerateKey();
            if (signed) File.WriteAllText(Path.Combine(dir, "chain.json"), "{\"contract\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\",\"chainId\":31337}");
            using var api = ApiProcess.Start(dll, dir, log, signed ? new Dictionary<string, string> { ["TRACE_CHAIN_KEY"] = key.GetPrivateKey() } : null);
            try
            {
                using var http = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
                api.WaitUntilAnswering(http, TimeSpan.FromSeconds(Setting("BENCH_START_SECONDS", 60)));
                var member = CreateManufacturer(http);
                var serials = new SerialCounter();
                var bulk = new DocumentTemplate(EventsPerDocument);
                var single = new DocumentTemplate(1);
                CheckReceiptSigned(http, member, bulk.Next(serials), signed);
                CheckReceiptSigned(http, member, single.Next(serials), signed);
                Load(http, member, () => bulk.Next(serials), senders: 2, TimeSpan.FromSeconds(8), out _);
                var cpu0 = api.CpuSeconds();
                var (requests, elapsed) = Load(http, member, () => bulk.Next(serials), senders: 2, TimeSpan.FromSeconds(seconds), out var latency);
                var events = requests * (double)EventsPerDocument;
                var perCpu = events / (api.CpuSeconds() - cpu0);
                log($"  (d) receipts {(signed ? "signed" : "unsigned")}: {events:N0} events in {elapsed:F1} s = {events / elapsed:N0} events/s, {perCpu:N0} per API CPU-second, p50 {latency.P50:F0} ms per document; load average {Machine.LoadAverage()}");

                Load(http, member, () => single.Next(serials), SingleInFlight, TimeSpan.FromSeconds(2), out _);
                cpu0 = api.CpuSeconds();
                var (singles, singleElapsed) = Load(http, member, () => single.Next(serials), SingleInFlight, TimeSpan.FromSeconds(singleSeconds), out var singleLatency);
                var cpuUs = (api.CpuSeconds() - cpu0) * 1e6 / singles;
                log($"  (d) receipts {(signed ? "signed" : "unsigned")}, single-event documents, {SingleInFlight} in flight: {singles / singleElapsed:N0} requests/s, {cpuUs:N0} µs of API CPU per request, p50 {singleLatency.P50:F2} ms");
                rates[signed] = (events / elapsed, perCpu, latency, singles / singleElapsed, cpuUs, singleLatency);
            }
            finally
            {
                api.Stop();
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }

        // The signing alone, one thread: one receipts signature, and the whole of a 1,000-receipt request (struct hashes, tree, signature, proofs).
        var receipts = new Traceability.Chain.ServiceReceipts(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
        using var signer = new Traceability.Chain.RecoverableSigner(Nethereum.Signer.EthECKey.GenerateKey());
        var at = DateTimeOffset.UtcNow;
        var messages = Enumerable.Range(0, EventsPerDocument)
            .Select(i => Traceability.Chain.ServiceReceipts.Message(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)), i + 1, at, at.AddMinutes(10))).ToArray();
        var digest = receipts.ReceiptsDigest(new byte[32], 1);
        for (var i = 0; i < 200; i++) signer.Sign(digest);
        var clock = Stopwatch.StartNew();
        const int Signatures = 2_000;
        for (var i = 0; i < Signatures; i++) { digest[0] = (byte)i; signer.Sign(digest); }
        var perSignature = clock.Elapsed.TotalMicroseconds / Signatures;
        for (var i = 0; i < 5; i++) SignAll(receipts, messages, signer);
        clock.Restart();
        const int Batches = 50;
        for (var i = 0; i < Batches; i++) SignAll(receipts, messages, signer);
        var perBatch = clock.Elapsed.TotalMicroseconds / Batches;
        log($"  (d) one receipts signature (NBitcoin.Secp256k1, one thread): {perSignature:F0} µs; a 1,000-receipt request signed with its proofs: {perBatch:F0} µs");

        var (off, on) = (rates[false], rates[true]);
        yield return new Figure("capture over HTTP with signed receipts", Math.Round(on.Rate), "events/s",
            $"1,000-event documents, 2 senders, {seconds} s, fresh API with an anchoring key (one signature per request); without a key in the same run: {off.Rate.ToString("N0", CultureInfo.InvariantCulture)} events/s");
        yield return new Figure("capture with signed / unsigned receipts", Math.Round(on.Rate / off.Rate, 3), "ratio",
            $"wall clock; per API CPU-second {(on.PerCpu / off.PerCpu).ToString("F3", CultureInfo.InvariantCulture)} ({on.PerCpu.ToString("N0", CultureInfo.InvariantCulture)} vs {off.PerCpu.ToString("N0", CultureInfo.InvariantCulture)} events/CPU-s); " +
            $"document p50 {on.Latency.P50.ToString("F0", CultureInfo.InvariantCulture)} vs {off.Latency.P50.ToString("F0", CultureInfo.InvariantCulture)} ms",
            ">= 0.9", on.Rate / off.Rate >= 0.9);
        yield return new Figure("single-event capture, API CPU per request, signed receipts", Math.Round(on.SingleCpuUs), "µs",
            $"{SingleInFlight} in flight, {singleSeconds} s: {on.SingleRps.ToString("N0", CultureInfo.InvariantCulture)} requests/s, p50 {on.SingleLatency.P50.ToString("F2", CultureInfo.InvariantCulture)} ms; " +
            $"unsigned in the same run: {off.SingleCpuUs.ToString("N0", CultureInfo.InvariantCulture)} µs, {off.SingleRps.ToString("N0", CultureInfo.InvariantCulture)} requests/s, p50 {off.SingleLatency.P50.ToString("F2", CultureInfo.InvariantCulture)} ms");
        yield return new Figure("EIP-712 receipts signature", Math.Round(perSignature, 1), "µs",
            $"RecoverableSigner (NBitcoin.Secp256k1 TrySignRecoverable) of one Receipts(receiptsRoot, receiptCount) digest, one thread, mean of {Signatures:N0}");
        yield return new Figure("signing a 1,000-receipt request", Math.Round(perBatch), "µs",
            $"ServiceReceipts.SignBatch (1,000 struct hashes, the tree, one signature) and the 1,000 proofs as hex, one thread, mean of {Batches}");
    }

    private static void SignAll(Traceability.Chain.ServiceReceipts receipts, Traceability.Chain.ReceiptMessage[] messages, Traceability.Chain.RecoverableSigner signer)
    {
        var batch = receipts.SignBatch(messages, signer);
        for (var i = 0; i < messages.Length; i++) batch.ProofAt(i);
    }

    /// <summary>Part (d) by itself (<c>scripts/bench capture-receipts</c>): signed against unsigned receipts, in two fresh API processes.</summary>
    public static IReadOnlyList<Figure> RunReceipts(Action<string> log) =>
        SignedReceipts(ApiDll(), Setting("BENCH_CAPTURE_SECONDS", 10), Setting("BENCH_SINGLE_SECONDS", 10), log).ToList();

    private static void CheckReceiptSigned(HttpClient http, string key, byte[] document, bool signed)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/capture") { Content = new ByteArrayContent(document) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
        request.Headers.Add("X-Api-Key", key);
        using var response = http.Send(request);
        var receipt = System.Text.Json.Nodes.JsonNode.Parse(response.Content.ReadAsStream())!["receipts"]![0]!;
        if (receipt["anchorDeadline"] is null || (receipt["receiptSignature"] is not null) != signed || (receipt["receiptProof"] is not null) != signed)
            throw new InvalidOperationException($"expected {(signed ? "a signed" : "an unsigned")} receipt with a deadline, got {receipt.ToJsonString()}");
    }

    /// <summary>The service to load: BENCH_API_DLL (another build, e.g. an older commit, for a before/after on the same machine state) or this one's Release build.</summary>
    internal static string ApiDll()
    {
        var dll = Environment.GetEnvironmentVariable("BENCH_API_DLL") is { Length: > 0 } other ? Path.GetFullPath(other)
            : Path.Combine(RepoRoot(), "src", "Traceability.Api", "bin", "Release", "net10.0", "Traceability.Api.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build it first (scripts/bench capture does: dotnet build -c Release src/Traceability.Api)");
        return dll;
    }

    public static IReadOnlyList<Figure> Run(Action<string> log)
    {
        var dll = ApiDll();

        var seconds = Setting("BENCH_CAPTURE_SECONDS", 10);
        var singleSeconds = Setting("BENCH_SINGLE_SECONDS", 10);
        var rawRows = Setting("BENCH_RAW_ROWS", 50_000);
        var senderCounts = SenderCounts();
        // 45 s: with 12 s the tiered JIT (dynamic PGO) still took 16-21% of the API's CPU in the one-sender phase
        var warmup = Setting("BENCH_CAPTURE_WARMUP_SECONDS", 45);
        // BENCH_CAPTURE_BASE_ONLY=1: (a), (b) and (c) only, for a build from before signed documents, control points and receipts
        var baseOnly = Environment.GetEnvironmentVariable("BENCH_CAPTURE_BASE_ONLY") is "1";

        var dataDir = Directory.CreateTempSubdirectory("trace-bench-capture-").FullName;
        WriteSigningDomain(dataDir); // the chain id and contract signed documents name (no chain is needed to capture)
        using var api = ApiProcess.Start(dll, dataDir, log);
        var figures = new List<Figure>();
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler
            {
                MaxConnectionsPerServer = 64,
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                AutomaticDecompression = DecompressionMethods.None,
                UseProxy = false,
            })
            { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            api.WaitUntilAnswering(http, TimeSpan.FromSeconds(Setting("BENCH_START_SECONDS", 60)));
            var memberKey = CreateManufacturer(http);
            log($"  API pid {api.Pid} at {api.BaseAddress}, data {dataDir}; manufacturer created");

            var serials = new SerialCounter();
            var bulk = new DocumentTemplate(EventsPerDocument);
            var single = new DocumentTemplate(1);
            log($"  a {EventsPerDocument}-event document is {bulk.Length:N0} bytes ({bulk.Length / EventsPerDocument} bytes/event); a single-event one {single.Length:N0} bytes");

            // First document checked in full: 201, one receipt per event, sequences 1..1000 in order.
            CheckFirstCapture(http, memberKey, bulk.Next(serials));

            // Warm-up (JIT tiers, connection pool, SQLite page cache): the figures are of sustained capture, not of the
            // first minute after a start.
            Load(http, memberKey, () => bulk.Next(serials), senders: 2, TimeSpan.FromSeconds(warmup), out _);

            // (a) sustained capture of 1,000-event documents with 1, 2, 4 senders.
            var perSenders = new List<(int Senders, double EventsPerSecond, LatencyStats Latency, double PerApiCpuSecond)>();
            foreach (var senders in senderCounts)
            {
                var cpu0 = api.CpuSeconds();
                var (requests, elapsed) = Load(http, memberKey, () => bulk.Next(serials), senders, TimeSpan.FromSeconds(seconds), out var latency);
                var apiCpu = api.CpuSeconds() - cpu0;
                var rate = requests * (double)EventsPerDocument / elapsed;
                var perCpu = requests * (double)EventsPerDocument / apiCpu;
                perSenders.Add((senders, rate, latency, perCpu));
                log($"  (a) {senders} sender(s): {requests} documents = {requests * EventsPerDocument:N0} events in {elapsed:F1} s: {rate:N0} events/s; per document p50 {latency.P50:F0} ms, p99 {latency.P99:F0} ms; " +
                    $"API CPU {apiCpu:F1} s = {perCpu:N0} events per API CPU-second; load average {Machine.LoadAverage()}");
            }

            var best = perSenders.MaxBy(p => p.EventsPerSecond);
            figures.Add(new Figure("capture over HTTP, 1,000-event documents", Math.Round(best.EventsPerSecond), "events/s",
                $"best of {string.Join('/', senderCounts)} senders ({string.Join(", ", perSenders.Select(p => $"{p.Senders}: {p.EventsPerSecond.ToString("N0", CultureInfo.InvariantCulture)}"))} events/s), {seconds} s each, " +
                $"ObjectEvents with a unique SGTIN each, Kestrel on 127.0.0.1, load generator in the bench process on the same cores",
                $">= {TargetEventsPerSecond:N0} events/s", best.EventsPerSecond >= TargetEventsPerSecond));
            figures.Add(new Figure("capture over HTTP, events per CPU-second of the API process", Math.Round(best.PerApiCpuSecond), "events/CPU-s",
                $"the best run's events divided by the API's CPU time (utime + stime of /proc/<pid>/stat): less sensitive to other work on the machine; load average {Machine.LoadAverage()} on {Environment.ProcessorCount} cores"));
            figures.Add(new Figure("capture latency of a 1,000-event document (p50 / p99)", Math.Round(best.Latency.P50, 1), "ms",
                $"p99 {best.Latency.P99:F1} ms, with {best.Senders} sender(s)"));

            // (a') signed against unsigned 1,000-event documents, one sender each, back to back.
            if (!baseOnly) figures.AddRange(SignedPass(http, memberKey, dataDir, bulk, serials, seconds, perSenders[0].EventsPerSecond, log));

            // (b) single-event documents, 16 in flight.
            Load(http, memberKey, () => single.Next(serials), SingleInFlight, TimeSpan.FromSeconds(2), out _);
            var (singles, singleElapsed) = Load(http, memberKey, () => single.Next(serials), SingleInFlight, TimeSpan.FromSeconds(singleSeconds), out var singleLatency);
            var rps = singles / singleElapsed;
            log($"  (b) single-event documents, {SingleInFlight} in flight: {singles:N0} in {singleElapsed:F1} s: {rps:N0} requests/s; p50 {singleLatency.P50:F2} ms, p99 {singleLatency.P99:F2} ms, max {singleLatency.Max:F1} ms");
            figures.Add(new Figure("capture over HTTP, single-event documents", Math.Round(rps), "requests/s", $"{SingleInFlight} in flight, {singleSeconds} s"));
            figures.Add(new Figure("single-event capture latency p50", Math.Round(singleLatency.P50, 2), "ms", $"{SingleInFlight} in flight"));
            figures.Add(new Figure("single-event capture latency p99", Math.Round(singleLatency.P99, 2), "ms", $"{SingleInFlight} in flight; max {singleLatency.Max:F1} ms"));

            // Everything sent was stored once: the service's row count equals the serials handed out.
            var dbPath = Path.Combine(dataDir, "traceability.db");
            var stored = CountEvents(dbPath);
            if (stored != serials.Issued) throw new InvalidOperationException($"the service stored {stored} events, {serials.Issued} were sent");
            log($"  the service holds {stored:N0} events (every event sent, none twice); database {new FileInfo(dbPath).Length / 1048576.0:F0} MiB + WAL");

            // (d) control points: a product carrying five rules against one with none, in the same process and machine state.
            if (!baseOnly) figures.AddRange(ControlPointsPass(http, memberKey, bulk, serials, seconds, log));

            var apiRss = api.PeakRssKiB();
            var sample = SampleRows(dbPath, rawRows);
            api.Stop();

            // (c) the same rows straight into SQLite.
            var raw = RawInsert(ServiceSchema(dll), sample, log);
            var ratio = best.EventsPerSecond / raw.RowsPerSecond;
            var cpuRatio = best.PerApiCpuSecond / raw.RowsPerCpuSecond;
            log($"  (c) raw insert of {sample.Count:N0} of the service's rows: {raw.RowsPerSecond:N0} rows/s, {raw.RowsPerCpuSecond:N0} per CPU-second ({raw.Detail}); HTTP / raw = {ratio:P0} (per CPU-second {cpuRatio:P0})");
            figures.Add(new Figure("raw SQLite insert of the same rows (the limit)", Math.Round(raw.RowsPerSecond), "rows/s", raw.Detail));
            figures.Add(new Figure("raw SQLite insert of the same rows, per CPU-second", Math.Round(raw.RowsPerCpuSecond), "rows/CPU-s", "the same runs divided by this process's CPU time"));
            figures.Add(new Figure("capture over HTTP / raw insert", Math.Round(ratio, 3), "ratio", $"1,000-event documents over HTTP vs the raw insert above, wall clock; per CPU-second: {cpuRatio.ToString("F3", CultureInfo.InvariantCulture)}"));

            figures.Add(new Figure("peak RSS of the API process", Math.Round(apiRss / 1024.0, 1), "MiB", "VmHWM of /proc/<pid>/status after (a) and (b)"));
            if (!baseOnly) figures.AddRange(SignedReceipts(dll, seconds, singleSeconds, log));
            figures.Add(new Figure("peak RSS of the bench process", Math.Round(SelfPeakRssKiB() / 1024.0, 1), "MiB",
                $"VmHWM: load generator, and the {sample.Count:N0} sampled rows held in memory for (c)"));
            return figures;
        }
        finally
        {
            api.Stop();
            if (Environment.GetEnvironmentVariable("BENCH_KEEP_DATA") is "1") log($"  data kept in {dataDir} (BENCH_KEEP_DATA=1)");
            else try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    // ---- the load generator -------------------------------------------------------------------------------------

    private static (long Requests, double Seconds) Load(HttpClient http, string key, Func<byte[]> next, int senders, TimeSpan duration, out LatencyStats latency,
        Func<byte[], string?>? signatureOf = null)
    {
        var stop = DateTime.UtcNow + duration;
        var samples = new List<double>[senders];
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
        {
            var mine = samples[s] = new List<double>(4096);
            var buffer = new byte[64 * 1024];
            while (DateTime.UtcNow < stop)
            {
                var body = next();
                var started = Stopwatch.GetTimestamp();
                using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/capture") { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
                request.Headers.Add("X-Api-Key", key);
                if (signatureOf?.Invoke(body) is { } signature) request.Headers.Add("Trace-Signature", signature);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                await using var stream = await response.Content.ReadAsStreamAsync();
                if (response.StatusCode != HttpStatusCode.Created)
                {
                    var problem = await new StreamReader(stream).ReadToEndAsync();
                    throw new InvalidOperationException($"capture answered {(int)response.StatusCode}: {problem[..Math.Min(problem.Length, 2000)]}");
                }
                while (await stream.ReadAsync(buffer) > 0) { }
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })).ToArray();
        Task.WaitAll(tasks);
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = samples.SelectMany(x => x).ToList();
        latency = LatencyStats.Of(all);
        return (all.Count, elapsed);
    }

    private static void CheckFirstCapture(HttpClient http, string key, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/capture") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/ld+json");
        request.Headers.Add("X-Api-Key", key);
        using var response = http.Send(request);
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (response.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"capture answered {(int)response.StatusCode}: {text[..Math.Min(text.Length, 2000)]}");
        using var json = JsonDocument.Parse(text);
        var receipts = json.RootElement.GetProperty("receipts");
        if (receipts.GetArrayLength() != EventsPerDocument) throw new InvalidOperationException($"{receipts.GetArrayLength()} receipts for {EventsPerDocument} events");
        var expected = 1L;
        foreach (var r in receipts.EnumerateArray())
        {
            if (r.GetProperty("sequence").GetInt64() != expected++) throw new InvalidOperationException("receipts are not numbered 1..1000 in order: " + r);
        }
    }

    /// <summary>
    /// The cost of control points at capture: two products of the bench manufacturer, one with five rules (two ILMD
    /// fields required at commissioning, which the bench events carry; a lot inspection before shipping, a receipt before
    /// sale, a temperature range at shipping) and one with none. The same 1,000-event commissioning documents (only the
    /// item reference differs), 2 senders, alternating none / rules / none / rules for <paramref name="seconds"/> each;
    /// the ratio of the rates (target: the rules cost at most 15%).
    /// </summary>
    private static IEnumerable<Figure> ControlPointsPass(HttpClient http, string key, DocumentTemplate bulk, SerialCounter serials, int seconds, Action<string> log)
    {
        const string plain = "054320", ruled = "054321";
        static string Gtin(string itemRef)
        {
            var body = itemRef[0] + "6901234" + itemRef[1..];
            return body + Traceability.Ledger.Epcis.Gs1Identifiers.CheckDigit(body);
        }
        void Send(HttpMethod method, string path, string json)
        {
            using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Api-Key", key);
            using var response = http.Send(request);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {response.Content.ReadAsStringAsync().GetAwaiter().GetResult()}");
        }
        Send(HttpMethod.Post, "api/v1/products", $$"""{"gtin":"{{Gtin(plain)}}","name":"Bench product without rules"}""");
        Send(HttpMethod.Post, "api/v1/products", $$"""{"gtin":"{{Gtin(ruled)}}","name":"Bench product with five rules"}""");
        Send(HttpMethod.Put, $"api/v1/products/{Gtin(ruled)}/rules", """
            {"rules":[
              {"name":"lot-recorded","kind":"field","step":"commissioning","field":"ilmd.lotNumber"},
              {"name":"expiry-recorded","kind":"field","step":"commissioning","field":"ilmd.itemExpirationDate"},
              {"name":"ship-after-qc","kind":"requires","step":"shipping","after":"inspecting","disposition":"conformant","scope":"lot"},
              {"name":"sell-after-receipt","kind":"requires","step":"retail_selling","after":"receiving"},
              {"name":"cold-chain","kind":"field","step":"shipping","field":"sensor.Temperature","min":2,"max":8}]}
            """);

        // the item reference of every SGTIN, at the same offsets in every document of the template
        var marker = Encoding.ASCII.GetBytes("6901234.012345.");
        var sampleDoc = bulk.Next(serials);
        var offsets = new List<int>();
        for (int at = 0, k; (k = sampleDoc.AsSpan(at).IndexOf(marker)) >= 0; at += k + marker.Length) offsets.Add(at + k + 8);
        byte[] Next(string itemRef)
        {
            var doc = bulk.Next(serials);
            var bytes = Encoding.ASCII.GetBytes(itemRef);
            foreach (var o in offsets) bytes.CopyTo(doc, o);
            return doc;
        }

        Load(http, key, () => Next(plain), 2, TimeSpan.FromSeconds(3), out _);
        Load(http, key, () => Next(ruled), 2, TimeSpan.FromSeconds(3), out _);
        var rates = new Dictionary<string, List<double>> { [plain] = [], [ruled] = [] };
        foreach (var itemRef in new[] { plain, ruled, plain, ruled })
        {
            var (requests, elapsed) = Load(http, key, () => Next(itemRef), 2, TimeSpan.FromSeconds(seconds), out _);
            var rate = requests * (double)EventsPerDocument / elapsed;
            rates[itemRef].Add(rate);
            log($"  (d) {(itemRef == ruled ? "five rules" : "no rules  ")}: {rate:N0} events/s; load average {Machine.LoadAverage()}");
        }
        var (none, five) = (rates[plain].Average(), rates[ruled].Average());
        var ratio = five / none;
        return
        [
            new Figure("capture, product without control points", Math.Round(none), "events/s", $"1,000-event commissioning documents, 2 senders, mean of 2 x {seconds} s"),
            new Figure("capture, product with five control points", Math.Round(five), "events/s", $"the same documents for a product with five rules (two apply at commissioning), mean of 2 x {seconds} s"),
            new Figure("capture with five control points / none", Math.Round(ratio, 3), "ratio", "alternating runs in one process", ">= 0.85", ratio >= 0.85),
        ];
    }

    internal static string CreateManufacturer(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/members")
        {
            Content = new StringContent("""{"name":"Bench Manufacturer","role":"manufacturer","gln":"6901234000016"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Api-Key", AdminKey);
        using var response = http.Send(request);
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /api/v1/members answered {(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("apiKey").GetString()!;
    }

    internal sealed record LatencyStats(double P50, double P99, double Max)
    {
        public static LatencyStats Of(List<double> ms)
        {
            if (ms.Count == 0) return new(0, 0, 0);
            ms.Sort();
            double At(double q) => ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)];
            return new(At(0.50), At(0.99), ms[^1]);
        }
    }

    /// <summary>Unique serial numbers (and eventID suffixes) for every event sent.</summary>
    internal sealed class SerialCounter
    {
        private long _next;
        public long Issued => Interlocked.Read(ref _next);
        public long Take(int count) => Interlocked.Add(ref _next, count) - count + 1;
    }

    /// <summary>
    /// An EPCIS 2.0 JSON-LD document of N commissioning ObjectEvents, rendered once with fixed-width placeholders; each
    /// <see cref="Next"/> copies it and writes fresh serial numbers into the SGTINs and eventIDs, and the event times
    /// (cheap enough that the load generator does not compete with the service for the CPU).
    /// <para>
    /// Event times advance with the serial number, a quarter of a second per unit, as a commissioning line's do, so each
    /// document follows the one before it in time. BENCH_CAPTURE_SAME_TIMES=1 gives every document the same times
    /// instead (the first 1,000 quarter-seconds after 08:00 on one day), as the benchmark did before the service kept an
    /// event-time index: the worst case for that index, where every document's events land among all earlier ones.
    /// </para>
    /// </summary>
    internal sealed class DocumentTemplate
    {
        private const string Placeholder = "############"; // 12 digits
        private const string TimePlaceholder = "@@@@@@@@@@@@@@@@@@@@@@@"; // yyyy-MM-ddTHH:mm:ss.fff
        private static readonly DateTime Start = new(2025, 3, 1, 8, 0, 0, DateTimeKind.Unspecified);
        private static readonly bool SameTimes = Environment.GetEnvironmentVariable("BENCH_CAPTURE_SAME_TIMES") == "1";
        private readonly byte[] _template;
        private readonly int[][] _slots; // per event: the offsets of its serial placeholders, then of its time

        public DocumentTemplate(int events)
        {
            var sb = new StringBuilder();
            sb.Append("""{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2025-03-01T08:00:00.000Z","epcisBody":{"eventList":[""");
            for (var i = 0; i < events; i++)
            {
                if (i > 0) sb.Append(',');
                sb.Append(CultureInfo.InvariantCulture,
                    $$$"""{"type":"ObjectEvent","eventID":"urn:uuid:6f1c3b2a-5d4e-4f60-8a7b-{{{Placeholder}}}","eventTime":"{{{TimePlaceholder}}}+08:00","eventTimeZoneOffset":"+08:00","epcList":["urn:epc:id:sgtin:6901234.012345.{{{Placeholder}}}"],"action":"ADD","bizStep":"commissioning","disposition":"active","readPoint":{"id":"urn:epc:id:sgln:6901234.00001.0"},"bizLocation":{"id":"urn:epc:id:sgln:6901234.00001.0"},"bizTransactionList":[{"type":"po","bizTransaction":"urn:epcglobal:cbv:bt:6901234000016:PO-2025-0042"}],"ilmd":{"cbvmda:lotNumber":"LOT-2025-03-A","cbvmda:itemExpirationDate":"2027-03-01"}}""");
            }
            sb.Append("]}}");
            _template = Encoding.UTF8.GetBytes(sb.ToString());
            var serials = Offsets(_template, Placeholder);
            var times = Offsets(_template, TimePlaceholder);
            if (serials.Count != 2 * events || times.Count != events) throw new InvalidOperationException("template placeholders");
            _slots = Enumerable.Range(0, events).Select(i => new[] { serials[2 * i], serials[2 * i + 1], times[i] }).ToArray();
        }

        private static List<int> Offsets(byte[] text, string placeholder)
        {
            var offsets = new List<int>();
            var marker = Encoding.ASCII.GetBytes(placeholder);
            for (var at = 0; ;)
            {
                var k = text.AsSpan(at).IndexOf(marker);
                if (k < 0) return offsets;
                offsets.Add(at + k);
                at += k + marker.Length;
            }
        }

        public int Length => _template.Length;

        public byte[] Next(SerialCounter serials)
        {
            var first = serials.Take(_slots.Length);
            var body = (byte[])_template.Clone();
            for (var i = 0; i < _slots.Length; i++)
            {
                var serial = first + i;
                var slots = _slots[i];
                WriteDigits(body.AsSpan(slots[0], Placeholder.Length), serial);
                WriteDigits(body.AsSpan(slots[1], Placeholder.Length), serial);
                var time = Start.AddMilliseconds(250.0 * (SameTimes ? i : serial));
                if (!time.TryFormat(body.AsSpan(slots[2], TimePlaceholder.Length), out var written, "yyyy-MM-ddTHH:mm:ss.fff", CultureInfo.InvariantCulture)
                    || written != TimePlaceholder.Length)
                    throw new InvalidOperationException("event time");
            }

            return body;
        }

        private static void WriteDigits(Span<byte> into, long value)
        {
            for (var i = into.Length - 1; i >= 0; i--)
            {
                into[i] = (byte)('0' + (int)(value % 10));
                value /= 10;
            }
        }
    }

    // ---- (c) the raw insert -------------------------------------------------------------------------------------

    private sealed record EventRow(object?[] Values, (string Epc, string Role)[] Epcs);

    private const string EventColumns = "sequence, event_hash, event_id, event_type, event_time, record_time, biz_step, disposition, read_point, biz_location, submitter_id, json, hash_key";

    private static long CountEvents(string dbPath)
    {
        using var conn = new SqliteConnection($"Data Source={dbPath};Mode=ReadOnly;Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM events";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>The first <paramref name="count"/> rows the service wrote (events and their event_epcs rows), as written.</summary>
    private static List<EventRow> SampleRows(string dbPath, int count)
    {
        using var conn = new SqliteConnection($"Data Source={dbPath};Mode=ReadOnly;Pooling=False");
        conn.Open();
        var epcs = new Dictionary<long, List<(string, string)>>();
        using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = "SELECT sequence, epc, role FROM event_epcs WHERE sequence <= @n";
            cmd.Parameters.AddWithValue("@n", count);
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                if (!epcs.TryGetValue(r.GetInt64(0), out var list)) epcs[r.GetInt64(0)] = list = [];
                list.Add((r.GetString(1), r.GetString(2)));
            }
        }

        var rows = new List<EventRow>(count);
        using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = $"SELECT {EventColumns} FROM events WHERE sequence <= @n ORDER BY sequence";
            cmd.Parameters.AddWithValue("@n", count);
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var values = new object?[r.FieldCount];
                r.GetValues(values!);
                rows.Add(new EventRow(values, epcs.TryGetValue(r.GetInt64(0), out var list) ? [.. list] : []));
            }
        }

        return rows;
    }

    private sealed record RawResult(double RowsPerSecond, double RowsPerCpuSecond, string Detail);

    /// <summary>
    /// The SQLite migration scripts of the API build under test, in order, as embedded in its assembly: the raw insert
    /// writes into the schema of the build whose HTTP figure it is compared with (an older build, given by
    /// BENCH_API_DLL, has fewer indexes to write than the current one).
    /// </summary>
    private static string ServiceSchema(string apiDll)
    {
        var context = new System.Runtime.Loader.AssemblyLoadContext("bench-service-schema", isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(Path.GetFullPath(apiDll));
            var scripts = assembly.GetManifestResourceNames()
                .Where(n => n.Contains(".Migrations.Sqlite.", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
                .Select(n =>
                {
                    using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                    return reader.ReadToEnd();
                })
                .ToList();
            if (scripts.Count == 0) throw new InvalidOperationException($"{apiDll} embeds no SQLite migration scripts");
            return string.Join("\n", scripts);
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>
    /// The rows into a fresh SQLite file made by the service's migration scripts (<paramref name="schema"/>), WAL as the
    /// service sets it: two prepared commands (events, event_epcs: the statements the service runs), one transaction per
    /// 1,000 events. Best of 3, a new file each time.
    /// </summary>
    private static RawResult RawInsert(string schema, List<EventRow> rows, Action<string> log)
    {
        var pragmas = ServicePragmas();
        var runs = new List<double>();
        var cpuRuns = new List<double>();
        using var self = Process.GetCurrentProcess();
        for (var run = 0; run < 3; run++)
        {
            var dir = Directory.CreateTempSubdirectory("trace-bench-raw-").FullName;
            try
            {
                using var conn = new SqliteConnection($"Data Source={Path.Combine(dir, "raw.db")};Pooling=False");
                conn.Open();
                Exec(conn, pragmas);
                Exec(conn, schema);
                GC.Collect();
                self.Refresh();
                var cpu0 = self.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                for (var start = 0; start < rows.Count; start += 1000)
                {
                    using var tx = conn.BeginTransaction();
                    using var insert = conn.CreateCommand();
                    insert.Transaction = tx;
                    insert.CommandText = $"INSERT INTO events ({EventColumns}) VALUES (@s, @h, @id, @t, @et, @rt, @bs, @d, @rp, @bl, @sub, @j, @k)";
                    var ps = new[] { "@s", "@h", "@id", "@t", "@et", "@rt", "@bs", "@d", "@rp", "@bl", "@sub", "@j", "@k" }.Select(n => insert.Parameters.Add(n, SqliteType.Text)).ToArray();
                    ps[0].SqliteType = SqliteType.Integer;
                    ps[12].SqliteType = SqliteType.Integer;
                    insert.Prepare();
                    using var index = conn.CreateCommand();
                    index.Transaction = tx;
                    index.CommandText = "INSERT OR IGNORE INTO event_epcs (epc, sequence, role) VALUES (@e, @s, @r)";
                    var pe = index.Parameters.Add("@e", SqliteType.Text);
                    var pseq = index.Parameters.Add("@s", SqliteType.Integer);
                    var pr = index.Parameters.Add("@r", SqliteType.Text);
                    index.Prepare();
                    for (var i = start; i < Math.Min(rows.Count, start + 1000); i++)
                    {
                        var row = rows[i];
                        for (var c = 0; c < ps.Length; c++) ps[c].Value = row.Values[c] ?? DBNull.Value;
                        insert.ExecuteNonQuery();
                        foreach (var (epc, role) in row.Epcs)
                        {
                            pe.Value = epc;
                            pseq.Value = row.Values[0];
                            pr.Value = role;
                            index.ExecuteNonQuery();
                        }
                    }
                    tx.Commit();
                }
                runs.Add(clock.Elapsed.TotalSeconds);
                self.Refresh();
                cpuRuns.Add((self.TotalProcessorTime - cpu0).TotalSeconds);
            }
            finally
            {
                SqliteConnection.ClearAllPools();
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
            }
        }

        var best = runs.Min();
        var bytes = rows.Sum(r => ((string)r.Values[11]!).Length);
        var epcRows = rows.Sum(r => r.Epcs.Length);
        log($"  (c) runs: {string.Join(", ", runs.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)))} s wall, {string.Join(", ", cpuRuns.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)))} s CPU");
        return new RawResult(rows.Count / best, rows.Count / cpuRuns.Min(),
            $"{rows.Count:N0} events rows (json {bytes / rows.Count} chars avg) + {epcRows:N0} event_epcs rows, read back from the service's database; " +
            $"Microsoft.Data.Sqlite, prepared INSERTs, one transaction per 1,000 events, {pragmas.Replace("PRAGMA ", "", StringComparison.Ordinal).Trim()}, fresh file from the migration scripts embedded in the API build under test, one thread, best of 3");
    }

    /// <summary>
    /// The pragmas the service runs on its connections: journal_mode=WAL (SchemaMigrator) and the per-connection
    /// settings of src/Traceability.Api/Infrastructure/Persistence/SqliteConnectionSettings.cs; keep them in step.
    /// BENCH_RAW_PRAGMAS overrides them (e.g. to see what synchronous=FULL costs).
    /// </summary>
    private static string ServicePragmas() =>
        Environment.GetEnvironmentVariable("BENCH_RAW_PRAGMAS") ?? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;";

    /// <summary>The sender counts of (a): BENCH_CAPTURE_SENDERS, comma-separated (default 1,2,4), e.g. "1" for an A/B of one build against another.</summary>
    private static int[] SenderCounts()
    {
        var text = Environment.GetEnvironmentVariable("BENCH_CAPTURE_SENDERS");
        if (string.IsNullOrWhiteSpace(text)) return [1, 2, 4];
        var counts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 64 ? n
                : throw new InvalidOperationException($"BENCH_CAPTURE_SENDERS: '{t}' is not a sender count from 1 to 64"))
            .ToArray();
        return counts;
    }

    private static void Exec(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    // ---- processes ----------------------------------------------------------------------------------------------

    private static long SelfPeakRssKiB() => ReadVmHwm("/proc/self/status");

    internal static long ReadVmHwm(string statusPath)
    {
        if (!File.Exists(statusPath)) return -1;
        var line = File.ReadLines(statusPath).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? -1 : long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    internal static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;

    internal static string RepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Traceability.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException("the repository root (Traceability.sln) was not found above the current folder");
    }

    /// <summary>The service as a child process on a free port; killed on <see cref="Stop"/>, Dispose, process exit and Ctrl-C.</summary>
    internal sealed class ApiProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StreamWriter _log;
        private int _stopped;

        private ApiProcess(Process process, Uri baseAddress, StreamWriter log)
        {
            _process = process;
            BaseAddress = baseAddress;
            _log = log;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
            Console.CancelKeyPress += (_, _) => Stop();
        }

        public Uri BaseAddress { get; }
        public int Pid => _process.Id;

        public static ApiProcess Start(string dll, string dataDir, Action<string> log, IReadOnlyDictionary<string, string>? settings = null)
        {
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetDirectoryName(dll)!,
            };
            foreach (var a in new[] { dll, "--urls", $"http://127.0.0.1:{port}" }) start.ArgumentList.Add(a);
            start.Environment["TRACE_DATA_DIR"] = dataDir;
            start.Environment["TRACE_ADMIN_KEY"] = AdminKey;
            start.Environment["TRACE_ANCHOR_SCHEDULE"] = "false";
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            start.Environment["DOTNET_ENVIRONMENT"] = "Production";
            foreach (var name in new[] { "TRACE_DB", "TRACE_CHAIN_RPC", "TRACE_CONTRACT", "TRACE_CHAIN_KEY" }) start.Environment.Remove(name);
            foreach (var (name, value) in settings ?? new Dictionary<string, string>()) start.Environment[name] = value;

            var logPath = Path.Combine(dataDir, "api.log");
            var writer = new StreamWriter(logPath) { AutoFlush = true };
            var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            log($"  started the API: dotnet {Path.GetFileName(dll)} --urls http://127.0.0.1:{port} (log {logPath})");
            return new ApiProcess(process, new Uri($"http://127.0.0.1:{port}/"), writer);
        }

        public void WaitUntilAnswering(HttpClient http, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (_process.HasExited) throw new InvalidOperationException($"the API exited with code {_process.ExitCode} before answering; see its log");
                try
                {
                    using var response = http.Send(new HttpRequestMessage(HttpMethod.Get, "health"));
                    return; // 200, or 503 (degraded: no chain configured), both mean it answers
                }
                catch (HttpRequestException)
                {
                    Thread.Sleep(100);
                }
            }

            throw new TimeoutException($"the API did not answer /health within {timeout.TotalSeconds} s");
        }

        public long PeakRssKiB() => ReadVmHwm($"/proc/{_process.Id}/status");

        /// <summary>utime + stime of the process, in seconds (/proc/&lt;pid&gt;/stat, clock ticks of 1/100 s).</summary>
        public double CpuSeconds()
        {
            var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }

        public void Stop()
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException) { }
            catch (System.ComponentModel.Win32Exception) { }
            lock (_log) _log.Flush();
        }

        public void Dispose()
        {
            Stop();
            _process.Dispose();
            lock (_log) _log.Dispose();
        }

        private static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }
    }
}
