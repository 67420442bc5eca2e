using System.Globalization;
using System.Text.Json;
using Traceability.Api.Features.Orders;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Validation;

namespace Traceability.Api.Features.Import;

/// <summary>
/// Shipping orders by number (unique per member), through <see cref="OrderRules"/> and <see cref="OrderStore"/> as
/// POST /api/v1/orders. An order is one JSON object with its <c>lines</c>, or several rows sharing its number, each row a
/// line (<c>gtin</c>, <c>lot</c>, <c>quantity</c>: the CSV form); the order's own fields may be repeated on each row but
/// must agree. <c>shipTo</c> is the consignee's member id or its GLN. Counts are of orders, not rows.
/// </summary>
public static class OrderImport
{
    public static readonly string[] Fields = ["number", "type", "shipTo", "shipToLocation", "lines", "gtin", "lot", "quantity"];
    private const int Number = 0, Type = 1, ShipTo = 2, ShipToLocation = 3, Lines = 4, Gtin = 5, Lot = 6, Quantity = 7;
    private static readonly JsonSerializerOptions LineJson = new(JsonSerializerDefaults.Web) { MaxDepth = 8 };

    /// <summary>An order gathered from its rows; <see cref="LineSources"/> says which row (and field prefix) each line came from.</summary>
    private sealed class Gathered(int firstRow, string number)
    {
        public int FirstRow { get; } = firstRow;
        public string Number { get; } = number;
        public string? Type, ShipTo, ShipToLocation;
        public List<OrderLineDraft> Lines { get; } = [];
        public List<(int Row, string Prefix)> LineSources { get; } = [];
        public bool Refused;
    }

    public static async Task RunAsync(ImportRun run, IReadOnlyList<ImportRow> rows, CancellationToken ct)
    {
        var orders = new Dictionary<string, Gathered>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var number = row[Number];
            if (number is null)
            {
                run.Error(row.Number, "number", "number is required.");
                run.Refused++;
                continue;
            }
            if (!orders.TryGetValue(number, out var order)) orders[number] = order = new Gathered(row.Number, number);
            if (run.RefusedOnReading(row.Number)) order.Refused = true;
            order.Type = Agree(run, row, order, "type", order.Type, row[Type]);
            order.ShipTo = Agree(run, row, order, "shipTo", order.ShipTo, row[ShipTo]);
            order.ShipToLocation = Agree(run, row, order, "shipToLocation", order.ShipToLocation, row[ShipToLocation]);
            if (row[Lines] is { } lines)
            {
                try
                {
                    var parsed = JsonSerializer.Deserialize<List<OrderLineDraft>>(lines, LineJson) ?? [];
                    for (var i = 0; i < parsed.Count; i++) { order.Lines.Add(parsed[i]); order.LineSources.Add((row.Number, $"lines[{i}].")); }
                }
                catch (JsonException)
                {
                    run.Error(row.Number, "lines", "lines must be an array of {gtin, lot?, quantity}.");
                    order.Refused = true;
                }
            }
            if (row[Gtin] is not null || row[Quantity] is not null || row[Lot] is not null)
            {
                long? quantity = null;
                if (row[Quantity] is { } q)
                {
                    if (long.TryParse(q, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) quantity = n;
                    else { run.Error(row.Number, "quantity", "quantity must be a whole number."); order.Refused = true; }
                }
                order.Lines.Add(new OrderLineDraft(row[Gtin], row[Lot], quantity));
                order.LineSources.Add((row.Number, ""));
            }
        }

        // A consignee named by its GLN is the member with that GLN.
        var glns = orders.Values.Select(o => o.ShipTo).OfType<string>().Where(s => Digits.Exactly(s, 13)).Distinct().ToList();
        var byGln = (await Sql.ListInAsync(run.Connection, run.Transaction, "SELECT gln, id FROM members WHERE gln IN ({in})", glns,
                r => (Gln: r.GetString(0), Id: r.GetString(1)), ct))
            .GroupBy(m => m.Gln).ToDictionary(g => g.Key, g => g.Select(m => m.Id).ToList(), StringComparer.Ordinal);

        foreach (var order in orders.Values)
        {
            var shipTo = order.ShipTo;
            if (Digits.Exactly(shipTo, 13))
            {
                if (byGln.GetValueOrDefault(shipTo!) is [var id]) shipTo = id;
                else
                {
                    run.Error(order.FirstRow, "shipTo", byGln.ContainsKey(shipTo!) ? $"GLN {shipTo} belongs to several members; name the member id." : $"no member has GLN {shipTo}.");
                    order.Refused = true;
                }
            }
            var (checkedOrder, errors) = OrderRules.Check(new OrderDraft(order.Number, order.Type, shipTo, order.ShipToLocation, order.Lines));
            foreach (var e in errors) Report(run, order, e.Field, e.Message, e.Rule);
            if (checkedOrder is null || order.Refused)
            {
                run.Refused++;
                continue;
            }
            var upsert = await OrderStore.UpsertAsync(run.Connection, run.Transaction, run.Caller.MemberId, checkedOrder, run.Now, ct);
            switch (upsert.Outcome)
            {
                case UpsertOutcome.Created: run.Created++; break;
                case UpsertOutcome.Updated: run.Updated++; break;
                case UpsertOutcome.Unchanged: run.Unchanged++; break;
                default:
                    foreach (var e in upsert.Errors ?? []) Report(run, order, e.Field, e.Message, e.Rule);
                    run.Refused++;
                    break;
            }
        }
    }

    /// <summary>An order field given on several rows must say the same each time.</summary>
    private static string? Agree(ImportRun run, ImportRow row, Gathered order, string field, string? known, string? given)
    {
        if (given is null) return known;
        if (known is null || known == given) return given;
        run.Error(row.Number, field, $"order {order.Number} has {field} '{known}' on row {order.FirstRow}; its rows must agree.");
        order.Refused = true;
        return known;
    }

    /// <summary>An error of the order, on the row its line came from (<c>lines[i].gtin</c> becomes the row of line i and its field).</summary>
    private static void Report(ImportRun run, Gathered order, string field, string message, string? rule)
    {
        if (field.StartsWith("lines[", StringComparison.Ordinal) && field.IndexOf(']') is var close and > 6
            && int.TryParse(field.AsSpan(6, close - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < order.LineSources.Count)
        {
            var (row, prefix) = order.LineSources[i];
            var rest = field[(close + 1)..].TrimStart('.');
            run.Error(row, prefix.Length == 0 ? (rest.Length == 0 ? "line" : rest) : (prefix + rest).TrimEnd('.'), message, rule);
            return;
        }
        run.Error(order.FirstRow, field, message, rule);
    }
}
