using System.Net;
using System.Net.Http.Json;
using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Hostile;

/// <summary>Who may record an event at another member's location (docs/adr/0009-foreign-locations.md).</summary>
[Collection(ChainCollection.Name)]
public sealed class ForeignLocationTests(ChainFixture chain)
{
    [Theory]
    [InlineData(MemberRole.Manufacturer, "me", null, "commissioning", true)]      // a place nobody registered
    [InlineData(MemberRole.Manufacturer, "me", "me", "commissioning", true)]      // its own site
    [InlineData(MemberRole.Manufacturer, "me", "other", "commissioning", false)]  // "made at" someone else's plant
    [InlineData(MemberRole.Manufacturer, "me", "other", "inspecting", false)]
    [InlineData(MemberRole.Dealer, "me", "other", "retail_selling", false)]
    [InlineData(MemberRole.Dealer, "me", "other", "arriving", false)]             // transit steps are the carrier's
    [InlineData(MemberRole.Logistics, "me", "other", "arriving", false)]          // receiving: the receiver's own site only
    [InlineData(MemberRole.Logistics, "me", "other", "departing", true)]
    [InlineData(MemberRole.Logistics, "me", "other", "loading", true)]
    [InlineData(MemberRole.Logistics, "me", "other", "unloading", true)]
    [InlineData(MemberRole.Logistics, "me", "other", "inspecting", false)]
    [InlineData(MemberRole.Logistics, "me", "other", null, false)]
    [InlineData(MemberRole.Regulator, "me", "other", "inspecting", true)]
    [InlineData(MemberRole.Service, "me", "other", "installing", true)]          // at a customer's site
    [InlineData(MemberRole.Service, "me", "other", "inspecting", true)]
    [InlineData(MemberRole.Service, "me", "other", "repairing", true)]
    [InlineData(MemberRole.Service, "me", "other", "retail_selling", false)]
    [InlineData(MemberRole.Admin, "admin", "other", "holding", true)]
    public void Decides(MemberRole role, string caller, string? owner, string? step, bool allowed) =>
        (ForeignLocations.Refusal(role, caller, owner, step) is null).Should().Be(allowed);

    [Fact]
    public async Task RefusesAnEventAtAnotherMembersSiteButACarriersLoadingOrARegulatorsInspection()
    {
        await using var svc = await chain.StartServiceAsync();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var (rival, _) = await svc.MemberAsync("manufacturer");
        var (carrier, _) = await svc.MemberAsync("logistics");
        var (regulator, _) = await svc.MemberAsync("regulator");
        (await maker.PostAsJsonAsync("/api/v1/locations", new { id = HostileWorld.Loc, name = "Pudong plant", regionCode = "310115" })).EnsureSuccessStatusCode();
        var epc = HostileWorld.NewEpc();
        (await TraceService.CaptureAsync(maker, HostileWorld.Commissioning(epc).ToJsonString())).StatusCode.Should().Be(HttpStatusCode.Created);

        // the rival "commissions" its own unit at the maker's plant: consumers would read "made at Pudong plant"
        var forged = HostileWorld.Event("urn:epc:id:sgtin:0614142.100001.F1");
        var refused = await TraceService.CaptureAsync(rival, HostileWorld.Document(forged).ToJsonString());
        var (_, errors) = await refused.ReadProblemAsync(HttpStatusCode.UnprocessableEntity);
        errors[0].Rule.Should().Be(ForeignLocations.Rule);
        errors[0].Field.Should().Be("bizLocation.id");

        var loading = HostileWorld.Event(epc);
        loading["action"] = "OBSERVE";
        loading["bizStep"] = "loading";
        loading["eventTime"] = "2026-11-02T08:00:00.000+08:00";
        loading.Remove("ilmd");
        var inspecting = (System.Text.Json.Nodes.JsonObject)loading.DeepClone();
        inspecting["bizStep"] = "inspecting";
        inspecting["eventTime"] = "2026-11-03T08:00:00.000+08:00";
        (await TraceService.CaptureAsync(carrier, HostileWorld.Document((System.Text.Json.Nodes.JsonObject)inspecting.DeepClone()).ToJsonString()))
            .StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity, "a carrier records transit steps only");
        var loaded = await TraceService.CaptureAsync(carrier, HostileWorld.Document(loading).ToJsonString());
        loaded.StatusCode.Should().Be(HttpStatusCode.Created, await loaded.Content.ReadAsStringAsync());
        (await TraceService.CaptureAsync(regulator, HostileWorld.Document(inspecting).ToJsonString())).StatusCode.Should().Be(HttpStatusCode.Created);
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(3);
    }
}
