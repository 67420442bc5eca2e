namespace Traceability.Api.Domain;

/// <summary>One run of the self-audit (Features/Audit): what it covered and how it ended.</summary>
public sealed class AuditRun
{
    public long Id { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary><see cref="AuditRunStatus"/>: running, then ok (nothing found), failed (mismatches) or error (could not finish).</summary>
    public required string Status { get; set; }
    /// <summary>schedule or api.</summary>
    public required string Trigger { get; init; }
    public long Anchors { get; set; }
    public long AnchorsOnChain { get; set; }
    /// <summary>The run covered events 1..Events (the newest event when it started).</summary>
    public long Events { get; set; }
    public long EventsChecked { get; set; }
    /// <summary>Every mismatch found, including those beyond the findings stored.</summary>
    public long Mismatches { get; set; }
    public string? Summary { get; set; }
}

public static class AuditRunStatus
{
    public const string Running = "running";
    public const string Ok = "ok";
    public const string Failed = "failed";
    public const string Error = "error";
}

/// <summary>
/// One mismatch found by an audit run. <see cref="FirstEventSequence"/>..<see cref="LastEventSequence"/> are the events
/// it makes untrusted: the event itself for an event finding, the anchor's whole range for an anchor finding, none
/// (both null) for a ledger-wide one.
/// </summary>
public sealed class AuditFinding
{
    public long Id { get; init; }
    public long RunId { get; init; }
    public long? AnchorSequence { get; init; }
    public long? EventSequence { get; init; }
    /// <summary>One of <see cref="AuditKinds"/>.</summary>
    public required string Kind { get; init; }
    public required string Detail { get; init; }
    public long? FirstEventSequence { get; init; }
    public long? LastEventSequence { get; init; }
}

/// <summary>What an audit finding is about; the names follow the independent verifier's checks where they overlap.</summary>
public static class AuditKinds
{
    /// <summary>The event's JSON no longer hashes to its stored hash (or cannot be hashed at all).</summary>
    public const string EventHash = "event-hash";
    /// <summary>A sequence inside an anchor's range has no event row.</summary>
    public const string EventMissing = "event-missing";
    /// <summary>A root differs: rebuilt from the events vs the chain, or the stored anchor's vs the chain.</summary>
    public const string Root = "root";
    /// <summary>The stored anchor's event range differs from the chain's.</summary>
    public const string Range = "range";
    /// <summary>The stored anchor names another contract (or chain) than the one the service anchors to.</summary>
    public const string Contract = "contract";
    /// <summary>The anchor is recorded as confirmed, but the chain does not hold it.</summary>
    public const string AnchorOnChain = "anchor-on-chain";
    /// <summary>Anchors are not numbered 1..N, leave a gap or overlap in the events, or the chain holds a different number of anchors.</summary>
    public const string Coverage = "coverage";
    /// <summary>An event's stored member signature no longer holds (not in the signed tree, another signer, another member).</summary>
    public const string Signature = "signature";
    /// <summary>An event in a member's name carries no member signature while TRACE_REQUIRE_SIGNATURES is on.</summary>
    public const string SignatureMissing = "signature-missing";
}
