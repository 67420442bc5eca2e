using System.Net;
using System.Text;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Epcis;

/// <summary>The /epcis queries, paging and capture jobs on PostgreSQL (its own SQL: jsonb, starts_with, row comparisons).</summary>
[Collection(ChainCollection.Name)]
public sealed class EpcisPostgresTests(ChainFixture chain)
{
    [PostgresFact]
    public async Task EveryQueryCaseAnswersTheSameOnPostgres()
    {
        await using var ledger = new EpcisLedgerOwner();
        await ledger.Ledger.EnsureAsync(chain, new Dictionary<string, string> { ["TRACE_DB"] = await Postgres.NewDatabaseAsync() });
        foreach (var row in EpcisQueryTests.Cases())
        {
            var (query, expected) = ((string)row[0], (string)row[1]);
            var (events, _) = await ledger.Ledger.GetAsync("/epcis/events?" + query.Replace("|", "%7C", StringComparison.Ordinal) + (query.Length > 0 ? "&" : "") + "perPage=100");
            ledger.Ledger.Letters(events).Should().Be(expected, query);
        }
        var hashB = ledger.Ledger.Hashes["B"];
        ledger.Ledger.Letters((await ledger.Ledger.GetAsync("/epcis/events?EQ_eventID=" + Uri.EscapeDataString(hashB))).Events).Should().Be("B");

        foreach (var order in new[] { "orderBy=recordTime", "orderBy=eventTime&orderDirection=ASC", "orderBy=eventTime&GE_eventTime=2026-11-02T00:00:00Z" })
        {
            var seen = new List<string>();
            string? url = "/epcis/events?perPage=3&" + order;
            while (url is not null)
            {
                var (events, next) = await ledger.Ledger.GetAsync(url);
                seen.AddRange(events.Select(e => ledger.Ledger.LetterOf(e!)));
                url = next;
            }
            if (order == "orderBy=recordTime") seen.Should().OnlyHaveUniqueItems().And.HaveCount(7);
            if (order == "orderBy=eventTime&orderDirection=ASC") string.Concat(seen).Should().Be("ABCDEFG");
            if (order == "orderBy=eventTime&GE_eventTime=2026-11-02T00:00:00Z") string.Concat(seen).Should().Be("GFEDCB");
        }

        var maker = ledger.Ledger.Regulator;
        var request = new HttpRequestMessage(HttpMethod.Post, "/epcis/capture") { Content = new StringContent(EpcisDocs.Commissioning(2), Encoding.UTF8, "application/ld+json") };
        request.Headers.Add("GS1-Capture-Error-Behaviour", "proceed");
        var accepted = await maker.SendAsync(request);
        accepted.StatusCode.Should().Be(HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync());
        var job = await TraceService.JsonAsync(await maker.GetAsync(accepted.Headers.Location));
        ((bool)job["success"]!).Should().BeTrue(job.ToJsonString());
        (await TraceService.JsonAsync(await maker.GetAsync("/epcis/capture"))).AsArray().Should().HaveCount(1);
    }

    /// <summary>An <see cref="EpcisLedger"/> owned by one test (disposed with it).</summary>
    private sealed class EpcisLedgerOwner : IAsyncDisposable
    {
        public EpcisLedger Ledger { get; } = new();

        public async ValueTask DisposeAsync() => await Ledger.DisposeAsync();
    }
}
