using System.Data.Common;
using Mediator;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Observability;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Reliability;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Capture;

/// <summary>
/// What capture answers for each event: its id, its CBV 2.0 hash, its place in the ledger and when it was recorded; and
/// a warning when the document's ni: eventID disagrees with the computed hash (the event keeps the eventID given).
/// </summary>
public sealed record CaptureReceipt(string EventId, string EventHash, long Sequence, DateTimeOffset RecordTime)
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Warning { get; init; }

    /// <summary>When the service promises the event will be anchored by (record time + TRACE_MAX_ANCHOR_DELAY); see IReceiptPromise.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? AnchorDeadline { get; init; }

    /// <summary>
    /// The anchoring key's EIP-712 signature of Receipts(receiptsRoot, receiptCount), one for all receipts of the
    /// request, or null without a key (Features/Consortium/AnchorPromises).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? ReceiptSignature { get; init; }

    /// <summary>The root of the Merkle tree over the request's receipts (leaf: the struct hash of Receipt(digest, sequence, recordTime, anchorDeadline)).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? ReceiptsRoot { get; init; }

    /// <summary>How many receipts the root covers.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? ReceiptCount { get; init; }

    /// <summary>This receipt's Merkle proof to <see cref="ReceiptsRoot"/>, 0x hex words; empty for a one-receipt request.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? ReceiptProof { get; init; }
}

/// <summary>An event that passed validation, hashed, ready to append; <see cref="Warning"/> as on its receipt.</summary>
public sealed record ValidatedEvent(int Index, EpcisEvent Event, string EventHash, string Json, IReadOnlyList<(string Epc, string Role)> Identifiers)
{
    public string? Warning { get; init; }
}

