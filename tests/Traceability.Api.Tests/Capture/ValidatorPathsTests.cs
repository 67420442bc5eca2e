using FluentAssertions;
using Traceability.Api.Features.Capture;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Tests.Capture;

/// <summary>
/// A document of <see cref="EpcisEventValidator.ParallelFrom"/> events or more, or of a few events naming many EPCs, is
/// checked on several cores, a smaller one on the request's thread: both give the same verdicts, errors in the same order
/// and the same hashes.
/// </summary>
public sealed class ValidatorPathsTests
{
    private static EpcisEvent Event(int i, int epcs = 1)
    {
        var zone = i % 5 == 1 ? "" : "+08:00";                    // every fifth event: an eventTime without its time zone
        var disposition = i % 7 == 3 ? "no_such_disposition" : "active"; // every seventh: a word outside the CBV
        return EpcisParser.ParseEventJson($$$"""
            {"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"ObjectEvent","action":"ADD",
             "eventTime":"2026-11-01T08:00:{{{i % 60:D2}}}.000{{{zone}}}","eventTimeZoneOffset":"+08:00",
             "epcList":[{{{string.Join(",", Enumerable.Range(0, epcs).Select(k => $"\"urn:epc:id:sgtin:0614141.107346.{i}{k:D5}\""))}}}],"bizStep":"commissioning","disposition":"{{{disposition}}}",
             "readPoint":{"id":"urn:epc:id:sgln:0614141.00777.0"}}
            """);
    }

    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(1, 5_000, false)]                                      // one event: nothing to spread
    [InlineData(EpcisEventValidator.ParallelFrom - 1, 1, false)]       // a scan group
    [InlineData(EpcisEventValidator.ParallelFrom, 1, true)]
    [InlineData(2, EpcisEventValidator.ParallelFromEpcs / 2 - 1, false)]
    [InlineData(2, EpcisEventValidator.ParallelFromEpcs / 2, true)]    // a recall's few events of many EPCs
    public void ManyEventsOrManyEpcsAreCheckedOnSeveralCores(int count, int epcsEach, bool parallel)
    {
        var events = Enumerable.Range(0, count).Select(i => Event(i, epcsEach)).ToList();

        EpcisEventValidator.CheckedInParallel(events).Should().Be(parallel);
    }

    [Theory]
    [InlineData(EpcisEventValidator.ParallelFrom, 1)]
    [InlineData(3 * EpcisEventValidator.ParallelFrom + 5, 1)]
    [InlineData(10, EpcisEventValidator.ParallelFromEpcs / 5)]
    public void ADocumentCheckedOnSeveralCoresGivesWhatEachEventCheckedAloneGives(int count, int epcsEach)
    {
        var events = Enumerable.Range(0, count).Select(i => (i, Event(i, epcsEach))).ToList();
        EpcisEventValidator.CheckedInParallel(events.Select(e => e.Item2).ToList()).Should().BeTrue();

        var (valid, errors) = EpcisEventValidator.Check(events);
        var alone = events.Select(e => EpcisEventValidator.Check([e])).ToList();

        errors.Select(e => (e.Index, e.Field, e.Message)).Should().Equal(alone.SelectMany(a => a.Errors).Select(e => (e.Index, e.Field, e.Message)));
        errors.Select(e => e.Index).Distinct().Should().HaveCountGreaterThan(count / 5, "the fixture breaks a rule in some events");
        valid.Select(v => v?.EventHash).Should().Equal(alone.Select(a => a.Valid[0]?.EventHash));
        valid.Count(v => v is not null).Should().BeGreaterThan(count / 2);
    }
}
