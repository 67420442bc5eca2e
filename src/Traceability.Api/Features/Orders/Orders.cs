using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Validation;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Orders;

/// <summary>What an order is for: goods going out to a dealer, moved between members, or coming back.</summary>
public static class OrderTypes
{
    public const string Outbound = "outbound";
    public const string Transfer = "transfer";
    public const string Return = "return";

    public static readonly IReadOnlyList<string> All = [Outbound, Transfer, Return];
}

/// <summary>An order is open until its first unit is shipped, in progress until every line is fulfilled, then completed; or cancelled.</summary>
public static class OrderStatus
{
    public const string Open = "open";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Open, InProgress, Completed, Cancelled];
}

/// <summary>A line as sent (by the API or an ERP import): any field may be missing or wrong until <see cref="OrderRules.Check"/> says otherwise.</summary>
public sealed record OrderLineDraft(string? Gtin, string? Lot, long? Quantity);

/// <summary>An order as sent: its number (unique per issuing member), type, the member and location it ships to, its lines.</summary>
public sealed record OrderDraft(string? Number, string? Type, string? ShipTo, string? ShipToLocation, IReadOnlyList<OrderLineDraft>? Lines);

/// <summary>A checked line: a GTIN-14, the lot (null: any lot), how many units.</summary>
public sealed record NewOrderLine(string Gtin, string? Lot, long Quantity);

/// <summary>A checked order, its location as a canonical Digital Link; what <see cref="OrderStore"/> writes.</summary>
public sealed record NewOrder(string Number, string Type, string ShipTo, string? ShipToLocation, IReadOnlyList<NewOrderLine> Lines);

/// <summary>A line with how many of its units were shipped (scanned) and, of those, received.</summary>
public sealed record OrderLine(int Line, string Gtin, string? Lot, long Quantity, long Scanned, long Received)
{
    public bool Fulfilled => Scanned >= Quantity;
}

/// <summary>An order as stored.</summary>
public sealed record Order(long Id, string MemberId, string Number, string Type, string ShipTo, string? ShipToLocation, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<OrderLine> Lines);

/// <summary>What an upsert by (member, number) did.</summary>
public enum UpsertOutcome { Created, Updated, Unchanged, Refused }

/// <summary>The result of <see cref="OrderStore.UpsertAsync"/>: the order's id (none when new and refused) and, when refused, why (each error naming its field).</summary>
public sealed record OrderUpsert(UpsertOutcome Outcome, long? Id, IReadOnlyList<FieldError>? Errors = null);

/// <summary>The shape rules of an order, pure: what can be said about a draft without the database.</summary>
public static class OrderRules
{
    public const int MaxNumberLength = 64;
    public const int MaxLines = 1_000;
    public const long MaxQuantity = 1_000_000;
    public const int MaxLotLength = 20;

    /// <summary>The draft checked and normalised (GTIN-14, canonical location), or the errors, each naming its field (<c>lines[2].gtin</c>).</summary>
    public static (NewOrder? Order, List<FieldError> Errors) Check(OrderDraft draft)
    {
        var errors = new List<FieldError>();
        var number = draft.Number?.Trim();
        if (string.IsNullOrEmpty(number)) errors.Add(new("number", "number is required."));
        else if (number.Length > MaxNumberLength) errors.Add(new("number", $"number is {number.Length} characters long; at most {MaxNumberLength} are accepted."));
        else if (number.Any(char.IsControl)) errors.Add(new("number", "number holds a control character."));

        var type = draft.Type?.Trim().ToLowerInvariant() ?? OrderTypes.Outbound;
        if (!OrderTypes.All.Contains(type)) errors.Add(new("type", $"type must be one of {string.Join(", ", OrderTypes.All)}."));

        if (string.IsNullOrWhiteSpace(draft.ShipTo)) errors.Add(new("shipTo", "shipTo (the member id of the consignee) is required."));
        else TextLimits.Check(errors, "shipTo", draft.ShipTo, TextLimits.Name);

        string? location = null;
        if (!string.IsNullOrWhiteSpace(draft.ShipToLocation))
        {
            if (Gs1Identifiers.TryCanonicalId(draft.ShipToLocation.Trim(), out var id, out _) && id.Contains("/414/", StringComparison.Ordinal)) location = id;
            else errors.Add(new("shipToLocation", "shipToLocation must be an SGLN (urn:epc:id:sgln:... or a GS1 Digital Link with /414/)."));
        }

        var lines = new List<NewOrderLine>();
        if (draft.Lines is null || draft.Lines.Count == 0) errors.Add(new("lines", "an order has at least one line."));
        else if (draft.Lines.Count > MaxLines) errors.Add(new("lines", $"an order has at most {MaxLines} lines; this one has {draft.Lines.Count}."));
        else
        {
            var seen = new HashSet<(string, string?)>();
            for (var i = 0; i < draft.Lines.Count; i++)
            {
                var l = draft.Lines[i];
                var field = $"lines[{i}]";
                if (l is null) { errors.Add(new(field, "a line is an object {gtin, lot?, quantity}.")); continue; }
                var ok = true;
                if (!Gs1Identifiers.TryNormalizeGtin(l.Gtin?.Trim(), out var gtin))
                {
                    errors.Add(new($"{field}.gtin", "gtin must be a GTIN-8, -12, -13 or -14 with a valid check digit."));
                    ok = false;
                }
                var lot = string.IsNullOrWhiteSpace(l.Lot) ? null : l.Lot.Trim();
                if (lot is not null && (lot.Length > MaxLotLength || lot.Any(char.IsControl)))
                {
                    errors.Add(new($"{field}.lot", $"lot is a GS1 lot (AI 10): 1 to {MaxLotLength} characters."));
                    ok = false;
                }
                if (l.Quantity is not (>= 1 and <= MaxQuantity))
                {
                    errors.Add(new($"{field}.quantity", $"quantity must be a whole number from 1 to {MaxQuantity}."));
                    ok = false;
                }
                if (!ok) continue;
                if (!seen.Add((gtin, lot)))
                {
                    errors.Add(new($"{field}", $"GTIN {gtin}{(lot is null ? "" : $" lot {lot}")} is on an earlier line; one line per product and lot."));
                    continue;
                }
                lines.Add(new NewOrderLine(gtin, lot, l.Quantity!.Value));
            }
        }
        return errors.Count > 0 ? (null, errors) : (new NewOrder(number!, type, draft.ShipTo!.Trim(), location, lines), errors);
    }
}
