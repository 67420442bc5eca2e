using System.Globalization;
using System.Text.Json.Nodes;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Traceability.Api.Domain;
using Traceability.Api.Features.Analytics;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Lifecycle;

/// <summary>
/// Control points per product (PUT/GET /api/v1/products/{gtin}/rules) and after-sales service (GET /api/v1/service/due,
/// GET /api/v1/service/regions, POST /api/v1/service/due/run), and the daily service-due job.
/// </summary>
public static class LifecycleApi
{
    public sealed record PutRulesRequest(IReadOnlyList<ControlRule>? Rules);
    public sealed record RuleSetResponse(string Gtin, long Version, DateTimeOffset EffectiveFrom, string Sha256, long EventSequence, string EventHash,
        IReadOnlyList<ControlRule> Rules, string RecordedBy);
    /// <summary>What an event captured now is judged by: the version in force (null: none, the default set) and its rules, with the default hold rule when it has none.</summary>
    public sealed record EffectiveRules(long? Version, bool Default, bool DefaultHoldRule, IReadOnlyList<ControlRule> Rules);
    public sealed record RulesResponse(string Gtin, IReadOnlyList<ControlRule> DefaultRules, RuleSetResponse? InForce, EffectiveRules Effective,
        IReadOnlyList<RuleSetResponse> Versions);

    public static IServiceCollection AddLifecycle(this IServiceCollection services)
    {
        services.AddScoped<ServiceDue>();
        // one per capture scope, shared by the control point step and the custody step (which applies the hold rule)
        services.AddScoped<ProductRuleSets>();
        services.AddScoped<IHoldRules>(sp => sp.GetRequiredService<ProductRuleSets>());
        services.AddTransient<ServiceDueJob>();
        return services;
    }

