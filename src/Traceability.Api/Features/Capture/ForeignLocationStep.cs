using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Capture;

/// <summary>
/// Who may record an event at another member's location (docs/adr/0009-foreign-locations.md). An event names the
/// place where it happened (readPoint, bizLocation); a place registered to a member is that member's site, shown to
/// consumers with its name and region, and makes that member a party to the event. So an event at another member's
/// registered site is accepted only from a regulator (or the operator), who inspects anywhere, or from a carrier
/// recording a transit step there (departing, loading, unloading, transporting, staging_outbound; arriving is receiving,
/// which custody keeps to the receiver's own location). Places nobody registered are nobody's: any member may name them.
/// </summary>
public static class ForeignLocations
{
    public const string Rule = "foreign-location";

    public static readonly IReadOnlySet<string> TransitSteps = new HashSet<string>(StringComparer.Ordinal)
    {
        "departing", "loading", "unloading", "transporting", "staging_outbound",
    };

    /// <summary>What a service member (installer, maintenance company) does at its customers' sites, registered by whoever keeps them.</summary>
    public static readonly IReadOnlySet<string> ServiceSteps = new HashSet<string>(StringComparer.Ordinal) { "installing", "inspecting", "repairing" };

    /// <summary>Why the caller may not record this step at a place kept by <paramref name="locationMemberId"/>, or null when it may.</summary>
    public static string? Refusal(MemberRole role, string callerId, string? locationMemberId, string? step)
    {
        if (locationMemberId is null || locationMemberId == callerId) return null;
        if (role is MemberRole.Regulator or MemberRole.Admin) return null;
        if (role == MemberRole.Logistics && step is not null && TransitSteps.Contains(step)) return null;
        if (role == MemberRole.Service && step is not null && ServiceSteps.Contains(step)) return null;
        return role == MemberRole.Logistics
            ? $"a carrier records only transit steps ({string.Join(", ", TransitSteps)}) at another member's location, not '{step ?? "(no bizStep)"}'."
            : "this location belongs to another member: events there are recorded by that member, a carrier in transit, or a regulator.";
    }
}

/// <summary>Capture step applying <see cref="ForeignLocations"/> to each new event's readPoint and bizLocation.</summary>
public sealed class ForeignLocationStep : ICaptureStep
{
    // The owner of each place named in this capture, by the id as the events write it (a document's events mostly name
    // the same few places, so each is made canonical and looked up once); null for a place that is nobody's or not a
    // GS1 place.
    private readonly Dictionary<string, string?> _owners = new(StringComparer.Ordinal);

    public ValueTask CompleteAsync(CaptureContext context, CancellationToken ct)
    {
        _owners.Clear();
        return ValueTask.CompletedTask;
    }

    public async ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
    {
        var e = appended.Validated.Event;
        if (await RefusedAsync(context, appended, "bizLocation.id", e.BizLocation, ct)) return;
        await RefusedAsync(context, appended, "readPoint.id", e.ReadPoint, ct);
    }

    private async ValueTask<bool> RefusedAsync(CaptureContext context, AppendedEvent appended, string field, string? id, CancellationToken ct)
    {
        if (id is null) return false;
        if (!_owners.TryGetValue(id, out var owner))
        {
            owner = Gs1Identifiers.TryCanonicalId(id, out var place, out _)
                ? (await context.ListAsync("SELECT member_id FROM locations WHERE id = @id", r => r.IsDBNull(0) ? null : r.GetString(0), ct, ("@id", place))).FirstOrDefault()
                : null;
            _owners[id] = owner;
        }
        if (owner is null || owner == context.Caller.MemberId) return false; // the common case: no rule to apply
        var step = CbvVocabulary.BizStepName(appended.Validated.Event.BizStep);
        if (ForeignLocations.Refusal(context.Caller.Role, context.Caller.MemberId, owner, step) is not { } why) return false;
        var epc = appended.Validated.Identifiers.Count > 0 ? appended.Validated.Identifiers[0].Epc : null;
        context.Violations.Add(new FieldError(field, $"{id}: {why}", appended.Validated.Index, ForeignLocations.Rule, epc));
        return true;
    }
}
