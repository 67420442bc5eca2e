namespace Traceability.Api.Domain;

/// <summary>A member enterprise of the consortium (or a regulator). Its API key is stored only as a SHA-256 hash.</summary>
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
    public required string ApiKeyHash { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
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
