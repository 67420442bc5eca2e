using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Threading.RateLimiting;
using Mediator;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using Traceability.Api.Domain;
using Traceability.Api.Features.Anchoring;
using Traceability.Api.Features.Audit;
using Traceability.Api.Features.Codes;
using Traceability.Api.Features.Events;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Consumer;

/// <summary>
/// What a consumer reaches by scanning the QR code: GET /01/{gtin}/21/{serial} (and /01/{gtin}/10/{lot}/21/{serial}),
/// HTML or, with Accept: application/json, the consumer JSON the README describes; every such request records a scan. The public
/// proof bundles of the journey's events: GET .../proofs/{sequence}. No API key; rate-limited per client address.
/// </summary>
public static class ConsumerApi
{
    public const string RateLimitPolicy = "consumer";

    public sealed record ProductJson(string Gtin, string? Name, string? Description);
    public sealed record ScansJson(long Count, DateTimeOffset? First);
    public sealed record PlaceJson(string Name, string RegionCode, string Region);
    public sealed record StepAnchorJson(long Sequence, long? BlockNumber, string? TxHash);
    public sealed record StepJson(long Sequence, string Step, string Label, DateTimeOffset Time, PlaceJson? Place, StepAnchorJson? Anchor, bool Verified, string? Proof);
    public sealed record ConsumerJson(ProductJson Product, string Serial, string? Lot, DateTimeOffset? ProductionDate, string? Manufacturer,
        string Status, bool Known, bool Verified, string Verification, AnchorView? Anchor, ScansJson Scans, IReadOnlyList<Warning> Warnings,
        IReadOnlyList<StepJson> Journey, Lifecycle.ServiceView? Service = null)
    {
        /// <summary>Witness confirmation of the anchors shown (<see cref="Consumer.Confirmation"/>) and the badge's words for it; null without witnesses.</summary>
        public Confirmation? Confirmation { get; init; }
        public string? ConfirmationText { get; init; }
    }

