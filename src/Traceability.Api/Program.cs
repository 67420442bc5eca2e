using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Analytics;
using Traceability.Api.Features.Anchoring;
using Traceability.Api.Features.Audit;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Codes;
using Traceability.Api.Features.Console;
using Traceability.Api.Features.Consortium;
using Traceability.Api.Features.Consumer;
using Traceability.Api.Features.Epcis;
using Traceability.Api.Features.Events;
using Traceability.Api.Features.Import;
using Traceability.Api.Features.Inspection;
using Traceability.Api.Features.Lifecycle;
using Traceability.Api.Features.Members;
using Traceability.Api.Features.Orders;
using Traceability.Api.Features.Platform;
using Traceability.Api.Features.Signing;
using Traceability.Api.Features.Recall;
using Traceability.Api.Features.Stock;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Http;
using Traceability.Api.Infrastructure.Jobs;
using Traceability.Api.Infrastructure.Observability;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Requests;

// The content root is the application's own folder, not the working directory: the host watches its content root
// (for appsettings.json, recursively), and scripts/run starts the service from the repository, whose data/ folder the
// database writes into. Watched, every WAL write woke the file watcher: 12% of the CPU of a 1,000-event capture.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

var options = new TraceOptions();
TraceOptions.Bind(options, builder.Configuration);
var validation = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), validation, validateAllProperties: true))
    throw new OptionsValidationException(nameof(TraceOptions), typeof(TraceOptions), validation.Select(v => v.ErrorMessage ?? "invalid setting"));
Directory.CreateDirectory(options.DataDir);
Traceability.Api.Infrastructure.Reliability.CrashPoints.Arm(options.CrashAt); // testing only (TRACE_CRASH_AT with TRACE_TESTING)

builder.Services.AddSingleton(options);
if (options.TrustedProxies.Count > 0)
{
    builder.Services.Configure<Microsoft.AspNetCore.Builder.ForwardedHeadersOptions>(f =>
    {
        f.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto;
        f.ForwardLimit = null; // walk X-Forwarded-For back through every trusted proxy to the first address that is not one
        f.KnownProxies.Clear();
        f.KnownIPNetworks.Clear();
        foreach (var network in options.TrustedProxies) f.KnownIPNetworks.Add(network);
    });
}
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(AdminKey.LoadOrCreate(options.AdminKey, options.DataDir));
// The options are built once (not per request's context): building them for every context was 7% of a single scan's CPU.
builder.Services.AddDbContext<TraceDbContext>(db => TraceDbContext.Configure(db, options.DatabasePathOrConnection, options.UsesPostgres),
    ServiceLifetime.Scoped, ServiceLifetime.Singleton);
builder.Services.AddHttpClient("chain", c => c.Timeout = TimeSpan.FromSeconds(30));
builder.Services.AddSingleton<ChainConnection>();
builder.Services.AddSingleton<ChainHealth>();
builder.Services.AddSingleton<AnchorTrees>();
builder.Services.AddSingleton<AnchorPendingEvents>();
builder.Services.AddSingleton<ApiKeyService>();
builder.Services.AddSingleton<CaptureWriteLock>();
builder.Services.AddSingleton<LedgerAppends>();
builder.Services.AddScoped<CaptureSignature>();
builder.Services.AddSingleton<EventHashIndex>();
builder.Services.AddSingleton<LotCounts>(); // a lot's counts for the batch trace, kept while the ledger does not move
if (!options.UsesPostgres)
{
    SqliteConnectionSettings.LimitMemory(options.SqliteMemoryMiB * 1024L * 1024);
    builder.Services.AddSingleton(_ => SqliteOwnership.Acquire(options.DatabasePathOrConnection));
}
builder.Services.AddSingleton<SqliteCheckpointer>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<SqliteCheckpointer>());
builder.Services.AddSingleton<AuditLedger>();
builder.Services.AddScoped<AuditStatus>();
builder.Services.AddConsumer(options);
builder.Services.AddEpcis();
builder.Services.AddAnalytics();
builder.Services.AddConsole();
builder.Services.AddOrders();
builder.Services.AddLifecycle();
builder.Services.AddConsortium();

