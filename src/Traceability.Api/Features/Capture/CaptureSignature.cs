using Traceability.Api.Infrastructure.Errors;
using Traceability.Chain;

namespace Traceability.Api.Features.Capture;

/// <summary>
/// The Trace-Signature of the capture request being handled (one per request scope): the member's EIP-712 signature of
/// EventsSigned(eventsRoot, eventCount) over the document's events, or null for an unsigned document.
/// </summary>
public sealed class CaptureSignature
{
    public const string Header = "Trace-Signature";

    public byte[]? Signature { get; private set; }

    /// <summary>Reads the header (400 naming it when it is not 0x and 130 hex digits, or given twice).</summary>
    public void Read(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(Header, out var values)) return;
        if (values.Count != 1 || !MemberSignatures.TryParseSignature(values[0]?.Trim(), out var signature))
            throw RequestValidationException.ForField(Header,
                $"{Header} must be one value, 0x and 130 hex digits: the EIP-712 signature (r, s, v) of EventsSigned(bytes32 eventsRoot, uint256 eventCount) over the document's events.");
        Signature = signature;
    }
}
