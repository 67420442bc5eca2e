using OpenTelemetry.Metrics;
using Serilog;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Display;
using Traceability.Api.Infrastructure.Configuration;

namespace Traceability.Api.Infrastructure.Observability;

/// <summary>
/// Logs and metrics. Logs: Serilog to standard output (scripts/run sends it to data/api.log), one line per entry, or
/// compact JSON with TRACE_LOG_FORMAT=json; one structured
/// entry per HTTP request. Metrics: OpenTelemetry, exported in Prometheus text at GET /metrics — the service's own
/// (<see cref="TraceMetrics"/>), ASP.NET Core's request metrics and the .NET runtime's (GC, heap, working set).
/// </summary>
public static class ObservabilitySetup
{
    public const string MetricsPath = "/metrics";
    private const string TextTemplate = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    public static IServiceCollection AddObservability(this IServiceCollection services, TraceOptions options, IConfiguration configuration)
    {
        services.AddSerilog((_, log) =>
        {
            // Quiet framework chatter by default; a "Serilog" configuration section (appsettings.json, or variables such
            // as Serilog__MinimumLevel__Default=Debug) overrides these levels.
            log.MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
                .MinimumLevel.Override("System.Net.Http.HttpClient", LogEventLevel.Warning)
                .MinimumLevel.Override("Hangfire", LogEventLevel.Warning)
                .ReadFrom.Configuration(configuration)
                .Enrich.FromLogContext();
            ITextFormatter format = options.LogAsJson ? new RenderedCompactJsonFormatter()
                : new MessageTemplateTextFormatter(TextTemplate, System.Globalization.CultureInfo.InvariantCulture);
            // Output to a pipe or a file (the usual case: scripts/run, a supervisor) is written in batches off the
            // request's thread; a terminal gets Serilog's console sink and its colours.
            if (Console.IsOutputRedirected) log.WriteTo.Sink(new BufferedConsoleSink(format, Console.OpenStandardOutput()));
            else if (options.LogAsJson) log.WriteTo.Console(format);
            else log.WriteTo.Console(outputTemplate: TextTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }, writeToProviders: true); // Program clears the default providers; one added later (a test's log sink) still gets every entry
        services.AddSingleton<TraceMetrics>();
        services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(TraceMetrics.MeterName)
            // The runtime's own meter: managed heap by generation after the last GC, memory the GC has committed, the
            // working set, GC counts and pauses; how a long run's memory splits between the managed heap and the rest.
            .AddMeter("System.Runtime")
            .AddAspNetCoreInstrumentation()
            .AddPrometheusExporter(p => p.ScrapeResponseCacheDurationMilliseconds = 0)); // a scrape sees what was just recorded
        return services;
    }

    /// <summary>The request log (first, so it sees every request's final status) and the scraping endpoint.</summary>
    public static WebApplication UseObservability(this WebApplication app)
    {
        app.Services.GetRequiredService<TraceMetrics>(); // its gauges exist from the start, not from the first capture
        app.UseSerilogRequestLogging(r => r.GetLevel = (http, _, error) =>
            error is not null || http.Response.StatusCode >= 500 ? LogEventLevel.Error
            : http.Request.Path.StartsWithSegments(MetricsPath) || http.Request.Path.StartsWithSegments("/health") ? LogEventLevel.Debug
            : LogEventLevel.Information);
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        return app;
    }
}
