using System.Globalization;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Recall;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Tests.Support;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Tests.Tracing;

/// <summary>
/// The recall's EPCIS document, written straight to UTF-8, is the document a tree of JSON nodes gave: the same events,
/// each with the same hash, whatever the reason's characters.
/// </summary>
public sealed class RecallDocumentTests
{
    [Theory]
    [InlineData(1, "label")]
    [InlineData(RecallLot.EpcsPerEvent, "contamination")]
    [InlineData(25_000, "Quotes \"x\", <b>&amp;</b>, accents é, 中文, a backslash \\ and a tab\t")]
    public void TheDocumentHoldsTheUnitsInEventsOfAtMostTenThousandWithTheSameHashesAsAJsonTree(int units, string reason)
    {
        var epcs = Enumerable.Range(0, units).Select(i => TracingDocs.Unit(TracingDocs.Gtin("00001"), "R" + i.ToString("D6", CultureInfo.InvariantCulture))).ToList();
        var now = DateTimeOffset.Parse("2026-03-04T05:06:07.089Z", CultureInfo.InvariantCulture);

        var written = EpcisParser.ParseJson(RecallLot.Document(epcs, "rc_0123456789abcdef", reason, now));
        var tree = EpcisParser.ParseJson(Tree(epcs, "rc_0123456789abcdef", reason, now).ToJsonString());

        written.Events.Should().HaveCount((units + RecallLot.EpcsPerEvent - 1) / RecallLot.EpcsPerEvent);
        written.Events.SelectMany(e => e.EpcList).Should().Equal(epcs);
        written.Events.Select(EventHash.Compute).Should().Equal(tree.Events.Select(EventHash.Compute));
        foreach (var e in written.Events)
        {
            e.EpcList.Count.Should().BeLessThanOrEqualTo(RecallLot.EpcsPerEvent);
            e.Disposition.Should().EndWith("recalled");
            e.Extensions.Single(x => x.Name == "{" + CustodyStep.RecallNamespace + "}reason").Value.Should().Be(reason);
        }
    }

    /// <summary>The document as it was built before: a tree of JSON nodes, serialised to a string.</summary>
    private static JsonObject Tree(IReadOnlyList<string> epcs, string id, string reason, DateTimeOffset now)
    {
        var time = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var events = epcs.Chunk(RecallLot.EpcsPerEvent).Select(chunk => (JsonNode)new JsonObject
        {
            ["type"] = "ObjectEvent",
            ["eventTime"] = time,
            ["eventTimeZoneOffset"] = "+00:00",
            ["epcList"] = new JsonArray(chunk.Select(e => (JsonNode)e).ToArray()),
            ["action"] = "OBSERVE",
            ["bizStep"] = "holding",
            ["disposition"] = "recalled",
            ["trace:recallId"] = id,
            ["trace:reason"] = reason,
        }).ToArray();
        return new JsonObject
        {
            ["@context"] = new JsonArray(CbvVocabulary.StandardContext, new JsonObject { ["trace"] = CustodyStep.RecallNamespace }),
            ["type"] = "EPCISDocument",
            ["schemaVersion"] = "2.0",
            ["creationDate"] = time,
            ["epcisBody"] = new JsonObject { ["eventList"] = new JsonArray(events) },
        };
    }
}
