using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Traceability.Api.Infrastructure.Requests;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests;

/// <summary>The mediator's pipeline behaviours, over HTTP: validation before the handler, and a timed log line and histogram per request type.</summary>
[Collection(ChainCollection.Name)]
public sealed class RequestPipelineTests(ChainFixture chain)
{
    [Fact]
    public async Task RefusesAnInvalidRequestBeforeItsHandlerWithA400NamingEveryField()
    {
        var logs = new CapturedLogs();
        await using var svc = await chain.StartServiceAsync(configure: logs.Attach);

        var response = await svc.Admin.GetAsync("/api/v1/alerts?type=bogus&offset=-1&limit=0");

        var (problem, errors) = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        problem.Type.Should().Be("https://traceability.example/problems/validation");
        problem.Title.Should().Be("Invalid alert query");
        errors.Select(e => e.Field).Should().Equal("type", "offset", "limit");
        logs.Timings("AlertsApi.ListAlerts").Should().ContainSingle().Which.Outcome.Should().Be("refused");
    }

    [Fact]
    public async Task RefusesAnInvalidCommandWithEveryFieldAndStoresNothing()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");

        var response = await maker.PostAsJsonAsync("/api/v1/codes/generate", new { gtin = "123", lot = "", count = 0, companyPrefixLength = 3 });

        (await response.ReadProblemAsync(HttpStatusCode.BadRequest)).Errors.Select(e => e.Field).Should().Equal("gtin", "lot", "count", "companyPrefixLength");
        svc.Scalar("SELECT COUNT(*) FROM codes").Should().Be(0);
    }

    [Fact]
    public async Task LogsEachRequestWithItsTypeAndElapsedTimeAndRecordsTheDurationHistogram()
    {
        var logs = new CapturedLogs();
        await using var svc = await chain.StartServiceAsync(configure: logs.Attach);
        var durations = new ConcurrentBag<(double Seconds, string? Type, string? Outcome)>();
        var meters = svc.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Meter.Name == RequestTiming.MeterName && instrument.Name == RequestTiming.DurationInstrument)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            string? type = null, outcome = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "request.type") type = tag.Value as string;
                else if (tag.Key == "outcome") outcome = tag.Value as string;
            }
            durations.Add((value, type, outcome));
        });
        listener.Start();

        var (maker, _) = await svc.MemberAsync("manufacturer");
        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(2))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await svc.Admin.GetAsync("/api/v1/events/404")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        logs.Timings("MembersApi.CreateMember").Should().ContainSingle().Which.Outcome.Should().Be("ok");
        var capture = logs.Timings("CaptureEpcisDocument.Command").Should().ContainSingle().Subject;
        capture.Outcome.Should().Be("ok");
        capture.ElapsedMs.Should().BeGreaterThan(0);
        // Serilog renders string properties quoted for the providers it forwards to; the console line has them bare
        capture.Message.Replace("\"", "", StringComparison.Ordinal).Should().StartWith("CaptureEpcisDocument.Command ok in ").And.EndWith(" ms");
        logs.Timings("EventsApi.GetEvent").Should().ContainSingle().Which.Outcome.Should().Be("refused");

        durations.Should().Contain(d => d.Type == "CaptureEpcisDocument.Command" && d.Outcome == "ok" && d.Seconds > 0);
        durations.Should().Contain(d => d.Type == "EventsApi.GetEvent" && d.Outcome == "refused");
    }

    /// <summary>The request timing lines a service logged, read from their structured state.</summary>
    private sealed class CapturedLogs : ILoggerProvider
    {
        public sealed record Timing(string RequestType, string Outcome, double ElapsedMs, LogLevel Level, string Message);

        private readonly ConcurrentQueue<Timing> _timings = new();

        public void Attach(IWebHostBuilder host) => host.ConfigureLogging(l => l.AddProvider(this));

        public IReadOnlyList<Timing> Timings(string requestType) => _timings.Where(t => t.RequestType == requestType).ToList();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName == RequestTiming.LogCategory ? _timings : null);

        public void Dispose() { }

        private sealed class Logger(ConcurrentQueue<Timing>? timings) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => timings is not null;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (timings is null || state is not IReadOnlyList<KeyValuePair<string, object?>> fields) return;
                object? Field(string name) => fields.FirstOrDefault(f => f.Key == name).Value;
                if (Field("RequestType") is string type && Field("Outcome") is string outcome && Field("ElapsedMs") is double ms)
                    timings.Enqueue(new Timing(type, outcome, ms, logLevel, formatter(state, exception)));
            }
        }
    }
}
