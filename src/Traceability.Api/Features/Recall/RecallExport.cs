using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CsvHelper;
using CsvHelper.Configuration.Attributes;
using Mediator;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Recall;

/// <summary>
/// The FSMA 204 "electronic sortable spreadsheet" of a lot: one row per critical tracking event (initial packing, i.e.
/// commissioning; shipping; receiving; transformation) that moved units of the lot, with its key data elements:
/// traceability lot code, product, quantity and unit of measure, location, date, the CTE, and the reference document
/// (bizTransactionList: shown only to those who see the event in full, as <see cref="VisibilityPolicy"/> says).
/// The quantities come from <c>event_lots</c>: units of the lot named directly or inside the containers an event named.
/// </summary>
public sealed class RecallExport(TraceDbContext db, RecallLot recalls) : IQueryHandler<RecallExport.Query, RecallExport.Spreadsheet>
{
    /// <summary>The spreadsheet of a recall's lot, sorted by <see cref="Sort"/> (eventTime by default).</summary>
    public sealed record Query(string RecallId, string? Sort, Caller Caller) : IQuery<Spreadsheet>;
    public sealed record Spreadsheet(byte[] Csv, string FileName);

    public async ValueTask<Spreadsheet> Handle(Query query, CancellationToken ct)
    {
        var recall = await recalls.Handle(new RecallLot.Get(query.RecallId, query.Caller), ct);
        var csv = await CsvAsync(recall.Gtin, recall.Lot, query.Caller, query.Sort, ct);
        return new Spreadsheet(csv, $"recall-{recall.Id}-{recall.Gtin}-{recall.Lot}.csv");
    }

    public sealed class FsmaRow
    {
        [Name("Traceability Lot Code")] public required string TraceabilityLotCode { get; init; }
        [Name("Product Description")] public string? ProductDescription { get; init; }
        [Name("GTIN")] public required string Gtin { get; init; }
        [Name("Quantity")] public long Quantity { get; init; }
        [Name("Unit of Measure")] public string UnitOfMeasure { get; init; } = "each";
        [Name("Critical Tracking Event")] public required string Cte { get; init; }
        [Name("Business Step")] public string? BizStep { get; init; }
        [Name("Event Date (UTC)")] public required string EventTime { get; init; }
        [Name("Location ID")] public string? LocationId { get; init; }
        [Name("Location Name")] public string? LocationName { get; init; }
        [Name("Location Region")] public string? LocationRegion { get; init; }
        [Name("Ship From")] public string? ShipFrom { get; init; }
        [Name("Ship To")] public string? ShipTo { get; init; }
        [Name("Reference Document Type")] public string? ReferenceDocumentType { get; init; }
        [Name("Reference Document Number")] public string? ReferenceDocumentNumber { get; init; }
        [Name("Event Sequence")] public long Sequence { get; init; }
        [Name("Event Hash")] public required string EventHash { get; init; }
    }

    /// <summary>
    /// Cells that start with = + - @ (or a tab or carriage return) are formulas to a spreadsheet: such a cell gets a
    /// leading apostrophe, so a location name or a document number written by another member is shown, never run.
    /// </summary>
    internal static readonly CsvHelper.Configuration.CsvConfiguration CsvSettings = new(CultureInfo.InvariantCulture)
    {
        InjectionOptions = CsvHelper.Configuration.InjectionOptions.Escape,
    };

    private static readonly string[] SortKeys = ["eventTime", "cte", "location", "quantity", "sequence"];

