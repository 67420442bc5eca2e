using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Epcis;

/// <summary>One subscription as the dispatcher reads it, with its named query's definition (null for alerts, or when the query was deleted).</summary>
public sealed record DueSubscription(string Id, string MemberId, string? QueryName, string? AlertTypes, string Dest, string? SignatureToken, bool Stream,
    string? ScheduleJson, bool ReportIfEmpty, EpcFormat Format, long DeliveredThrough, int BatchLimit, int Failures, string? QueryJson);

/// <summary>
/// Delivers subscriptions: when a capture in this process commits (<see cref="LedgerAppends"/>), and at the latest every
/// <see cref="PollInterval"/>, it finds the subscriptions with something to send (a stream behind the ledger's last
/// sequence, a schedule that is due, alerts behind the last alert id) and POSTs each its next batch, as the subscriber
/// sees it at that moment, signed with its signatureToken.
/// <para>The guarantee: a subscription's position (<c>delivered_through</c>) moves only in the statement that records a
/// delivery its receiver acknowledged (2xx), and only from the position the batch was read from, so a restart resumes
/// after the last acknowledged batch: nothing acknowledged is sent again and nothing is skipped. Over the network it is
/// at least once: if the service stops between the receiver's 2xx and that statement (a crash: a graceful stop lets
/// deliveries in flight finish first), that batch is sent again; receivers that must not see an event twice keep the
/// eventIDs they have. A failed delivery is retried after 1, 2, 4, ... seconds (at most <see cref="MaxBackoff"/>) for as
/// long as the subscription exists; its failures are counted on GET.</para>
/// <para>The state is in the database, not in the job system: Hangfire's schedules run at most once a second, and its
/// SQLite storage is in memory, so a queue of deliveries would be lost at a restart anyway. With PostgreSQL, every
/// instance runs a dispatcher and a lease (<c>lease_until</c>) gives each subscription to one of them at a time; with
/// SQLite one service owns the file and its one dispatcher loop needs none.</para>
/// </summary>
public sealed class SubscriptionDispatcher(IServiceScopeFactory scopes, IHttpClientFactory clients, TraceOptions options, TimeProvider time,
    LedgerAppends appends, CaptureWriteLock writeLock, ILogger<SubscriptionDispatcher> log) : BackgroundService
{
    public const string ClientName = "epcis-webhooks";

    /// <summary>
    /// How long the loop waits when no capture of this process wakes it: the bound on the delay of what no commit here
    /// signals (schedules coming due, retries, alerts raised outside a capture, other instances' captures on PostgreSQL).
    /// </summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The shortest time between the start of a pass that found nothing to send and the next pass: under single-code
    /// scans commits come hundreds of times a second, and each pass opens a connection and runs three queries (5% of the
    /// service's CPU per scan with no subscription at all). A stream subscription still hears of a commit within this.
    /// </summary>
    public static readonly TimeSpan IdlePassInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(30); // one subscription's turn, so that a backlog does not hold the lease for long
    private const int Parallelism = 8;

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var busy = false;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try { busy = await RunOnceAsync(stopping); }
            catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
            {
                log.LogWarning(e, "Subscription dispatch failed; retrying");
            }
            if (busy) continue; // a pass that delivered looks again at once: events captured meanwhile are waiting
            try
            {
                await appends.WaitAsync(PollInterval, stopping);
                var since = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                if (since < IdlePassInterval) await Task.Delay(IdlePassInterval - since, stopping); // commits after this one wait for the same pass
            }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>One pass: claims the subscriptions with something to send and delivers them, a few at a time; false when there was nothing to do.</summary>
    public async Task<bool> RunOnceAsync(CancellationToken stopping)
    {
        List<DueSubscription> due;
        long lastEvent, lastAlert;
        var now = time.GetUtcNow();
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
            var conn = await Sql.OpenAsync(db, stopping);
            lastEvent = await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(sequence), 0) FROM events", stopping);
            lastAlert = await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(id), 0) FROM alerts", stopping);
            var at = DbTime.Format(now);
            var candidates = await Sql.ListAsync(conn, null,
                "SELECT s.id, s.member_id, s.query_name, s.alert_types, s.dest, s.signature_token, s.stream, s.schedule_json, s.report_if_empty, s.epc_format, " +
                "s.delivered_through, s.batch_limit, s.failures, q.query_json " +
                "FROM subscriptions s LEFT JOIN epcis_queries q ON q.member_id = s.member_id AND q.name = s.query_name " +
                "WHERE (s.next_attempt_at IS NULL OR s.next_attempt_at <= @now) AND (s.lease_until IS NULL OR s.lease_until < @now) AND (" +
                "(s.query_name IS NOT NULL AND s.stream = 1 AND s.delivered_through < @e) OR (s.query_name IS NOT NULL AND s.stream = 0 AND s.next_due_at <= @now) OR " +
                "(s.alert_types IS NOT NULL AND s.delivered_through < @a))",
                r => new DueSubscription(r.GetString(0), r.GetString(1), r.Str(2), r.Str(3), r.GetString(4), r.Str(5), r.GetInt64(6) != 0, r.Str(7), r.GetInt64(8) != 0,
                    r.GetString(9) == "Always_GS1_Digital_Link" ? EpcFormat.DigitalLink : EpcFormat.AsCaptured, r.GetInt64(10), (int)r.GetInt64(11), (int)r.GetInt64(12), r.Str(13)),
                stopping, ("@now", at), ("@e", lastEvent), ("@a", lastAlert));
            // SQLite: this loop is the file's only dispatcher, so no lease is written (a write waits behind captures)
            due = options.UsesPostgres ? [] : candidates;
            foreach (var c in options.UsesPostgres ? candidates : [])
            {
                var claimed = await Sql.ExecAsync(conn, null, "UPDATE subscriptions SET lease_until = @until WHERE id = @id AND (lease_until IS NULL OR lease_until < @now)", stopping,
                    ("@until", DbTime.Format(now + Lease)), ("@id", c.Id), ("@now", at));
                if (claimed == 1) due.Add(c);
            }
        }
        if (due.Count == 0) return false;
        // Deliveries in flight are not cancelled by a stop (they end within their timeout): cutting one after the
        // receiver took it but before it is recorded would send it again after the restart.
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (s, _) =>
        {
            try { await DeliverAsync(s, lastEvent, lastAlert, stopping); }
            catch (Exception e)
            {
                // counted and backed off like a refused delivery, so that a fault of ours does not spin the loop
                log.LogWarning(e, "Delivery to subscription {Subscription} failed", s.Id);
                await using var scope = scopes.CreateAsyncScope();
                await FailAsync(scope.ServiceProvider.GetRequiredService<TraceDbContext>(), s, "the repository could not prepare the delivery: " + e.Message, null);
            }
            finally { if (options.UsesPostgres) await ReleaseAsync(s.Id); }
        });
        return true;
    }

    private async Task ReleaseAsync(string id)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
        await Sql.ExecAsync(await Sql.OpenAsync(db, default), null, "UPDATE subscriptions SET lease_until = NULL WHERE id = @id", default, ("@id", id));
    }

    /// <summary>Sends the subscription's batches up to the ledger's last event (alert) until it is caught up, a delivery fails, or its turn is over.</summary>
    private async Task DeliverAsync(DueSubscription s, long lastEvent, long lastAlert, CancellationToken stopping)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
        if (s.QueryName is not null && s.QueryJson is null) return; // the query was deleted (with its subscriptions) meanwhile
        var caller = await SubscriberAsync(db, s.MemberId);
        if (caller is null) { await FailAsync(db, s, "the subscriber is no longer a member", null); return; }
        // the definition once per turn: a query deleted meanwhile takes its subscriptions with it, so the position update below finds no row and ends the turn
        var query = s.QueryJson is { } json ? NamedQueries.Parse(JsonNode.Parse(json)!.AsObject()) : null;
        var started = System.Diagnostics.Stopwatch.StartNew();
        var position = s.DeliveredThrough;
        var batch = Math.Max(1, s.BatchLimit);
        var first = true;
        while (started.Elapsed < Budget && !stopping.IsCancellationRequested)
        {
            Batch next;
            next = query is null
                ? await AlertsAsync(db, s, caller, position, lastAlert, batch)
                : await EventsAsync(scope.ServiceProvider, s, caller, query, position, lastEvent, batch);
            var last = !next.More;
            var scheduled = s.AlertTypes is null && !s.Stream;
            var dueNext = scheduled && last ? QuerySchedule.Parse(JsonNode.Parse(s.ScheduleJson!)!.AsObject()).Next(time.GetUtcNow()) : null;
            if (next.Count == 0 && !(scheduled && s.ReportIfEmpty && first))
            {
                // nothing the subscriber may see matched: move past what was looked at without a POST
                if (!await RecordAsync(db, s, position, next.Through, 0, notified: false, dueNext, batch)) return;
            }
            else
            {
                var outcome = await PostAsync(s, next.Body);
                if (outcome is { } error)
                {
                    var smaller = error.Status == HttpStatusCode.RequestEntityTooLarge ? Math.Max(1, batch / 2) : batch;
                    await FailAsync(db, s, error.Message, smaller);
                    return;
                }
                if (!await RecordAsync(db, s, position, next.Through, next.Count, notified: true, dueNext, batch)) return;
            }
            position = next.Through;
            first = false;
            if (last) return;
        }
    }

    /// <summary>A batch to send: the body, how many events (alerts) it holds, the position it reaches, and whether more follow.</summary>
    private sealed record Batch(JsonObject Body, int Count, long Through, bool More);

    /// <summary>
    /// The next matching events after the position, in ledger order: the query's own filters, a range of the events'
    /// primary key (sequence after the position, up to the last one there was when the pass started), so the batch
    /// costs the same however long the ledger is.
    /// </summary>
    private async Task<Batch> EventsAsync(IServiceProvider services, DueSubscription s, Caller caller, EpcisQuery definition, long after, long upTo, int batch)
    {
        var query = definition with
        {
            OrderBy = EpcisOrder.Sequence, Descending = false, EventCountLimit = null, PerPage = batch, MaxSequence = upTo,
        };
        var page = await services.GetRequiredService<QueryEpcisEvents>().HandleAsync(query, new PagePosition(null, after, null), caller, default);
        if (s.Format == EpcFormat.DigitalLink) foreach (var e in page.Events) EpcisDocuments.ToDigitalLinks(e.Event);
        var body = EpcisDocuments.Json(page.Events, time.GetUtcNow(), s.QueryName!);
        body["epcisBody"]!["queryResults"]!["subscriptionID"] = s.Id;
        return new Batch(body, page.Events.Count, page.Next?.Sequence ?? upTo, page.Next is not null);
    }

    private async Task<Batch> AlertsAsync(TraceDbContext db, DueSubscription s, Caller caller, long after, long upTo, int batch)
    {
        var conn = await Sql.OpenAsync(db, default);
        var types = s.AlertTypes!.Split(',');
        var sql = $"SELECT id, type, epc, gtin, lot, at, detail FROM alerts WHERE id > @after AND id <= @upTo AND type IN ({string.Join(", ", types.Select((_, i) => "@t" + i))})" +
            (caller.SeesEverything ? "" : " AND gtin IN (SELECT gtin FROM products WHERE owner_member_id = @m)") + $" ORDER BY id LIMIT {batch + 1}";
        var rows = await Sql.ListAsync(conn, null, sql, r => new JsonObject
        {
            ["id"] = r.GetInt64(0), ["type"] = r.GetString(1), ["epc"] = r.Str(2), ["gtin"] = r.Str(3), ["lot"] = r.Str(4), ["at"] = r.GetString(5),
            ["detail"] = JsonNode.Parse(r.GetString(6)),
        }, default, [("@after", after), ("@upTo", upTo), ("@m", caller.MemberId), .. types.Select((t, i) => ("@t" + i, (object?)t))]);
        var more = rows.Count > batch;
        if (more) rows.RemoveAt(rows.Count - 1);
        var body = new JsonObject
        {
            ["type"] = "AlertNotification",
            ["subscriptionID"] = s.Id,
            ["creationDate"] = DbTime.Format(time.GetUtcNow()),
            ["alerts"] = new JsonArray([.. rows]),
        };
        return new Batch(body, rows.Count, more ? (long)rows[^1]["id"]! : upTo, more);
    }

    private sealed record DeliveryError(string Message, HttpStatusCode? Status);

    /// <summary>POSTs the body; null when the receiver acknowledged it (2xx).</summary>
    private async Task<DeliveryError?> PostAsync(DueSubscription s, JsonObject body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        using var request = new HttpRequestMessage(HttpMethod.Post, s.Dest) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
        request.Headers.Add("GS1-EPCIS-Version", EpcisApi.EpcisVersion);
        request.Headers.Add("GS1-CBV-Version", EpcisApi.CbvVersion);
        if (s.QueryName is not null) request.Headers.Add("GS1-EPC-Format", EpcisDocuments.HeaderValue(s.Format));
        if (s.SignatureToken is { } token) request.Headers.Add("GS1-Signature", Signature(token, bytes));
        try
        {
            using var timeout = new CancellationTokenSource(RequestTimeout);
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return response.IsSuccessStatusCode ? null : new DeliveryError($"{dest(s)} answered {(int)response.StatusCode} {response.ReasonPhrase}", response.StatusCode);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return new DeliveryError($"{dest(s)}: {(e is TaskCanceledException ? $"no answer within {RequestTimeout.TotalSeconds:0} s" : e.Message)}", null);
        }

        static string dest(DueSubscription s) => new Uri(s.Dest).GetLeftPart(UriPartial.Authority);
    }

    /// <summary>GS1-Signature: <c>sha256=</c> and the lowercase hex HMAC-SHA256 of the body's bytes, keyed with the signatureToken's UTF-8 bytes.</summary>
    public static string Signature(string token, byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), body));

    /// <summary>Records an acknowledged (or empty) batch and moves the position, only from where the batch was read; false when the subscription is gone or moved meanwhile.</summary>
    private async Task<bool> RecordAsync(TraceDbContext db, DueSubscription s, long from, long through, int count, bool notified, DateTimeOffset? dueNext, int batch)
    {
        var now = DbTime.Format(time.GetUtcNow());
        var conn = await Sql.OpenAsync(db, default);
        using var turn = await WriteTurnAsync();
        var changed = await Sql.ExecAsync(conn, null,
            "UPDATE subscriptions SET delivered_through = @through, delivered = delivered + @n, failures = 0, last_error = NULL, next_attempt_at = NULL, batch_limit = @b, " +
            "last_notified_at = CASE WHEN @notified = 1 THEN @now ELSE last_notified_at END, next_due_at = COALESCE(@due, next_due_at) " +
            "WHERE id = @id AND delivered_through = @from", default,
            ("@through", through), ("@n", count), ("@b", batch), ("@notified", notified ? 1 : 0), ("@now", now), ("@due", dueNext is { } d ? DbTime.Format(d) : null),
            ("@id", s.Id), ("@from", from));
        return changed == 1;
    }

    private async Task FailAsync(TraceDbContext db, DueSubscription s, string error, int? batch)
    {
        var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, Math.Min(s.Failures, 20)), MaxBackoff.TotalSeconds));
        log.LogInformation("Delivery to subscription {Subscription} failed ({Error}); next attempt in {Delay} s", s.Id, error, delay.TotalSeconds);
        var conn = await Sql.OpenAsync(db, default);
        using var turn = await WriteTurnAsync();
        await Sql.ExecAsync(conn, null,
            "UPDATE subscriptions SET failures = failures + 1, total_failures = total_failures + 1, last_error = @e, next_attempt_at = @at, batch_limit = COALESCE(@b, batch_limit) WHERE id = @id",
            default, ("@e", error.Length > 500 ? error[..500] : error), ("@at", DbTime.Format(time.GetUtcNow() + delay)), ("@b", batch), ("@id", s.Id));
    }

    /// <summary>
    /// SQLite has one writer: a position update takes the capture lock ahead of the queued captures (after the one
    /// writing and at most one more), rather than waiting in SQLite's busy handler, whose sleeps grow to 100 ms and miss
    /// the moments between captures, or behind every capture in line, which under load starved the deliveries.
    /// PostgreSQL locks the row only: no turn is needed.
    /// </summary>
    private async Task<IDisposable?> WriteTurnAsync() => options.UsesPostgres ? null : await writeLock.AcquireAheadAsync(default);

    /// <summary>The subscriber as a caller, for the visibility rules at delivery time.</summary>
    private static async Task<Caller?> SubscriberAsync(TraceDbContext db, string memberId)
    {
        if (memberId == Caller.AdminId) return new Caller(Caller.AdminId, MemberRole.Admin, "admin", null, []);
        var m = await db.Members.AsNoTracking().FirstOrDefaultAsync(x => x.Id == memberId);
        return m is null ? null : new Caller(m.Id, m.Role, m.Name, m.Gln, m.RegionCodes);
    }
}
