namespace Traceability.Api.Domain;

/// <summary>A member enterprise of the consortium (or a regulator). Its API keys are in <see cref="MemberKey"/>.</summary>
public sealed class Member
{
    public required string Id { get; init; }
    public required string Name { get; set; }
    public required MemberRole Role { get; init; }
    public string? Gln { get; set; }
    /// <summary>GB/T 2260 codes of the member's territory (dealers), comma-separated in storage.</summary>
    public List<string> RegionCodes { get; set; } = [];
    /// <summary>The GS1 company prefixes the member declared (comma-separated in storage); its GTINs and SGLNs fall under them.</summary>
    public List<string> CompanyPrefixes { get; set; } = [];
    public string? Address { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>The member that registered this dealer through the ERP import (it alone updates it there); null when the operator created it.</summary>
    public string? RegisteredBy { get; set; }
    /// <summary>Set when the operator deactivated the member: every key of it is refused from then on.</summary>
    public DateTimeOffset? DeactivatedAt { get; set; }
}

/// <summary>One API key of a member: only its SHA-256 hash is kept; the key itself is shown once, when issued.</summary>
public sealed class MemberKey
{
    public required string Id { get; init; }
    public required string MemberId { get; init; }
    public required string Label { get; init; }
    public required string KeyHash { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>When the key was last used, to the minute (written at most once a minute per key).</summary>
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>Service: installers and maintenance companies, who install, inspect and repair durable goods after sale.</summary>
public enum MemberRole { Manufacturer, Logistics, Dealer, Regulator, Admin, Service }

public static class MemberRoles
{
    public static string ToWire(this MemberRole role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? value, out MemberRole role)
    {
        role = default;
        return value is not null && !int.TryParse(value, out _) && Enum.TryParse(value, ignoreCase: true, out role) && Enum.IsDefined(role);
    }
}