    public static WebApplication MapLifecycleApi(this WebApplication app)
    {
        var products = app.MapGroup("api/v1/products").WithTags("Lifecycle");
        products.MapPut("{gtin}/rules", PutRulesAsync).RequireRoles(MemberRole.Manufacturer)
            .WithSummary("Set the product's control points (a new version, recorded as an EPCIS event on the ledger; in force from now)")
            .WithDescription("The body is the whole new rule set: {\"rules\": [...]}, at most 50. Kinds: requires (an event at step needs an earlier " +
                "event at after, with disposition when given, on the unit or, scope lot, its lot), field (an event at step carries ilmd.NAME, " +
                "extension.NAME or sensor.TYPE, within min..max when given) and hold (at most one: an inspection whose disposition is one of " +
                "holdDispositions puts the lot on hold, one of releaseDispositions releases it; CBV words or URIs of your own vocabulary, never " +
                "recalled). A set without a hold rule keeps the default one (non_conformant or damaged holds, conformant releases). Only the " +
                "product's owner, a member holding units of the lot or a regulator may hold or release a lot. Each event is judged by the " +
                "version in force at its eventTime; a broken rule refuses the capture (422, rule name@version).")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(422);
        products.MapGet("{gtin}/rules", GetRulesAsync).RequireRoles()
            .WithSummary("The product's control points: the default rule set, the version in force, what an event is judged by now (effective: the version's rules, or the default set, marked default) and every version with the event that recorded it")
            .ProducesProblem(404);

        var service = app.MapGroup("api/v1/service").WithTags("Lifecycle");
        service.MapGet("due", DueAsync).RequireRoles(MemberRole.Service, MemberRole.Manufacturer, MemberRole.Regulator)
            .WithSummary("Installed units due for inspection, overdue or past their service life; region (GB/T 2260 prefix), before (yyyy-MM-dd, default 30 days on), status=overdue|due|expired, offset, limit (≤ 1000)");
        service.MapGet("regions", RegionsAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Regulator)
            .WithSummary("Installed, overdue and expired units by region; level=province|city|county, region (GB/T 2260 prefix)");
        service.MapPost("due/run", RunAsync).RequireRoles(MemberRole.Regulator)
            .WithSummary("Raise the overdue and expired alerts now (as the daily job does); the number raised");

        // Daily at 00:00 UTC, on the Hangfire server the other jobs run on (registered here: one feature, one place).
        app.Services.GetRequiredService<IRecurringJobManager>().AddOrUpdate<ServiceDueJob>(ServiceDueJob.Id, j => j.RunAsync(CancellationToken.None),
            "0 0 0 * * *", new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        return app;
    }

    private static string Gtin14(string gtin) =>
        Gs1Identifiers.TryNormalizeGtin(gtin, out var g) ? g : throw RequestValidationException.ForField("gtin", "gtin must be a GTIN-8, -12, -13 or -14 with a valid check digit.");

    private static async Task<Ok<RuleSetResponse>> PutRulesAsync(string gtin, PutRulesRequest request, HttpContext http, TraceDbContext db,
        CaptureEpcisDocument capture, TimeProvider time, CancellationToken ct)
    {
        var g = Gtin14(gtin);
        var errors = ControlRules.Validate(request.Rules);
        if (errors.Count > 0) throw new RequestValidationException("Invalid rules", errors);
        var caller = http.Caller();
        var product = await db.Products.FindAsync([g], ct) ?? throw new NotFoundException($"Product {g}");
        if (caller.Role != MemberRole.Admin && product.OwnerMemberId != caller.MemberId) throw new ForbiddenException($"Only the owner of GTIN {g} sets its rules.");

        var canonical = ControlRules.CanonicalJson(ControlRules.Normalise(request.Rules!));
        var now = time.GetUtcNow();
        var stamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var document = new JsonObject
        {
            ["@context"] = new JsonArray(CbvVocabulary.StandardContext, new JsonObject { ["trace"] = ControlPointStep.Namespace }),
            ["type"] = "EPCISDocument",
            ["schemaVersion"] = "2.0",
            ["creationDate"] = stamp,
            ["epcisBody"] = new JsonObject
            {
                ["eventList"] = new JsonArray(new JsonObject
                {
                    ["type"] = "ObjectEvent",
                    ["eventTime"] = stamp,
                    ["eventTimeZoneOffset"] = "+00:00",
                    ["action"] = "OBSERVE",
                    ["bizStep"] = ControlPointStep.RuleChangeStep,
                    ["quantityList"] = new JsonArray(new JsonObject { ["epcClass"] = $"https://id.gs1.org/01/{g}" }),
                    ["trace:controlRules"] = canonical,
                    ["trace:controlRulesSha256"] = ControlRules.Sha256(canonical),
                }),
            },
        };
        var receipts = await capture.Handle(new CaptureEpcisDocument.Command(EpcisParser.ParseJson(document.ToJsonString()), caller), ct);
        var versions = await VersionsAsync(db, g, ct);
        return TypedResults.Ok(versions.First(v => v.Version == receipts[0].Sequence));
    }

    private static async Task<Ok<RulesResponse>> GetRulesAsync(string gtin, TraceDbContext db, TimeProvider time, CancellationToken ct)
    {
        var g = Gtin14(gtin);
        if (await db.Products.FindAsync([g], ct) is null) throw new NotFoundException($"Product {g}");
        var versions = await VersionsAsync(db, g, ct);
        var now = time.GetUtcNow();
        var inForce = versions.Where(v => v.EffectiveFrom <= now).MaxBy(v => (v.EffectiveFrom, v.Version));
        var set = inForce is null ? null : new RuleSetVersion(g, inForce.Version, inForce.EffectiveFrom, inForce.Rules, inForce.Sha256);
        var effective = new EffectiveRules(inForce?.Version, inForce is null, !(inForce?.Rules.Any(r => r.Kind == ControlRules.HoldKind) ?? false),
            ControlRules.Effective(set));
        return TypedResults.Ok(new RulesResponse(g, ControlRules.Defaults, inForce, effective, versions));
    }

    private static async Task<List<RuleSetResponse>> VersionsAsync(TraceDbContext db, string gtin, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        return await Sql.ListAsync(conn, null,
            "SELECT r.version, r.effective_from, r.sha256, r.rules_json, r.member_id, e.event_hash FROM control_rule_sets r JOIN events e ON e.sequence = r.version " +
            "WHERE r.gtin = @g ORDER BY r.version",
            r => new RuleSetResponse(gtin, r.GetInt64(0), DbTime.Parse(r.GetString(1)), r.GetString(2), r.GetInt64(0), r.GetString(5), ControlRules.Parse(r.GetString(3)), r.GetString(4)),
            ct, ("@g", gtin));
    }

    private static (RegionLevel Level, string? Prefix) Region(RegionTable regions, TimeProvider time, string? level, string? region)
    {
        // the analytics' parsing, so level and region mean (and are refused) the same here
        var parsed = AnalyticsRequest.Parse(regions, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime), null, null, null, level, region, null, null, null);
        return (parsed.Level, parsed.RegionPrefix);
    }

    private static async Task<Ok<DuePage>> DueAsync(HttpContext http, ServiceDue due, RegionTable regions, TimeProvider time, CancellationToken ct,
        string? region = null, string? before = null, string? status = null, int offset = 0, int limit = 100)
    {
        var (_, prefix) = Region(regions, time, null, region);
        if (status is not (null or ServiceStatus.Overdue or ServiceStatus.Due or ServiceStatus.Expired))
            throw RequestValidationException.ForField("status", "status must be overdue, due or expired.");
        if (offset < 0) throw RequestValidationException.ForField("offset", "offset must be 0 or more.");
        if (limit is < 1 or > 1000) throw RequestValidationException.ForField("limit", "limit must be between 1 and 1000.");
        var until = time.GetUtcNow().AddDays(30);
        if (before is not null)
        {
            if (!DateOnly.TryParseExact(before, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                throw RequestValidationException.ForField("before", "before must be a date yyyy-MM-dd (UTC).");
            until = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        }
        return TypedResults.Ok(await due.ListAsync(http.Caller(), prefix, until, status, offset, limit, ct));
    }

    private static async Task<Ok<RegionServiceResponse>> RegionsAsync(HttpContext http, ServiceDue due, RegionTable regions, TimeProvider time, CancellationToken ct,
        string? level = null, string? region = null)
    {
        var (l, prefix) = Region(regions, time, level, region);
        return TypedResults.Ok(await due.RegionsAsync(http.Caller(), l, prefix, ct));
    }

    private static async Task<Ok<object>> RunAsync(ServiceDue due, CancellationToken ct) =>
        TypedResults.Ok((object)new { raised = await due.RaiseAlertsAsync(ct) });
}
