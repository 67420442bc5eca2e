using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Traceability.Api.Infrastructure.Configuration;

namespace Traceability.Api.Infrastructure.Jobs;

/// <summary>
/// The recurring jobs (anchoring, self-audit) on Hangfire, registered here and nowhere else, and its dashboard.
/// <list type="bullet">
/// <item>SQLite: Hangfire.InMemory. One process serves the file, and the anchor rows in the ledger are the source of
/// truth (a run reconciles them with the chain first), so a crash loses nothing a schedule needs.</item>
/// <item>PostgreSQL: Hangfire.PostgreSql in the database's "hangfire" schema. Every instance sharing the database
/// runs a server; the recurring scheduler takes a distributed lock, so each run is enqueued once and one worker of
/// one instance takes it. The schedule is stored in the database: the instance that starts last sets it for all.</item>
/// </list>
/// The storage, activator and logging are this host's own (not Hangfire's process-wide defaults), so several hosts in
/// one process — the functional tests — do not share them.
/// </summary>
public static class JobsSetup
{
    /// <summary>How often a scheduler looks for due runs and a PostgreSQL worker for queued ones: a quarter of the shortest interval, 1 to 15 s.</summary>
    public static TimeSpan PollingInterval(TraceOptions options)
    {
        var shortest = Math.Min(options.AnchorSchedule ? IntervalSchedule.For(options.AnchorIntervalSeconds).Seconds : int.MaxValue,
            options.AuditSchedule ? IntervalSchedule.For(options.AuditIntervalSeconds).Seconds : int.MaxValue);
        return TimeSpan.FromSeconds(Math.Clamp(shortest / 4, 1, 15));
    }

    public static IServiceCollection AddJobs(this IServiceCollection services, TraceOptions options)
    {
        var polling = PollingInterval(options);
        services.AddSingleton<JobStorage>(_ => options.UsesPostgres
            ? NewPostgresStorage(options.Database!, polling)
            : new InMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = TimeSpan.FromHours(6) }));
        services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire(c => c
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseSerilogLogProvider()); // the static Serilog logger outlives any one host, unlike a host's ILoggerFactory
        services.AddTransient<AnchoringJob>();
        services.AddTransient<AuditJob>();
        if (options.AnchorSchedule || options.AuditSchedule)
        {
            services.AddHangfireServer((_, server) =>
            {
                server.WorkerCount = 4; // two jobs; spare workers drop overlapping runs at once instead of queueing them
                server.SchedulePollingInterval = polling;
            });
        }
        services.AddDashboardAccess(options);
        return services;
    }

    private static PostgreSqlStorage NewPostgresStorage(string connectionString, TimeSpan polling)
    {
        var storage = new PostgreSqlStorageOptions { QueuePollInterval = polling, PrepareSchemaIfNecessary = true };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, storage), storage);
    }

    /// <summary>Registers (or, when turned off, removes) the recurring jobs, logs their schedules, and maps the dashboard.</summary>
    public static WebApplication MapJobs(this WebApplication app, TraceOptions options)
    {
        var jobs = app.Services.GetRequiredService<IRecurringJobManager>();
        Schedule<AnchoringJob>(app, jobs, options.AnchorSchedule, options.AnchorIntervalSeconds, AnchoringJob.Id, j => j.RunAsync(CancellationToken.None),
            "Anchoring", "TRACE_ANCHOR_INTERVAL", "Anchoring schedule off (TRACE_ANCHOR_SCHEDULE): anchors are made by POST /api/v1/anchors/run only");
        Schedule<AuditJob>(app, jobs, options.AuditSchedule, options.AuditIntervalSeconds, AuditJob.Id, j => j.RunAsync(CancellationToken.None),
            "Self-audit", "TRACE_AUDIT_INTERVAL", "Self-audit schedule off (TRACE_AUDIT_SCHEDULE): audits are run by POST /api/v1/audit/run only");
        app.MapDashboard();
        return app;
    }

    /// <summary>One recurring job: registered on its interval's cron schedule (UTC) and logged, or removed and said to be off.</summary>
    private static void Schedule<TJob>(WebApplication app, IRecurringJobManager jobs, bool on, int intervalSeconds, string id,
        System.Linq.Expressions.Expression<Func<TJob, Task>> run, string job, string setting, string off)
    {
        if (!on)
        {
            jobs.RemoveIfExists(id);
            app.Logger.LogInformation("{Off:l}", off);
            return;
        }
        var schedule = IntervalSchedule.For(intervalSeconds);
        jobs.AddOrUpdate(id, run, schedule.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        if (schedule.IsExact) app.Logger.LogInformation("{Job:l} runs {Schedule:l}", job, schedule.Describe(setting));
        else app.Logger.LogWarning("{Job:l} runs {Schedule:l}", job, schedule.Describe(setting));
    }
}
