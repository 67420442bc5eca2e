using Stopwatch = System.Diagnostics.Stopwatch;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Data.Sqlite;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Features.Anchoring;
using Traceability.Api.Features.Audit;
using Traceability.Api.Features.Events;
using Microsoft.Extensions.Configuration;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Tests.Support;
using Traceability.Ledger.Epcis;
using Xunit.Abstractions;

namespace Traceability.Api.Tests;

/// <summary>The self-audit's operation: the schedule, a chain outage, settings, and a ledger larger than one rehash chunk.</summary>
[Collection(ChainCollection.Name)]
public sealed class SelfAuditTests(ChainFixture chain, ITestOutputHelper output)
{
    [Fact]
    public async Task ScheduledJobAuditsWithoutBeingAsked()
    {
        await using var svc = await chain.StartServiceAsync(new Dictionary<string, string> { ["TRACE_AUDIT_SCHEDULE"] = "true", ["TRACE_AUDIT_INTERVAL"] = "1" });
        var (maker, _) = await svc.MemberAsync("manufacturer");
        await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(2));
        AnchoredAll(await svc.AnchoredAsync(), anchorSequence: 1, first: 1, last: 2);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        AuditApi.AuditRunResponse? latest = null;
        while (DateTime.UtcNow < deadline)
        {
            var response = await svc.Admin.GetAsync("/api/v1/audit/latest");
            if (response.StatusCode == HttpStatusCode.OK && (latest = await response.ReadAsync<AuditApi.AuditRunResponse>()).Anchors == 1
                && svc.Scalar("SELECT COUNT(*) FROM audit_runs") >= 2) break;
            await Task.Delay(250);
        }
        latest.Should().NotBeNull();
        latest!.Trigger.Should().Be("schedule");
        latest.Status.Should().Be("ok");
        svc.Scalar("SELECT COUNT(*) FROM audit_runs").Should().BeGreaterThanOrEqualTo(2, "it keeps running every TRACE_AUDIT_INTERVAL seconds");
    }

    [Fact]
    public async Task AnswersServiceUnavailableAndChangesNoStatusGivenAnUnreachableChain()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(2));
        AnchoredAll(await svc.AnchoredAsync(), anchorSequence: 1, first: 1, last: 2);

        chain.Proxy.Stop();
        try
        {
            var problem = await (await svc.Admin.PostAsync("/api/v1/audit/run", null)).ReadAsync<ProblemDetails>(HttpStatusCode.ServiceUnavailable);
            problem.Type.Should().EndWith("/audit-error");
            ((JsonElement)problem.Extensions["run"]!).Deserialize<AuditApi.AuditRunResponse>(ApiAnswers.Json)!.Status.Should().Be("error");
            problem.Detail.Should().StartWith("AUDIT ERROR: chain unavailable: ");
        }
        finally
        {
            chain.Proxy.Start();
        }

        (await svc.Admin.GetAnswerAsync<AuditApi.AuditRunResponse>("/api/v1/audit/latest")).Status.Should().Be("error");
        (await svc.Admin.GetAnswerAsync<EventsApi.EventResponse>("/api/v1/events/1")).Audit.Status
            .Should().Be("not_audited", "a run that could not finish changes no event's standing");
        (await svc.Admin.GetAnswerAsync<AlertsApi.AlertPage>("/api/v1/alerts?type=tamper")).Items.Should().BeEmpty();
    }

    [Fact]
    public void ReadsTheAuditSettingsFromTheEnvironmentNames()
    {
        var o = new TraceOptions();
        o.AuditIntervalSeconds.Should().Be(86_400);
        o.AuditSchedule.Should().BeTrue();
        TraceOptions.Bind(o, new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TRACE_AUDIT_INTERVAL"] = "3600", ["TRACE_AUDIT_SCHEDULE"] = "false",
        }).Build());
        (o.AuditIntervalSeconds, o.AuditSchedule).Should().Be((3600, false));
        var bad = () => TraceOptions.Bind(new TraceOptions(), new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["TRACE_AUDIT_INTERVAL"] = "daily" }).Build());
        bad.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage("*TRACE_AUDIT_INTERVAL must be an integer*");
    }

    /// <summary>
    /// 20,000 events written straight into the database (with their true hashes), anchored in two batches, then two of
    /// them edited far apart: the streamed, chunked, parallel rehash finds exactly those two, in ledger order.
    /// </summary>
    [Fact]
    public async Task FindsExactlyTheEditedEventsAmongManyAcrossRehashChunks()
    {
        // TRACE_TEST_AUDIT_EVENTS raises the count to time larger ledgers (e.g. 1000000); the edited events stay the same.
        var count = int.TryParse(Environment.GetEnvironmentVariable("TRACE_TEST_AUDIT_EVENTS"), out var n) && n >= 20_000 ? n : 20_000;
        await using var svc = await chain.StartServiceAsync(new Dictionary<string, string> { ["TRACE_ANCHOR_MAX_EVENTS"] = "12000" });
        var (_, makerId) = await svc.MemberAsync("manufacturer");
        InsertEvents(svc, count, makerId);
        // TRACE_ANCHOR_MAX_EVENTS 12,000: the run writes two anchors and answers with the last one.
        AnchoredAll(await svc.AnchoredAsync(), anchorSequence: 2, first: 12_001, last: count);
        svc.Scalar("SELECT COUNT(*) FROM anchors").Should().Be(2);

        svc.Execute("UPDATE events SET json = json_set(json, '$.disposition', 'stolen') WHERE sequence IN (4097, 19999)").Should().Be(2);
        var clock = Stopwatch.StartNew();
        var response = await svc.Admin.PostAsync("/api/v1/audit/run", null);
        clock.Stop();
        var run = await response.ReadAsync<AuditApi.AuditRunResponse>();
        output.WriteLine($"self-audit of {count} events: {clock.Elapsed.TotalSeconds:F2} s ({count / clock.Elapsed.TotalSeconds:F0} events/s); {run.Summary}");

        run.Status.Should().Be("failed");
        run.EventsChecked.Should().Be(count);
        var events = run.Findings.Where(f => f.Kind == "event-hash").Select(f => (f.AnchorSequence, f.EventSequence));
        events.Should().Equal(((long?)1L, (long?)4097L), (2L, 19999L));
        run.Findings.Where(f => f.Kind == "root").Select(f => f.EventSequence).Should().Equal(4097L, 19999L);
        run.Findings.Should().HaveCount(4);
    }

    /// <summary>The anchoring run the audit depends on succeeded: otherwise the audit below would check nothing.</summary>
    private static void AnchoredAll(AnchorsApi.AnchorResponse anchor, long anchorSequence, long first, long last)
    {
        anchor.Status.Should().Be("confirmed");
        anchor.Sequence.Should().Be(anchorSequence);
        anchor.FirstEventSequence.Should().Be(first);
        anchor.LastEventSequence.Should().Be(last);
    }

    private static void InsertEvents(TraceService svc, int count, string submitter)
    {
        using var conn = new SqliteConnection($"Data Source={svc.DatabasePath};Pooling=False");
        conn.Open();
        using var tx = conn.BeginTransaction();
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO events (sequence, event_hash, event_type, event_time, record_time, submitter_id, json) VALUES ($s, $h, 'ObjectEvent', $t, $t, $m, $j)";
        var s = cmd.Parameters.Add("$s", SqliteType.Integer);
        var h = cmd.Parameters.Add("$h", SqliteType.Text);
        var j = cmd.Parameters.Add("$j", SqliteType.Text);
        cmd.Parameters.AddWithValue("$t", "2026-11-01T00:00:00.000Z");
        cmd.Parameters.AddWithValue("$m", submitter);
        for (var i = 1; i <= count; i++)
        {
            var e = EpcisDocs.Commissioning();
            e["@context"] = new JsonArray(EpcisDocs.Context);
            var json = e.ToJsonString();
            s.Value = i;
            h.Value = EventHash.Compute(EpcisParser.ParseEventJson(json));
            j.Value = json;
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
    }
}