// The capture steps, in the order they run inside the capture's transaction (this list is the only place that says it):
// custody first (it keeps the units the others read), then the rules and projections that read units.
builder.Services.AddScoped<ICaptureStep, SignedCaptureStep>();    // a signed document's signer and proofs; refuses before any event is applied
builder.Services.AddScoped<ICaptureStep, CustodyStep>();
builder.Services.AddScoped<ICaptureStep, SaleDiversionStep>();    // a sale outside the dealer's territory: a diversion alert
builder.Services.AddScoped<ICaptureStep, ForeignLocationStep>();  // who may record at another member's location (ADR 0009)
builder.Services.AddScoped<ICaptureStep, ControlPointStep>();     // the product's control points in force at the event's time; service records
builder.Services.AddScoped<ICaptureStep, AnalyticsRollupStep>();  // the daily sales roll-ups
builder.Services.AddScoped<ICaptureStep, OrderStep>();            // an order's scans and receipts, with their events
builder.Services.AddScoped<ICaptureStep, EventTimeStep>();        // the event-time index of the EPCIS queries, when the events come in time order

// Every use case is a request with one handler (registered by the source generator, which reads these options as
// literals); timing wraps validation so refused requests are logged and measured too.
builder.Services.AddSingleton<RequestTiming>();
builder.Services.AddMediator(m =>
{
    m.ServiceLifetime = ServiceLifetime.Scoped;
    m.PipelineBehaviors = [typeof(TimingBehavior<,>), typeof(ValidationBehavior<,>)];
});

builder.Services.AddJobs(options);
builder.Logging.ClearProviders(); // Serilog writes the console
builder.Services.AddObservability(options, builder.Configuration);

builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
builder.Services.ConfigureHttpJsonOptions(j => ApiJson.Configure(j.SerializerOptions));
// A body or parameter the framework cannot bind is a 400 ProblemDetails naming the field (through the exception
// handler), in every environment, rather than an empty 400 outside Development.
builder.Services.Configure<RouteHandlerOptions>(r => r.ThrowOnBadRequest = true);
builder.Services.AddEndpointsApiExplorer();
builder.Services.AddSwaggerGen(s =>
{
    s.SwaggerDoc("v1", new() { Title = "Traceability API", Version = "v1", Description = "Blockchain-anchored EPCIS 2.0 traceability ledger" });
    s.AddSecurityDefinition(ApiKeyAuth.Header, new Microsoft.OpenApi.OpenApiSecurityScheme
    {
        Type = Microsoft.OpenApi.SecuritySchemeType.ApiKey, In = Microsoft.OpenApi.ParameterLocation.Header, Name = ApiKeyAuth.Header,
        Description = "Member API key (or the admin key printed by scripts/run)",
    });
});

var app = builder.Build();

if (!options.UsesPostgres) app.Services.GetRequiredService<SqliteOwnership>(); // before anything opens the file
await using (var scope = app.Services.CreateAsyncScope())
{
    var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
    var applied = await SchemaMigrator.MigrateAsync(db);
    if (applied > 0) app.Logger.LogInformation("Applied {Count} schema migration(s) to {Database}", applied, options.UsesPostgres ? "PostgreSQL" : options.DatabasePathOrConnection);
    if (!options.UsesPostgres)
    {
        // SQLite: read the event hash map now rather than in the first capture
        var conn = db.Database.GetDbConnection();
        await using var tx = await conn.BeginTransactionAsync();
        await app.Services.GetRequiredService<EventHashIndex>().LoadAsync(conn, tx, default);
        await tx.CommitAsync();
    }
}

if (options.TrustedProxies.Count > 0) app.UseForwardedHeaders(); // first: everything after sees the client's address
app.UseObservability();
app.UseExceptionHandler();

app.UseSecurityHeaders(); // nosniff and Referrer-Policy on every answer; CSP and no framing on HTML

app.UseStatusCodePages();
app.UseRateLimiter();
app.UseSwagger();
app.UseSwaggerUI(ui => ui.SwaggerEndpoint("/swagger/v1/swagger.json", "Traceability v1"));

app.MapPlatformApi();
app.MapMembersApi();
app.MapCaptureApi();
app.MapEventsApi();
app.MapAnchorsApi();
app.MapAlertsApi();
app.MapCodesApi();
app.MapInspectionApi();
app.MapConsumerApi();
app.MapTracingApi();
app.MapRecallsApi();
app.MapAuditApi();
app.MapEpcisApi();
app.MapJobs(options);
app.MapAnalyticsApi();
app.MapConsole();
app.MapOrdersApi();
app.MapStockApi();
app.MapImportApi();
app.MapLifecycleApi();
app.MapConsortiumApi();
app.MapMemberAddressesApi();

app.Run();

/// <summary>The service's entry point; public for WebApplicationFactory in the functional tests.</summary>
public partial class Program;