    /// <summary>The services of the consumer side, and the rate limiter of its endpoints (TRACE_CONSUMER_RATE_LIMIT per client per minute; 0 = off).</summary>
    public static IServiceCollection AddConsumer(this IServiceCollection services, TraceOptions options)
    {
        services.AddSingleton(ScanSalt.LoadOrCreate(options.ScanSalt, options.DataDir));
        services.AddSingleton<ChainVerifier>();
        services.AddSingleton<ConsumerViewCache>();
        services.AddSingleton<ScanRecorder>();
        services.AddSingleton<DigitalLinkResolver>();
        services.AddRateLimiter(r =>
        {
            r.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // The limiter runs before the endpoint: a refused request never reaches the handler, so it is not counted as a scan.
            r.AddPolicy(RateLimitPolicy, http => options.ConsumerRateLimit <= 0
                ? RateLimitPartition.GetNoLimiter("off")
                : RateLimitPartition.GetFixedWindowLimiter(ClientKey(http), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.ConsumerRateLimit, Window = TimeSpan.FromMinutes(1), QueueLimit = 0, AutoReplenishment = true,
                }));
            r.OnRejected = async (context, ct) =>
            {
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 60;
                var http = context.HttpContext;
                http.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
                await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                    type: ProblemDetailsExceptionHandler.TypeBase + "too-many-requests",
                    detail: $"At most {options.ConsumerRateLimit} requests per minute from one client; retry in {retry} s.").ExecuteAsync(http);
            };
        });
        return services;
    }

    /// <summary>The client's address (behind a reverse proxy listed in TRACE_TRUSTED_PROXIES, the one its X-Forwarded-For names).</summary>
    private static string ClientKey(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } ip ? (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString() : "unknown";

    public static IEndpointRouteBuilder MapConsumerApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(".well-known/gs1resolver", (DigitalLinkResolver resolver) => Results.Json(resolver.Description()))
            .WithTags("Consumer (GS1 Digital Link)").WithSummary("The GS1 Digital Link resolver description");
        var group = app.MapGroup("01/{gtin}").WithTags("Consumer (GS1 Digital Link)").RequireRateLimiting(RateLimitPolicy);
        group.MapGet("21/{serial}", PageAsync).WithSummary("The consumer page (HTML; JSON with Accept: application/json); records the scan; ?region= GB/T 2260")
            .Produces(200, contentType: "text/html").Produces<ConsumerJson>(200, "application/json").Produces(404).Produces(429);
        group.MapGet("10/{lot}/21/{serial}", PageAsync).WithSummary("The consumer page, with the lot as printed on the label");
        group.MapGet("21/{serial}/proofs/{sequence:long}", ProofAsync).WithSummary("The proof bundle of an event of this code's public journey").ProducesProblem(404);
        group.MapGet("10/{lot}/21/{serial}/proofs/{sequence:long}", ProofAsync).WithSummary("The same, under the Digital Link with the lot").ProducesProblem(404);
        return app;
    }

    /// <summary>
    /// A consumer's scan of a code: the code's public view, checked against the latest self-audit, with the scan recorded
    /// (from <see cref="Client"/>, hashed, and the browser family of <see cref="UserAgent"/>) and the scan rules applied.
    /// </summary>
    public sealed record ScanCode(string Gtin, string Serial, string? Lot, string? Region, IPAddress? Client, string? UserAgent) : ICommand<ConsumerModel>
    {
        public sealed class Handler(TraceDbContext db, ConsumerViewCache views, ScanRecorder scans, AuditStatus audits, Lifecycle.ServiceDue service)
            : ICommandHandler<ScanCode, ConsumerModel>
        {
            public async ValueTask<ConsumerModel> Handle(ScanCode command, CancellationToken ct)
            {
                var (gtin, serial, lot, region, client, userAgent) = command;
                var gtin14 = NormaliseGtin(gtin);
                var scanRegion = Regions.IsValid(region) ? region : null;
                if (gtin14 is null || !IsSerial(gtin14, serial))
                    return new ConsumerModel { Gtin = gtin, Serial = serial, Epc = "", Known = false, Status = "unknown", Verification = Verification.NoEvents };

                var model = await views.GetAsync(db, gtin14, serial, lot, ct);
                // A code whose events failed the latest self-audit loses its "verified on chain" standing (read per request:
                // the cached view does not know about audit runs).
                var failed = await audits.FailedEventSequencesAsync(model.Steps.Select(st => st.Sequence), ct);
                if (failed.Count > 0)
                    model = model with
                    {
                        Verification = Verification.Mismatch,
                        Steps = model.Steps.Select(st => failed.Contains(st.Sequence) ? st with { Check = ChainCheck.Mismatch } : st).ToList(),
                    };
                model = model with { Scans = await scans.RecordAsync(db, model.Epc, client, userAgent, scanRegion, ct) };
                if (model.Unit is { Status: UnitStatus.Installed }) model = model with { Service = await service.ForUnitAsync(model.Epc, ct) };
                await scans.FlagCounterfeitAsync(db, model, ct);
                if (model.Known) await scans.CheckDiversionAsync(db, model.Unit, scanRegion, ct);
                return model;
            }
        }
    }

    /// <summary>The proof bundle of an event of a code's public journey (events holding business data are for members only: 403).</summary>
    public sealed record GetPublicProof(string Gtin, string Serial, long Sequence, string? Lot) : IQuery<EventsApi.ProofBundle>
    {
        public sealed class Handler(TraceDbContext db, ConsumerViewCache views, AnchorTrees trees, AuditStatus audits, Consortium.AnchorWitnesses witnesses)
            : IQueryHandler<GetPublicProof, EventsApi.ProofBundle>
        {
            public async ValueTask<EventsApi.ProofBundle> Handle(GetPublicProof query, CancellationToken ct)
            {
                var (gtin, serial, sequence, lot) = query;
                var gtin14 = NormaliseGtin(gtin);
                if (gtin14 is null || !IsSerial(gtin14, serial)) throw new NotFoundException($"Code {gtin}/{serial}");
                var model = await views.GetAsync(db, gtin14, serial, lot, ct);
                var step = model.Steps.FirstOrDefault(s => s.Sequence == sequence)
                    ?? throw new NotFoundException($"Event {sequence} in the public journey of {model.Epc}");
                if (!step.ProofPublic)
                    throw new ForbiddenException($"Event {sequence} holds business data (transactions, parties or extension fields): members fetch its bundle from /api/v1/events/{sequence}/proof.");

                var e = await db.Events.AsNoTracking().FirstAsync(x => x.Sequence == sequence, ct);
                var anchor = step.Anchor is null ? null : await db.Anchors.AsNoTracking().FirstAsync(a => a.Sequence == step.Anchor.Sequence, ct);
                return await EventsApi.BundleAsync(db, trees, audits, witnesses, e, anchor, ct);
            }
        }
    }

    private static async Task<IResult> PageAsync(string gtin, string serial, HttpContext http, IMediator mediator, CancellationToken ct,
        string? lot = null, string? region = null)
    {
        // a resolver query (?linkType=all, gs1:traceability, ...) is answered by the resolver and is not a scan
        if (http.Request.Query["linkType"] is { Count: 1 } linkType && await http.RequestServices.GetRequiredService<DigitalLinkResolver>()
                .HandleAsync(linkType[0]!, gtin, serial, lot, http.RequestServices.GetRequiredService<TraceDbContext>(),
                    http.RequestServices.GetRequiredService<ConsumerViewCache>(), ct) is { } linked)
            return linked;
        var texts = ConsumerTexts.For(http.Request);
        var model = await mediator.Send(new ScanCode(gtin, serial, lot, region, http.Connection.RemoteIpAddress, http.Request.Headers.UserAgent.ToString()), ct);
        model = model with { Confirmation = await Confirmation.ForAsync(model, http.RequestServices.GetRequiredService<Consortium.AnchorWitnesses>(), ct) };

        var warnings = ConsumerPage.Warnings(model, texts);
        var status = model.Known ? StatusCodes.Status200OK : StatusCodes.Status404NotFound;
        var path = http.Request.PathBase + http.Request.Path;
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Vary = "Accept, Accept-Language";
        if (WantsJson(http.Request))
            return Results.Json(ToJson(model, warnings, texts, path) with
            {
                Confirmation = model.Confirmation, ConfirmationText = model.Confirmation is { } c ? texts.VerifiedAndConfirmed(c) : null,
            }, statusCode: status);
        var other = texts.Lang == "en" ? "?lang=zh" : "?lang=en";
        return Results.Content(ConsumerPage.Html(model, texts, warnings, path, other), "text/html; charset=utf-8", statusCode: status);
    }

    private static async Task<IResult> ProofAsync(string gtin, string serial, long sequence, IMediator mediator, CancellationToken ct, string? lot = null) =>
        Results.Json(await mediator.Send(new GetPublicProof(gtin, serial, sequence, lot), ct));

    private static ConsumerJson ToJson(ConsumerModel m, IReadOnlyList<Warning> warnings, ConsumerTexts t, string path) => new(
        new ProductJson(m.Gtin, m.ProductName, m.ProductDescription), m.Serial, m.Lot, m.ProductionDate, m.Manufacturer, m.Status, m.Known,
        m.Verification == Verification.Verified, VerificationName(m.Verification), m.LatestAnchor,
        new ScansJson(m.Scans?.Count ?? 0, m.Scans?.First), warnings,
        m.Steps.Select(s => new StepJson(s.Sequence, s.Step, t.StepLabel(s.Step), s.Time,
            s.Place is { } p ? new PlaceJson(p.Name, p.RegionCode, t.Region(p.RegionCode)) : null,
            s.Anchor is { } a ? new StepAnchorJson(a.Sequence, a.BlockNumber, a.TxHash) : null,
            s.Check == ChainCheck.Verified, s.ProofPublic ? $"{path}/proofs/{s.Sequence}" : null)).ToList(), m.Service);

    private static string VerificationName(Verification v) => v switch
    {
        Verification.Verified => "verified",
        Verification.Pending => "pending",
        Verification.NoEvents => "no_events",
        Verification.Unavailable => "unavailable",
        _ => "mismatch",
    };

    /// <summary>JSON when the client asks for application/json (or +json) with a higher quality than text/html.</summary>
    private static bool WantsJson(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var types)) return false;
        double json = 0, html = 0;
        foreach (var t in types)
        {
            var q = t.Quality ?? 1;
            var media = t.MediaType.Value ?? "";
            if (media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase)) json = Math.Max(json, q);
            else if (media.Equals("text/html", StringComparison.OrdinalIgnoreCase)) html = Math.Max(html, q);
        }
        return json > 0 && json > html;
    }

    /// <summary>A GTIN-8/12/13/14 with a valid check digit, as 14 digits; else null.</summary>
    private static string? NormaliseGtin(string gtin) => Gs1Identifiers.TryNormalizeGtin(gtin, out var gtin14) ? gtin14 : null;

    /// <summary>
    /// A serial of 1 to 20 characters of the GS1 AI 82 set that also makes a valid Digital Link: the path arrives as the
    /// client wrote it, and an escape that decodes to no character ("%ED%A0%80") or a '%' that starts none ("a%2Fb" keeps
    /// its "%2F") is an unknown code, not an error.
    /// </summary>
    private static bool IsSerial(string gtin14, string serial) => serial.Length is >= 1 and <= 20 && serial.All(Serials.IsAi82)
        && Gs1Identifiers.TryToCanonicalDigitalLink($"https://id.gs1.org/01/{gtin14}/21/{Uri.EscapeDataString(serial)}", out _);
}
