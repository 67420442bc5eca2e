using System.Collections.Concurrent;
using System.Diagnostics;

namespace Traceability.Api.Features.Orders;

// TEMPORARY measurement (not for merge): TRACE_SCAN_TIMINGS=path writes one line per record, Stopwatch timestamps (ns, CLOCK_MONOTONIC).
public static class ScanTimings
{
    private static readonly string? Path = Environment.GetEnvironmentVariable("TRACE_SCAN_TIMINGS");
    public static readonly bool On = Path is not null;
    private static readonly ConcurrentQueue<string> Lines = new();
    private static long _groups;

    static ScanTimings()
    {
        if (!On) return;
        AllocListener.Instance = new AllocListener();
        var t = new Thread(() =>
        {
            using var w = new StreamWriter(Path!, append: false);
            while (true)
            {
                Thread.Sleep(500);
                Lines.Enqueue($"J {Now} {System.Runtime.JitInfo.GetCompiledMethodCount()} {System.Runtime.JitInfo.GetCompilationTime().Ticks} {GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)} {GC.GetTotalPauseDuration().Ticks} {Environment.CpuUsage.TotalTime.Ticks} {ThreadPool.ThreadCount} {GC.GetTotalAllocatedBytes()}");
                while (Lines.TryDequeue(out var l)) w.WriteLine(l);
                w.Flush();
                if (AllocListener.ByType.Count > 0)
                    File.WriteAllLines(Path! + ".alloc", AllocListener.ByType.OrderByDescending(kv => kv.Value).Take(60).Select(kv => $"{kv.Value} {kv.Key}"));
            }
        }) { IsBackground = true, Name = "scan-timings" };
        t.Start();
    }

    public static long LockAcquired;
    public static long Now => Stopwatch.GetTimestamp();
    public static long NextGroup() => Interlocked.Increment(ref _groups);
    public static void Add(string line) { if (On) Lines.Enqueue(line); }
    public static long GcPauseTicks => GC.GetTotalPauseDuration().Ticks;
}

// TEMPORARY: allocation ticks by type (TRACE_ALLOC_TYPES=1)
public sealed class AllocListener : System.Diagnostics.Tracing.EventListener
{
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> ByType = new();
    public static AllocListener? Instance;
    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime" && Environment.GetEnvironmentVariable("TRACE_ALLOC_TYPES") is "1")
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
    }
    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        var i = e.PayloadNames!.IndexOf("TypeName");
        var type = i >= 0 ? e.Payload[i] as string ?? "?" : "?";
        ByType.AddOrUpdate(type, 1, (_, v) => v + 1);
    }
}
