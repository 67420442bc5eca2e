using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Members;

/// <summary>Members (admin only), and the master data members keep: products and locations.</summary>
public static partial class MembersApi
{
    public sealed record CreateMemberRequest(string? Name, string? Role, string? Gln, IReadOnlyList<string>? RegionCodes, string? Address);
    public sealed record CreateMemberResponse(string Id, string ApiKey, string Name, string Role, string? Gln, IReadOnlyList<string> RegionCodes);
    public sealed record CreateProductRequest(string? Gtin, string? Name, string? Description, JsonElement? Attributes);
    public sealed record ProductResponse(string Gtin, string Name, string? Description, JsonElement? Attributes, string? OwnerMemberId);
    public sealed record CreateLocationRequest(string? Id, string? Name, string? RegionCode, string? MemberId);
    public sealed record LocationResponse(string Id, string Name, string RegionCode, string? MemberId);

    [GeneratedRegex(@"^\d{13}$")] private static partial Regex Gln();
    [GeneratedRegex(@"^\d{6}$")] private static partial Regex RegionCode();

    public static RouteGroupBuilder MapMembersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1").WithTags("Members and master data");
        group.MapPost("members", CreateMemberAsync).RequireRoles(MemberRole.Admin)
            .WithSummary("Create a member; its API key is returned once").ProducesProblem(400);
        group.MapPost("products", CreateProductAsync).RequireRoles(MemberRole.Manufacturer)
            .WithSummary("Create or update a product's master data").ProducesProblem(400);
        group.MapPost("locations", CreateLocationAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer, MemberRole.Regulator)
            .WithSummary("Create or update a location (SGLN) with its GB/T 2260 region").ProducesProblem(400);
        return group;
    }

    private static async Task<Created<CreateMemberResponse>> CreateMemberAsync(CreateMemberRequest request, TraceDbContext db, TimeProvider time, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(request.Name)) errors.Add(new("name", "name is required."));
        if (!MemberRoles.TryParse(request.Role, out var role))
            errors.Add(new("role", $"role must be one of {string.Join(", ", Enum.GetValues<MemberRole>().Select(r => r.ToWire()))}."));
        if (request.Gln is not null && !Gln().IsMatch(request.Gln)) errors.Add(new("gln", "gln must be 13 digits."));
        foreach (var code in request.RegionCodes ?? [])
            if (!RegionCode().IsMatch(code)) errors.Add(new("regionCodes", $"'{code}' is not a six-digit GB/T 2260 code."));
        if (errors.Count > 0) throw new RequestValidationException("Invalid member", errors);

        var key = ApiKeyService.NewKey();
        var member = new Member
        {
            Id = "m_" + Guid.NewGuid().ToString("N")[..16],
            Name = request.Name!.Trim(),
            Role = role,
            Gln = request.Gln,
            RegionCodes = [.. request.RegionCodes ?? []],
            Address = request.Address,
            ApiKeyHash = ApiKeyService.Hash(key),
            CreatedAt = time.GetUtcNow(),
        };
        db.Members.Add(member);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/members/{member.Id}",
            new CreateMemberResponse(member.Id, key, member.Name, role.ToWire(), member.Gln, member.RegionCodes));
    }

    private static async Task<Results<Created<ProductResponse>, Ok<ProductResponse>>> CreateProductAsync(
        CreateProductRequest request, HttpContext http, TraceDbContext db, TimeProvider time, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (!Gs1Identifiers.TryNormalizeGtin(request.Gtin, out var gtin))
            errors.Add(new("gtin", "gtin must be a GTIN-8, -12, -13 or -14 with a valid check digit."));
        if (string.IsNullOrWhiteSpace(request.Name)) errors.Add(new("name", "name is required."));
        if (request.Attributes is { ValueKind: not JsonValueKind.Object and not JsonValueKind.Null and not JsonValueKind.Undefined })
            errors.Add(new("attributes", "attributes must be a JSON object."));
        if (errors.Count > 0) throw new RequestValidationException("Invalid product", errors);

        var caller = http.Caller();
        var product = await db.Products.FindAsync([gtin], ct);
        var created = product is null;
        if (product is null)
        {
            product = new Product { Gtin = gtin, Name = request.Name!, CreatedAt = time.GetUtcNow(), OwnerMemberId = caller.Role == MemberRole.Admin ? null : caller.MemberId };
            db.Products.Add(product);
        }
        else if (caller.Role != MemberRole.Admin && product.OwnerMemberId != caller.MemberId)
        {
            throw new ConflictException($"GTIN {gtin} belongs to another member.");
        }
        product.Name = request.Name!;
        product.Description = request.Description;
        product.AttributesJson = request.Attributes is { ValueKind: JsonValueKind.Object } a ? a.GetRawText() : null;
        await db.SaveChangesAsync(ct);
        var response = new ProductResponse(product.Gtin, product.Name, product.Description, request.Attributes, product.OwnerMemberId);
        return created ? TypedResults.Created($"/api/v1/products/{gtin}", response) : TypedResults.Ok(response);
    }

    private static async Task<Results<Created<LocationResponse>, Ok<LocationResponse>>> CreateLocationAsync(
        CreateLocationRequest request, HttpContext http, TraceDbContext db, TimeProvider time, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        string? id = null;
        if (string.IsNullOrWhiteSpace(request.Id) || !Gs1Identifiers.TryCanonicalId(request.Id, out id, out _) || !id.Contains("/414/", StringComparison.Ordinal))
            errors.Add(new("id", "id must be an SGLN URN (urn:epc:id:sgln:...) or its GS1 Digital Link (.../414/...)."));
        if (string.IsNullOrWhiteSpace(request.Name)) errors.Add(new("name", "name is required."));
        if (request.RegionCode is null || !RegionCode().IsMatch(request.RegionCode)) errors.Add(new("regionCode", "regionCode must be a six-digit GB/T 2260 code."));
        if (errors.Count > 0) throw new RequestValidationException("Invalid location", errors);

        var caller = http.Caller();
        var memberId = caller.SeesEverything ? request.MemberId : caller.MemberId;
        if (memberId is not null && !await db.Members.AnyAsync(m => m.Id == memberId, ct))
            throw RequestValidationException.ForField("memberId", $"No member '{memberId}'.");

        var location = await db.Locations.FindAsync([id!], ct);
        var created = location is null;
        if (location is null)
        {
            location = new Location { Id = id!, Name = request.Name!, RegionCode = request.RegionCode!, CreatedAt = time.GetUtcNow() };
            db.Locations.Add(location);
        }
        location.Name = request.Name!;
        location.RegionCode = request.RegionCode!;
        location.MemberId = memberId;
        await db.SaveChangesAsync(ct);
        var response = new LocationResponse(location.Id, location.Name, location.RegionCode, location.MemberId);
        return created ? TypedResults.Created($"/api/v1/locations/{Uri.EscapeDataString(location.Id)}", response) : TypedResults.Ok(response);
    }
}
