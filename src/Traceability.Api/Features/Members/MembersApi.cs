using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Lifecycle;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Requests;
using Traceability.Api.Infrastructure.Validation;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Members;

/// <summary>Members (admin only), and the master data members keep: products and locations.</summary>
public static partial class MembersApi
{
    public sealed record CreateMemberRequest(string? Name, string? Role, string? Gln, IReadOnlyList<string>? RegionCodes, string? Address,
        IReadOnlyList<string>? CompanyPrefixes = null);
    public sealed record CreateMemberResponse(string Id, string ApiKey, string Name, string Role, string? Gln, IReadOnlyList<string> RegionCodes,
        IReadOnlyList<string> CompanyPrefixes);
    public sealed record UpdateMemberRequest(IReadOnlyList<string>? CompanyPrefixes);
    public sealed record MemberResponse(string Id, string Name, string Role, string? Gln, IReadOnlyList<string> RegionCodes, IReadOnlyList<string> CompanyPrefixes);
    public sealed record CreateProductRequest(string? Gtin, string? Name, string? Description, JsonElement? Attributes, ServiceTerms? Service = null);
    public sealed record ProductResponse(string Gtin, string Name, string? Description, JsonElement? Attributes, string? OwnerMemberId, ServiceTerms? Service = null);
    public sealed record CreateLocationRequest(string? Id, string? Name, string? RegionCode, string? MemberId);
    public sealed record LocationResponse(string Id, string Name, string RegionCode, string? MemberId);


