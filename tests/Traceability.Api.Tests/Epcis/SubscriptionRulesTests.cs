using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Traceability.Api.Features.Epcis;

namespace Traceability.Api.Tests.Epcis;

/// <summary>The pure parts of subscriptions: schedules, destinations, the signature.</summary>
public sealed class SubscriptionRulesTests
{
    [Theory]
    [InlineData("""{"hour":"1","minute":"5"}""", "2026-12-01T00:00:00Z", "2026-12-01T01:05:00Z")]
    [InlineData("""{"hour":"1","minute":"5"}""", "2026-12-01T01:05:00Z", "2026-12-02T01:05:00Z")]
    [InlineData("""{"second":"0/30"}""", "2026-12-01T10:00:10Z", "2026-12-01T10:00:30Z")]
    [InlineData("""{"second":"*/2"}""", "2026-12-01T10:00:01.500Z", "2026-12-01T10:00:02Z")]
    [InlineData("""{"minute":"*/15"}""", "2026-12-01T10:16:00Z", "2026-12-01T10:30:00Z")]
    [InlineData("""{"minute":"[10-12]"}""", "2026-12-01T10:12:00Z", "2026-12-01T11:10:00Z")]
    [InlineData("""{"hour":"8","dayOfWeek":"1"}""", "2026-12-01T09:00:00Z", "2026-12-07T08:00:00Z")] // 1 December 2026 is a Tuesday; 7 December a Monday
    [InlineData("""{"hour":"0","dayOfWeek":"7"}""", "2026-12-01T09:00:00Z", "2026-12-06T00:00:00Z")]
    [InlineData("""{"dayOfMonth":"31","hour":"0"}""", "2026-11-01T00:00:00Z", "2026-12-31T00:00:00Z")]
    [InlineData("""{"month":"2","dayOfMonth":"29","hour":"0"}""", "2026-12-01T00:00:00Z", "2028-02-29T00:00:00Z")]
    [InlineData("""{"second":"5,10","minute":"0","hour":"12"}""", "2026-12-01T12:00:05Z", "2026-12-01T12:00:10Z")]
    public void ASchedulesNextRunIsItsFirstMatchAfterTheTime(string schedule, string after, string next) =>
        QuerySchedule.Parse(JsonNode.Parse(schedule)!.AsObject()).Next(DateTimeOffset.Parse(after)).Should().Be(DateTimeOffset.Parse(next));

    [Fact]
    public void AScheduleThatNeverRunsHasNoNextRun() =>
        QuerySchedule.Parse(new JsonObject { ["month"] = "2", ["dayOfMonth"] = "31" }).Next(DateTimeOffset.Parse("2026-01-01T00:00:00Z")).Should().BeNull();

    [Theory]
    [InlineData("""{"hour":"24"}""", "schedule.hour")]
    [InlineData("""{"minute":"-1"}""", "schedule.minute")]
    [InlineData("""{"dayOfWeek":"0"}""", "schedule.dayOfWeek")]
    [InlineData("""{"second":"*/0"}""", "schedule.second")]
    [InlineData("""{"second":"[5-1]"}""", "schedule.second")]
    [InlineData("""{"week":"1"}""", "schedule")]
    [InlineData("""{"hour":true}""", "schedule.hour")]
    public void ABadScheduleIsRefusedNamingItsField(string schedule, string field)
    {
        var refuse = () => QuerySchedule.Parse(JsonNode.Parse(schedule)!.AsObject());
        refuse.Should().Throw<EpcisException>().Where(e => e.Name == "SubscriptionControlsException" && e.Message.StartsWith(field + ":"));
    }

    [Theory]
    [InlineData("93.184.216.34", false, true)]
    [InlineData("10.1.2.3", false, true)]                 // the consortium's private network
    [InlineData("127.0.0.1", false, false)]
    [InlineData("127.0.0.1", true, true)]
    [InlineData("::1", false, false)]
    [InlineData("::1", true, true)]
    [InlineData("169.254.169.254", true, false)]          // instance metadata, even when loopback is allowed
    [InlineData("::ffff:169.254.169.254", true, false)]
    [InlineData("100.100.100.200", false, false)]
    [InlineData("fd00:ec2::254", false, false)]
    [InlineData("0.0.0.0", true, false)]
    [InlineData("224.0.0.1", false, false)]
    [InlineData("255.255.255.255", false, false)]
    [InlineData("fe80::1", false, false)]
    [InlineData("ff02::1", false, false)]
    [InlineData("2001:db8::1", false, true)]
    public void OnlyAddressesOutsideTheHostAndItsMetadataAreReachable(string address, bool allowLoopback, bool allowed) =>
        WebhookDestination.IsAllowed(IPAddress.Parse(address), allowLoopback).Should().Be(allowed);

    [Theory]
    [InlineData("https://receiver.example/hook", null)]
    [InlineData("http://receiver.example:8080/hook?x=1", null)]
    [InlineData("", "is required.")]
    [InlineData("receiver.example/hook", "must be an absolute http or https URL.")]
    [InlineData("file:///etc/passwd", "must be an absolute http or https URL.")]
    [InlineData("https://a:b@receiver.example/", "must not carry user info (user:password@).")]
    [InlineData("https://receiver.example/#x", "must not carry a fragment.")]
    [InlineData("http://localhost/", "localhost is not an address deliveries may be sent to.")]
    public void ADestinationIsAnHttpUrlWithoutCredentials(string dest, string? problem) =>
        WebhookDestination.Problem(dest, allowLoopback: false).Should().Be(problem);

    [Fact]
    public void TheSignatureIsTheHmacSha256OfTheBody() =>
        // RFC 4231, test case 2
        SubscriptionDispatcher.Signature("Jefe", Encoding.UTF8.GetBytes("what do ya want for nothing?"))
            .Should().Be("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
