using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Traceability.Api.Domain;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Requests;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Recall;

/// <summary>
/// POST /api/v1/recalls {gtin, lot, reason}: records the recall on the ledger as EPCIS ObjectEvents (OBSERVE, bizStep
/// holding, disposition recalled) naming every unit of the lot, captured through the same handler as any document, so
/// they are hashed, checked, and later anchored. The capture pipeline marks the units recalled, raises the recall
/// alerts and writes the recall record in the same transaction (<see cref="CustodyStep"/>).
/// </summary>
public sealed class RecallLot(TraceDbContext db, CaptureEpcisDocument capture, TimeProvider time)
    : ICommandHandler<RecallLot.Command, RecallLot.RecallResponse>, IQueryHandler<RecallLot.Get, RecallLot.RecallResponse>
{
    /// <summary>EPCs per recall event; a lot of 100,000 units is recorded as 10 events in one capture.</summary>
    public const int EpcsPerEvent = 10_000;

    public sealed record RecallRequest(string? Gtin, string? Lot, string? Reason);
    public sealed record RecallResponse(string Id, string Gtin, string Lot, string Reason, string RequestedBy, DateTimeOffset CreatedAt, int Units,
        IReadOnlyList<BatchTrace.HolderCount> ByHolder, long FirstEventSequence, long LastEventSequence);

    /// <summary>Recall a lot (the body of POST /api/v1/recalls, by the caller).</summary>
    public sealed record Command(RecallRequest Request, Caller Caller) : ICommand<RecallResponse>, IValidate
    {
        public static string Invalid => "Invalid recall";

        public IEnumerable<FieldError> Validate()
        {
            var errors = new List<FieldError>();
            if (!BatchTrace.IsGtin(Request.Gtin)) errors.Add(new("gtin", BatchTrace.GtinRule));
            if (string.IsNullOrWhiteSpace(Request.Lot)) errors.Add(new("lot", "lot is required."));
            if (string.IsNullOrWhiteSpace(Request.Reason)) errors.Add(new("reason", "reason is required."));
            Infrastructure.Validation.TextLimits.Check(errors, "reason", Request.Reason, Infrastructure.Validation.TextLimits.Reason);
            return errors;
        }
    }

    /// <summary>A recall and where its units are now.</summary>
    public sealed record Get(string Id, Caller Caller) : IQuery<RecallResponse>;

    public async ValueTask<RecallResponse> Handle(Command command, CancellationToken ct)
    {
        var (request, caller) = command;
        var gtin = BatchTrace.Gtin14(request.Gtin);
        var lot = request.Lot!;
        var conn = await Sql.OpenAsync(db, ct);
        await BatchTrace.RequireOwnerAsync(conn, caller, gtin, ct);

        var epcs = await Sql.ListAsync(conn, null,
            "SELECT epc FROM units WHERE gtin = @g AND lot = @l AND commissioned_sequence IS NOT NULL AND status <> 'destroyed' ORDER BY epc",
            r => r.GetString(0), ct, ("@g", gtin), ("@l", lot));
        if (epcs.Count == 0) throw new NotFoundException($"Lot {lot} of GTIN {gtin} (no unit that is not destroyed)");

        var id = "rc_" + Guid.NewGuid().ToString("N")[..16];
        var now = time.GetUtcNow();
        await capture.Handle(new CaptureEpcisDocument.Command(EpcisParser.ParseJson(Document(epcs, id, request.Reason!.Trim(), now)), caller), ct);
        return await Handle(new Get(id, caller), ct);
    }

    /// <summary>The recall's EPCIS document: one ObjectEvent OBSERVE (holding, recalled) per <see cref="EpcsPerEvent"/> units.</summary>
    public static ReadOnlyMemory<byte> Document(IReadOnlyList<string> epcs, string recallId, string reason, DateTimeOffset now) =>
        ObserveDocument.Write(now, epcs.Chunk(EpcsPerEvent), chunk => new ObserveDocument.Head(chunk, "holding", "recalled"), (w, _) =>
        {
            w.WriteString("trace:recallId", recallId);
            w.WriteString("trace:reason", reason);
        }, ("trace", CustodyStep.RecallNamespace), sizeHint: epcs.Count * 64 + 1024);

    public async ValueTask<RecallResponse> Handle(Get query, CancellationToken ct)
    {
        var (id, caller) = query;
        var conn = await Sql.OpenAsync(db, ct);
        var row = (await Sql.ListAsync(conn, null,
            "SELECT id, gtin, lot, reason, requested_by, created_at, units, first_event_sequence, last_event_sequence FROM recalls WHERE id = @id",
            r => (Id: r.GetString(0), Gtin: r.GetString(1), Lot: r.GetString(2), Reason: r.GetString(3), By: r.GetString(4), At: DbTime.Parse(r.GetString(5)),
                Units: (int)r.GetInt64(6), First: r.GetInt64(7), Last: r.GetInt64(8)), ct, ("@id", id))).Cast<(string Id, string Gtin, string Lot, string Reason, string By,
            DateTimeOffset At, int Units, long First, long Last)?>().FirstOrDefault() ?? throw new NotFoundException($"Recall {id}");
        await BatchTrace.RequireOwnerAsync(conn, caller, row.Gtin, ct);
        var byHolder = await BatchTrace.ByHolderAsync(conn, row.Gtin, row.Lot, ct, UnitStatus.Recalled);
        return new RecallResponse(row.Id, row.Gtin, row.Lot, row.Reason, row.By, row.At, row.Units, byHolder, row.First, row.Last);
    }
}

public static class RecallsApi
{
    public static RouteGroupBuilder MapRecallsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/recalls").WithTags("Recall");
        group.MapPost("", CreateAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Regulator)
            .WithSummary("Recall a lot: records disposition recalled for every unit on the ledger; returns the holder breakdown")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(422);
        group.MapGet("{id}", GetAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Regulator)
            .WithSummary("A recall and where its units are").ProducesProblem(403).ProducesProblem(404);
        group.MapGet("{id}/export.csv", ExportAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Regulator)
            .WithSummary("FSMA 204 sortable spreadsheet: the key data elements of every critical tracking event of the recalled lot; ?sort=eventTime|cte|location|quantity")
            .Produces(200, contentType: "text/csv").ProducesProblem(403).ProducesProblem(404);
        return group;
    }

    private static async Task<Created<RecallLot.RecallResponse>> CreateAsync(RecallLot.RecallRequest request, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var recall = await mediator.Send(new RecallLot.Command(request, http.Caller()), ct);
        return TypedResults.Created($"/api/v1/recalls/{recall.Id}", recall);
    }

    private static async Task<Ok<RecallLot.RecallResponse>> GetAsync(string id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(await mediator.Send(new RecallLot.Get(id, http.Caller()), ct));

    private static async Task<FileContentHttpResult> ExportAsync(string id, HttpContext http, IMediator mediator, CancellationToken ct, string? sort = null)
    {
        var file = await mediator.Send(new RecallExport.Query(id, sort, http.Caller()), ct);
        return TypedResults.File(file.Csv, "text/csv; charset=utf-8", file.FileName);
    }
}
