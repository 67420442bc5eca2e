using System.Data.Common;
using System.Text.Json.Nodes;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Tracing;

/// <summary>How much of an event a caller sees.</summary>
public enum EventView
{
    /// <summary>Not at all: the event is left out (or 404 when asked for by sequence).</summary>
    None,

    /// <summary>The event without the commercial fields of parties the caller is not one of: <see cref="VisibilityPolicy.Redact"/>.</summary>
    Redacted,

    /// <summary>The event as captured.</summary>
    Full,
}

/// <summary>
/// Who may see what, used by every endpoint that returns events or units:
/// <list type="bullet">
/// <item>regulators and the admin see everything;</item>
/// <item>a member sees in full the events it took part in: it submitted them, they happened at or name one of its
/// locations, or name it (its GLN) as a source or destination;</item>
/// <item>a manufacturer also sees every event about its own products (GTINs it owns, the cases and pallets they travelled
/// in), without the bizTransactionList (order numbers, invoices) and user extensions (prices) of the parties that did
/// take part, and without the codes of other members' products (a raw-material supplier does not learn the serials
/// its customer made from its lot);</item>
/// <item>a dealer or logistics member sees nothing else, apart from public product information;</item>
/// <item>consumers (no key) see only the public subset through the consumer endpoints: <see cref="Public"/>.</item>
/// </list>
/// Who took part in an event, and whose products it concerns, is written at capture into <c>event_parties</c>.
/// </summary>
public static class VisibilityPolicy
{
    /// <summary>The standard EPCIS 2.0 event fields; anything else is a user extension.</summary>
    private static readonly HashSet<string> StandardFields = new(StringComparer.Ordinal)
    {
        "@context", "type", "eventID", "eventTime", "eventTimeZoneOffset", "recordTime", "errorDeclaration", "certificationInfo", "epcList", "action",
        "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList",
        "sensorElementList", "ilmd", "quantityList", "parentID", "childEPCs", "childQuantityList", "inputEPCList", "inputQuantityList",
        "outputEPCList", "outputQuantityList", "transformationID",
    };

    public static async Task<Dictionary<long, EventView>> ForEventsAsync(DbConnection conn, Caller caller, IReadOnlyCollection<long> sequences, CancellationToken ct)
    {
        var views = sequences.Distinct().ToDictionary(s => s, _ => caller.SeesEverything ? EventView.Full : EventView.None);
        if (caller.SeesEverything || views.Count == 0) return views;
        var rows = await Sql.ListInAsync(conn, null, "SELECT sequence, kind FROM event_parties WHERE member_id = @m AND sequence IN ({in})",
            views.Keys, r => (r.GetInt64(0), r.GetString(1)), ct, ("@m", caller.MemberId));
        foreach (var (sequence, kind) in rows)
        {
            var view = kind == "party" ? EventView.Full : EventView.Redacted;
            if (view > views[sequence]) views[sequence] = view;
        }
        return views;
    }

    public static async Task<EventView> ForEventAsync(TraceDbContext db, Caller caller, long sequence, CancellationToken ct) =>
        (await ForEventsAsync(await Sql.OpenAsync(db, ct), caller, [sequence], ct))[sequence];

    /// <summary>Whether the caller sees everything about the product: a regulator, the admin, or the GTIN's owner.</summary>
    public static async Task<bool> OwnsProductAsync(DbConnection conn, Caller caller, string? gtin, CancellationToken ct)
    {
        if (caller.SeesEverything) return true;
        if (gtin is null || caller.Role != MemberRole.Manufacturer) return false;
        var owner = (await Sql.ListAsync(conn, null, "SELECT owner_member_id FROM products WHERE gtin = @g", r => r.Str(0), ct, ("@g", gtin))).FirstOrDefault();
        return OwnsProduct(caller, owner);
    }

    /// <summary><see cref="OwnsProductAsync"/> given the product's owner as read (null for no owner or no such product).</summary>
    public static bool OwnsProduct(Caller caller, string? owner) =>
        caller.SeesEverything || (caller.Role == MemberRole.Manufacturer && owner is not null && owner == caller.MemberId);

    /// <summary>
    /// The event as the view allows; null for <see cref="EventView.None"/>. Given the GTINs the caller owns, a redacted
    /// event also loses the codes of other products (<see cref="WithoutOthersCodes"/>).
    /// </summary>
    public static JsonNode? Shape(JsonNode e, EventView view, IReadOnlySet<string>? ownGtins = null) => view switch
    {
        EventView.Full => e,
        EventView.Redacted => ownGtins is null ? Redact(e.AsObject()) : WithoutOthersCodes(Redact(e.AsObject()), ownGtins),
        _ => null,
    };

    /// <summary>The GTINs of the caller's products.</summary>
    public static async Task<HashSet<string>> OwnedGtinsAsync(DbConnection conn, Caller caller, CancellationToken ct) =>
        (await Sql.ListAsync(conn, null, "SELECT gtin FROM products WHERE owner_member_id = @m", r => r.GetString(0), ct, ("@m", caller.MemberId)))
            .ToHashSet(StringComparer.Ordinal);

    private static readonly string[] CodeLists = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];

    /// <summary>The event without the GTIN-based codes (serialized units) of products not in <paramref name="ownGtins"/>; containers (SSCCs) stay.</summary>
    public static JsonObject WithoutOthersCodes(JsonObject e, IReadOnlySet<string> ownGtins)
    {
        bool Others(JsonNode? code) =>
            code is JsonValue v && v.TryGetValue<string>(out var text) && Gs1Identifiers.TryCanonicalId(text, out var canonical, out _)
            && Gs1Key.GtinOf(canonical) is { } gtin && !ownGtins.Contains(gtin);
        foreach (var list in CodeLists)
        {
            if (e[list] is not JsonArray codes) continue;
            for (var i = codes.Count - 1; i >= 0; i--)
                if (Others(codes[i])) codes.RemoveAt(i);
        }
        if (Others(e["parentID"])) e.Remove("parentID");
        return e;
    }

    /// <summary>Without bizTransactionList (order numbers, invoices: where prices live) and without user extensions.</summary>
    public static JsonObject Redact(JsonObject e)
    {
        var copy = (JsonObject)e.DeepClone();
        foreach (var key in copy.Select(p => p.Key).ToList())
            if (key == "bizTransactionList" || !StandardFields.Contains(key)) copy.Remove(key);
        return copy;
    }

    /// <summary>The consumer's subset: <see cref="Redact"/>, and no source or destination parties either.</summary>
    public static JsonObject Public(JsonObject e)
    {
        var copy = Redact(e);
        copy.Remove("sourceList");
        copy.Remove("destinationList");
        return copy;
    }
}
