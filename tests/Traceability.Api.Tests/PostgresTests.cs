using System.Net;
using Traceability.Api.Features.Audit;
using Traceability.Api.Features.Events;
using Traceability.Api.Tests.Support;
using Traceability.Chain;

namespace Traceability.Api.Tests;

/// <summary>TRACE_DB set to a PostgreSQL connection string: the same service on a real PostgreSQL 15 server.</summary>
[Collection(ChainCollection.Name)]
public sealed class PostgresTests(ChainFixture chain)
{
    [PostgresFact]
    public async Task CapturesAnchorsAndRestartsOnPostgres()
    {
        var database = await Postgres.NewDatabaseAsync();
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        var settings = new Dictionary<string, string> { ["TRACE_DB"] = database };
        var dir = chain.Folders.Create("trace-pg-");
        string key;
        await using (var svc = chain.Start(dir, registry, settings))
        {
            var (maker, _) = await svc.MemberAsync("manufacturer");
            key = maker.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
            var receipts = await (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(4))).ReceiptsAsync();
            receipts.Select(r => r.Sequence).Should().Equal(1, 2, 3, 4);
            var anchor = await svc.AnchoredAsync();
            anchor.Status.Should().Be("confirmed");
            (await svc.Admin.GetAnswerAsync<EventsApi.ProofBundle>("/api/v1/events/3/proof")).Root.Should().Be(anchor.Root);
        }
        File.Exists(Path.Combine(dir, "traceability.db")).Should().BeFalse("TRACE_DB switches storage to PostgreSQL");
        (await Postgres.ScalarAsync(database, "SELECT COUNT(*) FROM events")).Should().Be(4);

        await using var restarted = chain.Start(dir, registry, settings);
        var again = restarted.Client(key);
        (await (await TraceService.CaptureAsync(again, EpcisDocs.Commissioning(1))).ReceiptsAsync())[0].Sequence.Should().Be(5);
        (await restarted.Client().GetAsync("/health")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [PostgresFact]
    public async Task TwoInstancesSharingOneDatabaseKeepSequencesGapFreeAndAnchorEachRangeOnce()
    {
        var database = await Postgres.NewDatabaseAsync();
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        var settings = new Dictionary<string, string> { ["TRACE_DB"] = database };
        await using var a = chain.Start(chain.Folders.Create("trace-pg-a-"), registry, settings);
        await using var b = chain.Start(chain.Folders.Create("trace-pg-b-"), registry, settings);
        var (makerA, _) = await a.MemberAsync("manufacturer");
        var makerB = b.Client(makerA.DefaultRequestHeaders.GetValues("X-Api-Key").Single());

        var captures = Enumerable.Range(0, 20).Select(i => TraceService.CaptureAsync(i % 2 == 0 ? makerA : makerB, EpcisDocs.Commissioning(1 + i % 3)));
        var responses = await Task.WhenAll(captures);
        responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.Created);
        var total = Enumerable.Range(0, 20).Sum(i => 1 + i % 3);
        (await Postgres.ScalarAsync(database, "SELECT COUNT(*) FROM events")).Should().Be(total);
        (await Postgres.ScalarAsync(database, "SELECT MAX(sequence) - COUNT(*) FROM events")).Should().Be(0, "sequences are gap-free across instances");

        var runs = await Task.WhenAll(a.AnchorAsync(), b.AnchorAsync(), a.AnchorAsync(), b.AnchorAsync());
        runs.Should().OnlyContain(r => r.Status == 200 || r.Status == 204);
        (await Postgres.ScalarAsync(database, "SELECT COUNT(*) FROM anchors WHERE status <> 'confirmed'")).Should().Be(0);
        (await Postgres.ScalarAsync(database, "SELECT MAX(last_event_sequence) FROM anchors")).Should().Be(total);
        var anchors = await Postgres.ScalarAsync(database, "SELECT COUNT(*) FROM anchors");
        using var http = new HttpClient();
        var onChain = await new AnchorRegistryClient(new HttpRpcClient(http, chain.Node.RpcUrl), registry.Contract).AnchorCountAsync(CancellationToken.None);
        ((long)onChain).Should().Be(anchors, "each range is anchored once on the chain");
    }

