using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Orders;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Tests.Support;
using Traceability.Verifier;

namespace Traceability.Api.Tests.Orders;

/// <summary>
/// Single-code scans in flight together, over HTTP on a real SQLite file and Hardhat: the scans waiting are decided and
/// captured as a group (one transaction), yet each gets its own verdicts and its own shipping event naming its order;
/// scans of one order never overfill a line or ship a unit twice; a scan refused at capture leaves nothing of itself
/// behind and the others of its group still ship. The capture lock is held while the scans queue, so the group is
/// formed for certain rather than by timing.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class GroupedScanTests(ChainFixture chain)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static JsonObject Now(JsonObject e)
    {
        e["eventTime"] = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
        return e;
    }

    private sealed record Setup(TraceService Svc, HttpClient Maker, HttpClient Regulator, string DealerId, string Gtin, string[] Units);

    private static async Task<Setup> SetUpAsync(TraceService svc, int units)
    {
        var docs = new TracingDocs();
        var (maker, _) = await svc.MemberAsync("manufacturer", "Maker");
        var (regulator, _) = await svc.MemberAsync("regulator");
        var (_, dealerId) = await svc.MemberAsync("dealer", "Dealer");
        var plant = TracingDocs.Sgln("00001");
        await TracingDocs.LocationAsync(maker, plant, "Plant", "320506");
        var gtin = TracingDocs.Gtin("00001");
        await TracingDocs.ProductAsync(maker, gtin, "Milk");
        var epcs = Enumerable.Range(1, units).Select(i => TracingDocs.Unit(gtin, $"G{i:D4}")).ToArray();
        await TracingDocs.AcceptedAsync(maker, Now(docs.Commission("L1", plant, epcs)));
        return new Setup(svc, maker, regulator, dealerId, gtin, epcs);
    }

    private static async Task<long> OrderAsync(Setup s, string number, int quantity)
    {
        var created = await s.Maker.PostAsJsonAsync("/api/v1/orders", new { number, shipTo = s.DealerId, lines = new[] { new { gtin = s.Gtin, quantity } } });
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        return (long)(await TraceService.JsonAsync(created))["id"]!;
    }

    /// <summary>Holds the capture lock while the first scan is taken by the writer and the others queue behind it; then lets them go.</summary>
    private static async Task<HttpResponseMessage[]> QueuedTogetherAsync(TraceService svc, Func<Task<HttpResponseMessage>> first, IReadOnlyList<Func<Task<HttpResponseMessage>>> rest)
    {
        var queue = svc.Services.GetRequiredService<OrderScanQueue>();
        Task<HttpResponseMessage> head;
        var tail = new List<Task<HttpResponseMessage>>();
        using (await svc.Services.GetRequiredService<CaptureWriteLock>().AcquireAsync(CancellationToken.None))
        {
            var taken = queue.Taken;
            head = first();
            await UntilAsync(() => queue.Taken == taken + 1 && !head.IsCompleted, "the writer takes the first scan");
            tail.AddRange(rest.Select(r => r()));
            await UntilAsync(() => queue.Waiting == rest.Count, "the other scans queue behind it");
        }
        return [await head, .. await Task.WhenAll(tail)];
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(20)) throw new TimeoutException($"waited 20 s for {what}");
            await Task.Delay(10);
        }
        await Task.Delay(50); // the writer reaches the capture lock
    }

    private static async Task<JsonNode> OkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task SingleScansOfManyOrdersInFlightTogetherShareOneCaptureEachWithItsOwnEventVerdictsAndCounts()
    {
        await using var svc = await chain.StartServiceAsync();
        var s = await SetUpAsync(svc, 8);
        var orders = new long[8];
        for (var i = 0; i < orders.Length; i++) orders[i] = await OrderAsync(s, $"SO-G{i}", i % 2 == 0 ? 1 : 2);
        Func<Task<HttpResponseMessage>> Scan(int i) => () => s.Maker.PostAsJsonAsync($"/api/v1/orders/{orders[i]}/scans", new { code = s.Units[i] });

        var answers = await QueuedTogetherAsync(svc, Scan(0), [.. Enumerable.Range(1, 7).Select(Scan)]);

        var sequences = new List<long>();
        for (var i = 0; i < orders.Length; i++)
        {
            var body = await OkAsync(answers[i]);
            ((long)body["orderId"]!).Should().Be(orders[i]);
            body["verdicts"]!.AsArray().Select(v => ((string)v!["epc"]!, (string)v["verdict"]!)).Should().Equal((s.Units[i], "accepted"));
            ((string)body["status"]!).Should().Be(i % 2 == 0 ? "completed" : "in_progress", "each answer shows its own order as its event left it");
            body["lines"]!.AsArray().Select(l => (long)l!["scanned"]!).Should().Equal(1);
            var sequence = (long)body["eventSequence"]!;
            sequences.Add(sequence);
            var stored = (await TracingDocs.GetAsync(s.Regulator, $"/api/v1/events/{sequence}")).Body!;
            ((string)stored["eventHash"]!).Should().Be((string)body["eventHash"]!);
            var e = stored["event"]!;
            ((string)e["bizStep"]!).Should().EndWith("shipping");
            e["epcList"]!.AsArray().Select(x => (string)x!).Should().Equal(s.Units[i]);
            ((string)body["bizTransaction"]!).Should().Be($"https://traceability.example/orders/{orders[i]}", "an issuer without a GLN names the order by its id");
            ((string)e["bizTransactionList"]![0]!["bizTransaction"]!).Should().Be((string)body["bizTransaction"]!);
        }
        sequences.Should().OnlyHaveUniqueItems();
        svc.Scalar($"SELECT COUNT(DISTINCT record_time) FROM events WHERE sequence IN ({string.Join(",", sequences.Skip(1))})")
            .Should().Be(1, "the seven scans queued behind the first were captured in one transaction");
        svc.Scalar("SELECT COUNT(*) FROM order_units").Should().Be(8);
        svc.Scalar("SELECT SUM(scanned) FROM order_lines").Should().Be(8);
        svc.Scalar("SELECT COUNT(*) FROM units WHERE status = 'in_transit'").Should().Be(8);

        // anchored and provable like every event
        (await svc.AnchorAsync()).Status.Should().Be(200);
        var bundle = await TraceService.JsonAsync(await svc.Admin.GetAsync($"/api/v1/events/{sequences[^1]}/proof"));
        var verified = await new BundleVerifier(Http).VerifyAsync(bundle, new ChainOptions(chain.Node.RpcUrl));
        verified.Verified.Should().BeTrue(verified.ToLine());
    }

    [Fact]
    public async Task SingleScansOfOneOrderInFlightTogetherGiveEachCodeOneVerdictAndNeverOverfillTheLine()
    {
        await using var svc = await chain.StartServiceAsync();
        var s = await SetUpAsync(svc, 12);
        // a second line the scans never fill keeps the order open, so every scan gets its verdicts
        var other = TracingDocs.Gtin("00002");
        await TracingDocs.ProductAsync(s.Maker, other, "Butter");
        var created = await s.Maker.PostAsJsonAsync("/api/v1/orders",
            new { number = "SO-RACE", shipTo = s.DealerId, lines = new[] { new { gtin = s.Gtin, quantity = 5 }, new { gtin = other, quantity = 100 } } });
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var order = (long)(await TraceService.JsonAsync(created))["id"]!;
        var codes = s.Units.Concat(s.Units[..4]).ToArray(); // 12 codes, four of them sent twice
        Func<Task<HttpResponseMessage>> Scan(string code) => () => s.Maker.PostAsJsonAsync($"/api/v1/orders/{order}/scans", new { code });

        var answers = await QueuedTogetherAsync(svc, Scan(codes[0]), [.. codes.Skip(1).Select(Scan)]);

        var verdicts = new List<(string Epc, string Verdict)>();
        var events = new List<long>();
        foreach (var answer in answers)
        {
            var body = await OkAsync(answer);
            var v = body["verdicts"]!.AsArray().Single()!;
            verdicts.Add(((string)v["epc"]!, (string)v["verdict"]!));
            if (body["eventSequence"] is { } sequence) events.Add((long)sequence);
        }
        verdicts.Should().HaveCount(16);
        var accepted = verdicts.Where(v => v.Verdict == "accepted").Select(v => v.Epc).ToList();
        accepted.Should().HaveCount(5).And.OnlyHaveUniqueItems();
        verdicts.Where(v => v.Verdict != "accepted").Should().HaveCount(11).And.OnlyContain(v => v.Verdict == "duplicate" || v.Verdict == "line-complete");
        verdicts.Where(v => v.Verdict == "duplicate").Should().OnlyContain(v => accepted.Contains(v.Epc), "a code is a duplicate only once it was accepted");
        verdicts.Where(v => v.Verdict == "line-complete").Should().OnlyContain(v => !accepted.Contains(v.Epc));
        events.Should().HaveCount(5).And.OnlyHaveUniqueItems();

        var stored = await TraceService.JsonAsync(await s.Maker.GetAsync($"/api/v1/orders/{order}"));
        ((string)stored["status"]!, (long)stored["lines"]![0]!["scanned"]!).Should().Be(("in_progress", 5L));
        svc.Scalar($"SELECT COUNT(*) FROM order_units WHERE order_id = {order}").Should().Be(5);
        svc.Scalar("SELECT COUNT(*) FROM units WHERE status = 'in_transit'").Should().Be(5);
        svc.Scalar("SELECT COUNT(*) FROM events WHERE biz_step LIKE '%shipping'").Should().Be(5);
    }

    [Fact]
    public async Task AScanRefusedAtCaptureLeavesNothingHalfWrittenAndTheOtherScansOfItsGroupShip()
    {
        var refusals = new RefuseEpcStep.Settings();
        await using var svc = await chain.StartServiceAsync(configure: b => b.ConfigureTestServices(services =>
        {
            services.AddSingleton(refusals);
            services.AddScoped<ICaptureStep, RefuseEpcStep>(); // last: after the order step has written in the transaction
        }));
        var s = await SetUpAsync(svc, 6);
        var orders = new long[6];
        for (var i = 0; i < orders.Length; i++) orders[i] = await OrderAsync(s, $"SO-F{i}", 1);
        refusals.Epc = s.Units[3];
        var events = svc.Scalar("SELECT COUNT(*) FROM events");
        Func<Task<HttpResponseMessage>> Scan(int i) => () => s.Maker.PostAsJsonAsync($"/api/v1/orders/{orders[i]}/scans", new { code = s.Units[i] });

        var answers = await QueuedTogetherAsync(svc, Scan(0), [.. Enumerable.Range(1, 5).Select(Scan)]);

        refusals.LargestRefused.Should().Be(5, "the five scans queued together were first captured as one group");
        for (var i = 0; i < orders.Length; i++)
        {
            if (i == 3) continue;
            var body = await OkAsync(answers[i]);
            body["verdicts"]!.AsArray().Select(v => (string)v!["verdict"]!).Should().Equal("accepted");
            ((string)body["status"]!).Should().Be("completed");
        }
        var refused = answers[3];
        refused.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await TraceService.JsonAsync(refused))["errors"]!.AsArray().Select(e => (string)e!["rule"]!).Should().Equal(RefuseEpcStep.Rule);

        // the refused scan left nothing: no event, no unit on the order, its order untouched, its unit where it was
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(events + 5);
        svc.Scalar($"SELECT COUNT(*) FROM order_units WHERE order_id = {orders[3]}").Should().Be(0);
        var untouched = await TraceService.JsonAsync(await s.Maker.GetAsync($"/api/v1/orders/{orders[3]}"));
        ((string)untouched["status"]!, (long)untouched["scanned"]!).Should().Be(("open", 0L));
        svc.Text($"SELECT status FROM units WHERE epc = '{s.Units[3]}'").Should().Be("commissioned");
        svc.Scalar("SELECT COUNT(*) FROM order_units").Should().Be(5);
        svc.Scalar("SELECT COUNT(*) FROM units WHERE status = 'in_transit'").Should().Be(5);
    }

    /// <summary>
    /// A capture step standing in for a rule broken between a scan's decision and its capture (another writer's recall,
    /// say): it refuses any capture naming <see cref="Settings.Epc"/>, after every other step has written.
    /// </summary>
    private sealed class RefuseEpcStep(RefuseEpcStep.Settings settings) : ICaptureStep
    {
        public const string Rule = "test-refusal";

        public sealed class Settings
        {
            public volatile string? Epc;
            public int LargestRefused;
        }

        private int _events;
        private bool _named;

        public ValueTask BeginAsync(CaptureContext context, IReadOnlyList<ValidatedEvent> events, CancellationToken ct)
        {
            (_events, _named) = (events.Count, false);
            return ValueTask.CompletedTask;
        }

        public ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
        {
            if (appended.Validated.Identifiers.Any(i => i.Epc == settings.Epc)) _named = true;
            return ValueTask.CompletedTask;
        }

        public ValueTask CompleteAsync(CaptureContext context, CancellationToken ct)
        {
            if (!_named) return ValueTask.CompletedTask;
            context.Violations.Add(new FieldError("epcList", $"{settings.Epc} is refused by the test.", 0, Rule, settings.Epc));
            lock (settings) settings.LargestRefused = Math.Max(settings.LargestRefused, _events);
            return ValueTask.CompletedTask;
        }
    }
}
