using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Requests;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Codes;

/// <summary>
/// Code issuance and label sheets. Every issued code is stored (table <c>codes</c>), so the consumer page can tell a code
/// that was never issued (likely counterfeit) from one that was.
/// </summary>
public static partial class CodesApi
{
    public const int MaxCount = 100_000;
    public const int MaxLabelsPerSheet = 500;

    public sealed record GenerateRequest(string? Gtin, string? Lot, int? Count, int? CompanyPrefixLength);
    public sealed record IssuedCode(string Serial, string Epc, string DigitalLink);
    public sealed record GenerateResponse(string Gtin, string Lot, int Count, IReadOnlyList<IssuedCode> Codes);

    public static RouteGroupBuilder MapCodesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/codes").WithTags("Codes and labels");
        group.MapPost("generate", GenerateAsync).RequireRoles(MemberRole.Manufacturer)
            .WithSummary($"Issue up to {MaxCount:N0} unguessable serials for a lot of an own product: EPC URNs and Digital Link URIs").ProducesProblem(400);
        group.MapGet("labels", LabelsAsync).RequireRoles(MemberRole.Manufacturer)
            .WithSummary("A label sheet (QR code + human-readable serial per label) of a lot's issued codes; format=svg|png, offset, limit (≤ 500), or serial= for one label")
            .ProducesProblem(400).ProducesProblem(404);
        return group;
    }

    /// <summary>Issue serials for a lot of one of the caller's products.</summary>
    public sealed record GenerateCodes(GenerateRequest Request, Caller Caller) : ICommand<GenerateResponse>, IValidate
    {
        public static string Invalid => "Invalid code request";

        public IEnumerable<FieldError> Validate()
        {
            var errors = new List<FieldError>();
            CheckGtin(Request.Gtin, errors);
            if (!Serials.IsValidLot(Request.Lot)) errors.Add(new("lot", "lot (GS1 AI 10) must be 1 to 20 characters of the GS1 AI 82 set."));
            if (Request.Count is not (>= 1 and <= MaxCount)) errors.Add(new("count", $"count must be between 1 and {MaxCount:N0}."));
            if (Request.CompanyPrefixLength is < 6 or > 12) errors.Add(new("companyPrefixLength", "companyPrefixLength must be between 6 and 12."));
            return errors;
        }

        public sealed class Handler(TraceDbContext db, TraceOptions options, TimeProvider time) : ICommandHandler<GenerateCodes, GenerateResponse>
        {
            public async ValueTask<GenerateResponse> Handle(GenerateCodes command, CancellationToken ct)
            {
                var (request, caller) = command;
                var gtin = CheckGtin(request.Gtin, [])!;
                var count = request.Count!.Value;
                var cpl = request.CompanyPrefixLength ?? 7;
                await RequireOwnProductAsync(db, caller, gtin, ct);

                var lot = request.Lot!;
                var issuedAt = DbTime.Format(time.GetUtcNow());
                var codes = new List<IssuedCode>(count);
                var conn = await Sql.OpenAsync(db, ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using var insert = conn.CreateCommand();
                insert.Transaction = tx;
                insert.CommandText = "INSERT INTO codes (epc, gtin, lot, serial, sgtin, issued_by, issued_at) VALUES (@e, @g, @l, @s, @u, @b, @a) ON CONFLICT (epc) DO NOTHING";
        foreach (var p in new[] { "@e", "@g", "@l", "@s", "@u", "@b", "@a" }) Sql.AddParameter(insert, p, null);
                insert.Prepare();
                insert.Parameters[1].Value = gtin;
                insert.Parameters[2].Value = lot;
                insert.Parameters[5].Value = caller.MemberId;
                insert.Parameters[6].Value = issuedAt;
                while (codes.Count < count)
                {
                    var serial = Serials.New();
                    var sgtin = Gs1Identifiers.ToSgtinUrn(gtin, serial, cpl);
                    insert.Parameters[0].Value = DigitalLinks.Canonical(gtin, serial);
                    insert.Parameters[3].Value = serial;
                    insert.Parameters[4].Value = sgtin;
                    // 65 random bits: a collision is not expected, but a duplicate is never handed out twice.
                    if (await insert.ExecuteNonQueryAsync(ct) == 0) continue;
                    codes.Add(new IssuedCode(serial, sgtin, DigitalLinks.Public(options.PublicBaseUrl, gtin, lot, serial)));
                }
                await tx.CommitAsync(ct);
                return new GenerateResponse(gtin, lot, codes.Count, codes);
            }
        }
    }

    /// <summary>A label sheet of a lot's issued codes (a page of them, or the one with <see cref="Serial"/>).</summary>
    public sealed record GetLabels(string? Gtin, string? Lot, string Format, string? Serial, int Offset, int Limit, Caller Caller) : IQuery<LabelFile>, IValidate
    {
        public static string Invalid => "Invalid label request";

        public IEnumerable<FieldError> Validate()
        {
            var errors = new List<FieldError>();
            CheckGtin(Gtin, errors);
            if (!Serials.IsValidLot(Lot)) errors.Add(new("lot", "lot is required (1 to 20 characters of the GS1 AI 82 set)."));
            if (Format is not ("svg" or "png")) errors.Add(new("format", "format must be svg or png."));
            if (Offset < 0) errors.Add(new("offset", "offset must be 0 or more."));
            if (Limit is < 1 or > MaxLabelsPerSheet) errors.Add(new("limit", $"limit must be between 1 and {MaxLabelsPerSheet}."));
            return errors;
        }

        public sealed class Handler(TraceDbContext db, TraceOptions options) : IQueryHandler<GetLabels, LabelFile>
        {
            public async ValueTask<LabelFile> Handle(GetLabels query, CancellationToken ct)
            {
                var (gtin, lot, format, serial, offset, limit, caller) = query;
                var gtin14 = CheckGtin(gtin, [])!;
                await RequireOwnProductAsync(db, caller, gtin14, ct);

                var serials = serial is not null
                    ? await db.Database.SqlQueryRaw<string>("SELECT serial AS \"Value\" FROM codes WHERE gtin = {0} AND lot = {1} AND serial = {2}", gtin14, lot!, serial).ToListAsync(ct)
                    : await db.Database.SqlQueryRaw<string>(
                        "SELECT serial AS \"Value\" FROM codes WHERE gtin = {0} AND lot = {1} ORDER BY issued_at, serial LIMIT {2} OFFSET {3}", gtin14, lot!, limit, offset).ToListAsync(ct);
                if (serials.Count == 0)
                    throw new NotFoundException(serial is null ? $"Issued codes of GTIN {gtin14} lot {lot} at offset {offset}" : $"Issued code {serial} of GTIN {gtin14} lot {lot}");

                var labels = serials.Select(s => new Label(DigitalLinks.Public(options.PublicBaseUrl, gtin14, lot!, s), s)).ToList();
                var caption = $"GTIN {gtin14} · LOT {lot}";
                var name = $"labels-{gtin14}-{SafeFileName(lot!)}-{offset}.{format}";
                return format == "svg"
                    ? new LabelFile(System.Text.Encoding.UTF8.GetBytes(LabelSheet.Svg(labels, caption)), "image/svg+xml; charset=utf-8", name)
                    : new LabelFile(LabelSheet.Png(labels), "image/png", name);
            }
        }
    }

    public sealed record LabelFile(byte[] Content, string ContentType, string FileName);

    private static async Task<Ok<GenerateResponse>> GenerateAsync(GenerateRequest request, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new GenerateCodes(request, http.Caller()), ct));

    private static async Task<FileContentHttpResult> LabelsAsync(HttpContext http, IMediator mediator, CancellationToken ct,
        string? gtin = null, string? lot = null, string format = "svg", string? serial = null, int offset = 0, int limit = 100)
    {
        var file = await mediator.Send(new GetLabels(gtin, lot, format, serial, offset, limit, http.Caller()), ct);
        http.Response.Headers.ContentDisposition = $"inline; filename=\"{file.FileName}\"";
        return TypedResults.Bytes(file.Content, file.ContentType);
    }

    private static string SafeFileName(string s) => new(s.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());

    private static string? CheckGtin(string? gtin, List<FieldError> errors)
    {
        if (Gs1Identifiers.TryNormalizeGtin(gtin, out var gtin14)) return gtin14;
        errors.Add(new("gtin", "gtin must be a GTIN-8, -12, -13 or -14 with a valid check digit."));
        return null;
    }

    private static async Task RequireOwnProductAsync(TraceDbContext db, Caller caller, string gtin, CancellationToken ct)
    {
        var product = await db.Products.AsNoTracking().FirstOrDefaultAsync(p => p.Gtin == gtin, ct)
            ?? throw RequestValidationException.ForField("gtin", $"GTIN {gtin} is not a registered product: POST /api/v1/products first.");
        if (caller.Role != MemberRole.Admin && product.OwnerMemberId != caller.MemberId)
            throw new ConflictException($"GTIN {gtin} belongs to another member.");
    }
}

