using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Epcis;

/// <summary>
/// Webhook subscriptions: to a named query (<c>stream</c>: every new matching event; <c>schedule</c>: the new matching
/// events at each run, an empty document too with <c>reportIfEmpty</c>), and to alerts. A subscription starts after the
/// last event recorded when it is made (or at its <c>initialRecordTime</c>); <see cref="SubscriptionDispatcher"/> delivers.
/// </summary>
public sealed class Subscriptions(TraceDbContext db, TraceOptions options, TimeProvider time)
{
    public const int MaxSignatureToken = 256;
    public const int DefaultBatch = 500;

    private const string Columns = "id, query_name, alert_types, dest, stream, schedule_json, report_if_empty, epc_format, initial_record_time, created_at, " +
        "last_notified_at, delivered, next_due_at, failures, total_failures, last_error, next_attempt_at, delivered_through";

    /// <summary>POST /epcis/queries/{name}/subscriptions: the new subscription's id.</summary>
    public async Task<string> SubscribeToQueryAsync(NamedQuery query, JsonObject body, EpcFormat format, Caller caller, CancellationToken ct)
    {
        Fields(body, "dest", "signatureToken", "reportIfEmpty", "stream", "schedule", "initialRecordTime");
        var (dest, token) = Common(body);
        var stream = body["stream"] switch
        {
            null => false,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            _ => throw Invalid("stream: true or false."),
        };
        var reportIfEmpty = body["reportIfEmpty"] switch
        {
            null => false,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            _ => throw Invalid("reportIfEmpty: true or false."),
        };
        QuerySchedule? schedule = body["schedule"] switch
        {
            null => null,
            JsonObject o => QuerySchedule.Parse(o),
            _ => throw Invalid("schedule: an object such as {\"hour\":\"1\",\"minute\":\"5\"}."),
        };
        if (stream == (schedule is not null))
            throw Invalid(stream ? "give either stream: true or a schedule, not both." : "give stream: true (every new matching event) or a schedule (the new events at each run).");
        if (stream && reportIfEmpty) throw Invalid("reportIfEmpty: applies to a schedule only (a stream is sent events as they come).");
        var now = time.GetUtcNow();
        var due = schedule?.Next(now);
        if (schedule is not null && due is null) throw Invalid("schedule: it never runs (no such date within 5 years).");
        DateTimeOffset? initial = body["initialRecordTime"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var t) && s.Length >= 20 => t,
            _ => throw Invalid("initialRecordTime: an RFC 3339 date-time with an offset."),
        };
        return await InsertAsync(caller, dest, token, query.Name, null, stream, schedule?.Definition.ToJsonString(), reportIfEmpty, format, initial, due, ct);
    }

    /// <summary>POST /epcis/alerts/subscriptions {dest, signatureToken, types}.</summary>
    public async Task<string> SubscribeToAlertsAsync(JsonObject body, Caller caller, CancellationToken ct)
    {
        Fields(body, "dest", "signatureToken", "types");
        var (dest, token) = Common(body);
        var types = body["types"] switch
        {
            null => AlertTypes.All.ToList(),
            JsonArray a when a.Count > 0 && a.All(x => x is JsonValue v && v.TryGetValue<string>(out var s) && AlertTypes.All.Contains(s)) =>
                a.Select(x => x!.GetValue<string>()).Distinct().ToList(),
            _ => throw Invalid($"types: a non-empty array of {string.Join(", ", AlertTypes.All)} (or leave it out for all)."),
        };
        return await InsertAsync(caller, dest, token, null, string.Join(",", types), true, null, false, EpcFormat.AsCaptured, null, null, ct);
    }

    private async Task<string> InsertAsync(Caller caller, string dest, string? token, string? queryName, string? alertTypes, bool stream, string? schedule,
        bool reportIfEmpty, EpcFormat format, DateTimeOffset? initial, DateTimeOffset? due, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        if (await Sql.LongAsync(conn, null, "SELECT COUNT(*) FROM subscriptions WHERE member_id = @m", ct, ("@m", caller.MemberId)) >= options.SubscriptionsPerMember)
            throw new EpcisException(400, "SubscriptionControlsException", "Too many subscriptions",
                $"A member keeps at most {options.SubscriptionsPerMember} subscriptions (TRACE_SUBSCRIPTIONS_PER_MEMBER); delete one first.");
        // where the subscription starts: after the last event (alert) there is now, or the last one recorded before initialRecordTime
        long start;
        if (alertTypes is not null) start = await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(id), 0) FROM alerts", ct);
        else if (initial is { } t)
        {
            start = await Sql.LongAsync(conn, null, "SELECT COALESCE((SELECT sequence FROM events WHERE record_time < @t ORDER BY record_time DESC, sequence DESC LIMIT 1), 0)", ct,
                ("@t", DbTime.Format(t)));
        }
        else start = await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(sequence), 0) FROM events", ct);
        var id = Guid.NewGuid().ToString();
        await Sql.ExecAsync(conn, null,
            "INSERT INTO subscriptions (id, member_id, query_name, alert_types, dest, signature_token, stream, schedule_json, report_if_empty, epc_format, " +
            "initial_record_time, delivered_through, batch_limit, created_at, next_due_at) VALUES (@id, @m, @q, @a, @d, @s, @st, @sc, @r, @f, @i, @c, @b, @t, @due)", ct,
            ("@id", id), ("@m", caller.MemberId), ("@q", queryName), ("@a", alertTypes), ("@d", dest), ("@s", token), ("@st", stream ? 1 : 0), ("@sc", schedule),
            ("@r", reportIfEmpty ? 1 : 0), ("@f", EpcisDocuments.HeaderValue(format)), ("@i", initial is { } i ? DbTime.Format(i) : null), ("@c", start),
            ("@b", DefaultBatch), ("@t", DbTime.Format(time.GetUtcNow())), ("@due", due is { } d ? DbTime.Format(d) : null));
        return id;
    }

    /// <summary>The caller's subscriptions to a named query (<paramref name="queryName"/>) or to alerts (null).</summary>
    public async Task<JsonArray> ListAsync(string? queryName, Caller caller, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null,
            $"SELECT {Columns} FROM subscriptions WHERE member_id = @m AND " + (queryName is null ? "alert_types IS NOT NULL" : "query_name = @q") + " ORDER BY created_at, id",
            View, ct, ("@m", caller.MemberId), ("@q", queryName));
        return new JsonArray([.. rows]);
    }

    public async Task<JsonObject> GetAsync(string? queryName, string id, Caller caller, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null,
            $"SELECT {Columns} FROM subscriptions WHERE id = @id AND member_id = @m AND " + (queryName is null ? "alert_types IS NOT NULL" : "query_name = @q"),
            View, ct, ("@id", id), ("@m", caller.MemberId), ("@q", queryName));
        return rows.Count > 0 ? rows[0] : throw EpcisException.NoSuchResource($"You have no subscription '{id}' here.");
    }

    public async Task DeleteAsync(string? queryName, string id, Caller caller, CancellationToken ct)
    {
        await GetAsync(queryName, id, caller, ct);
        await Sql.ExecAsync(await Sql.OpenAsync(db, ct), null, "DELETE FROM subscriptions WHERE id = @id AND member_id = @m", ct, ("@id", id), ("@m", caller.MemberId));
    }

    /// <summary>A subscription as GET answers it: the binding's fields (never the signatureToken) and how its deliveries go.</summary>
    private static JsonObject View(System.Data.Common.DbDataReader r)
    {
        var o = new JsonObject { ["subscriptionID"] = r.GetString(0) };
        if (r.Str(1) is { } q) o["queryName"] = q;
        if (r.Str(2) is { } types) o["types"] = new JsonArray([.. types.Split(',').Select(t => (JsonNode)t)]);
        o["dest"] = r.GetString(3);
        if (r.GetInt64(4) != 0) o["stream"] = true;
        if (r.Str(5) is { } schedule)
        {
            o["schedule"] = JsonNode.Parse(schedule);
            o["reportIfEmpty"] = r.GetInt64(6) != 0;
        }
        if (r.Str(1) is not null) o["epcFormat"] = r.GetString(7);
        if (r.Str(8) is { } initial) o["initialRecordTime"] = initial;
        o["createdAt"] = r.GetString(9);
        o["lastNotifiedAt"] = r.Str(10);
        o["delivered"] = r.GetInt64(11);
        if (r.Str(12) is { } due) o["nextRunAt"] = due;
        o["failures"] = r.GetInt64(13);
        o["totalFailures"] = r.GetInt64(14);
        o["lastError"] = r.Str(15);
        o["nextAttemptAt"] = r.Str(16);
        return o;
    }

    private static void Fields(JsonObject body, params string[] known)
    {
        foreach (var (key, _) in body)
            if (!known.Contains(key)) throw Invalid($"'{key}' is not a field of a subscription ({string.Join(", ", known)}).");
    }

    private (string Dest, string? Token) Common(JsonObject body)
    {
        var dest = body["dest"] is JsonValue d && d.TryGetValue<string>(out var s) ? s : null;
        if (WebhookDestination.Problem(dest, options.SubscriptionAllowLoopback) is { } problem) throw Invalid("dest: " + problem);
        string? token = body["signatureToken"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var t) && t.Length is >= 1 and <= MaxSignatureToken => t,
            _ => throw Invalid($"signatureToken: a string of 1 to {MaxSignatureToken} characters."),
        };
        return (dest!, token);
    }

    private static EpcisException Invalid(string detail) => new(400, "SubscriptionControlsException", "Invalid subscription", detail);
}
