using System.Data.Common;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Orders;

/// <summary>
/// The orders tables through plain ADO.NET on a caller's connection and transaction, so that an order is written in the
/// same transaction as whatever else the caller writes (a whole ERP file, or the shipping events of a scan). The caller
/// commits; nothing here opens or commits a transaction.
/// </summary>
public static class OrderStore
{
    private const string OrderColumns = "id, member_id, number, type, ship_to, ship_to_location, status, created_at, updated_at";

    /// <summary>
    /// What the database says about a checked order: the consignee is a member other than the issuer, the location is the
    /// consignee's, every GTIN is a product of the master data. Empty when all is well.
    /// </summary>
    public static async Task<List<FieldError>> CheckReferencesAsync(DbConnection conn, DbTransaction? tx, string memberId, NewOrder order, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (order.ShipTo == memberId) errors.Add(new("shipTo", "an order ships to another member."));
        else if (await Sql.LongAsync(conn, tx, "SELECT COUNT(*) FROM members WHERE id = @m", ct, ("@m", order.ShipTo)) == 0)
            errors.Add(new("shipTo", $"member '{order.ShipTo}' does not exist."));
        if (order.ShipToLocation is { } location)
        {
            var owner = await Sql.ListAsync(conn, tx, "SELECT member_id FROM locations WHERE id = @l", r => r.Str(0), ct, ("@l", location));
            if (owner.Count == 0) errors.Add(new("shipToLocation", $"location {location} is not in the master data."));
            else if (owner[0] != order.ShipTo) errors.Add(new("shipToLocation", $"location {location} is not a location of member '{order.ShipTo}'."));
        }
        var known = (await Sql.ListInAsync(conn, tx, "SELECT gtin FROM products WHERE gtin IN ({in})", order.Lines.Select(l => l.Gtin), r => r.GetString(0), ct))
            .ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < order.Lines.Count; i++)
            if (!known.Contains(order.Lines[i].Gtin)) errors.Add(new($"lines[{i}].gtin", $"GTIN {order.Lines[i].Gtin} is not a product of the master data."));
        return errors;
    }

    /// <summary>
    /// Creates the order, or updates the one the member already has under its number: unchanged when it says the same;
    /// updated (header and lines replaced) while it is open; refused once scanning has begun or it is completed or
    /// cancelled, or when a reference is wrong (<see cref="CheckReferencesAsync"/>).
    /// </summary>
    public static async Task<OrderUpsert> UpsertAsync(DbConnection conn, DbTransaction? tx, string memberId, NewOrder order, DateTimeOffset now, CancellationToken ct)
    {
        var errors = await CheckReferencesAsync(conn, tx, memberId, order, ct);
        if (errors.Count > 0) return new OrderUpsert(UpsertOutcome.Refused, null, errors);
        var at = DbTime.Format(now);
        var existing = await FindAsync(conn, tx, memberId, order.Number, ct);
        if (existing is null)
        {
            var id = await Sql.LongAsync(conn, tx,
                "INSERT INTO orders (member_id, number, type, ship_to, ship_to_location, status, created_at, updated_at) " +
                "VALUES (@m, @n, @t, @s, @l, @st, @at, @at) RETURNING id", ct,
                ("@m", memberId), ("@n", order.Number), ("@t", order.Type), ("@s", order.ShipTo), ("@l", order.ShipToLocation), ("@st", OrderStatus.Open), ("@at", at));
            await InsertLinesAsync(conn, tx, id, order.Lines, ct);
            return new OrderUpsert(UpsertOutcome.Created, id);
        }
        if (Same(existing, order)) return new OrderUpsert(UpsertOutcome.Unchanged, existing.Id);
        if (existing.Status != OrderStatus.Open)
            return new OrderUpsert(UpsertOutcome.Refused, existing.Id,
                [new("number", $"order {order.Number} is {existing.Status}; only an open order (nothing scanned yet) can be changed.")]);
        await Sql.ExecAsync(conn, tx, "UPDATE orders SET type = @t, ship_to = @s, ship_to_location = @l, updated_at = @at WHERE id = @id", ct,
            ("@t", order.Type), ("@s", order.ShipTo), ("@l", order.ShipToLocation), ("@at", at), ("@id", existing.Id));
        await Sql.ExecAsync(conn, tx, "DELETE FROM order_lines WHERE order_id = @id", ct, ("@id", existing.Id));
        await InsertLinesAsync(conn, tx, existing.Id, order.Lines, ct);
        return new OrderUpsert(UpsertOutcome.Updated, existing.Id);
    }

    private static bool Same(Order existing, NewOrder order) =>
        existing.Type == order.Type && existing.ShipTo == order.ShipTo && existing.ShipToLocation == order.ShipToLocation
        && existing.Lines.Select(l => (l.Gtin, l.Lot, l.Quantity)).SequenceEqual(order.Lines.Select(l => (l.Gtin, l.Lot, l.Quantity)));

    private static async Task InsertLinesAsync(DbConnection conn, DbTransaction? tx, long orderId, IReadOnlyList<NewOrderLine> lines, CancellationToken ct)
    {
        await using var cmd = Sql.Command(conn, tx, "INSERT INTO order_lines (order_id, line_no, gtin, lot, quantity, scanned, received) VALUES (@o, @n, @g, @l, @q, 0, 0)",
            ("@o", orderId), ("@n", 0), ("@g", ""), ("@l", ""), ("@q", 0L));
        for (var i = 0; i < lines.Count; i++)
        {
            cmd.Parameters[1].Value = i + 1;
            cmd.Parameters[2].Value = lines[i].Gtin;
            cmd.Parameters[3].Value = lines[i].Lot ?? "";
            cmd.Parameters[4].Value = lines[i].Quantity;
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>The member's order with this number, or null.</summary>
    public static async Task<Order?> FindAsync(DbConnection conn, DbTransaction? tx, string memberId, string number, CancellationToken ct)
    {
        var id = (await Sql.ListAsync(conn, tx, "SELECT id FROM orders WHERE member_id = @m AND number = @n", r => r.GetInt64(0), ct,
            ("@m", memberId), ("@n", number))).Cast<long?>().FirstOrDefault();
        return id is { } found ? await GetAsync(conn, tx, found, ct) : null;
    }

    /// <summary>The order with its lines, or null.</summary>
    public static async Task<Order?> GetAsync(DbConnection conn, DbTransaction? tx, long id, CancellationToken ct)
    {
        var orders = await Sql.ListAsync(conn, tx, $"SELECT {OrderColumns} FROM orders WHERE id = @id", ReadHeader, ct, ("@id", id));
        if (orders.Count == 0) return null;
        return orders[0] with { Lines = await LinesAsync(conn, tx, [id], ct) is var l && l.TryGetValue(id, out var lines) ? lines : [] };
    }

    /// <summary>The orders with these ids that exist, with their lines, by id.</summary>
    public static async Task<Dictionary<long, Order>> GetManyAsync(DbConnection conn, DbTransaction? tx, IEnumerable<long> ids, CancellationToken ct)
    {
        var orders = await Sql.ListInAsync(conn, tx, $"SELECT {OrderColumns} FROM orders WHERE id IN ({{in}})", ids, ReadHeader, ct);
        var lines = await LinesAsync(conn, tx, orders.Select(o => o.Id), ct);
        return orders.ToDictionary(o => o.Id, o => o with { Lines = lines.TryGetValue(o.Id, out var l) ? l : [] });
    }

    /// <summary>Orders newest first, filtered; <paramref name="visibleTo"/> null: every order, else those it issued or is the consignee of.</summary>
    public static async Task<List<Order>> ListAsync(DbConnection conn, string? visibleTo, string? status, string? shipTo, long? before, int limit, CancellationToken ct)
    {
        var where = new List<string>();
        var p = new List<(string, object?)>();
        if (visibleTo is not null) { where.Add("(member_id = @v OR ship_to = @v)"); p.Add(("@v", visibleTo)); }
        if (status is not null) { where.Add("status = @st"); p.Add(("@st", status)); }
        if (shipTo is not null) { where.Add("ship_to = @s"); p.Add(("@s", shipTo)); }
        if (before is not null) { where.Add("id < @b"); p.Add(("@b", before)); }
        p.Add(("@lim", limit));
        var sql = $"SELECT {OrderColumns} FROM orders {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY id DESC LIMIT @lim";
        var orders = await Sql.ListAsync(conn, null, sql, ReadHeader, ct, [.. p]);
        var lines = await LinesAsync(conn, null, orders.Select(o => o.Id), ct);
        return [.. orders.Select(o => o with { Lines = lines.TryGetValue(o.Id, out var l) ? l : [] })];
    }

    private static async Task<Dictionary<long, List<OrderLine>>> LinesAsync(DbConnection conn, DbTransaction? tx, IEnumerable<long> ids, CancellationToken ct)
    {
        var rows = await Sql.ListInAsync(conn, tx, "SELECT order_id, line_no, gtin, lot, quantity, scanned, received FROM order_lines WHERE order_id IN ({in}) ORDER BY order_id, line_no",
            ids, r => (Order: r.GetInt64(0), Line: new OrderLine(Convert.ToInt32(r.GetValue(1), System.Globalization.CultureInfo.InvariantCulture), r.GetString(2),
                r.GetString(3) is { Length: > 0 } lot ? lot : null, r.GetInt64(4), r.GetInt64(5), r.GetInt64(6))), ct);
        return rows.GroupBy(r => r.Order).ToDictionary(g => g.Key, g => g.Select(r => r.Line).OrderBy(l => l.Line).ToList());
    }

    private static Order ReadHeader(DbDataReader r) => new(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.Str(5), r.GetString(6),
        DbTime.Parse(r.GetString(7)), DbTime.Parse(r.GetString(8)), []);
}
