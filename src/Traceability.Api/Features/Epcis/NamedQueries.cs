using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Epcis;

/// <summary>A named query: its name and its parameters as the binding's query schema writes them.</summary>
public sealed record NamedQuery(string Name, JsonObject Query, DateTimeOffset CreatedAt);

/// <summary>
/// Named queries (/epcis/queries): a member's stored SimpleEventQuery parameters under a name unique to the member,
/// checked by the same parser as GET /epcis/events when created. Their events are read with the member's visibility.
/// </summary>
public sealed class NamedQueries(TraceDbContext db, TimeProvider time)
{
    public const int MaxPerMember = 100;
    public const int MaxDefinitionBytes = 16 * 1024;
    public const int MaxNameLength = 100;

    public async Task CreateAsync(JsonObject body, Caller caller, CancellationToken ct)
    {
        foreach (var (key, _) in body)
            if (key is not ("name" or "query")) throw Validation($"'{key}' is not a field of a query definition (name, query).");
        var name = body["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : throw Validation("name: a string is required.");
        if (NameProblem(name) is { } problem) throw Validation("name: " + problem);
        if (body["query"] is not JsonObject query) throw Validation("query: an object of query parameters is required (e.g. {\"eventType\":[\"ObjectEvent\"]}).");
        var json = query.ToJsonString();
        if (json.Length > MaxDefinitionBytes) throw Validation($"query: at most {MaxDefinitionBytes} bytes.");
        Parse(query); // refuses what GET /epcis/events would refuse, naming the parameter

        var conn = await Sql.OpenAsync(db, ct);
        if (await Sql.LongAsync(conn, null, "SELECT COUNT(*) FROM epcis_queries WHERE member_id = @m", ct, ("@m", caller.MemberId)) >= MaxPerMember)
            throw new EpcisException(400, "ValidationException", "Too many named queries", $"A member keeps at most {MaxPerMember} named queries; delete one first.");
        var inserted = await Sql.ExecAsync(conn, null, "INSERT INTO epcis_queries (member_id, name, query_json, created_at) VALUES (@m, @n, @q, @t) ON CONFLICT DO NOTHING", ct,
            ("@m", caller.MemberId), ("@n", name), ("@q", json), ("@t", DbTime.Format(time.GetUtcNow())));
        if (inserted == 0)
            throw new EpcisException(409, "ResourceAlreadyExistsException", "Query already exists", $"You have a named query '{name}' already; delete it first or choose another name.");
    }

    public async Task<IReadOnlyList<NamedQuery>> ListAsync(Caller caller, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        return await Sql.ListAsync(conn, null, "SELECT name, query_json, created_at FROM epcis_queries WHERE member_id = @m ORDER BY name", Read, ct, ("@m", caller.MemberId));
    }

    /// <summary>The caller's query of that name; NoSuchResourceException when it has none.</summary>
    public async Task<NamedQuery> GetAsync(string name, Caller caller, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null, "SELECT name, query_json, created_at FROM epcis_queries WHERE member_id = @m AND name = @n", Read, ct,
            ("@m", caller.MemberId), ("@n", name));
        return rows.Count > 0 ? rows[0] : throw EpcisException.NoSuchResource($"You have no named query '{name}'.");
    }

    /// <summary>Deletes the query and, as the binding says, every subscription to it.</summary>
    public async Task DeleteAsync(string name, Caller caller, CancellationToken ct)
    {
        await GetAsync(name, caller, ct);
        var conn = await Sql.OpenAsync(db, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await Sql.ExecAsync(conn, tx, "DELETE FROM subscriptions WHERE member_id = @m AND query_name = @n", ct, ("@m", caller.MemberId), ("@n", name));
        await Sql.ExecAsync(conn, tx, "DELETE FROM epcis_queries WHERE member_id = @m AND name = @n", ct, ("@m", caller.MemberId), ("@n", name));
        await tx.CommitAsync(ct);
    }

    private static NamedQuery Read(System.Data.Common.DbDataReader r) =>
        new(r.GetString(0), JsonNode.Parse(r.GetString(1))!.AsObject(), DbTime.Parse(r.GetString(2)));

    /// <summary>A query definition's parameters as the query string would give them (arrays: one value each).</summary>
    public static List<KeyValuePair<string, string[]>> Parameters(JsonObject query)
    {
        var list = new List<KeyValuePair<string, string[]>>();
        foreach (var (key, value) in query)
        {
            if (key == "nextPageToken") throw EpcisException.QueryParameter(key, "belongs to a request, not to a query definition.");
            var values = value switch
            {
                JsonArray a => a.Select(x => Scalar(key, x)).ToArray(),
                _ => [Scalar(key, value)],
            };
            list.Add(new(key, values));
        }
        return list;
    }

    /// <summary>The definition parsed as GET /epcis/events would parse it.</summary>
    public static EpcisQuery Parse(JsonObject query) => EpcisQueryParameters.Parse(Parameters(query));

    private static string Scalar(string key, JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        _ => throw EpcisException.QueryParameter(key, "each value is a string or a number (several: an array of them)."),
    };

    /// <summary>Why a query name cannot be used, or null: 1 to 100 letters, digits, '.', '_' or '-' (it is a path segment).</summary>
    public static string? NameProblem(string name) =>
        name.Length is 0 or > MaxNameLength ? $"1 to {MaxNameLength} characters."
        : name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') && name is not ("." or "..") ? null
        : "only letters, digits, '.', '_' and '-'.";

    private static EpcisException Validation(string detail) => new(400, "ValidationException", "Invalid query definition", detail);

    /// <summary>A query definition as GET /epcis/queries answers it.</summary>
    public static JsonObject View(NamedQuery q) => new()
    {
        ["name"] = q.Name,
        ["query"] = q.Query.DeepClone(),
        ["createdAt"] = DbTime.Format(q.CreatedAt),
    };
}
