using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Traceability.Ledger.Epcis;
using Traceability.Testing;

namespace Traceability.Benchmarks;

/// <summary>
/// scripts/bench import: ERP files of 100,000 products posted to POST /api/v1/import/products of the built service on
/// Kestrel (Release, SQLite): CSV and JSON, each creating 100,000 products, then the same CSV again (all unchanged) and
/// as a dry run. Rows per second from the request's start to its answer (upload, parsing, checks, one transaction).
/// </summary>
public static class ImportBenchmarks
{
    public const int Rows = 100_000;
    public const double TargetRowsPerSecond = 20_000;

    public static IReadOnlyList<Figure> Run(Action<string> log) => RunAsync(log).GetAwaiter().GetResult();

    private static async Task<IReadOnlyList<Figure>> RunAsync(Action<string> log)
    {
        log("  starting a Hardhat node and the service (Release) on Kestrel");
        await using var node = await HardhatNode.StartAsync();
        var registry = await DeployedRegistry.DeployAsync(node.RpcUrl);
        await using var service = await ServiceOnKestrel.StartAsync(node.RpcUrl, registry, new Dictionary<string, string>
        {
            ["TRACE_ANCHOR_SCHEDULE"] = "off",
            ["Logging__LogLevel__Default"] = "Warning",
        });
        var (maker, _) = await service.MemberAsync("manufacturer", "Bench Dairy Co.", "0614141000005");
        maker.Timeout = TimeSpan.FromMinutes(5);

        var csv = Csv("0614141");
        var json = Json("0614142");
        log($"  files: CSV {csv.Length / 1024.0 / 1024:F1} MB, JSON {json.Length / 1024.0 / 1024:F1} MB, {Rows:N0} rows each");
        await PostAsync(maker, "text/csv", Csv("0614143", 1_000), false); // warm-up: JIT, connection, statements

        var figures = new List<Figure>();
        foreach (var (name, media, body, dryRun, expect) in new[]
        {
            ("CSV, 100,000 new products", "text/csv", csv, false, "created"),
            ("JSON, 100,000 new products", "application/json", json, false, "created"),
            ("CSV again, 100,000 unchanged", "text/csv", csv, false, "unchanged"),
            ("CSV dry run, 100,000 rows checked", "text/csv", csv, true, "unchanged"),
        })
        {
            var cpuBefore = CpuSeconds(service.ProcessId);
            var (seconds, answer) = await PostAsync(maker, media, body, dryRun);
            var cpu = CpuSeconds(service.ProcessId) - cpuBefore;
            var counted = (int)answer[expect]!;
            if (counted != Rows) throw new InvalidOperationException($"{name}: expected {Rows} {expect}, got {answer.ToJsonString()}");
            var rate = Rows / seconds;
            log($"    {name}: {seconds:F2} s, {rate:N0} rows/s; the service's CPU time {cpu:F2} s, {Rows / cpu:N0} rows per CPU second");
            figures.Add(new Figure($"import {name}", Math.Round(rate, 0), "rows/s",
                $"{seconds:F2} s for one {body.Length / 1024.0 / 1024:F1} MB file over HTTP (upload, parse, checks, one transaction); the service used {cpu:F2} s of CPU " +
                $"(utime + stime): {Rows / cpu:N0} rows per CPU second, less sensitive to other work on the machine",
                $">= {TargetRowsPerSecond:N0} rows/s", rate >= TargetRowsPerSecond));
        }
        return figures;
    }

    private static async Task<(double Seconds, JsonNode Answer)> PostAsync(HttpClient client, string media, byte[] body, bool dryRun)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(media) { CharSet = "utf-8" };
        var clock = Stopwatch.StartNew();
        using var response = await client.PostAsync("/api/v1/import/products" + (dryRun ? "?dryRun=true" : ""), content);
        var text = await response.Content.ReadAsStringAsync();
        clock.Stop();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"import answered {(int)response.StatusCode}: {text[..Math.Min(text.Length, 2000)]}");
        return (clock.Elapsed.TotalSeconds, JsonNode.Parse(text)!);
    }

    /// <summary>utime + stime of a process, in seconds (/proc/&lt;pid&gt;/stat, clock ticks of 1/100 s).</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static string Gtin(string prefix, int item)
    {
        var body = "1" + prefix + item.ToString("D5", CultureInfo.InvariantCulture);
        return body + Gs1Identifiers.CheckDigit(body);
    }

    private static byte[] Csv(string prefix, int rows = Rows)
    {
        var text = new StringBuilder("gtin,name,description,attributes\r\n");
        for (var i = 0; i < rows; i++)
            text.Append(Gtin(prefix, i)).Append(",\"Product ").Append(i).Append(", 1 L\",UHT whole milk from the Pudong plant,\"{\"\"fat\"\":\"\"3.5%\"\"}\"\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static byte[] Json(string prefix)
    {
        var text = new StringBuilder("[");
        for (var i = 0; i < Rows; i++)
            text.Append(i == 0 ? "" : ",").Append("{\"gtin\":\"").Append(Gtin(prefix, i)).Append("\",\"name\":\"Product ").Append(i)
                .Append(", 1 L\",\"description\":\"UHT whole milk from the Pudong plant\",\"attributes\":{\"fat\":\"3.5%\"}}");
        return Encoding.UTF8.GetBytes(text.Append(']').ToString());
    }
}
