using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Capture;

/// <summary>
/// The EPCIS 2.0 documents the service writes for itself and captures like a member's (a recall, an order's shipping and
/// receiving): ObjectEvents OBSERVE, all at one time, written straight to UTF-8 for <see cref="EpcisParser.ParseJson"/>
/// — a recall of 100,000 units is a 6 MB document, which a tree of JSON nodes and a string of it only copied.
/// </summary>
public static class ObserveDocument
{
    /// <summary>One event's head: its EPCs, business step and disposition; what follows it is the caller's (<c>rest</c>).</summary>
    public readonly record struct Head(IEnumerable<string> Epcs, string BizStep, string Disposition);

    /// <summary>
    /// The document of <paramref name="events"/> at <paramref name="now"/>: the standard context (and one more prefix
    /// when given), each event's head from <paramref name="head"/>, then whatever <paramref name="rest"/> writes into it.
    /// </summary>
    public static ReadOnlyMemory<byte> Write<T>(DateTimeOffset now, IEnumerable<T> events, Func<T, Head> head, Action<Utf8JsonWriter, T> rest,
        (string Prefix, string Namespace)? extraContext = null, int sizeHint = 4096)
    {
        var time = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var buffer = new ArrayBufferWriter<byte>(sizeHint);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("@context");
            w.WriteStringValue(CbvVocabulary.StandardContext);
            if (extraContext is var (prefix, ns))
            {
                w.WriteStartObject();
                w.WriteString(prefix, ns);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("type", "EPCISDocument");
            w.WriteString("schemaVersion", "2.0");
            w.WriteString("creationDate", time);
            w.WriteStartObject("epcisBody");
            w.WriteStartArray("eventList");
            foreach (var e in events)
            {
                var (epcs, bizStep, disposition) = head(e);
                w.WriteStartObject();
                w.WriteString("type", "ObjectEvent");
                w.WriteString("eventTime", time);
                w.WriteString("eventTimeZoneOffset", "+00:00");
                w.WriteStartArray("epcList");
                foreach (var epc in epcs) w.WriteStringValue(epc);
                w.WriteEndArray();
                w.WriteString("action", "OBSERVE");
                w.WriteString("bizStep", bizStep);
                w.WriteString("disposition", disposition);
                rest(w, e);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }
}
