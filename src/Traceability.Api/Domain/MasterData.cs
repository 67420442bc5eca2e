namespace Traceability.Api.Domain;

/// <summary>Product master data, shown to consumers.</summary>
public sealed class Product
{
    public required string Gtin { get; init; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    /// <summary>Free-form attributes as a JSON object.</summary>
    public string? AttributesJson { get; set; }
    public string? OwnerMemberId { get; set; }
    /// <summary>The after-sales service terms as a JSON object (Features/Lifecycle ServiceTerms), or null.</summary>
    public string? ServiceJson { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A location (SGLN), keyed by its canonical GS1 Digital Link URI, with its GB/T 2260 region.</summary>
public sealed class Location
{
    public required string Id { get; init; }
    public required string Name { get; set; }
    public required string RegionCode { get; set; }
    public string? MemberId { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
}
