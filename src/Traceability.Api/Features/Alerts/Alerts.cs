using System.Data.Common;
using System.Text.Json;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Requests;

namespace Traceability.Api.Features.Alerts;

/// <summary>
/// Raises alerts. Inside a capture it writes on the capture's connection and transaction, so an alert exists exactly
/// when the events that caused it do. A <c>dedupeKey</c> (e.g. "counterfeit:&lt;epc&gt;") makes an alert be raised once.
/// </summary>
public static class AlertWriter
{
    public static async Task<bool> RaiseAsync(DbConnection conn, DbTransaction? tx, string type, string? epc, string? gtin, string? lot,
        object detail, DateTimeOffset at, string? dedupeKey, CancellationToken ct)
    {
        if (!AlertTypes.All.Contains(type)) throw new ArgumentException($"Unknown alert type '{type}'.", nameof(type));
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO alerts (type, epc, gtin, lot, at, detail, dedupe_key) VALUES (@t, @e, @g, @l, @a, @d, @k) ON CONFLICT (dedupe_key) DO NOTHING";
        Sql.AddParameter(cmd, "@t", type);
        Sql.AddParameter(cmd, "@e", epc);
        Sql.AddParameter(cmd, "@g", gtin);
        Sql.AddParameter(cmd, "@l", lot);
        Sql.AddParameter(cmd, "@a", DbTime.Format(at));
        Sql.AddParameter(cmd, "@d", JsonSerializer.Serialize(detail, JsonSerializerOptions.Web));
        Sql.AddParameter(cmd, "@k", dedupeKey);
        return await cmd.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>Outside a capture: on the context's own connection.</summary>
    public static async Task<bool> RaiseAsync(TraceDbContext db, string type, string? epc, string? gtin, string? lot, object detail,
        DateTimeOffset at, string? dedupeKey, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        return await RaiseAsync(conn, db.Database.CurrentTransaction?.GetDbTransaction(), type, epc, gtin, lot, detail, at, dedupeKey, ct);
    }
}

/// <summary>GET /api/v1/alerts: manufacturers see alerts on their own products, regulators and the admin see all; newest first.</summary>
public static class AlertsApi
{
    public sealed record AlertResponse(long Id, string Type, string? Epc, string? Gtin, string? Lot, DateTimeOffset At, JsonElement Detail);
    public sealed record AlertPage(IReadOnlyList<AlertResponse> Items, int Total, int Offset, int Limit);

    public static RouteGroupBuilder MapAlertsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/alerts").WithTags("Alerts");
        group.MapGet("", ListAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Regulator)
            .WithSummary("Alerts, newest first; ?type=counterfeit|diversion|recall|hold|tamper|chain-reset|late-anchor, offset, limit (≤ 500)");
        return group;
    }

    /// <summary>Alerts the caller may see, newest first; <see cref="Type"/> narrows to one kind.</summary>
    public sealed record ListAlerts(string? Type, int Offset, int Limit, Caller Caller) : IQuery<AlertPage>, IValidate
    {
        public static string Invalid => "Invalid alert query";

        public IEnumerable<FieldError> Validate()
        {
            if (Type is not null && !AlertTypes.All.Contains(Type)) yield return new("type", $"type must be one of {string.Join(", ", AlertTypes.All)}.");
            if (Offset < 0) yield return new("offset", "offset must be 0 or more.");
            if (Limit is < 1 or > 500) yield return new("limit", "limit must be between 1 and 500.");
        }

        public sealed class Handler(TraceDbContext db) : IQueryHandler<ListAlerts, AlertPage>
        {
            public async ValueTask<AlertPage> Handle(ListAlerts request, CancellationToken ct)
            {
                var (type, offset, limit, caller) = request;
                var query = db.Alerts.AsNoTracking();
                if (type is not null) query = query.Where(a => a.Type == type);
                if (!caller.SeesEverything)
                {
                    var own = db.Products.Where(p => p.OwnerMemberId == caller.MemberId).Select(p => p.Gtin);
                    query = query.Where(a => a.Gtin != null && own.Contains(a.Gtin));
                }
                var total = await query.CountAsync(ct);
                var items = await query.OrderByDescending(a => a.Id).Skip(offset).Take(limit).ToListAsync(ct);
                return new AlertPage(
                    items.Select(a => new AlertResponse(a.Id, a.Type, a.Epc, a.Gtin, a.Lot, a.At, JsonDocument.Parse(a.Detail).RootElement.Clone())).ToList(),
                    total, offset, limit);
            }
        }
    }

    private static async Task<Ok<AlertPage>> ListAsync(HttpContext http, IMediator mediator, CancellationToken ct, string? type = null, int offset = 0, int limit = 50) =>
        TypedResults.Ok(await mediator.Send(new ListAlerts(type, offset, limit, http.Caller()), ct));
}