    public async Task<List<FsmaRow>> RowsAsync(string gtin, string lot, Caller caller, CancellationToken ct)
    {
        var conn = await Sql.OpenAsync(db, ct);
        var product = (await Sql.ListAsync(conn, null, "SELECT name FROM products WHERE gtin = @g", r => r.GetString(0), ct, ("@g", gtin))).FirstOrDefault();
        var events = await Sql.ListAsync(conn, null,
            "SELECT el.sequence, el.quantity, e.event_type, e.event_time, e.biz_step, e.biz_location, e.read_point, e.event_hash, e.json " +
            "FROM event_lots el JOIN events e ON e.sequence = el.sequence WHERE el.gtin = @g AND el.lot = @l ORDER BY e.event_time, el.sequence",
            r => (Sequence: r.GetInt64(0), Quantity: r.GetInt64(1), Type: r.GetString(2), Time: r.GetString(3), BizStep: r.Str(4), BizLocation: r.Str(5),
                ReadPoint: r.Str(6), Hash: r.GetString(7), Json: r.GetString(8)), ct, ("@g", gtin), ("@l", lot));
        var ctes = events.Select(e => (e, Cte: Cte(e.Type, e.BizStep))).Where(x => x.Cte is not null).ToList();
        var views = await VisibilityPolicy.ForEventsAsync(conn, caller, ctes.Select(x => x.e.Sequence).ToList(), ct);
        var owner = await VisibilityPolicy.OwnsProductAsync(conn, caller, gtin, ct);

        var places = ctes.Select(x => Canonical(x.e.BizLocation ?? x.e.ReadPoint)).OfType<string>().Distinct().ToList();
        var locations = (await Sql.ListInAsync(conn, null, "SELECT id, name, region_code FROM locations WHERE id IN ({in})", places,
            r => (Id: r.GetString(0), Name: r.GetString(1), Region: r.GetString(2)), ct)).ToDictionary(l => l.Id);

        var rows = new List<FsmaRow>();
        foreach (var (e, cte) in ctes)
        {
            var view = views[e.Sequence] == EventView.None && owner ? EventView.Redacted : views[e.Sequence];
            if (view == EventView.None) continue;
            var json = JsonNode.Parse(e.Json)!.AsObject();
            var place = Canonical(e.BizLocation ?? e.ReadPoint);
            var location = place is not null && locations.TryGetValue(place, out var l) ? l : default;
            var documents = view == EventView.Full ? json["bizTransactionList"]?.AsArray() : null;
            rows.Add(new FsmaRow
            {
                TraceabilityLotCode = lot, ProductDescription = product, Gtin = gtin, Quantity = e.Quantity, Cte = cte!,
                BizStep = CbvVocabulary.ShortName(e.BizStep, "BizStep-"),
                EventTime = e.Time, LocationId = place, LocationName = location.Name, LocationRegion = location.Region,
                ShipFrom = Party(json["sourceList"]), ShipTo = Party(json["destinationList"]),
                ReferenceDocumentType = documents is null ? null : string.Join("; ", documents.Select(d => ShortType((string?)d?["type"]))),
                ReferenceDocumentNumber = documents is null ? null : string.Join("; ", documents.Select(d => (string?)d?["bizTransaction"])),
                Sequence = e.Sequence, EventHash = e.Hash,
            });
        }
        return rows;
    }

    public async Task<byte[]> CsvAsync(string gtin, string lot, Caller caller, string? sort, CancellationToken ct)
    {
        sort ??= "eventTime";
        if (!SortKeys.Contains(sort)) throw RequestValidationException.ForField("sort", $"sort must be one of {string.Join(", ", SortKeys)}.");
        var rows = await RowsAsync(gtin, lot, caller, ct);
        IEnumerable<FsmaRow> sorted = sort switch
        {
            "cte" => rows.OrderBy(r => r.Cte, StringComparer.Ordinal).ThenBy(r => r.EventTime, StringComparer.Ordinal),
            "location" => rows.OrderBy(r => r.LocationId, StringComparer.Ordinal).ThenBy(r => r.EventTime, StringComparer.Ordinal),
            "quantity" => rows.OrderByDescending(r => r.Quantity).ThenBy(r => r.EventTime, StringComparer.Ordinal),
            "sequence" => rows.OrderBy(r => r.Sequence),
            _ => rows.OrderBy(r => r.EventTime, StringComparer.Ordinal).ThenBy(r => r.Sequence),
        };
        await using var buffer = new MemoryStream();
        await using (var writer = new StreamWriter(buffer, new UTF8Encoding(false), leaveOpen: true))
        await using (var csv = new CsvWriter(writer, CsvSettings))
        {
            await csv.WriteRecordsAsync(sorted, ct);
        }
        return buffer.ToArray();
    }

    /// <summary>The FSMA 204 critical tracking event an EPCIS event is, or null when it is not one.</summary>
    public static string? Cte(string type, string? bizStep) => type == "TransformationEvent" ? "Transformation" : CbvVocabulary.ShortName(bizStep, "BizStep-") switch
    {
        "commissioning" => "Initial Packing",
        "shipping" => "Shipping",
        "receiving" or "arriving" => "Receiving",
        _ => null,
    };

    private static string? Canonical(string? id) => id is null ? null : Gs1Identifiers.TryToCanonicalDigitalLink(id, out var dl) ? dl : id;

    private static string? ShortType(string? type) => type?.Split(['-', ':']).Last();

    private static string? Party(JsonNode? list)
    {
        if (list is not JsonArray items || items.Count == 0) return null;
        var owning = items.FirstOrDefault(i => ((string?)i?["type"])?.EndsWith("owning_party", StringComparison.Ordinal) == true) ?? items[0];
        var value = (string?)owning?["source"] ?? (string?)owning?["destination"];
        return Canonical(value);
    }
}
