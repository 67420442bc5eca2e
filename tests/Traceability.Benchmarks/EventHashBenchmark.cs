namespace Traceability.Benchmarks;

/// <summary>
/// HOOK for the lead: CBV 2.0 event hashes per second (parse an EPCIS 2.0 document, normalise, hash each event).
/// The EPCIS parser and hasher are being written elsewhere; until they land this returns no figures and
/// `scripts/bench ledger` prints that event hashing was not measured.
/// </summary>
/// <remarks>
/// To fill in: build a realistic document (or read ../shared/conformance/epcis-examples/), warm up, then time
/// hashing N events a few times and return e.g.
/// <c>new Figure("event hashes per second", eventsPerSecond, "events/s", "best of 3, one thread")</c>.
/// <see cref="LedgerBenchmarks.Run"/> already calls <see cref="Run"/> and records whatever it returns.
/// </remarks>
public static class EventHashBenchmark
{
    /// <summary>True once <see cref="Run"/> measures something.</summary>
    public static bool Implemented => false;

    public static IReadOnlyList<Figure> Run(Action<string> log)
    {
        log("event hashes/s: not measured yet (EventHashBenchmark is a placeholder until the EPCIS hasher lands)");
        return [];
    }
}
