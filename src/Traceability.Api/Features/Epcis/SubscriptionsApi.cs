using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Validation;

namespace Traceability.Api.Features.Epcis;

/// <summary>
/// /epcis/queries (named queries and their webhook subscriptions, as the binding describes them) and
/// /epcis/alerts/subscriptions (webhook subscriptions to alerts, this repository's own resource).
/// </summary>
public static class SubscriptionsApi
{
    /// <summary>The largest request body of these resources (a query definition is bounded further by <see cref="NamedQueries.MaxDefinitionBytes"/>).</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public static void MapSubscriptions(RouteGroupBuilder members)
    {
        members.MapPost("queries", async (HttpContext http, NamedQueries queries, CancellationToken ct) =>
        {
            var body = await BodyAsync(http, ct);
            await queries.CreateAsync(body, http.Caller(), ct);
            var name = (string)body["name"]!;
            return Results.Created($"/epcis/queries/{name}", NamedQueries.View(await queries.GetAsync(name, http.Caller(), ct)));
        }).WithSummary("Create a named query {name, query}: 201 with Location /epcis/queries/{name}; names are unique per member");
        members.MapGet("queries", async (HttpContext http, NamedQueries queries, CancellationToken ct) =>
            Results.Json(new JsonArray([.. (await queries.ListAsync(http.Caller(), ct)).Select(q => (JsonNode)NamedQueries.View(q))])))
            .WithSummary("The caller's named queries");
        members.MapGet("queries/{name}", async (string name, HttpContext http, NamedQueries queries, CancellationToken ct) =>
            Results.Json(NamedQueries.View(await queries.GetAsync(name, http.Caller(), ct)))).WithSummary("A named query's definition");
        members.MapDelete("queries/{name}", async (string name, HttpContext http, NamedQueries queries, CancellationToken ct) =>
        {
            await queries.DeleteAsync(name, http.Caller(), ct);
            return Results.NoContent();
        }).WithSummary("Delete a named query and every subscription to it");
        members.MapGet("queries/{name}/events", async (string name, HttpContext http, NamedQueries queries, QueryEpcisEvents q, PageToken t, TimeProvider time, CancellationToken ct) =>
        {
            var definition = await queries.GetAsync(name, http.Caller(), ct);
            foreach (var p in http.Request.Query)
                if (p.Key is not ("perPage" or "nextPageToken")) throw EpcisException.QueryParameter(p.Key, "the named query defines the filters; only perPage and nextPageToken may be given.");
            return await EpcisApi.QueryAsync(http, q, t, time, NamedQueries.Parameters(definition.Query), definition.Name, ct);
        }).WithSummary("The events of a named query (perPage, nextPageToken)");

        members.MapPost("queries/{name}/subscriptions", async (string name, HttpContext http, NamedQueries queries, Subscriptions subscriptions, CancellationToken ct) =>
        {
            var caller = http.Caller();
            var query = await queries.GetAsync(name, caller, ct);
            var format = EpcisDocuments.FormatOf(http.Request.Headers["GS1-EPC-Format"]);
            var id = await subscriptions.SubscribeToQueryAsync(query, await BodyAsync(http, ct), format, caller, ct);
            return Results.Created($"/epcis/queries/{name}/subscriptions/{id}", await subscriptions.GetAsync(name, id, caller, ct));
        }).WithSummary("Subscribe a webhook to a named query {dest, signatureToken, stream: true | schedule, reportIfEmpty, initialRecordTime}");
        members.MapGet("queries/{name}/subscriptions", async (string name, HttpContext http, NamedQueries queries, Subscriptions subscriptions, CancellationToken ct) =>
        {
            await queries.GetAsync(name, http.Caller(), ct);
            return Results.Json(await subscriptions.ListAsync(name, http.Caller(), ct));
        }).WithSummary("The subscriptions to a named query");
        members.MapGet("queries/{name}/subscriptions/{id}", async (string name, string id, HttpContext http, Subscriptions subscriptions, CancellationToken ct) =>
            Results.Json(await subscriptions.GetAsync(name, id, http.Caller(), ct))).WithSummary("A subscription: its deliveries and failures");
        members.MapDelete("queries/{name}/subscriptions/{id}", async (string name, string id, HttpContext http, Subscriptions subscriptions, CancellationToken ct) =>
        {
            await subscriptions.DeleteAsync(name, id, http.Caller(), ct);
            return Results.NoContent();
        }).WithSummary("Unsubscribe");

        var alerts = members.MapGroup("alerts/subscriptions").RequireRoles(MemberRole.Manufacturer, MemberRole.Regulator);
        alerts.MapPost("", async (HttpContext http, Subscriptions subscriptions, CancellationToken ct) =>
        {
            var id = await subscriptions.SubscribeToAlertsAsync(await BodyAsync(http, ct), http.Caller(), ct);
            return Results.Created($"/epcis/alerts/subscriptions/{id}", await subscriptions.GetAsync(null, id, http.Caller(), ct));
        }).WithSummary("Subscribe a webhook to alerts {dest, signatureToken, types: [counterfeit, diversion, recall, hold, tamper, ...]}");
        alerts.MapGet("", async (HttpContext http, Subscriptions subscriptions, CancellationToken ct) => Results.Json(await subscriptions.ListAsync(null, http.Caller(), ct)))
            .WithSummary("The caller's alert subscriptions");
        alerts.MapGet("{id}", async (string id, HttpContext http, Subscriptions subscriptions, CancellationToken ct) =>
            Results.Json(await subscriptions.GetAsync(null, id, http.Caller(), ct))).WithSummary("An alert subscription");
        alerts.MapDelete("{id}", async (string id, HttpContext http, Subscriptions subscriptions, CancellationToken ct) =>
        {
            await subscriptions.DeleteAsync(null, id, http.Caller(), ct);
            return Results.NoContent();
        }).WithSummary("Unsubscribe from alerts");
    }

    /// <summary>The request's JSON object, at most <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<JsonObject> BodyAsync(HttpContext http, CancellationToken ct)
    {
        var media = http.Request.ContentType ?? "";
        if (!media.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) && !media.StartsWith("application/ld+json", StringComparison.OrdinalIgnoreCase))
            throw new EpcisException(415, "UnsupportedMediaTypeException", "Unsupported media type", "Send application/json.");
        if (http.Request.ContentLength > MaxBodyBytes) throw new EpcisException(413, "ValidationException", "Request too large", $"At most {MaxBodyBytes} bytes.");
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) throw new EpcisException(413, "ValidationException", "Request too large", $"At most {MaxBodyBytes} bytes.");
            buffer.Write(chunk, 0, read);
        }
        try
        {
            // before parsing: the parser's duplicate-key check reads every key, and a lone surrogate in one throws there
            if (JsonStrings.FirstInvalid(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), 16) is { } where)
                throw new EpcisException(400, "ValidationException", "Invalid request", JsonStrings.Message(where));
            return JsonNode.Parse(buffer.ToArray(), documentOptions: new JsonDocumentOptions { MaxDepth = 16, AllowDuplicateProperties = false }) as JsonObject
                ?? throw new EpcisException(400, "ValidationException", "Invalid request", "The body is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new EpcisException(400, "ValidationException", "Invalid request", "The body is not JSON: " + e.Message);
        }
    }
}
