namespace Traceability.Api.Domain;

/// <summary>Something a manufacturer or regulator must look at. <see cref="DedupeKey"/> makes "raise once" hold across restarts.</summary>
public sealed class Alert
{
    public long Id { get; init; }
    public required string Type { get; init; }
    public string? Epc { get; init; }
    public string? Gtin { get; init; }
    public string? Lot { get; init; }
    public DateTimeOffset At { get; init; }
    /// <summary>A JSON object with the alert's particulars (e.g. dealer, expected and actual region for a diversion).</summary>
    public required string Detail { get; init; }
    public string? DedupeKey { get; init; }
}

public static class AlertTypes
{
    public const string Counterfeit = "counterfeit";
    public const string Diversion = "diversion";
    public const string Recall = "recall";
    public const string Hold = "hold";
    public const string Tamper = "tamper";
    /// <summary>The chain lost anchors the ledger had confirmed (a reset devnet, a contract deployed afresh), and their re-anchoring.</summary>
    public const string ChainReset = "chain-reset";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Counterfeit, Diversion, Recall, Hold, Tamper, ChainReset };
}

/// <summary>
/// The current state of one serialized unit (or container), keyed by its canonical Digital Link, kept up to date by the
/// capture pipeline in the same transaction as the events.
/// </summary>
public sealed class Unit
{
    public required string Epc { get; init; }
    public string? Gtin { get; set; }
    public string? Lot { get; set; }
    public string? Serial { get; set; }
    public required string Status { get; set; }
    public string? HolderMemberId { get; set; }
    public string? LocationId { get; set; }
    public string? RegionCode { get; set; }
    public string? ParentEpc { get; set; }
    public string? ShippedToMemberId { get; set; }
    public long? CommissionedSequence { get; set; }
    public long LastEventSequence { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>The statuses a unit moves through.</summary>
public static class UnitStatus
{
    public const string Commissioned = "commissioned";
    public const string Packed = "packed";
    public const string InTransit = "in_transit";
    public const string AtHolder = "at_holder";
    public const string Sold = "sold";
    public const string Recalled = "recalled";
    public const string OnHold = "on_hold";
    public const string Destroyed = "destroyed";
}