/// <summary>Serials and lots: what GS1 AI 21 / AI 10 allow, and how serials are drawn.</summary>
public static class Serials
{
    /// <summary>Crockford's base 32: digits and upper-case letters without I, L, O and U (no 0/O or 1/I/L confusion on a label).</summary>
    public const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    /// <summary>13 symbols of 5 bits: 65 bits from the operating system's CSPRNG.</summary>
    public const int Length = 13;

    public static string New()
    {
        Span<byte> random = stackalloc byte[Length];
        RandomNumberGenerator.Fill(random);
        Span<char> chars = stackalloc char[Length];
        for (var i = 0; i < Length; i++) chars[i] = Alphabet[random[i] & 31]; // 256 is a multiple of 32: no bias
        return new string(chars);
    }

    public static bool IsValidLot(string? lot) => lot is { Length: >= 1 and <= 20 } && lot.All(IsAi82);

    public static bool IsAi82(char c) =>
        c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '!' or '"' or '%' or '&' or '\'' or '(' or ')' or '*' or '+' or ','
            or '-' or '.' or '/' or ':' or ';' or '<' or '=' or '>' or '?' or '_';
}

/// <summary>GS1 Digital Link URIs of a serialized item.</summary>
public static class DigitalLinks
{
    /// <summary>What the QR code holds: {base}/01/{gtin14}/10/{lot}/21/{serial}.</summary>
    public static string Public(string baseUrl, string gtin14, string lot, string serial) =>
        $"{baseUrl.TrimEnd('/')}/01/{gtin14}/10/{Uri.EscapeDataString(lot)}/21/{Uri.EscapeDataString(serial)}";

    /// <summary>The canonical form the ledger indexes items by (event_epcs.epc): https://id.gs1.org/01/{gtin14}/21/{serial}.</summary>
    public static string Canonical(string gtin14, string serial) =>
        Gs1Identifiers.ToCanonicalDigitalLink($"https://id.gs1.org/01/{gtin14}/21/{Uri.EscapeDataString(serial)}");
}
