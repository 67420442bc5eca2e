using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Benchmarks;

// scripts/bench SUITE: runs one suite, prints its figures, appends them to bench-results/SUITE.json and a section
// to bench-results/RESULTS.md. Run from the repository root (scripts/bench does), or set BENCH_RESULTS_DIR.
var suites = new Dictionary<string, Func<Action<string>, IReadOnlyList<Figure>>>
{
    ["ledger"] = LedgerBenchmarks.Run,
    ["consumer"] = ConsumerBenchmarks.Run,
    ["trace"] = TraceBenchmarks.Run,
    ["epcis"] = EpcisBenchmarks.Run,
    ["capture"] = CaptureBenchmarks.Run,
    ["capture-receipts"] = CaptureBenchmarks.RunReceipts, // part (d) of `capture` alone: signed against unsigned receipts
    ["subscriptions"] = SubscriptionBenchmarks.Run,
    ["analytics"] = AnalyticsBenchmarks.Run,
    ["scan"] = ScanBenchmarks.Run, // scanning against orders: batched codes/s, single-code p99
    ["import"] = ImportBenchmarks.Run,
    ["gas"] = GasBenchmarks.Run, // gas per AnchorRegistry transaction, from a Hardhat node's receipts
    ["event-hash"] = EventHashBenchmark.Run, // the event-hash figures of `ledger` alone (quicker to iterate on)
    ["keccak"] = KeccakBenchmark.Run, // the keccak figures of `ledger` alone
};

if (args is ["soak"]) return await Soak.RunAsync(); // scripts/soak: its own results file (bench-results/soak.json)
if (args.Length != 1 || !suites.TryGetValue(args[0], out var suite))
{
    Console.Error.WriteLine($"usage: scripts/bench {string.Join("|", suites.Keys)}");
    return 2;
}

var name = args[0];
var machine = Machine.Describe();
Console.WriteLine($"{name} benchmarks on {machine.Cpu}, {machine.Cores} cores, {machine.Runtime}, {machine.Os}");
var loadBefore = Machine.LoadAverage();
var figures = suite(Console.WriteLine);
var loadAfter = Machine.LoadAverage();
Console.WriteLine($"load average (1 min) before {loadBefore}, after {loadAfter}: other work on this machine skews the figures");

Console.WriteLine();
foreach (var f in figures)
{
    var verdict = f.MeetsTarget is null ? "" : f.MeetsTarget.Value ? $"  (target {f.Target}: met)" : $"  (target {f.Target}: MISSED)";
    Console.WriteLine($"{f.Name}: {f.Value.ToString("#,0.###", CultureInfo.InvariantCulture)} {f.Unit}{verdict}");
}

var directory = Environment.GetEnvironmentVariable("BENCH_RESULTS_DIR") ?? Path.Combine(Directory.GetCurrentDirectory(), "bench-results");
Directory.CreateDirectory(directory);
var run = new JsonObject
{
    ["suite"] = name,
    ["date"] = machine.Date,
    ["commit"] = machine.Commit,
    ["machine"] = new JsonObject
    {
        ["cores"] = machine.Cores,
        ["cpu"] = machine.Cpu,
        ["os"] = machine.Os,
        ["dotnet"] = machine.Runtime,
        ["memoryMiB"] = machine.MemoryMiB,
        ["loadAverageBefore"] = loadBefore,
        ["loadAverageAfter"] = loadAfter,
    },
    ["figures"] = new JsonArray(figures.Select(f => (JsonNode)new JsonObject
    {
        ["name"] = f.Name,
        ["value"] = f.Value,
        ["unit"] = f.Unit,
        ["detail"] = f.Detail,
        ["target"] = f.Target,
        ["meetsTarget"] = f.MeetsTarget,
    }).ToArray()),
};

var jsonPath = Path.Combine(directory, $"{name}.json");
var runs = File.Exists(jsonPath) ? JsonNode.Parse(File.ReadAllText(jsonPath))!.AsArray() : [];
runs.Add(run);
File.WriteAllText(jsonPath, runs.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");

var md = new StringBuilder();
var resultsPath = Path.Combine(directory, "RESULTS.md");
if (!File.Exists(resultsPath)) md.AppendLine("# Benchmark results").AppendLine().AppendLine("Appended by `scripts/bench SUITE`; the same figures, machine-readable, are in `SUITE.json`.").AppendLine();
md.AppendLine(CultureInfo.InvariantCulture, $"## {name} — {machine.Date}").AppendLine();
md.AppendLine(CultureInfo.InvariantCulture, $"{machine.Cores} cores ({machine.Cpu}), {machine.MemoryMiB} MiB, {machine.Os}, {machine.Runtime}, commit {machine.Commit}, load average {loadBefore} before / {loadAfter} after").AppendLine();
md.AppendLine("| figure | value | target | detail |").AppendLine("| --- | ---: | --- | --- |");
foreach (var f in figures)
{
    var target = f.Target is null ? "" : $"{f.Target} ({(f.MeetsTarget == true ? "met" : "MISSED")})";
    md.AppendLine(CultureInfo.InvariantCulture, $"| {f.Name} | {f.Value.ToString("#,0.###", CultureInfo.InvariantCulture)} {f.Unit} | {target} | {f.Detail} |");
}

if (name == "ledger" && !EventHashBenchmark.Implemented) md.AppendLine("| event hashes per second | not measured yet | | EventHashBenchmark is a placeholder |");
md.AppendLine();
File.AppendAllText(resultsPath, md.ToString());
Console.WriteLine($"\nappended to {jsonPath} and {resultsPath}");
return figures.Any(f => f.MeetsTarget == false) ? 1 : 0;

internal sealed record Machine(string Date, int Cores, string Cpu, string Os, string Runtime, long MemoryMiB, string Commit)
{
    /// <summary>The 1-minute load average (Linux), or "n/a".</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    public static Machine Describe()
    {
        var cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }

        return new Machine(
            DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Environment.ProcessorCount,
            cpu,
            RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024),
            Environment.GetEnvironmentVariable("BENCH_COMMIT") ?? "unknown");
    }
}
