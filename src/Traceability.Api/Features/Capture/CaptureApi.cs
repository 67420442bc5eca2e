using System.Buffers;
using System.Text.Unicode;
using Mediator;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Capture;

/// <summary>What the service promises on each receipt (Features/Consortium signs them); capture only hands the receipts over.</summary>
public interface IReceiptPromise
{
    Task<IReadOnlyList<CaptureReceipt>> SignAsync(IReadOnlyList<CaptureReceipt> receipts, CancellationToken ct);
}

public static class CaptureApi
{
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    public sealed record CaptureResponse(IReadOnlyList<CaptureReceipt> Receipts);

    public static RouteGroupBuilder MapCaptureApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1").WithTags("Capture");
        group.MapPost("capture", CaptureAsync)
            .RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer, MemberRole.Regulator, MemberRole.Service)
            .Accepts<object>("application/json", "application/ld+json", "application/xml")
            .WithSummary("Capture an EPCIS 2.0 document (JSON-LD or XML); all or nothing")
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422);
        return group;
    }

    private static async Task<Created<CaptureResponse>> CaptureAsync(HttpContext http, IMediator mediator, TraceOptions options,
        CaptureSignature signature, IReceiptPromise promises, CancellationToken ct)
    {
        signature.Read(http.Request); // Trace-Signature: checked by a capture step inside the transaction
        EpcisDocument document;
        var (buffer, length) = await ReadBodyAsync(http, options.CaptureMaxBytes, ct);
        try
        {
            var body = buffer.AsMemory(0, length);
            if (body.Span.StartsWith(Utf8Bom)) body = body[Utf8Bom.Length..]; // a byte-order mark, as some editors write, is not content
            document = CaptureEpcisDocument.Parse(body, http.Request.ContentType);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var receipts = await mediator.Send(new CaptureEpcisDocument.Command(document, http.Caller()), ct);
        return TypedResults.Created((string?)null, new CaptureResponse(await promises.SignAsync(receipts, ct)));
    }

    /// <summary>The request's EPCIS document (JSON-LD or XML, by Content-Type), read and parsed as POST /api/v1/capture does.</summary>
    internal static async Task<EpcisDocument> ReadDocumentAsync(HttpContext http, TraceOptions options, CancellationToken ct)
    {
        var (buffer, length) = await ReadBodyAsync(http, options.CaptureMaxBytes, ct);
        try
        {
            var body = buffer.AsMemory(0, length);
            if (body.Span.StartsWith(Utf8Bom)) body = body[Utf8Bom.Length..];
            return CaptureEpcisDocument.Parse(body, http.Request.ContentType);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads the body into one pooled buffer of the announced length (grown only when the length is not announced; the
    /// caller returns it to the pool), refusing (413) anything longer than <paramref name="limit"/> bytes before reading
    /// it all, and (400) anything that is not UTF-8. The body is parsed from these bytes: a 1 MB document is not copied
    /// into a 2 MB string.
    /// </summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContext http, long limit, CancellationToken ct)
    {
        if (http.Request.ContentLength > limit)
            throw new PayloadTooLargeException($"The document is {http.Request.ContentLength} bytes; at most {limit} are accepted (TRACE_CAPTURE_MAX_BYTES).");
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limit + 1;

        var length = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(http.Request.ContentLength is { } announced and > 0 ? (int)announced + 1 : 64 * 1024);
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer.AsMemory(length), ct)) > 0)
            {
                length += read;
                if (length > limit)
                    throw new PayloadTooLargeException($"The document is larger than {limit} bytes (TRACE_CAPTURE_MAX_BYTES).");
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, 2L * buffer.Length));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
            if (!Utf8.IsValid(buffer.AsSpan(0, length))) throw RequestValidationException.ForField("body", "The document is not valid UTF-8.");
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}
