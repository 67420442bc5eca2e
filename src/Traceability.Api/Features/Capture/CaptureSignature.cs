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

    /// <summary>
    /// The leaves the signature covers when a document's events are appended in several captures (a capture job with
    /// GS1-Capture-Error-Behaviour proceed: each event on its own): the CBV 2.0 hash of every event of the document, in
    /// document order. Null when one capture appends the whole document, whose events are then the leaves.
    /// </summary>
    public IReadOnlyList<string>? DocumentHashes { get; private set; }

    /// <summary>Each capture of this request appends part of a document whose events have these hashes (see <see cref="DocumentHashes"/>).</summary>
    public void CoverDocument(IReadOnlyList<string> eventHashes) => DocumentHashes = eventHashes;

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