    public static RouteGroupBuilder MapMembersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1").WithTags("Members and master data");
        group.MapPost("members", CreateMemberAsync).RequireRoles(MemberRole.Admin)
            .WithSummary("Create a member; its API key is returned once").ProducesProblem(400).ProducesProblem(409);
        group.MapPatch("members/{id}", UpdateMemberAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer, MemberRole.Regulator, MemberRole.Service)
            .WithSummary("Declare the member's GS1 company prefixes (the member itself, or admin); its GTINs and SGLNs must then fall under them")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);
        group.MapPost("products", CreateProductAsync).RequireRoles(MemberRole.Manufacturer)
            .WithSummary("Create or update a product's master data").ProducesProblem(400);
        group.MapPost("locations", CreateLocationAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer, MemberRole.Regulator, MemberRole.Service)
            .WithSummary("Create or update a location (SGLN) with its GB/T 2260 region; another member's location is refused (409)")
            .ProducesProblem(400).ProducesProblem(409).ProducesProblem(422);
        group.MapMemberKeys();
        return group;
    }

    /// <summary>A product or location, and whether it was created (201) rather than updated (200).</summary>
    public sealed record Saved<T>(T Value, bool Created);

    /// <summary>A new member; its API key is in the answer and nowhere else.</summary>
    public sealed record CreateMember(CreateMemberRequest Request) : ICommand<CreateMemberResponse>, IValidate
    {
        public static string Invalid => "Invalid member";

        public IEnumerable<FieldError> Validate()
        {
            var errors = new List<FieldError>();
            if (string.IsNullOrWhiteSpace(Request.Name)) errors.Add(new("name", "name is required."));
            if (!MemberRoles.TryParse(Request.Role, out _))
                errors.Add(new("role", $"role must be one of {string.Join(", ", Enum.GetValues<MemberRole>().Select(r => r.ToWire()))}."));
            TextLimits.Check(errors, "name", Request.Name, TextLimits.Name);
            TextLimits.Check(errors, "address", Request.Address, TextLimits.Address);
            if (Request.Gln is not null && !Digits.Exactly(Request.Gln, 13)) errors.Add(new("gln", "gln must be 13 digits."));
            if (Request.RegionCodes is { Count: > CompanyPrefixes.MaxPerMember }) errors.Add(new("regionCodes", $"at most {CompanyPrefixes.MaxPerMember} region codes."));
            foreach (var code in Request.RegionCodes ?? [])
                if (!Digits.Exactly(code, 6)) errors.Add(new("regionCodes", $"'{Clip(code)}' is not a six-digit GB/T 2260 code."));
            CompanyPrefixes.Validate(Request.CompanyPrefixes, errors);
            return errors;
        }

        public sealed class Handler(TraceDbContext db, TimeProvider time) : ICommandHandler<CreateMember, CreateMemberResponse>
        {
            public async ValueTask<CreateMemberResponse> Handle(CreateMember command, CancellationToken ct)
            {
                var request = command.Request;
                MemberRoles.TryParse(request.Role, out var role);
                var prefixes = CompanyPrefixes.Distinct(request.CompanyPrefixes); // validated by the pipeline (IValidate)
                await CompanyPrefixes.RequireUnclaimedAsync(db, prefixes, null, ct);
                var key = ApiKeyService.NewKey();
                var member = new Member
                {
                    Id = "m_" + Guid.NewGuid().ToString("N")[..16],
                    Name = request.Name!.Trim(),
                    Role = role,
                    Gln = request.Gln,
                    RegionCodes = [.. request.RegionCodes ?? []],
                    CompanyPrefixes = prefixes,
                    Address = request.Address,
                    CreatedAt = time.GetUtcNow(),
                };
                db.Members.Add(member);
                db.MemberKeys.Add(new MemberKey { Id = ApiKeyService.NewKeyId(), MemberId = member.Id, Label = "first key", KeyHash = ApiKeyService.Hash(key), CreatedAt = member.CreatedAt });
                await db.SaveChangesAsync(ct);
                return new CreateMemberResponse(member.Id, key, member.Name, role.ToWire(), member.Gln, member.RegionCodes, member.CompanyPrefixes);
            }
        }
    }

    /// <summary>A product's master data, created by its manufacturer or updated by it (or the admin).</summary>
    public sealed record CreateProduct(CreateProductRequest Request, Caller Caller) : ICommand<Saved<ProductResponse>>, IValidate
    {
        public static string Invalid => "Invalid product";

        public IEnumerable<FieldError> Validate()
        {
            var errors = new List<FieldError>();
            if (!Gs1Identifiers.TryNormalizeGtin(Request.Gtin, out _))
                errors.Add(new("gtin", "gtin must be a GTIN-8, -12, -13 or -14 with a valid check digit."));
            if (string.IsNullOrWhiteSpace(Request.Name)) errors.Add(new("name", "name is required."));
            TextLimits.Check(errors, "name", Request.Name, TextLimits.Name);
            TextLimits.Check(errors, "description", Request.Description, TextLimits.Description);
            if (Request.Attributes is { ValueKind: not JsonValueKind.Object and not JsonValueKind.Null and not JsonValueKind.Undefined })
                errors.Add(new("attributes", "attributes must be a JSON object."));
            ServiceTerms.Validate(Request.Service, errors);
            return errors;
        }

        public sealed class Handler(TraceDbContext db, TimeProvider time) : ICommandHandler<CreateProduct, Saved<ProductResponse>>
        {
            public async ValueTask<Saved<ProductResponse>> Handle(CreateProduct command, CancellationToken ct)
            {
                var (request, caller) = command;
                Gs1Identifiers.TryNormalizeGtin(request.Gtin, out var gtin);
                var product = await db.Products.FindAsync([gtin], ct);
                var created = product is null;
                if (product is null || product.OwnerMemberId == caller.MemberId)
                    await CompanyPrefixes.RequireUnderOwnAsync(db, caller, "gtin", gtin[1..], $"GTIN {gtin}", ct);
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
                product.ServiceJson = request.Service?.ToJson();
                await db.SaveChangesAsync(ct);
                return new(new ProductResponse(product.Gtin, product.Name, product.Description, request.Attributes, product.OwnerMemberId, request.Service), created);
            }
        }
    }

    /// <summary>A location (SGLN) with its region; a member's own unless the caller sees everything and names another.</summary>
    public sealed record CreateLocation(CreateLocationRequest Request, Caller Caller) : ICommand<Saved<LocationResponse>>, IValidate
    {
        public static string Invalid => "Invalid location";

        /// <summary>The location's canonical id (GS1 Digital Link with AI 414), or null.</summary>
        public string? LocationId =>
            !string.IsNullOrWhiteSpace(Request.Id) && Gs1Identifiers.TryCanonicalId(Request.Id, out var id, out _) && id.Contains("/414/", StringComparison.Ordinal) ? id : null;

        public IEnumerable<FieldError> Validate()
        {
            var errors = new List<FieldError>();
            if (LocationId is null) errors.Add(new("id", "id must be an SGLN URN (urn:epc:id:sgln:...) or its GS1 Digital Link (.../414/...)."));
            if (string.IsNullOrWhiteSpace(Request.Name)) errors.Add(new("name", "name is required."));
            TextLimits.Check(errors, "name", Request.Name, TextLimits.Name);
            if (!Digits.Exactly(Request.RegionCode, 6)) errors.Add(new("regionCode", "regionCode must be a six-digit GB/T 2260 code."));
            return errors;
        }

        public sealed class Handler(TraceDbContext db, TimeProvider time) : ICommandHandler<CreateLocation, Saved<LocationResponse>>
        {
            public async ValueTask<Saved<LocationResponse>> Handle(CreateLocation command, CancellationToken ct)
            {
                var (request, caller) = command;
                var id = command.LocationId!;
                var memberId = caller.SeesEverything ? request.MemberId : caller.MemberId;
                if (memberId is not null && !await db.Members.AnyAsync(m => m.Id == memberId, ct))
                    throw RequestValidationException.ForField("memberId", $"No member '{memberId}'.");

                var location = await db.Locations.FindAsync([id], ct);
                if (location is not null && LocationTakeover(location.MemberId, caller) is { } refusal) throw new ConflictException(refusal);
                if (GlnOf(id) is { } gln && memberId is not null)
                    await CompanyPrefixes.RequireUnderAsync(db, memberId, "id", gln, $"SGLN {id}", ct);
                var created = location is null;
                if (location is null)
                {
                    location = new Location { Id = id, Name = request.Name!, RegionCode = request.RegionCode!, CreatedAt = time.GetUtcNow() };
                    db.Locations.Add(location);
                }
                location.Name = request.Name!;
                location.RegionCode = request.RegionCode!;
                location.MemberId = memberId;
                await db.SaveChangesAsync(ct);
                return new(new LocationResponse(location.Id, location.Name, location.RegionCode, location.MemberId), created);
            }
        }
    }

    private static async Task<Created<CreateMemberResponse>> CreateMemberAsync(CreateMemberRequest request, IMediator mediator, CancellationToken ct)
    {
        var member = await mediator.Send(new CreateMember(request), ct);
        return TypedResults.Created($"/api/v1/members/{member.Id}", member);
    }

    /// <summary>A member declares its GS1 company prefixes (or the admin does it for the member).</summary>
    public sealed record UpdateMember(string Id, UpdateMemberRequest Request, Caller Caller) : ICommand<MemberResponse>, IValidate
    {
        public static string Invalid => "Invalid member";

        public IEnumerable<FieldError> Validate()
        {
            var errors = new List<FieldError>();
            if (Request.CompanyPrefixes is null) errors.Add(new("companyPrefixes", "companyPrefixes is required (an empty list removes them)."));
            CompanyPrefixes.Validate(Request.CompanyPrefixes, errors);
            return errors;
        }

        public sealed class Handler(TraceDbContext db) : ICommandHandler<UpdateMember, MemberResponse>
        {
            public async ValueTask<MemberResponse> Handle(UpdateMember command, CancellationToken ct)
            {
                var (id, request, caller) = command;
                if (caller.Role != MemberRole.Admin && caller.MemberId != id) throw new ForbiddenException("A member declares its own company prefixes only.");
                var member = await db.Members.FindAsync([id], ct) ?? throw new NotFoundException($"Member '{id}'");
                var prefixes = CompanyPrefixes.Distinct(request.CompanyPrefixes); // validated by the pipeline (IValidate)
                await CompanyPrefixes.RequireUnclaimedAsync(db, prefixes, id, ct);
                member.CompanyPrefixes = prefixes;
                await db.SaveChangesAsync(ct);
                return new MemberResponse(member.Id, member.Name, member.Role.ToWire(), member.Gln, member.RegionCodes, member.CompanyPrefixes);
            }
        }
    }

    private static async Task<Ok<MemberResponse>> UpdateMemberAsync(string id, UpdateMemberRequest request, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new UpdateMember(id, request, http.Caller()), ct));

    private static string Clip(string value) => value.Length <= 40 ? value : value[..40] + "…";

    private static async Task<Results<Created<ProductResponse>, Ok<ProductResponse>>> CreateProductAsync(
        CreateProductRequest request, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var (product, created) = await mediator.Send(new CreateProduct(request, http.Caller()), ct);
        return created ? TypedResults.Created($"/api/v1/products/{product.Gtin}", product) : TypedResults.Ok(product);
    }

    private static async Task<Results<Created<LocationResponse>, Ok<LocationResponse>>> CreateLocationAsync(
        CreateLocationRequest request, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var (location, created) = await mediator.Send(new CreateLocation(request, http.Caller()), ct);
        return created ? TypedResults.Created($"/api/v1/locations/{Uri.EscapeDataString(location.Id)}", location) : TypedResults.Ok(location);
    }

    /// <summary>
    /// Why the caller may not update an existing location kept by <paramref name="ownerId"/>, or null when it may: the
    /// operator (admin) keeps the register; a member (a regulator too) updates only its own locations (posting another
    /// member's id would otherwise move the location, and what happens there, to the caller).
    /// </summary>
    public static string? LocationTakeover(string? ownerId, Caller caller) =>
        caller.Role == MemberRole.Admin || ownerId == caller.MemberId ? null
        : ownerId is null ? "This location is registered without a member; only the operator assigns it."
        : "This location belongs to another member.";

    /// <summary>The 13-digit GLN of a canonical SGLN Digital Link (…/414/{gln}…), or null.</summary>
    internal static string? GlnOf(string canonical)
    {
        var i = canonical.IndexOf("/414/", StringComparison.Ordinal);
        if (i < 0 || canonical.Length < i + 5 + 13) return null;
        var gln = canonical.Substring(i + 5, 13);
        return Digits.IsAscii(gln) ? gln : null;
    }
}
