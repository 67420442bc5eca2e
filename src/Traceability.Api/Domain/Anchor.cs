namespace Traceability.Api.Domain;

/// <summary>
/// A batch of consecutive events whose Merkle root is (to be) written to the chain as anchor <see cref="Sequence"/>.
/// The row is written, with its range and root, before the transaction is sent.
/// </summary>
public sealed class Anchor
{
    public long Sequence { get; init; }
    public required string Root { get; init; }
    public long FirstEventSequence { get; init; }
    public long LastEventSequence { get; init; }
    public int Count => checked((int)(LastEventSequence - FirstEventSequence + 1));
    public AnchorStatus Status { get; set; }
    public string? TxHash { get; set; }
    public long? BlockNumber { get; set; }
    /// <summary>The chain and contract that hold the anchor; changed only by a re-anchoring onto a new deployment.</summary>
    public long ChainId { get; set; }
    public required string Contract { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? SubmittedAt { get; set; }
    public DateTimeOffset? ConfirmedAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }

    public bool Covers(long eventSequence) => eventSequence >= FirstEventSequence && eventSequence <= LastEventSequence;
}

/// <summary>Pending → Submitted → Confirmed, or Failed when the chain holds a different anchor under the same sequence.</summary>
public enum AnchorStatus { Pending, Submitted, Confirmed, Failed }
