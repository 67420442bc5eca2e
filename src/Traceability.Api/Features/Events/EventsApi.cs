using System.Text.Json;
using System.Text.Json.Nodes;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Anchoring;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Features.Audit;
using Traceability.Api.Features.Signing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Api.Features.Events;

/// <summary>
/// Stored events and their proof bundles (the README's "proof bundle"). Both carry <c>audit</c>, the event's standing
/// in the latest self-audit (<see cref="AuditStatus"/>); when that audit found the anchor itself at fault (its root,
/// range, contract or leaves no longer match the chain), the anchor's <c>status</c> is shown as <c>failed</c>.
/// </summary>
public static class EventsApi
{
    public sealed record AnchorRef(long Sequence, long ChainId, string Contract, string? TxHash, long? BlockNumber, string Status);
    /// <summary><see cref="SubmitterId"/> and the commercial fields of <see cref="Event"/> are left out when <see cref="View"/> is "redacted".</summary>
    public sealed record EventResponse(long Sequence, string EventId, string EventHash, DateTimeOffset RecordTime, string? SubmitterId, JsonNode Event, AnchorRef? Anchor, string View, EventAudit Audit);
    public sealed record LeafRef(IReadOnlyList<string> Encoding, IReadOnlyList<string> Value);
    public sealed record ProofBundle(JsonNode Event, string EventHash, long Sequence, LeafRef Leaf, IReadOnlyList<string>? Proof, string? Root, AnchorRef? Anchor, EventAudit Audit)
    {
        /// <summary>The anchor's cosigners and finality as the contract said when the bundle was made (a verifier reads them again from the chain).</summary>
        public Consortium.WitnessView? Witnesses { get; init; }

        /// <summary>The member's signature of the event (Features/Signing), or null for an unsigned event.</summary>
        public BundleSignature? Signature { get; init; }
    }

    public static RouteGroupBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/events").WithTags("Events");
        group.MapGet("{sequence:long}", GetAsync).RequireRoles().WithSummary("The stored event, its hash and its anchor status").ProducesProblem(404);
        group.MapGet("{sequence:long}/proof", ProofAsync).RequireRoles().WithSummary("The event's proof bundle").ProducesProblem(404);
        return group;
    }

    /// <summary>A stored event as the caller may see it.</summary>
    public sealed record GetEvent(long Sequence, Caller Caller) : IQuery<EventResponse>
    {
        public sealed class Handler(TraceDbContext db, AuditStatus audits) : IQueryHandler<GetEvent, EventResponse>
        {
            public async ValueTask<EventResponse> Handle(GetEvent query, CancellationToken ct)
            {
                var (e, anchor, view) = await LoadAsync(query.Sequence, query.Caller, db, ct);
                var audit = await audits.ForEventAsync(e.Sequence, ct);
                // a redacted event keeps the serials of the caller's own products only (a supplier does not learn its customer's)
                var ownGtins = view == EventView.Redacted && !query.Caller.SeesEverything
                    ? await VisibilityPolicy.OwnedGtinsAsync(await Sql.OpenAsync(db, ct), query.Caller, ct) : null;
                return new EventResponse(e.Sequence, e.EventId ?? e.EventHash, e.EventHash, e.RecordTime, view == EventView.Full ? e.SubmitterId : null,
                    VisibilityPolicy.Shape(JsonNode.Parse(e.Json)!, view, ownGtins)!, anchor is null ? null : Ref(anchor, audit), view.ToString().ToLowerInvariant(), audit);
            }
        }
    }

    /// <summary>The proof bundle of a stored event, for a caller who sees the whole event.</summary>
    public sealed record GetEventProof(long Sequence, Caller Caller) : IQuery<ProofBundle>
    {
        public sealed class Handler(TraceDbContext db, AnchorTrees trees, AuditStatus audits, Consortium.AnchorWitnesses witnesses) : IQueryHandler<GetEventProof, ProofBundle>
        {
            public async ValueTask<ProofBundle> Handle(GetEventProof query, CancellationToken ct)
            {
                // The bundle must carry the event as captured (the verifier recomputes its hash): only for those who see it in full.
                var (e, anchor, view) = await LoadAsync(query.Sequence, query.Caller, db, ct);
                if (view != EventView.Full) throw new ForbiddenException($"Event {query.Sequence} is shown to you without the fields of other parties; its proof bundle needs the whole event.");
                return await BundleAsync(db, trees, audits, witnesses, e, anchor, ct);
            }
        }
    }

    private static async Task<Ok<EventResponse>> GetAsync(long sequence, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new GetEvent(sequence, http.Caller()), ct));

    private static async Task<Ok<ProofBundle>> ProofAsync(long sequence, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new GetEventProof(sequence, http.Caller()), ct));

    /// <summary>The proof bundle of a stored event (the README's "proof bundle"), with the event's audit status.</summary>
    public static async Task<ProofBundle> BundleAsync(TraceDbContext db, AnchorTrees trees, AuditStatus audits, Consortium.AnchorWitnesses witnesses,
        TraceEvent e, Anchor? anchor, CancellationToken ct)
    {
        var bundle = await UnsignedBundleAsync(db, trees, audits, e, anchor, ct);
        return bundle with
        {
            Signature = await EventSignatures.ForEventAsync(await Sql.OpenAsync(db, ct), e.Sequence, ct),
            Witnesses = bundle.Anchor is { } a ? await witnesses.GetAsync(a.Sequence, ct) : null,
        };
    }

    private static async Task<ProofBundle> UnsignedBundleAsync(TraceDbContext db, AnchorTrees trees, AuditStatus audits, TraceEvent e, Anchor? anchor, CancellationToken ct)
    {
        var audit = await audits.ForEventAsync(e.Sequence, ct);
        var leaf = new LeafRef(AnchorsApi.LeafEncoding, AnchorsApi.LeafValue(e.Sequence, e.EventHash));
        if (anchor is null) return new ProofBundle(JsonNode.Parse(e.Json)!, e.EventHash, e.Sequence, leaf, null, null, null, audit);
        var tree = await trees.GetAsync(db, anchor, ct);
        var proof = tree.GetProof((ulong)e.Sequence).Select(p => Hex.Encode(p)).ToList();
        return new ProofBundle(JsonNode.Parse(e.Json)!, e.EventHash, e.Sequence, leaf, proof, anchor.Root, Ref(anchor, audit), audit);
    }

    /// <summary>The anchor as recorded, except that an anchor the latest audit found at fault shows as failed.</summary>
    private static AnchorRef Ref(Anchor a, EventAudit audit) => new(a.Sequence, a.ChainId, a.Contract, a.TxHash, a.BlockNumber,
        audit.FailsAnchor(a) ? "failed" : a.Status.ToString().ToLowerInvariant());

    private static async Task<(TraceEvent Event, Anchor? Anchor, EventView View)> LoadAsync(long sequence, Caller caller, TraceDbContext db, CancellationToken ct)
    {
        var e = await db.Events.AsNoTracking().FirstOrDefaultAsync(x => x.Sequence == sequence, ct) ?? throw new NotFoundException($"Event {sequence}");
        var view = await VisibilityPolicy.ForEventAsync(db, caller, sequence, ct);
        if (view == EventView.None) throw new NotFoundException($"Event {sequence}");
        var anchor = await db.Anchors.AsNoTracking()
            .Where(a => a.FirstEventSequence <= sequence && a.LastEventSequence >= sequence && a.Status != AnchorStatus.Failed)
            .FirstOrDefaultAsync(ct);
        return (e, anchor, view);
    }
}
