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
    /// <summary>An installed unit past its next inspection (or pressure test) date; raised once per unit and due date.</summary>
    public const string Overdue = "overdue";
    /// <summary>An installed unit past its service life; raised once per unit.</summary>
    public const string Expired = "expired";
    /// <summary>Events whose signed receipts promised anchoring by a deadline that passed before (or without) their anchor.</summary>
    public const string LateAnchor = "late-anchor";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Counterfeit, Diversion, Recall, Hold, Tamper, ChainReset, Overdue, Expired, LateAnchor };
}
