using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Traceability.Api.Features.Epcis;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Epcis;

/// <summary>
/// Event-time queries answer the same wherever the background event-time index (<see cref="EventTimeIndex"/>) stands:
/// with none, some or all of the seven events of <see cref="EpcisLedger"/> projected into event_times, every window,
/// order and page boundary gives the same events in the same order.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class EventTimeIndexTests(ChainFixture chain, EpcisLedger ledger) : IClassFixture<EpcisLedger>
{
    /// <summary>A query and the events it must answer, in this order (the letters' times are one day apart, A first).</summary>
    private static readonly (string Query, string Expected)[] Cases =
    [
        ("orderBy=eventTime&orderDirection=ASC", "ABCDEFG"),
        ("orderBy=eventTime", "GFEDCBA"),
        ("GE_eventTime=2026-11-03T08:00:00.000Z", "CDEFG"),
        ("GE_eventTime=2026-11-02T00:00:00Z&LT_eventTime=2026-11-05T00:00:00Z&orderBy=eventTime", "DCB"),
        ("LT_eventTime=2026-11-04T00:00:00Z&orderBy=recordTime&orderDirection=ASC", "ABC"),
        ("eventType=ObjectEvent&orderBy=eventTime&orderDirection=ASC", "ABEF"),
        ("MATCH_anyEPC=urn:epc:id:sgtin:4012345.011111.A1&orderBy=eventTime", "GBA"),
    ];

    [SharedFact]
    public async Task QueriesAnswerTheSameWithNoneSomeOrAllEventsProjected()
    {
        await ledger.EnsureAsync(chain);
        var service = ledger.Service;
        var index = service.Services.GetServices<IHostedService>().OfType<EventTimeIndex>().Single();
        await index.StopAsync(CancellationToken.None); // this test moves projected_to itself

        var last = service.Scalar("SELECT MAX(sequence) FROM events");
        last.Should().Be(7);
        for (var projected = 0L; projected <= last; projected++)
        {
            service.Execute("DELETE FROM event_times");
            service.Execute("INSERT INTO event_times (event_time, sequence) SELECT event_time, sequence FROM events WHERE sequence <= @p", ("@p", projected));
            service.Execute("UPDATE event_times_projected SET projected_to = @p", ("@p", projected));
            foreach (var (query, expected) in Cases)
            {
                foreach (var perPage in new[] { 2, 100 })
                {
                    var seen = new List<string>();
                    string? url = $"/epcis/events?{query}&perPage={perPage}";
                    for (var pages = 0; url is not null; pages++)
                    {
                        pages.Should().BeLessThan(10);
                        var (events, next) = await ledger.GetAsync(url);
                        seen.AddRange(events.Select(e => ledger.LetterOf(e!)));
                        url = next;
                    }
                    string.Concat(seen).Should().Be(expected, $"{query}, perPage {perPage}, events up to {projected} in event_times");
                }
            }
        }

        // the index catches up by itself: every event in event_times once, projected_to at the last one
        service.Execute("DELETE FROM event_times WHERE sequence > 2");
        service.Execute("UPDATE event_times_projected SET projected_to = 2");
        (await index.ProjectAsync(CancellationToken.None)).Should().Be(5);
        (await index.ProjectAsync(CancellationToken.None)).Should().Be(0);
        service.Scalar("SELECT COUNT(*) FROM event_times").Should().Be(7);
        service.Scalar("SELECT COUNT(*) FROM event_times t JOIN events e ON e.sequence = t.sequence AND e.event_time = t.event_time").Should().Be(7);
        service.Scalar("SELECT projected_to FROM event_times_projected").Should().Be(7);
    }

    [Fact]
    public async Task ACaptureInTimeOrderIsInTheIndexAtOnceAndAnOlderOneWaitsForTheBackground()
    {
        await using var service = await chain.StartServiceAsync();
        var index = service.Services.GetServices<IHostedService>().OfType<EventTimeIndex>().Single();
        await index.StopAsync(CancellationToken.None); // from here only the captures and this test move projected_to
        var (regulator, _) = await service.MemberAsync("regulator");
        var events = EpcisLedger.Events();
        events[4].Remove("example:temperature"); // an extension of a namespace this document does not declare
        await CaptureAsync(regulator, events);
        IndexState(service).Should().Be((7, 7), "the first capture fills the empty index in its own transaction");

        // an event older than the index's last time (2026-11-07) would land inside it: left for the background batch,
        // and a later capture waits behind it, so the index never skips an event
        await CaptureAsync(regulator, [Shipping(events, "2026-10-01T08:00:00.000Z")]);
        await CaptureAsync(regulator, [Shipping(events, "2026-11-20T08:00:00.000Z")]);
        IndexState(service).Should().Be((7, 7));
        var response = await regulator.GetAsync("/epcis/events?GE_eventTime=2026-09-01T00:00:00Z&orderBy=eventTime&orderDirection=ASC&perPage=100");
        var answer = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        EpcisLedger.EventList(answer).Select(e => (string)e!["eventTime"]!).Should().HaveCount(9, "the queries read the events after projected_to from events")
            .And.StartWith("2026-10-01T08:00:00.000Z").And.EndWith("2026-11-20T08:00:00.000Z");

        (await index.ProjectAsync(CancellationToken.None)).Should().Be(2);
        IndexState(service).Should().Be((9, 9));
        await CaptureAsync(regulator, [Shipping(events, "2026-11-21T08:00:00.000Z")]);
        IndexState(service).Should().Be((10, 10), "in step again: the next capture in time order goes in at once");
        service.Scalar("SELECT COUNT(*) FROM event_times t JOIN events e ON e.sequence = t.sequence AND e.event_time = t.event_time").Should().Be(10);
    }

    [Fact]
    public async Task TheBackgroundServiceProjectsWhatACaptureLeft()
    {
        await using var service = await chain.StartServiceAsync();
        var (regulator, _) = await service.MemberAsync("regulator");
        var events = EpcisLedger.Events();
        events[4].Remove("example:temperature");
        await CaptureAsync(regulator, events);
        await CaptureAsync(regulator, [Shipping(events, "2026-10-01T08:00:00.000Z")]); // older than the index's end
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (service.Scalar("SELECT projected_to FROM event_times_projected") < 8 && DateTime.UtcNow < deadline) await Task.Delay(50);
        IndexState(service).Should().Be((8, 8));
    }

    /// <summary>Whether a capture adds its events to the index itself: only at the index's end, and only when nothing waits before them.</summary>
    [Theory]
    [InlineData(0, 1, null, "2026-11-01T08:00:00.000Z", true)]                         // an empty index
    [InlineData(7, 8, "2026-11-07T08:00:00.000Z", "2026-11-07T08:00:00.000Z", true)]   // the last time again: after it by sequence
    [InlineData(7, 8, "2026-11-07T08:00:00.000Z", "2026-11-20T08:00:00.000Z", true)]
    [InlineData(7, 8, "2026-11-07T08:00:00.000Z", "2026-11-07T07:59:59.999Z", false)]  // a millisecond earlier: inside the index
    [InlineData(7, 8, "2026-11-07T08:00:00.000Z", "2026-10-01T08:00:00.000Z", false)]
    [InlineData(5, 8, "2026-11-05T08:00:00.000Z", "2026-11-20T08:00:00.000Z", false)]  // events 6 and 7 still wait for the background
    [InlineData(0, 8, null, "2026-11-20T08:00:00.000Z", false)]
    public void ACaptureAppendsToTheIndexOnlyAtItsEnd(long projectedTo, long firstSequence, string? lastIndexed, string earliest, bool appends) =>
        EventTimeIndex.AppendsInCapture(projectedTo, firstSequence, lastIndexed, earliest).Should().Be(appends);

    private static async Task CaptureAsync(HttpClient member, IEnumerable<System.Text.Json.Nodes.JsonObject> events)
    {
        var response = await TraceService.CaptureAsync(member, EpcisDocs.Document([.. events]));
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Event B of the ledger (an OBSERVE at shipping) at another time: a new event.</summary>
    private static System.Text.Json.Nodes.JsonObject Shipping(System.Text.Json.Nodes.JsonObject[] events, string eventTime)
    {
        var copy = (System.Text.Json.Nodes.JsonObject)events[1].DeepClone();
        copy["eventTime"] = eventTime;
        return copy;
    }

    private static (long ProjectedTo, long Rows) IndexState(TraceService service) =>
        (service.Scalar("SELECT projected_to FROM event_times_projected"), service.Scalar("SELECT COUNT(*) FROM event_times"));

    /// <summary>When the background service projects: a backlog of <see cref="EventTimeIndex.MinBatch"/> at once, fewer events after <see cref="EventTimeIndex.MaxLag"/>.</summary>
    [Theory]
    [InlineData(0, 0, false)]
    [InlineData(0, 60_000, false)]
    [InlineData(1, 0, false)]
    [InlineData(1, 1_999, false)]
    [InlineData(1, 2_000, true)]
    [InlineData(19_999, 1_000, false)]
    [InlineData(20_000, 0, true)]
    [InlineData(250_000, 0, true)]
    public void ProjectsALargeBacklogAtOnceAndASmallOneAfterTheLag(long pending, int waitedMs, bool due) =>
        EventTimeIndex.Due(pending, TimeSpan.FromMilliseconds(waitedMs)).Should().Be(due);
}
