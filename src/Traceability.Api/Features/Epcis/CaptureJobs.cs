using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Reliability;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Epcis;

/// <summary>The state of a capture job, as the binding's CaptureJob schema names it (plus what was captured).</summary>
public sealed record CaptureJobView(string CaptureID, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt, bool Running, bool Success,
    string CaptureErrorBehaviour, int EventCount, int Captured, JsonArray Errors, JsonArray Receipts);

/// <summary>What a capture job was given: the document, or the problem that stopped its events before validation.</summary>
public sealed record CaptureJobRequest(EpcisDocument? Document, RequestValidationException? Unreadable, bool Proceed);

/// <summary>
/// POST /epcis/capture: the document is captured during the request (as /api/v1/capture does: same parsing, validation,
/// hashing, custody rules, member signature, sequence and anchoring), recorded as a job in capture_jobs, and answered 202
/// with the job's Location. <c>rollback</c> (the default): all or nothing. <c>proceed</c>: each event valid on its own is
/// captured on its own, in document order; the job lists the events that failed, one problem each. The job's receipts
/// are those /api/v1/capture answers: with the anchoring deadline and the service's signature (<see cref="IReceiptPromise"/>).
/// </summary>
public sealed class SubmitCaptureJob(TraceDbContext db, CaptureEpcisDocument capture, CaptureSignature signature, IReceiptPromise promises, TraceOptions options,
    TimeProvider time)
{
    public const string ValidationType = "epcisException:ValidationException";

    public async Task<string> HandleAsync(CaptureJobRequest request, Caller caller, CancellationToken ct)
    {
        var id = "id" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var count = request.Document?.Events.Count ?? 0;
        var conn = await Sql.OpenAsync(db, ct);
        await Sql.ExecAsync(conn, null, "INSERT INTO capture_jobs (id, submitter_id, error_behaviour, running, success, created_at, event_count) " +
            "VALUES (@id, @m, @b, 1, 1, @t, @n)", ct, ("@id", id), ("@m", caller.MemberId), ("@b", request.Proceed ? "proceed" : "rollback"),
            ("@t", DbTime.Format(time.GetUtcNow())), ("@n", count));

        var errors = new JsonArray();
        var receipts = new List<CaptureReceipt?>(new CaptureReceipt?[count]);
        if (request.Unreadable is { } unreadable) errors.Add(Problem(unreadable, null));
        else if (!request.Proceed)
        {
            try
            {
                var all = await capture.Handle(new CaptureEpcisDocument.Command(request.Document!, caller), ct);
                for (var i = 0; i < all.Count; i++) receipts[i] = all[i];
            }
            catch (RequestValidationException e) { errors.Add(Problem(e, null)); }
            catch (PayloadTooLargeException e) { errors.Add(new JsonObject { ["type"] = "epcisException:CaptureLimitExceededException", ["title"] = "Capture limit exceeded", ["status"] = 413, ["detail"] = e.Message }); }
        }
        else
        {
            var events = request.Document!.Events;
            var (valid, invalid) = EpcisEventValidator.Check(events.Select((e, i) => (i, e)).ToList(), options.StrictEventIds);
            foreach (var group in invalid.GroupBy(e => e.Index))
                errors.Add(Problem(EpcisEventValidator.Rejection(group.ToList(), 1), group.Key));
            var (leaves, leafProblem) = signature.Signature is null ? (null, null) : SignedLeaves(events);
            if (leafProblem is not null) errors.Add(Problem(leafProblem, null));
            else
            {
                // the signature is over the whole document: each event's capture checks it against the document's tree
                if (leaves is not null) signature.CoverDocument(leaves);
                foreach (var v in valid.Where(v => v is not null).OrderBy(v => v.Index))
                {
                    try { receipts[v.Index] = (await capture.AppendValidatedAsync([v with { Index = 0 }], caller, ct))[0]; }
                    catch (RequestValidationException e) when (e.Errors.Count > 0 && e.Errors.All(x => x.Field == CaptureSignature.Header))
                    {
                        // the document's signature (or its absence) is refused: the same for every event, so once, and no more attempts
                        errors.Add(Problem(e, null, receipts.Any(r => r is not null) ? $"Events from index {v.Index} on were not captured." : null));
                        break;
                    }
                    catch (RequestValidationException e)
                    {
                        errors.Add(Problem(new RequestValidationException(e.Message, e.Errors.Select(x => x with { Index = v.Index }).ToList(), e.Unprocessable) { Type = e.Type }, v.Index));
                    }
                }
            }
        }

        var signed = await promises.SignAsync(receipts.OfType<CaptureReceipt>().ToList(), ct);
        for (int i = 0, k = 0; i < receipts.Count; i++)
            if (receipts[i] is not null) receipts[i] = signed[k++];
        var captured = receipts.Count(r => r is not null);
        CrashPoints.Hit(CrashPoints.EpcisJobAfterCaptureBeforeRecord);
        await Sql.ExecAsync(conn, null, "UPDATE capture_jobs SET running = 0, success = @s, finished_at = @f, captured = @c, errors_json = @e, receipts_json = @r WHERE id = @id", ct,
            ("@s", errors.Count == 0 ? 1 : 0), ("@f", DbTime.Format(time.GetUtcNow())), ("@c", captured), ("@e", errors.ToJsonString()),
            ("@r", JsonSerializer.Serialize(receipts, JsonSerializerOptions.Web)), ("@id", id));
        return id;
    }

    /// <summary>
    /// The leaves of a signed document appended event by event: every event's CBV 2.0 hash in document order (as the
    /// member's signer computed them), or the problem when one cannot be computed (that event is listed as invalid too).
    /// </summary>
    private static (IReadOnlyList<string>? Hashes, RequestValidationException? Problem) SignedLeaves(IReadOnlyList<EpcisEvent> events)
    {
        var hashes = new string[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            try { hashes[i] = EventHash.Compute(events[i]); }
            catch (Exception e) when (e is FormatException or EpcisFormatException or ArgumentException)
            {
                return (null, new RequestValidationException("The document's signature cannot be checked; nothing was stored",
                    [new FieldError(CaptureSignature.Header, $"Event {i}'s CBV 2.0 hash cannot be computed ({e.Message}), so the tree the signature is over cannot be rebuilt.", i)],
                    unprocessable: true));
            }
        }
        return (hashes, null);
    }

    /// <summary>A refusal as an RFC 7807 problem of the job: which event (for proceed), and each field and rule at fault.</summary>
    private static JsonObject Problem(RequestValidationException e, int? index, string? detail = null)
    {
        var problem = new JsonObject
        {
            ["type"] = e.Type == "rule-violation" ? ProblemDetailsExceptionHandler.TypeBase + "rule-violation" : ValidationType,
            ["title"] = e.Message,
            ["status"] = e.Unprocessable ? 422 : 400,
            ["detail"] = detail ?? (index is { } i ? $"Event {i} was not captured." : "No event of the document was captured."),
        };
        if (index is not null) problem["index"] = index;
        problem["errors"] = new JsonArray(e.Errors.Select(x => (JsonNode)new JsonObject
        {
            ["index"] = x.Index, ["field"] = x.Field, ["message"] = x.Message, ["rule"] = x.Rule, ["epc"] = x.Epc,
        }).ToArray());
        return problem;
    }
}

