namespace Traceability.Api.Domain;

/// <summary>
/// One captured EPCIS event. <see cref="Sequence"/> numbers events from 1 with no gap; the event hash is its identity.
/// <see cref="Json"/> is the event as captured, as a self-contained JSON-LD object (its document's @context included),
/// so that the CBV 2.0 hash can be recomputed from it alone.
/// </summary>
public sealed class TraceEvent
{
    public long Sequence { get; init; }
    public required string EventHash { get; init; }
    public string? EventId { get; init; }
    public required string EventType { get; init; }
    public DateTimeOffset EventTime { get; init; }
    public DateTimeOffset RecordTime { get; init; }
    public string? BizStep { get; init; }
    public string? Disposition { get; init; }
    public string? ReadPoint { get; init; }
    public string? BizLocation { get; init; }
    public required string SubmitterId { get; init; }
    public required string Json { get; set; }
}

/// <summary>An index row: one identifier (canonical Digital Link) named by an event, and in which role.</summary>
public sealed class EventEpc
{
    public required string Epc { get; init; }
    public long Sequence { get; init; }
    public required string Role { get; init; }
}

public static class EpcRoles
{
    public const string Epc = "epc";
    public const string Parent = "parent";
    public const string Child = "child";
    public const string Input = "input";
    public const string Output = "output";
    public const string Class = "class";
}