    [PostgresFact]
    public async Task TwoInstancesWithTheScheduleOnRunEachRecurringRunOnceAndAnchorEachRangeOnce()
    {
        var database = await Postgres.NewDatabaseAsync();
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        var settings = new Dictionary<string, string> { ["TRACE_DB"] = database, ["TRACE_ANCHOR_SCHEDULE"] = "on", ["TRACE_ANCHOR_INTERVAL"] = "1" };
        await using var a = chain.Start(chain.Folders.Create("trace-pg-sched-a-"), registry, settings);
        await using var b = chain.Start(chain.Folders.Create("trace-pg-sched-b-"), registry, settings);
        var (makerA, _) = await a.MemberAsync("manufacturer");
        var makerB = b.Client(makerA.DefaultRequestHeaders.GetValues("X-Api-Key").Single());
        for (var i = 0; i < 6; i++)
            (await TraceService.CaptureAsync(i % 2 == 0 ? makerA : makerB, EpcisDocs.Commissioning(2))).StatusCode.Should().Be(HttpStatusCode.Created);

        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (DateTime.UtcNow < deadline && await Postgres.ScalarAsync(database, "SELECT COALESCE(MAX(last_event_sequence), 0) FROM anchors WHERE status = 'confirmed'") < 12)
            await Task.Delay(250);
        (await Postgres.ScalarAsync(database, "SELECT COALESCE(MAX(last_event_sequence), 0) FROM anchors WHERE status = 'confirmed'")).Should().Be(12, "the schedule anchored every event");
        (await Postgres.ScalarAsync(database, "SELECT COUNT(*) FROM hangfire.server")).Should().Be(2, "both instances run a Hangfire server");
        (await Postgres.ScalarAsync(database, "SELECT COUNT(*) FROM hangfire.hash WHERE key = 'recurring-job:anchoring' AND field = 'Cron'")).Should().Be(1);
        (await Postgres.ScalarAsync(database, "SELECT COUNT(*) FROM hangfire.jobparameter WHERE name = 'Time'")).Should().BeGreaterThan(1);
        (await Postgres.ScalarAsync(database, "SELECT COUNT(*) - COUNT(DISTINCT value) FROM hangfire.jobparameter WHERE name = 'Time'"))
            .Should().Be(0, "each occurrence of the recurring job is enqueued once, for one instance to run");
        var anchors = await Postgres.ScalarAsync(database, "SELECT COUNT(*) FROM anchors");
        using var http = new HttpClient();
        var onChain = await new AnchorRegistryClient(new HttpRpcClient(http, chain.Node.RpcUrl), registry.Contract).AnchorCountAsync(CancellationToken.None);
        ((long)onChain).Should().Be(anchors, "each range is anchored once on the chain");
    }

    [PostgresFact]
    public async Task SelfAuditFindsAnEditedEventOnPostgres()
    {
        var database = await Postgres.NewDatabaseAsync();
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        await using var svc = chain.Start(chain.Folders.Create("trace-pg-audit-"), registry, new Dictionary<string, string> { ["TRACE_DB"] = database });
        var (maker, _) = await svc.MemberAsync("manufacturer");
        await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(3));
        (await svc.AnchorAsync()).Status.Should().Be(200);
        (await (await svc.Admin.PostAsync("/api/v1/audit/run", null)).ReadAsync<AuditApi.AuditRunResponse>()).Status.Should().Be("ok");

        (await Postgres.ScalarAsync(database, "WITH u AS (UPDATE events SET json = replace(json, '\"active\"', '\"inactive\"') WHERE sequence = 2 RETURNING 1) SELECT COUNT(*) FROM u"))
            .Should().Be(1);
        var run = await (await svc.Admin.PostAsync("/api/v1/audit/run", null)).ReadAsync<AuditApi.AuditRunResponse>();
        run.Status.Should().Be("failed");
        run.Summary.Should().StartWith("AUDIT FAILED: anchor 1, event 2: event-hash:");
        (await svc.Admin.GetAnswerAsync<EventsApi.EventResponse>("/api/v1/events/2")).Audit.Status.Should().Be("failed");
        (await Postgres.ScalarAsync(database, "SELECT COUNT(*) FROM alerts WHERE type = 'tamper'")).Should().Be(2);
    }
}
