using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Analytics;
using Traceability.Api.Features.Anchoring;
using Traceability.Api.Features.Audit;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Codes;
using Traceability.Api.Features.Console;
using Traceability.Api.Features.Consumer;
using Traceability.Api.Features.Events;
using Traceability.Api.Features.Members;
using Traceability.Api.Features.Platform;
using Traceability.Api.Features.Recall;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Jobs;
using Traceability.Api.Infrastructure.Persistence;

var builder = WebApplication.CreateBuilder(args);

var options = new TraceOptions();
TraceOptions.Bind(options, builder.Configuration);
var validation = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), validation, validateAllProperties: true))
    throw new OptionsValidationException(nameof(TraceOptions), typeof(TraceOptions), validation.Select(v => v.ErrorMessage ?? "invalid setting"));
Directory.CreateDirectory(options.DataDir);

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
builder.Services.AddDbContext<TraceDbContext>(db =>
{
    if (options.UsesPostgres) db.UseNpgsql(options.Database);
    else db.UseSqlite($"Data Source={options.DatabasePathOrConnection};Pooling=True;Default Timeout=30");
});
builder.Services.AddHttpClient("chain", c => c.Timeout = TimeSpan.FromSeconds(30));
builder.Services.AddSingleton<ChainConnection>();
builder.Services.AddSingleton<ChainHealth>();
builder.Services.AddSingleton<AnchorTrees>();
builder.Services.AddSingleton<AnchorPendingEvents>();
builder.Services.AddSingleton<ApiKeyService>();
builder.Services.AddSingleton<CaptureWriteLock>();
builder.Services.AddSingleton<EventHashIndex>();
if (!options.UsesPostgres) builder.Services.AddSingleton(_ => SqliteOwnership.Acquire(options.DatabasePathOrConnection));
builder.Services.AddSingleton<SqliteCheckpointer>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<SqliteCheckpointer>());
builder.Services.AddScoped<CaptureEpcisDocument>();
builder.Services.AddScoped<ICaptureStep, CustodyStep>();
builder.Services.AddScoped<ItemHistory>();
builder.Services.AddScoped<BatchTrace>();
builder.Services.AddScoped<RecallLot>();
builder.Services.AddScoped<RecallExport>();
builder.Services.AddSingleton<AuditLedger>();
builder.Services.AddScoped<AuditStatus>();
builder.Services.AddConsumer(options);
// Capture steps run in registration order: the diversion rule reads units, so it comes after the tracing projection's steps.
builder.Services.AddScoped<ICaptureStep, SaleDiversionStep>();
builder.Services.AddAnalytics();
builder.Services.AddConsole();

builder.Services.AddQuartz(q =>
{
    if (options.UsesPostgres)
    {
        // Several API instances may share one PostgreSQL database: the clustered store runs each firing on one instance.
        q.UsePersistentStore(s =>
        {
            s.UsePostgres(options.Database!);
            s.UseSystemTextJsonSerializer();
            s.UseClustering();
            s.ProvisionSchema();
        });
    }
    if (options.AnchorSchedule)
    {
        q.AddJob<AnchoringJob>(j => j.WithIdentity(AnchoringJob.Key));
        q.AddTrigger(t => t.ForJob(AnchoringJob.Key).WithIdentity("anchoring-trigger")
            .StartAt(DateTimeOffset.UtcNow.AddSeconds(Math.Min(5, options.AnchorIntervalSeconds)))
            .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(options.AnchorIntervalSeconds)).RepeatForever()));
    }
    if (options.AuditSchedule)
    {
        // The first run a minute after the start (sooner with a shorter interval), so restarts do not postpone audits forever.
        q.AddJob<AuditJob>(j => j.WithIdentity(AuditJob.Key));
        q.AddTrigger(t => t.ForJob(AuditJob.Key).WithIdentity("audit-trigger")
            .StartAt(DateTimeOffset.UtcNow.AddSeconds(Math.Min(60, options.AuditIntervalSeconds)))
            .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(options.AuditIntervalSeconds)).RepeatForever()));
    }
});
builder.Services.AddQuartzHostedService(q => q.WaitForJobsToComplete = true);

builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
builder.Services.ConfigureHttpJsonOptions(j =>
{
    j.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
    j.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase));
});
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
app.UseExceptionHandler();
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
app.MapConsumerApi();
app.MapTracingApi();
app.MapRecallsApi();
app.MapAuditApi();
app.MapAnalyticsApi();
app.MapConsole();

app.Run();

/// <summary>The service's entry point; public for WebApplicationFactory in the functional tests.</summary>
public partial class Program;