/// <summary>GET /epcis/capture/{id} and GET /epcis/capture: the caller's jobs (every job for the admin and regulators).</summary>
public sealed class ReadCaptureJobs(TraceDbContext db)
{
    private const string Columns = "id, error_behaviour, running, success, created_at, finished_at, event_count, captured, errors_json, receipts_json";

    public async Task<CaptureJobView> HandleAsync(string id, Caller caller, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null, $"SELECT {Columns}, submitter_id FROM capture_jobs WHERE id = @id", r => (View: Read(r), Submitter: r.GetString(10)), ct, ("@id", id));
        if (rows.Count == 0 || (!caller.SeesEverything && rows[0].Submitter != caller.MemberId))
            throw EpcisException.NoSuchResource($"Capture job '{id}' was not found.");
        return rows[0].View;
    }

    /// <summary>The jobs after <paramref name="after"/> (created_at and id, newest first), at most <paramref name="perPage"/>, and whether more follow.</summary>
    public async Task<(IReadOnlyList<CaptureJobView> Jobs, bool More)> ListAsync(Caller caller, (string CreatedAt, string Id)? after, int perPage, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        var where = new List<string>();
        var args = new List<(string, object?)>();
        if (!caller.SeesEverything) { where.Add("submitter_id = @m"); args.Add(("@m", caller.MemberId)); }
        if (after is { } a) { where.Add("(created_at, id) < (@c, @i)"); args.Add(("@c", a.CreatedAt)); args.Add(("@i", a.Id)); }
        var sql = $"SELECT {Columns} FROM capture_jobs" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") +
            $" ORDER BY created_at DESC, id DESC LIMIT {perPage + 1}";
        var jobs = await Sql.ListAsync(conn, null, sql, Read, ct, [.. args]);
        var more = jobs.Count > perPage;
        if (more) jobs.RemoveAt(jobs.Count - 1);
        return (jobs, more);
    }

    private static CaptureJobView Read(System.Data.Common.DbDataReader r) => new(
        r.GetString(0), DbTime.Parse(r.GetString(4)), r.Str(5) is { } f ? DbTime.Parse(f) : null, r.GetInt64(2) != 0, r.GetInt64(3) != 0,
        r.GetString(1), (int)r.GetInt64(6), (int)r.GetInt64(7), JsonNode.Parse(r.GetString(8))!.AsArray(),
        JsonNode.Parse(r.GetString(9))!.AsArray()); // null where an event of a proceed job was not captured
}

/// <summary>
/// SQLite: a job still marked running at start-up was cut off by the stop of the service that ran it (one service per
/// file): it is marked failed. The job row is written after the capture's own transaction, so a rollback job's document
/// may be stored whole or not at all (never in part), and a proceed job's events up to the stop are; /epcis/events finds
/// them, and sending the document again stores only what is missing (an event captured before gets its first receipt).
/// PostgreSQL: other instances may be running jobs, so nothing is touched.
/// </summary>
public sealed class InterruptedCaptureJobs(IServiceScopeFactory scopes, TraceOptions options, TimeProvider time) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        if (options.UsesPostgres) return;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
        var problem = new JsonArray(new JsonObject
        {
            ["type"] = "epcisException:ImplementationException", ["title"] = "Capture interrupted", ["status"] = 500,
            ["detail"] = "The service stopped while the job was running: its events may or may not be stored (a rollback job's all or none). " +
                "Send the document again: events stored before are answered with their first receipts, not stored twice.",
        }).ToJsonString();
        await Sql.ExecAsync(await Sql.OpenAsync(db, ct), null, "UPDATE capture_jobs SET running = 0, success = 0, finished_at = @f, errors_json = @e WHERE running = 1", ct,
            ("@f", DbTime.Format(time.GetUtcNow())), ("@e", problem));
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
