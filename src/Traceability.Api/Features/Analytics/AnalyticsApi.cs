using Microsoft.AspNetCore.Http.HttpResults;
using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;

namespace Traceability.Api.Features.Analytics;

/// <summary>
/// GET /api/v1/analytics/{sales|scans|alerts|overview} and the alerts inbox (GET /api/v1/alerts/inbox,
/// POST /api/v1/alerts/{id}/handled).
/// </summary>
public static class AnalyticsApi
{
    /// <summary>The region table, the handlers and the backfill of the roll-ups (the roll-up capture step is registered with the other steps, in Program.cs).</summary>
    public static IServiceCollection AddAnalytics(this IServiceCollection services)
    {
        services.AddSingleton(_ => RegionTable.LoadEmbedded());
        services.AddScoped<RegionCounts>();
        services.AddScoped<Overview>();
        services.AddScoped<AlertInbox>();
        services.AddSingleton<AnalyticsBackfill>();
        services.AddHostedService(sp => sp.GetRequiredService<AnalyticsBackfill>());
        return services;
    }

    public static IEndpointRouteBuilder MapAnalyticsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/analytics").WithTags("Analytics");
        const string query = "; from, to (yyyy-MM-dd, China Standard Time; default the last 30 days), granularity=day|week|month, level=province|city|county, " +
                             "gtin, lot, dealer, region (GB/T 2260 prefix). Rows {period, regionCode, regionName, count}, totals, top regions";
        group.MapGet("sales", (HttpContext http, RegionCounts h, RegionTable regions, TimeProvider time, CancellationToken ct, string? from, string? to,
                string? granularity, string? level, string? region, string? gtin, string? lot, string? dealer) =>
                CountsAsync(AnalyticsRollup.Sale, http, h, regions, time, ct, from, to, granularity, level, region, gtin, lot, dealer))
            .RequireRoles(MemberRole.Manufacturer, MemberRole.Dealer, MemberRole.Regulator)
            .WithSummary("Units sold (bizStep retail_selling) by period and region" + query);
        group.MapGet("scans", (HttpContext http, RegionCounts h, RegionTable regions, TimeProvider time, CancellationToken ct, string? from, string? to,
                string? granularity, string? level, string? region, string? gtin, string? lot, string? dealer) =>
                CountsAsync(AnalyticsRollup.Scan, http, h, regions, time, ct, from, to, granularity, level, region, gtin, lot, dealer))
            .RequireRoles(MemberRole.Manufacturer, MemberRole.Dealer, MemberRole.Regulator)
            .WithSummary("Consumer scans by period and region (the scan's ?region=)" + query);
        group.MapGet("alerts", AlertsAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Dealer, MemberRole.Regulator)
            .WithSummary("Counterfeit and diversion alerts by period and region; type=counterfeit|diversion" + query);
        group.MapGet("overview", OverviewAsync).RequireRoles()
            .WithSummary("The console dashboard: events today, units by status, events awaiting an anchor, the last anchor, open alerts");

        var alerts = app.MapGroup("api/v1/alerts").WithTags("Alerts");
        alerts.MapGet("inbox", InboxAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Regulator)
            .WithSummary("Alerts newest first with their region and handled state; type, region, gtin, handled=true|false, offset, limit (≤ 500)");
        alerts.MapPost("{id:long}/handled", HandledAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Regulator)
            .WithSummary("Marks an alert handled (idempotent: the first time and member are kept)").ProducesProblem(404);
        return app;
    }

    private static async Task<Ok<RegionCountsResponse>> CountsAsync(string kind, HttpContext http, RegionCounts handler, RegionTable regions, TimeProvider time,
        CancellationToken ct, string? from, string? to, string? granularity, string? level, string? region, string? gtin, string? lot, string? dealer)
    {
        var request = AnalyticsRequest.Parse(regions, Today(time), from, to, granularity, level, region, gtin, lot, dealer);
        return TypedResults.Ok(await handler.Handle(new RegionCountsQuery(kind, request, http.Caller()), ct));
    }

    private static async Task<Ok<RegionCountsResponse>> AlertsAsync(HttpContext http, RegionCounts handler, RegionTable regions, TimeProvider time,
        CancellationToken ct, string? type, string? from, string? to, string? granularity, string? level, string? region, string? gtin, string? lot, string? dealer)
    {
        if (type is not null && !RegionCounts.AlertKinds.Contains(type))
            throw RequestValidationException.ForField("type", $"type must be one of {string.Join(", ", RegionCounts.AlertKinds)}.");
        var request = AnalyticsRequest.Parse(regions, Today(time), from, to, granularity, level, region, gtin, lot, dealer);
        return TypedResults.Ok(await handler.Handle(new AlertCountsQuery(type, request, http.Caller()), ct));
    }

    private static async Task<Ok<OverviewResponse>> OverviewAsync(HttpContext http, Overview handler, TimeProvider time, CancellationToken ct) =>
        TypedResults.Ok(await handler.Handle(new OverviewQuery(http.Caller(), time.GetUtcNow()), ct));

    private static async Task<Ok<InboxPage>> InboxAsync(HttpContext http, AlertInbox handler, RegionTable regions, CancellationToken ct,
        string? type = null, string? region = null, string? gtin = null, bool? handled = null, int offset = 0, int limit = 50)
    {
        if (type is not null && !AlertTypes.All.Contains(type))
            throw RequestValidationException.ForField("type", $"type must be one of {string.Join(", ", AlertTypes.All)}.");
        string? prefix = null;
        if (region is not null && (prefix = regions.ParsePrefix(region)) is null)
            throw RequestValidationException.ForField("region", "region must be a GB/T 2260 code or prefix of a known region.");
        if (offset < 0) throw RequestValidationException.ForField("offset", "offset must be 0 or more.");
        if (limit is < 1 or > 500) throw RequestValidationException.ForField("limit", "limit must be between 1 and 500.");
        return TypedResults.Ok(await handler.Handle(new InboxQuery(http.Caller(), type, prefix, gtin, handled, offset, limit), ct));
    }

    private static async Task<Ok<InboxAlert>> HandledAsync(long id, HttpContext http, AlertInbox handler, TimeProvider time, CancellationToken ct) =>
        TypedResults.Ok(await handler.Handle(new MarkHandled(http.Caller(), id, time.GetUtcNow()), ct));

    private static DateOnly Today(TimeProvider time) => DateOnly.FromDateTime(time.GetUtcNow().ToOffset(AnalyticsRollup.ChinaOffset).DateTime);
}
