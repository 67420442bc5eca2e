namespace Traceability.Api.Domain;

/// <summary>
/// The current state of one serialized unit (or container), keyed by its canonical Digital Link, kept up to date by the
/// capture pipeline in the same transaction as the events. The one model of the units table: EF Core reads it outside
/// the capture path, the custody rules take it as a snapshot and return changed copies, the unit store writes those.
/// </summary>
public sealed class Unit
{
    public required string Epc { get; init; }
    public string? Gtin { get; set; }
    public string? Lot { get; set; }
    public string? Serial { get; set; }
    public required string Status { get; set; }
    /// <summary>On quality hold, the status the unit resumes on release; recalled, the status it had in custody (sold, in transit, at a holder).</summary>
    public string? StatusBeforeHold { get; set; }
    public string? HolderMemberId { get; set; }
    public string? LocationId { get; set; }
    public string? RegionCode { get; set; }
    public string? ParentEpc { get; set; }
    public string? ShippedToMemberId { get; set; }
    public long? CommissionedSequence { get; set; }
    public long LastEventSequence { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>A serialized item commissioned here (not a container).</summary>
    public bool IsItem => CommissionedSequence is not null && Gtin is not null;

    /// <summary>The status that counts for custody: on hold, the one it resumes.</summary>
    public string EffectiveStatus => Status == UnitStatus.OnHold ? StatusBeforeHold ?? UnitStatus.AtHolder : Status;

    /// <summary>
    /// Moves the unit to a status, except that destroyed stays, recalled stays (keeping where the unit is in custody, so
    /// stock still counts a recalled unit a dealer holds and not one it sold), and a held unit resumes it on release.
    /// </summary>
    public void MoveTo(string status)
    {
        if (Status is UnitStatus.Destroyed) return;
        if (Status is UnitStatus.OnHold or UnitStatus.Recalled) StatusBeforeHold = status;
        else Status = status;
    }

    public Unit Copy() => (Unit)MemberwiseClone();
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
    /// <summary>Installed at a site (bizStep installing) after it was sold or delivered; its service record is in service_units.</summary>
    public const string Installed = "installed";
}
