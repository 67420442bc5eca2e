using System.Globalization;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Epcis;

/// <summary>
/// The GS1 EPCIS 2.0 REST binding under /epcis: queries (GET /epcis/events and the resources that are queries by another
/// name), capture jobs, and discovery (OPTIONS). Members authenticate with X-Api-Key as on /api/v1, and see what the
/// visibility rules let them see. Errors are RFC 7807 problems whose type is the binding's <c>epcisException:...</c>.
/// </summary>
public static class EpcisApi
{
    public const string EpcisVersion = "2.0.0";
    public const string CbvVersion = "2.0.0";
    private const string JsonLd = "application/ld+json";

    public static IServiceCollection AddEpcis(this IServiceCollection services)
    {
        services.AddSingleton<PageToken>();
        services.AddScoped<QueryEpcisEvents>();
        services.AddScoped<SubmitCaptureJob>();
        services.AddScoped<ReadCaptureJobs>();
        services.AddHostedService<InterruptedCaptureJobs>();
        services.AddScoped<NamedQueries>();
        services.AddScoped<Subscriptions>();
        services.AddHttpClient(SubscriptionDispatcher.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan) // each delivery has its own timeout
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var allowLoopback = sp.GetRequiredService<TraceOptions>().SubscriptionAllowLoopback;
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false, // a redirect could lead anywhere the destination check refused
                    UseProxy = false,          // the address checked must be the address connected to
                    PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                    ConnectCallback = (context, ct) => WebhookDestination.ConnectAsync(context, allowLoopback, ct),
                };
            });
        services.AddHostedService<SubscriptionDispatcher>();
        services.AddSingleton<EventTimeIndex>();
        services.AddHostedService(sp => sp.GetRequiredService<EventTimeIndex>());
        return services;
    }

    public static IEndpointRouteBuilder MapEpcisApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("epcis").WithTags("EPCIS 2.0 (GS1 REST binding)").AddEndpointFilter(Gs1Headers);
        group.MapMethods("{**path}", ["OPTIONS"], Options).WithSummary("Discovery: the methods, versions, formats and limits of a resource").Produces(204);

        var members = group.MapGroup("").RequireRoles();
        members.MapGet("", () => Results.Json(Collection(["events", "eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints", "dispositions", "capture", "queries"]), contentType: "application/json"))
            .WithSummary("The top-level resources");
        members.MapGet("events", (HttpContext http, QueryEpcisEvents q, PageToken t, TimeProvider time, CancellationToken ct) => QueryAsync(http, q, t, time, null, ct))
            .WithSummary("Query events with the EPCIS query language (eventType, GE_eventTime, MATCH_anyEPC, ...); paged (perPage, nextPageToken)");
        members.MapGet("events/{**eventID}", EventAsync).WithSummary("One event by its eventID (URL-encoded)");
        members.MapGet("eventTypes", () => Results.Json(Collection(["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"]), contentType: "application/json"))
            .WithSummary("The event types");
        members.MapGet("eventTypes/{eventType}/events", (string eventType, HttpContext http, QueryEpcisEvents q, PageToken t, TimeProvider time, CancellationToken ct) =>
            QueryAsync(http, q, t, time, ("eventType", eventType), ct)).WithSummary("The events of a type");
        members.MapGet("bizSteps/{bizStep}/events", (string bizStep, HttpContext http, QueryEpcisEvents q, PageToken t, TimeProvider time, CancellationToken ct) =>
            QueryAsync(http, q, t, time, ("EQ_bizStep", bizStep), ct)).WithSummary("The events of a business step");
        members.MapGet("dispositions/{disposition}/events", (string disposition, HttpContext http, QueryEpcisEvents q, PageToken t, TimeProvider time, CancellationToken ct) =>
            QueryAsync(http, q, t, time, ("EQ_disposition", disposition), ct)).WithSummary("The events with a disposition");
        // EPCs and locations are URIs (a Digital Link holds slashes): the rest of the path, ending in /events
        members.MapGet("epcs/{**rest}", (string rest, HttpContext http, QueryEpcisEvents q, PageToken t, TimeProvider time, CancellationToken ct) =>
            QueryAsync(http, q, t, time, ("MATCH_anyEPC", SubResource(rest, "epc")), ct)).WithSummary("The events of an EPC: /epcis/epcs/{epc}/events");
        members.MapGet("bizLocations/{**rest}", (string rest, HttpContext http, QueryEpcisEvents q, PageToken t, TimeProvider time, CancellationToken ct) =>
            QueryAsync(http, q, t, time, ("EQ_bizLocation", SubResource(rest, "bizLocation")), ct)).WithSummary("The events at a business location: /epcis/bizLocations/{id}/events");
        members.MapGet("readPoints/{**rest}", (string rest, HttpContext http, QueryEpcisEvents q, PageToken t, TimeProvider time, CancellationToken ct) =>
            QueryAsync(http, q, t, time, ("EQ_readPoint", SubResource(rest, "readPoint")), ct)).WithSummary("The events at a read point: /epcis/readPoints/{id}/events");

        members.MapPost("capture", CaptureAsync).Accepts<object>("application/json", JsonLd, "application/xml")
            .WithSummary("Capture job: 202 with Location /epcis/capture/{id}; GS1-Capture-Error-Behaviour rollback (default) or proceed");
        members.MapGet("capture", ListJobsAsync).WithSummary("The caller's capture jobs, newest first (perPage, nextPageToken)");
        members.MapGet("capture/{captureID}", async (string captureID, HttpContext http, ReadCaptureJobs jobs, CancellationToken ct) =>
            Results.Json(await jobs.HandleAsync(captureID, http.Caller(), ct))).WithSummary("A capture job: running, success, errors");
        SubscriptionsApi.MapSubscriptions(members);
        return app;
    }

    /// <summary>Every answer names the versions; the binding's exceptions become its problems; the client's version range is checked.</summary>
    private static async ValueTask<object?> Gs1Headers(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next)
    {
        var http = ctx.HttpContext;
        http.Response.Headers["GS1-EPCIS-Version"] = EpcisVersion;
        http.Response.Headers["GS1-CBV-Version"] = CbvVersion;
        try
        {
            if (Below(http.Request.Headers["GS1-EPCIS-Max"], EpcisVersion) || Above(http.Request.Headers["GS1-EPCIS-Min"], EpcisVersion))
                throw new EpcisException(406, "NotAcceptableException", "EPCIS version not supported", $"This repository speaks EPCIS {EpcisVersion} only.");
            if (Below(http.Request.Headers["GS1-CBV-Max"], CbvVersion) || Above(http.Request.Headers["GS1-CBV-Min"], CbvVersion))
                throw new EpcisException(406, "NotAcceptableException", "CBV version not supported", $"This repository speaks CBV {CbvVersion} only.");
            return await next(ctx);
        }
        catch (EpcisException e)
        {
            return Results.Problem(statusCode: e.Status, title: e.Title, detail: e.Message, type: "epcisException:" + e.Name, instance: http.Request.Path);
        }
    }

    private static bool Below(StringValues header, string version) => Version.TryParse(header.ToString(), out var v) && v < Version.Parse(version);

    private static bool Above(StringValues header, string version) => Version.TryParse(header.ToString(), out var v) && v > Version.Parse(version);

    private static IResult Options(string? path, HttpContext http, TraceOptions options)
    {
        var p = path ?? "";
        var headers = http.Response.Headers;
        var segments = p.Split('/');
        headers.Allow = p is "capture" or "queries" or "alerts/subscriptions" || segments is ["queries", _, "subscriptions"] ? "OPTIONS, GET, POST"
            : segments is ["queries", _] or ["queries", _, "subscriptions", _] or ["alerts", "subscriptions", _] ? "OPTIONS, GET, DELETE"
            : "OPTIONS, GET";
        headers["GS1-EPCIS-Min"] = EpcisVersion;
        headers["GS1-EPCIS-Max"] = EpcisVersion;
        headers["GS1-CBV-Min"] = CbvVersion;
        headers["GS1-CBV-Max"] = CbvVersion;
        headers["GS1-EPC-Format"] = "Always_GS1_Digital_Link, Never_Translates";
        headers["GS1-CBV-XML-Format"] = "Always_Web_URI";
        headers["GS1-Vendor-Version"] = "traceability-1";
        headers["GS1-EPCIS-Capture-Limit"] = options.CaptureMaxEvents.ToString(CultureInfo.InvariantCulture);
        headers["GS1-EPCIS-Capture-File-Size-Limit"] = options.CaptureMaxBytes.ToString(CultureInfo.InvariantCulture);
        headers["GS1-Capture-Error-Behaviour"] = "all";
        if (p is "events" or "" || p.EndsWith("/events", StringComparison.Ordinal))
            headers["GS1-Query-Parameters"] = string.Join(", ", EpcisQueryParameters.Supported);
        return Results.NoContent();
    }

    private static object Collection(string[] members) => new Dictionary<string, object>
    {
        ["@context"] = CbvVocabulary.StandardContext,
        ["type"] = "Collection",
        ["member"] = members,
    };

    /// <summary>The identifier of /{resource}/{id}/events (URL-encoded or not).</summary>
    private static string SubResource(string rest, string what)
    {
        if (!rest.EndsWith("/events", StringComparison.Ordinal) || rest.Length == "/events".Length)
            throw EpcisException.NoSuchResource($"Use /{what}s/{{{what}}}/events (the {what} URL-encoded).");
        return Uri.UnescapeDataString(rest[..^"/events".Length]);
    }

    private static async Task<IResult> EventAsync(string eventID, HttpContext http, QueryEpcisEvents handler, TimeProvider time, CancellationToken ct)
    {
        var id = Uri.UnescapeDataString(eventID);
        if (http.Request.QueryString.HasValue && id.StartsWith("ni:", StringComparison.Ordinal) && !id.Contains('?', StringComparison.Ordinal))
            id += Uri.UnescapeDataString(http.Request.QueryString.Value!); // an ni: URI's "?ver=CBV2.0" sent unencoded
        var query = EpcisQueryParameters.Parse([new("EQ_eventID", [id])]);
        var format = EpcisDocuments.FormatOf(http.Request.Headers["GS1-EPC-Format"]);
        var page = await handler.HandleAsync(query, null, http.Caller(), ct);
        if (page.Events.Count == 0) throw EpcisException.NoSuchResource($"No event with eventID '{id}' that you may see.");
        return Answer(http, page.Events, format, time);
    }

    private static Task<IResult> QueryAsync(HttpContext http, QueryEpcisEvents handler, PageToken tokens, TimeProvider time, (string Name, string Value)? implied,
        CancellationToken ct) =>
        QueryAsync(http, handler, tokens, time, implied is { } i ? [new(i.Name, [i.Value])] : [], EpcisDocuments.QueryName, ct);

    /// <summary>The query of the request's parameters and those the resource implies (a path segment, a named query's definition).</summary>
    internal static async Task<IResult> QueryAsync(HttpContext http, QueryEpcisEvents handler, PageToken tokens, TimeProvider time,
        IReadOnlyList<KeyValuePair<string, string[]>> implied, string queryName, CancellationToken ct)
    {
        var parameters = http.Request.Query.Select(p => new KeyValuePair<string, string[]>(p.Key, p.Value.Select(v => v ?? "").ToArray())).ToList();
        foreach (var i in implied)
        {
            if (parameters.Any(p => p.Key == i.Key))
                throw EpcisException.QueryParameter(i.Key, "is given by the resource already.");
            parameters.Add(i);
        }
        var query = EpcisQueryParameters.Parse(parameters);
        var format = EpcisDocuments.FormatOf(http.Request.Headers["GS1-EPC-Format"]);
        var after = query.NextPageToken is { } token ? tokens.Read(token, query.Fingerprint) : null;
        var page = await handler.HandleAsync(query, after, http.Caller(), ct);
        if (page.Next is { } next)
        {
            var link = QueryHelpers(http, tokens.Create(query.Fingerprint, next));
            http.Response.Headers.Link = $"<{link}>; rel=\"next\"";
        }
        return Answer(http, page.Events, format, time, queryName);
    }

    /// <summary>This request's URL with nextPageToken replaced.</summary>
    private static string QueryHelpers(HttpContext http, string token)
    {
        var kept = http.Request.Query.Where(p => p.Key != "nextPageToken")
            .SelectMany(p => p.Value.Select(v => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(v ?? "")))
            .Append("nextPageToken=" + Uri.EscapeDataString(token));
        return http.Request.PathBase + http.Request.Path + "?" + string.Join("&", kept);
    }

    private static IResult Answer(HttpContext http, IReadOnlyList<QueriedEvent> events, EpcFormat format, TimeProvider time, string queryName = EpcisDocuments.QueryName)
    {
        if (format == EpcFormat.DigitalLink) foreach (var e in events) EpcisDocuments.ToDigitalLinks(e.Event);
        http.Response.Headers["GS1-EPC-Format"] = EpcisDocuments.HeaderValue(format);
        http.Response.Headers.Vary = "Accept, GS1-EPC-Format";
        if (WantsXml(http.Request))
        {
            http.Response.Headers["GS1-CBV-XML-Format"] = "Always_Web_URI";
            return Results.Content(EpcisDocuments.Xml(events, time.GetUtcNow(), queryName), "application/xml; charset=utf-8");
        }
        var media = http.Request.Headers.Accept.ToString().Contains(JsonLd, StringComparison.OrdinalIgnoreCase) ? JsonLd : "application/json";
        return Results.Text(EpcisDocuments.Json(events, time.GetUtcNow(), queryName).ToJsonString(), media, System.Text.Encoding.UTF8);
    }

    /// <summary>XML when the client ranks application/xml (or text/xml) above every JSON type.</summary>
    private static bool WantsXml(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var types)) return false;
        double xml = 0, json = 0;
        foreach (var t in types)
        {
            var q = t.Quality ?? 1;
            var media = t.MediaType.Value ?? "";
            if (media is "application/xml" or "text/xml") xml = Math.Max(xml, q);
            else if (media is "application/json" or "*/*" || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase)) json = Math.Max(json, q);
        }
        return xml > 0 && xml > json;
    }

    private static async Task<IResult> CaptureAsync(HttpContext http, SubmitCaptureJob handler, CaptureSignature signature, TraceOptions options, CancellationToken ct)
    {
        var behaviour = http.Request.Headers["GS1-Capture-Error-Behaviour"].ToString() switch
        {
            "" or "rollback" => false,
            "proceed" => true,
            var other => throw new EpcisException(400, "ValidationException", "Invalid GS1-Capture-Error-Behaviour",
                $"GS1-Capture-Error-Behaviour: '{other}' is not rollback or proceed."),
        };
        CaptureJobRequest request;
        try
        {
            signature.Read(http.Request); // Trace-Signature, as on /api/v1/capture: checked when the events are appended
            var document = await CaptureApi.ReadDocumentAsync(http, options, ct);
            if (document.Events.Count > options.CaptureMaxEvents)
                throw new EpcisException(413, "CaptureLimitExceededException", "Capture payload too large",
                    $"The document holds {document.Events.Count} events; at most {options.CaptureMaxEvents} (GS1-EPCIS-Capture-Limit).");
            request = new CaptureJobRequest(document, null, behaviour);
        }
        catch (RequestValidationException e) when (e.Unprocessable)
        {
            request = new CaptureJobRequest(null, e, behaviour); // the events could be read but not all of them validated: the job says which
        }
        catch (RequestValidationException e)
        {
            throw new EpcisException(400, "ValidationException", e.Message, string.Join(" ", e.Errors.Select(x => $"{x.Field}: {x.Message}")));
        }
        catch (PayloadTooLargeException e)
        {
            throw new EpcisException(413, "CaptureLimitExceededException", "Capture payload too large", e.Message);
        }
        catch (UnsupportedMediaTypeException e)
        {
            throw new EpcisException(415, "UnsupportedMediaTypeException", "Unsupported media type", e.Message);
        }
        var id = await handler.HandleAsync(request, http.Caller(), ct);
        http.Response.Headers["GS1-EPCIS-Capture-Limit"] = options.CaptureMaxEvents.ToString(CultureInfo.InvariantCulture);
        return Results.Accepted($"/epcis/capture/{id}");
    }

    private static async Task<IResult> ListJobsAsync(HttpContext http, ReadCaptureJobs jobs, PageToken tokens, CancellationToken ct, int? perPage = null, string? nextPageToken = null)
    {
        var caller = http.Caller();
        if (perPage is < 1 or > EpcisQueryParameters.MaxPerPage)
            throw EpcisException.QueryParameter("perPage", $"an integer from 1 to {EpcisQueryParameters.MaxPerPage}.");
        var size = perPage ?? EpcisQueryParameters.DefaultPerPage;
        var fingerprint = "capture-jobs\n" + caller.MemberId;
        (string, string)? after = null;
        if (nextPageToken is not null && tokens.Read(nextPageToken, fingerprint) is { OrderValue: { } value } position)
        {
            var cut = value.IndexOf('\n', StringComparison.Ordinal);
            after = cut < 0 ? throw EpcisException.QueryParameter("nextPageToken", "not a token of this list.") : (value[..cut], value[(cut + 1)..]);
        }
        var (list, more) = await jobs.ListAsync(caller, after, size, ct);
        if (more && list.Count > 0)
        {
            var last = list[^1];
            var token = tokens.Create(fingerprint, new PagePosition(Infrastructure.Persistence.DbTime.Format(last.CreatedAt) + "\n" + last.CaptureID, 0, null));
            http.Response.Headers.Link = $"<{http.Request.PathBase}{http.Request.Path}?perPage={size}&nextPageToken={Uri.EscapeDataString(token)}>; rel=\"next\"";
        }
        return Results.Json(list);
    }
}