/// <summary>
/// POST /api/v1/capture: parse an EPCIS 2.0 document (JSON-LD or XML), validate every event, and append the new ones
/// with the next sequence numbers in one transaction. All or nothing: one bad event rejects the whole document and
/// nothing is stored. An event captured before (same event hash) gets its first receipt back and is not stored twice.
/// </summary>
public sealed class CaptureEpcisDocument(TraceDbContext db, CaptureWriteLock writeLock, EventHashIndex hashIndex, SqliteCheckpointer checkpointer, TraceOptions options, TimeProvider time, IEnumerable<ICaptureStep> steps, TraceMetrics metrics,
    LedgerAppends appends)
    : ICommandHandler<CaptureEpcisDocument.Command, IReadOnlyList<CaptureReceipt>>
{
    /// <summary>A parsed document and who sends it; the receipts come back in the document's event order.</summary>
    public sealed record Command(EpcisDocument Document, Caller Caller) : ICommand<IReadOnlyList<CaptureReceipt>>;

    /// <summary>The document from the body's UTF-8 bytes (already checked to be valid UTF-8), by its media type.</summary>
    public static EpcisDocument Parse(ReadOnlyMemory<byte> body, string? contentType)
    {
        var media = (contentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        try
        {
            return media switch
            {
                "application/json" or "application/ld+json" => EpcisParser.ParseJson(body),
                "application/xml" or "text/xml" => EpcisParser.ParseXml(System.Text.Encoding.UTF8.GetString(body.Span)),
                _ => throw new UnsupportedMediaTypeException(
                    $"Content-Type '{media}' is not supported: send application/json, application/ld+json or application/xml."),
            };
        }
        catch (EpcisFormatException e) when (e.EventIndex is not null && media is "application/json" or "application/ld+json")
        {
            throw EveryBadEvent(System.Text.Encoding.UTF8.GetString(body.Span), e);
        }
        catch (EpcisFormatException e)
        {
            var field = e.Field ?? "document";
            throw new RequestValidationException("The EPCIS document is malformed", [new FieldError(field, e.Message, e.EventIndex)], unprocessable: e.EventIndex is not null);
        }
    }

    /// <summary>
    /// The parser stops at the first bad event; to list every bad event with its field, parse each event of the
    /// eventList on its own (with the document's @context) and validate the ones that parse.
    /// </summary>
    private static RequestValidationException EveryBadEvent(string body, EpcisFormatException first)
    {
        try
        {
            return EveryBadEventOf(body, first);
        }
        catch (InvalidOperationException e)
        {
            // a lone surrogate escape elsewhere in the document: the parser stopped at the bad event before reading it
            return new RequestValidationException("The EPCIS document is malformed",
                [new FieldError("document", $"invalid JSON: a string or key is not valid Unicode (a lone surrogate escape such as \\ud800): {e.Message}")]);
        }
    }

    private static RequestValidationException EveryBadEventOf(string body, EpcisFormatException first)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(body, documentOptions: EpcisParser.DocumentOptions)!.AsObject();
        var list = (root["epcisBody"]?["eventList"] ?? root["epcisBody"]?["queryResults"]?["resultsBody"]?["eventList"])?.AsArray();
        if (list is null) return new RequestValidationException("The EPCIS document is malformed", [new FieldError(first.Field ?? "event", first.Message, first.EventIndex)], true);
        var errors = new List<FieldError>();
        var parsed = new List<(int, EpcisEvent)>();
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not System.Text.Json.Nodes.JsonObject e)
            {
                errors.Add(new FieldError("event", "An event must be a JSON object.", i));
                continue;
            }
            var standalone = (System.Text.Json.Nodes.JsonObject)e.DeepClone();
            if (root["@context"] is { } context && !standalone.ContainsKey("@context")) standalone["@context"] = context.DeepClone();
            try { parsed.Add((i, EpcisParser.ParseEventJson(standalone.ToJsonString()))); }
            catch (EpcisFormatException ex) { errors.Add(new FieldError(ex.Field ?? "event", ex.Message, i)); }
        }
        errors.AddRange(EpcisEventValidator.Check(parsed).Errors);
        if (errors.Count == 0) errors.Add(new FieldError(first.Field ?? "event", first.Message, first.EventIndex));
        return EpcisEventValidator.Rejection(errors.OrderBy(e => e.Index).ThenBy(e => e.Field, StringComparer.Ordinal).ToList(), list.Count);
    }

    public async ValueTask<IReadOnlyList<CaptureReceipt>> Handle(Command command, CancellationToken ct)
    {
        var (document, caller) = command;
        if (document.Events.Count == 0)
            throw RequestValidationException.ForField("epcisBody.eventList", "The document holds no event.");
        if (document.Events.Count > options.CaptureMaxEvents)
            throw new PayloadTooLargeException($"The document holds {document.Events.Count} events; at most {options.CaptureMaxEvents} are accepted in one capture.");

        var started = time.GetTimestamp();
        var validated = EpcisEventValidator.ValidateAll(document.Events, options.StrictEventIds);
        CrashPoints.Hit(CrashPoints.CaptureAfterValidate);
        return await AppendValidatedAsync(validated, caller, ct, started);
    }

    /// <summary>
    /// Appends events already validated (in one transaction, all or nothing), as <see cref="Handle"/> does after
    /// validating; each event's Index is its position in the list. <paramref name="started"/>: when the capture began
    /// (a <see cref="TimeProvider"/> timestamp) for the capture-duration metric; now when omitted.
    /// </summary>
    public async Task<IReadOnlyList<CaptureReceipt>> AppendValidatedAsync(IReadOnlyList<ValidatedEvent> validated, Caller caller, CancellationToken ct, long? started = null)
    {
        var since = started ?? time.GetTimestamp();
        (IReadOnlyList<CaptureReceipt> Receipts, int Appended) result;
        using (await writeLock.AcquireAsync(ct)) result = await AppendAsync(validated, caller, ct);
        if (result.Appended > 0) appends.Appended(); // committed: the subscription dispatcher delivers now rather than at its next poll
        checkpointer.Appended(validated.Count); // SQLite: the WAL is copied into the database file in the background
        metrics.EventsCaptured(result.Appended, time.GetElapsedTime(since));
        return [.. result.Receipts.Select((r, i) => validated[i].Warning is { } w ? r with { Warning = w } : r)];
    }

    /// <summary>Appends the events not captured before; their receipts, in document order, and how many were appended.</summary>
    private async Task<(IReadOnlyList<CaptureReceipt> Receipts, int Appended)> AppendAsync(IReadOnlyList<ValidatedEvent> validated, Caller caller, CancellationToken ct)
    {
        var conn = await writeLock.ConnectionAsync(db, ct);
        var postgres = conn is not SqliteConnection; // the connection says it without setting up the DbContext
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (postgres) await Sql.ExecAsync(conn, tx, "SELECT pg_advisory_xact_lock(7245001)", ct); // one appender across instances

        var recordTime = time.GetUtcNow();
        var recordTimeText = DbTime.Format(recordTime);
        recordTime = DbTime.Parse(recordTimeText);
        var next = await Sql.LongAsync(conn, tx, "SELECT COALESCE(MAX(sequence), 0) FROM events", ct) + 1;

        // SQLite: events captured before are found through the in-memory map of hashes (EventHashIndex); PostgreSQL:
        // through its unique index, by inserting first (an event captured before inserts nothing) and reading only then.
        var known = postgres ? null : hashIndex;
        if (known is not null) await known.LoadAsync(conn, tx, ct);
        var insertEvent = known is not null
            ? "INSERT INTO events (sequence, event_hash, event_id, event_type, event_time, record_time, biz_step, disposition, read_point, biz_location, submitter_id, json, hash_key) " +
              "VALUES (@s, @h, @id, @t, @et, @rt, @bs, @d, @rp, @bl, @sub, @j, @k)"
            : "INSERT INTO events (sequence, event_hash, event_id, event_type, event_time, record_time, biz_step, disposition, read_point, biz_location, submitter_id, json) " +
              "VALUES (@s, @h, @id, @t, @et, @rt, @bs, @d, @rp, @bl, @sub, @j) ON CONFLICT (event_hash) DO NOTHING";
        var insertEpc = known is not null
            ? "INSERT OR IGNORE INTO event_epcs (epc, sequence, role) VALUES (@e, @s, @r)"
            : "INSERT INTO event_epcs (epc, sequence, role) VALUES (@e, @s, @r) ON CONFLICT DO NOTHING";

        var pipeline = steps.ToArray();
        await using var context = new CaptureContext(conn, tx, caller, recordTime);
        foreach (var step in pipeline) await step.BeginAsync(context, validated, ct);

        var receipts = new CaptureReceipt[validated.Count];
        var inThisDocument = new Dictionary<string, CaptureReceipt>(StringComparer.Ordinal);
        var appended = new List<(string EventHash, long Sequence)>(validated.Count);
        foreach (var v in validated)
        {
            if (inThisDocument.TryGetValue(v.EventHash, out var same)) { receipts[v.Index] = same; continue; }
            if (known?.Candidate(v.EventHash) is { } candidate && await FirstReceiptAsync(context, v.EventHash, candidate, ct) is { } earlier)
            {
                receipts[v.Index] = inThisDocument[v.EventHash] = earlier; // captured before: its first receipt; no sequence used
                continue;
            }

            var e = v.Event;
            var sequence = next;
            var eventId = e.EventId ?? v.EventHash;
            (string, object?)[] row = [("@s", sequence), ("@h", v.EventHash), ("@id", eventId), ("@t", e.Type), ("@et", DbTime.Format(e.EventTime)),
                ("@rt", recordTimeText), ("@bs", e.BizStep), ("@d", e.Disposition), ("@rp", e.ReadPoint), ("@bl", e.BizLocation), ("@sub", caller.MemberId),
                ("@j", v.Json)];
            if (known is not null) row = [.. row, ("@k", EventHashIndex.Key(v.EventHash))];
            if (await context.ExecAsync(insertEvent, ct, row) == 0)
            {
                receipts[v.Index] = inThisDocument[v.EventHash] = await FirstReceiptAsync(context, v.EventHash, null, ct)
                    ?? throw new InvalidOperationException($"event {v.EventHash} was neither inserted nor found");
                continue;
            }

            next++;
            appended.Add((v.EventHash, sequence));
            foreach (var (epc, role) in v.Identifiers) await context.ExecAsync(insertEpc, ct, ("@e", epc), ("@s", sequence), ("@r", role));
            receipts[v.Index] = inThisDocument[v.EventHash] = new CaptureReceipt(eventId, v.EventHash, sequence, recordTime);
            foreach (var step in pipeline) await step.ApplyAsync(context, new AppendedEvent(sequence, v), ct);
        }
        foreach (var step in pipeline) await step.CompleteAsync(context, ct);

        if (context.Violations.Count > 0)
        {
            await tx.RollbackAsync(ct);
            var bad = context.Violations.Select(e => e.Index).Distinct().Count();
            throw new RequestValidationException($"{bad} of {validated.Count} events break a rule; nothing was stored",
                context.Violations.OrderBy(e => e.Index).ToList(), unprocessable: true) { Type = "rule-violation" };
        }
        CrashPoints.Hit(CrashPoints.CaptureAfterInsertBeforeCommit);
        await tx.CommitAsync(ct);
        CrashPoints.Hit(CrashPoints.CaptureAfterCommitBeforeResponse);
        known?.Add(appended);
        return (receipts, appended.Count);
    }

    /// <summary>
    /// The receipt of the stored event with this hash: at <paramref name="sequence"/> (a candidate from the hash map,
    /// null when its hash differs), or (without a sequence) looked up by hash.
    /// </summary>
    private static async Task<CaptureReceipt?> FirstReceiptAsync(CaptureContext context, string eventHash, long? sequence, CancellationToken ct)
    {
        var rows = sequence is { } s
            ? await context.ListAsync("SELECT sequence, event_id, record_time, event_hash FROM events WHERE sequence = @s", ReadReceipt, ct, ("@s", s))
            : await context.ListAsync("SELECT sequence, event_id, record_time, event_hash FROM events WHERE event_hash = @h", ReadReceipt, ct, ("@h", eventHash));
        return rows.FirstOrDefault(r => r.EventHash == eventHash);
    }

    private static CaptureReceipt ReadReceipt(DbDataReader r) =>
        new(r.IsDBNull(1) ? r.GetString(3) : r.GetString(1), r.GetString(3), r.GetInt64(0), DbTime.Parse(r.GetString(2)));
}
