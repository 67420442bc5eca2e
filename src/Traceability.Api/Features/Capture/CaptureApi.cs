using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Errors;

namespace Traceability.Api.Features.Capture;

public static class CaptureApi
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public sealed record CaptureResponse(IReadOnlyList<CaptureReceipt> Receipts);

    public static RouteGroupBuilder MapCaptureApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1").WithTags("Capture");
        group.MapPost("capture", CaptureAsync)
            .RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer, MemberRole.Regulator)
            .Accepts<object>("application/json", "application/ld+json", "application/xml")
            .WithSummary("Capture an EPCIS 2.0 document (JSON-LD or XML); all or nothing")
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422);
        return group;
    }

    private static async Task<Created<CaptureResponse>> CaptureAsync(HttpContext http, CaptureEpcisDocument handler, TraceOptions options, CancellationToken ct)
    {
        var body = await ReadBodyAsync(http, options.CaptureMaxBytes, ct);
        var document = CaptureEpcisDocument.Parse(body, http.Request.ContentType);
        var receipts = await handler.HandleAsync(document, http.Caller(), ct);
        return TypedResults.Created((string?)null, new CaptureResponse(receipts));
    }

    /// <summary>Reads the body as UTF-8, refusing (413) anything longer than <paramref name="limit"/> bytes before reading it all.</summary>
    private static async Task<string> ReadBodyAsync(HttpContext http, long limit, CancellationToken ct)
    {
        if (http.Request.ContentLength > limit)
            throw new PayloadTooLargeException($"The document is {http.Request.ContentLength} bytes; at most {limit} are accepted (TRACE_CAPTURE_MAX_BYTES).");
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limit + 1;

        // One pooled buffer of the announced length (grown only when the length is not announced), decoded once.
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
            return StrictUtf8.GetString(buffer, 0, length);
        }
        catch (DecoderFallbackException)
        {
            throw RequestValidationException.ForField("body", "The document is not valid UTF-8.");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
