using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Mediator;
using Microsoft.AspNetCore.Http.Features;
using Traceability.Api.Domain;
using Traceability.Api.Features.Consumer;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Requests;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Inspection;

/// <summary>
/// The inspector's lookup (防窜查询): up to 500 codes as scanned off goods found in a shop or a warehouse, one row per
/// code: product, lot, production date, manufacturer, the dealer it was shipped to and its territory, the order and ship
/// date, who holds it now and its status, the regions it was last scanned in, whether it is diverted (a diversion alert,
/// or held, scanned or — with <c>?region=</c> — found outside the dealer's territory), and how often it was looked up
/// before. A code that cannot be read, was never issued, or (for a manufacturer) is another member's product gets a row
/// with an error, not a failed request. Every lookup is kept and listed for the codes' manufacturer and regulators.
/// </summary>
public static class CodeLookup
{
    public const int MaxCodes = 500;
    public const long MaxBytes = 512 * 1024;
    private const int RegionsShown = 5;

    public sealed record Party(string Id, string Name);
    public sealed record ProductInfo(string Gtin, string? Name);
    public sealed record DealerInfo(string Id, string Name, string? Gln, IReadOnlyList<string> Territory);
    public sealed record LookupRow(int Position, string Code, string? Epc, string? Error, string? Rule, ProductInfo? Product, string? Serial, string? Lot,
        DateTimeOffset? ProductionDate, Party? Manufacturer, DealerInfo? Dealer, string? OrderNumber, DateTimeOffset? ShipDate, Party? Holder,
        string? Status, string? RegionCode, IReadOnlyList<string> RegionsLastScanned, DateTimeOffset? LastScanAt, bool Diverted, string? Diversion,
        int PreviousLookups);
    public sealed record LookupResponse(long LookupId, DateTimeOffset At, string? Region, int Count, IReadOnlyList<LookupRow> Rows);
    public sealed record LookupItem(int Position, string Code, string? Epc);
    public sealed record LookupSummary(long Id, Party By, DateTimeOffset At, string? Region, int Codes, IReadOnlyList<LookupItem> Items);
    public sealed record LookupPage(IReadOnlyList<LookupSummary> Items, int Offset, int Limit);

    /// <summary>Beside the code endpoints (/api/v1/codes), but a feature of its own: it reads the consumer scans and diversion rules.</summary>
    public static IEndpointRouteBuilder MapInspectionApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/codes").WithTags("Codes and labels");
        group.MapPost("lookup", LookupAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Regulator)
            .Accepts<string[]>("application/json", "text/plain")
            .WithSummary($"Look up to {MaxCodes} codes at once (a JSON array, or text with one code per line or separated by ';'); ?region= the inspector's GB/T 2260 region")
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415);
        group.MapGet("lookups", ListAsync).RequireRoles(MemberRole.Manufacturer, MemberRole.Regulator)
            .WithSummary("Lookups, newest first, that named the caller's products (a regulator: all); offset, limit (≤ 100)").ProducesProblem(400);
        return app;
    }

    public sealed record Lookup(IReadOnlyList<string> Codes, string? Region, Caller Caller) : ICommand<LookupResponse>, IValidate
    {
        public static string Invalid => "Invalid lookup";

        public IEnumerable<FieldError> Validate()
        {
            var errors = new List<FieldError>();
            if (Codes.Count == 0) errors.Add(new("codes", "send at least one code."));
            if (Codes.Count > MaxCodes) errors.Add(new("codes", $"at most {MaxCodes} codes per lookup; this one has {Codes.Count}."));
            if (Region is not null && !Regions.IsValid(Region)) errors.Add(new("region", "region must be a six-digit GB/T 2260 code."));
            return errors;
        }

        public sealed class Handler(TraceDbContext db, TimeProvider time) : ICommandHandler<Lookup, LookupResponse>
        {
            public async ValueTask<LookupResponse> Handle(Lookup command, CancellationToken ct)
            {
                var (codes, region, caller) = command;
                var now = time.GetUtcNow();
                var parsed = new List<(Gs1ScannedCode? Code, string? Problem)>(codes.Count);
                foreach (var c in codes) parsed.Add(Gs1ScannedCode.TryParse(c, out var code, out var problem) ? (code, null) : (null, problem));
                var epcs = parsed.Select(p => p.Code?.Epc).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
                var conn = await Sql.OpenAsync(db, ct);

                var units = (await Sql.ListInAsync(conn, null,
                        "SELECT epc, gtin, lot, serial, status, holder_member_id, region_code, shipped_to_member_id, commissioned_sequence FROM units WHERE epc IN ({in})", epcs,
                        r => (Epc: r.GetString(0), Gtin: r.Str(1), Lot: r.Str(2), Serial: r.Str(3), Status: r.GetString(4), Holder: r.Str(5), Region: r.Str(6),
                            ShippedTo: r.Str(7), Commissioned: r.Long(8)), ct))
                    .ToDictionary(u => u.Epc, StringComparer.Ordinal);
                var issued = (await Sql.ListInAsync(conn, null, "SELECT epc, gtin, lot, serial, issued_by FROM codes WHERE epc IN ({in})", epcs,
                        r => (Epc: r.GetString(0), Gtin: r.GetString(1), Lot: r.GetString(2), Serial: r.GetString(3), IssuedBy: r.GetString(4)), ct))
                    .ToDictionary(c => c.Epc, StringComparer.Ordinal);
                var gtins = epcs.Select(e => units.GetValueOrDefault(e).Gtin ?? issued.GetValueOrDefault(e).Gtin ?? Gs1Key.GtinOf(e)).OfType<string>().Distinct().ToList();
                var products = (await Sql.ListInAsync(conn, null, "SELECT gtin, name, owner_member_id FROM products WHERE gtin IN ({in})", gtins,
                        r => (Gtin: r.GetString(0), Name: r.GetString(1), Owner: r.Str(2)), ct))
                    .ToDictionary(p => p.Gtin, StringComparer.Ordinal);
                var memberIds = units.Values.SelectMany(u => new[] { u.Holder, u.ShippedTo }).Concat(products.Values.Select(p => p.Owner))
                    .Concat(issued.Values.Select(c => c.IssuedBy)).OfType<string>().Distinct().ToList();
                var members = (await Sql.ListInAsync(conn, null, "SELECT id, name, gln, region_codes FROM members WHERE id IN ({in})", memberIds,
                        r => (Id: r.GetString(0), Name: r.GetString(1), Gln: r.Str(2), Regions: r.GetString(3).Split(',', StringSplitOptions.RemoveEmptyEntries)), ct))
                    .ToDictionary(m => m.Id, StringComparer.Ordinal);
                var produced = (await Sql.ListInAsync(conn, null, "SELECT sequence, event_time, json FROM events WHERE sequence IN ({in})",
                        units.Values.Select(u => u.Commissioned).OfType<long>(), r => (Sequence: r.GetInt64(0), Time: LocalTime(DbTime.Parse(r.GetString(1)), r.GetString(2))), ct))
                    .ToDictionary(e => e.Sequence, e => e.Time);
                var shipments = (await Sql.ListInAsync(conn, null,
                        "SELECT ou.epc, o.number, ou.shipped_at FROM order_units ou JOIN orders o ON o.id = ou.order_id WHERE ou.epc IN ({in})", epcs,
                        r => (Epc: r.GetString(0), Number: r.GetString(1), At: DbTime.Parse(r.GetString(2))), ct))
                    .GroupBy(s => s.Epc).ToDictionary(g => g.Key, g => g.MaxBy(s => s.At), StringComparer.Ordinal);
                var scans = (await Sql.ListInAsync(conn, null,
                        "SELECT epc, region_code, at FROM (SELECT epc, region_code, at, ROW_NUMBER() OVER (PARTITION BY epc ORDER BY at DESC) AS n " +
                        "FROM scans WHERE epc IN ({in}) AND region_code IS NOT NULL) s WHERE n <= 20", epcs,
                        r => (Epc: r.GetString(0), Region: r.GetString(1), At: DbTime.Parse(r.GetString(2))), ct))
                    .GroupBy(s => s.Epc).ToDictionary(g => g.Key, g => g.OrderByDescending(s => s.At).ToList(), StringComparer.Ordinal);
                var alerted = (await Sql.ListInAsync(conn, null, "SELECT DISTINCT epc FROM alerts WHERE epc IN ({in}) AND type = 'diversion'", epcs, r => r.GetString(0), ct))
                    .ToHashSet(StringComparer.Ordinal);
                var before = (await Sql.ListInAsync(conn, null, "SELECT epc, COUNT(*) FROM code_lookup_items WHERE epc IN ({in}) GROUP BY epc", epcs,
                        r => (Epc: r.GetString(0), N: Convert.ToInt32(r.GetValue(1), CultureInfo.InvariantCulture)), ct))
                    .ToDictionary(b => b.Epc, b => b.N, StringComparer.Ordinal);

                var rows = new List<LookupRow>(codes.Count);
                var diversions = new List<(string Epc, Diversion.Dealer Dealer)>();
                for (var i = 0; i < codes.Count; i++)
                {
                    var (code, problem) = parsed[i];
                    var position = i + 1;
                    var text = codes[i].Length <= 200 ? codes[i] : codes[i][..200] + "…";
                    if (code is null)
                    {
                        rows.Add(ErrorRow(position, text, null, problem, "unreadable"));
                        continue;
                    }
                    var epc = code.Epc;
                    var hasUnit = units.TryGetValue(epc, out var unit);
                    var wasIssued = issued.TryGetValue(epc, out var issue);
                    var gtin = unit.Gtin ?? issue.Gtin ?? code.Gtin;
                    var product = gtin is null ? default : products.GetValueOrDefault(gtin);
                    var owner = product.Owner ?? issue.IssuedBy;
                    if (!hasUnit && !wasIssued)
                    {
                        rows.Add(ErrorRow(position, text, epc, "this code was never issued nor recorded in the ledger: possibly counterfeit.", "unknown-code"));
                        continue;
                    }
                    if (!caller.SeesEverything && owner != caller.MemberId)
                    {
                        rows.Add(ErrorRow(position, text, epc, "this code is another member's product.", "not-visible"));
                        continue;
                    }
                    var dealer = unit.ShippedTo is { } d && members.TryGetValue(d, out var dm) ? new DealerInfo(dm.Id, dm.Name, dm.Gln, dm.Regions) : null;
                    var recent = scans.GetValueOrDefault(epc) ?? [];
                    var lastRegions = recent.Select(s => s.Region).Distinct(StringComparer.Ordinal).Take(RegionsShown).ToList();
                    string? diversion = null;
                    if (dealer is { Territory.Count: > 0 })
                    {
                        if (region is not null && !Regions.Inside(region, dealer.Territory)) diversion = $"found in {region}, outside the territory of dealer {dealer.Name}";
                        else if (unit.Region is { } held && unit.Holder != dealer.Id && !Regions.Inside(held, dealer.Territory))
                            diversion = $"held in {held}, outside the territory of dealer {dealer.Name}";
                        else if (lastRegions.FirstOrDefault(r => !Regions.Inside(r, dealer.Territory)) is { } outside)
                            diversion = $"scanned in {outside}, outside the territory of dealer {dealer.Name}";
                        if (region is not null && !Regions.Inside(region, dealer.Territory))
                            diversions.Add((epc, new Diversion.Dealer(dealer.Id, dealer.Name, dealer.Territory)));
                    }
                    if (diversion is null && alerted.Contains(epc)) diversion = "a diversion alert was raised for this code";
                    var shipment = shipments.GetValueOrDefault(epc);
                    rows.Add(new LookupRow(position, text, epc, null, null,
                        gtin is null ? null : new ProductInfo(gtin, product.Name), unit.Serial ?? issue.Serial ?? code.Serial, unit.Lot ?? issue.Lot,
                        unit.Commissioned is { } seq && produced.TryGetValue(seq, out var madeAt) ? madeAt : null,
                        owner is not null && members.TryGetValue(owner, out var om) ? new Party(om.Id, om.Name) : null,
                        dealer, shipment.Number, shipment.Number is null ? null : shipment.At,
                        unit.Holder is { } h && members.TryGetValue(h, out var hm) ? new Party(hm.Id, hm.Name) : null,
                        hasUnit ? unit.Status : "issued", unit.Region,
                        lastRegions, recent.Count > 0 ? recent[0].At : null, diversion is not null, diversion, before.GetValueOrDefault(epc)));
                }

                // The lookup is kept with its codes, in one transaction with the alerts it raises.
                await using var tx = await conn.BeginTransactionAsync(ct);
                var id = await Sql.LongAsync(conn, tx, "INSERT INTO code_lookups (member_id, at, region_code, codes) VALUES (@m, @a, @r, @n) RETURNING id", ct,
                    ("@m", caller.MemberId), ("@a", DbTime.Format(now)), ("@r", region), ("@n", codes.Count));
                await using (var insert = Sql.Command(conn, tx, "INSERT INTO code_lookup_items (lookup_id, position, code, epc, gtin) VALUES (@l, @p, @c, @e, @g)",
                    ("@l", id), ("@p", 0), ("@c", ""), ("@e", null), ("@g", null)))
                {
                    foreach (var row in rows)
                    {
                        insert.Parameters[1].Value = row.Position;
                        insert.Parameters[2].Value = row.Code;
                        insert.Parameters[3].Value = (object?)row.Epc ?? DBNull.Value;
                        insert.Parameters[4].Value = (object?)(row.Product?.Gtin ?? (row.Epc is null ? null : Gs1Key.GtinOf(row.Epc))) ?? DBNull.Value;
                        await insert.ExecuteNonQueryAsync(ct);
                    }
                }
                foreach (var (epc, dealer) in diversions) await Diversion.RaiseAsync(conn, tx, epc, dealer, region!, "lookup", null, now, ct);
                await tx.CommitAsync(ct);
                return new LookupResponse(id, now, region, codes.Count, rows);
            }
        }
    }

    private static LookupRow ErrorRow(int position, string code, string? epc, string? error, string rule) =>
        new(position, code, epc, error, rule, null, null, null, null, null, null, null, null, null, null, null, [], null, false, null, 0);

    /// <summary>The commissioning time in the event's own time zone (eventTimeZoneOffset), as the plant would have written it.</summary>
    private static DateTimeOffset LocalTime(DateTimeOffset utc, string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.TryGetProperty("eventTimeZoneOffset", out var z) && z.ValueKind == JsonValueKind.String
            && TimeSpan.TryParseExact(z.GetString()!.TrimStart('+', '-'), @"hh\:mm", CultureInfo.InvariantCulture, out var offset)
            ? utc.ToOffset(z.GetString()!.StartsWith('-') ? -offset : offset)
            : utc;
    }

    public sealed record ListLookups(int Offset, int Limit, Caller Caller) : IQuery<LookupPage>, IValidate
    {
        public static string Invalid => "Invalid lookup query";

        public IEnumerable<FieldError> Validate()
        {
            var errors = new List<FieldError>();
            if (Offset < 0) errors.Add(new("offset", "offset must be 0 or more."));
            if (Limit is < 1 or > 100) errors.Add(new("limit", "limit must be between 1 and 100."));
            return errors;
        }

        public sealed class Handler(TraceDbContext db) : IQueryHandler<ListLookups, LookupPage>
        {
            public async ValueTask<LookupPage> Handle(ListLookups query, CancellationToken ct)
            {
                var (offset, limit, caller) = query;
                var conn = await Sql.OpenAsync(db, ct);
                var own = caller.SeesEverything ? null
                    : (await Sql.ListAsync(conn, null, "SELECT gtin FROM products WHERE owner_member_id = @m", r => r.GetString(0), ct, ("@m", caller.MemberId))).ToHashSet(StringComparer.Ordinal);
                var lookups = caller.SeesEverything
                    ? await Sql.ListAsync(conn, null, "SELECT id, member_id, at, region_code, codes FROM code_lookups ORDER BY id DESC LIMIT @l OFFSET @o", ReadLookup, ct,
                        ("@l", limit), ("@o", offset))
                    : await Sql.ListAsync(conn, null,
                        "SELECT id, member_id, at, region_code, codes FROM code_lookups WHERE id IN (SELECT i.lookup_id FROM code_lookup_items i " +
                        "JOIN products p ON p.gtin = i.gtin WHERE p.owner_member_id = @m) ORDER BY id DESC LIMIT @l OFFSET @o", ReadLookup, ct,
                        ("@m", caller.MemberId), ("@l", limit), ("@o", offset));
                var items = (await Sql.ListInAsync(conn, null, "SELECT lookup_id, position, code, epc, gtin FROM code_lookup_items WHERE lookup_id IN ({in})",
                        lookups.Select(l => l.Id), r => (Lookup: r.GetInt64(0), Item: new LookupItem(Convert.ToInt32(r.GetValue(1), CultureInfo.InvariantCulture), r.GetString(2), r.Str(3)), Gtin: r.Str(4)), ct))
                    .Where(i => own is null || (i.Gtin is not null && own.Contains(i.Gtin)))
                    .GroupBy(i => i.Lookup).ToDictionary(g => g.Key, g => g.Select(i => i.Item).OrderBy(i => i.Position).ToList());
                var names = (await Sql.ListInAsync(conn, null, "SELECT id, name FROM members WHERE id IN ({in})", lookups.Select(l => l.MemberId),
                    r => (Id: r.GetString(0), Name: r.GetString(1)), ct)).ToDictionary(m => m.Id, m => m.Name, StringComparer.Ordinal);
                return new LookupPage(lookups.Select(l => new LookupSummary(l.Id, new Party(l.MemberId, names.GetValueOrDefault(l.MemberId) ?? l.MemberId), l.At, l.Region, l.Codes,
                    items.GetValueOrDefault(l.Id) ?? [])).ToList(), offset, limit);
            }

            private static (long Id, string MemberId, DateTimeOffset At, string? Region, int Codes) ReadLookup(DbDataReader r) =>
                (r.GetInt64(0), r.GetString(1), DbTime.Parse(r.GetString(2)), r.Str(3), Convert.ToInt32(r.GetValue(4), CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The codes of the request: a JSON array of strings, or text with one code per line or separated by ';'.</summary>
    private static async Task<IResult> LookupAsync(HttpContext http, IMediator mediator, CancellationToken ct, string? region = null)
    {
        if (http.Request.ContentLength > MaxBytes) throw new PayloadTooLargeException($"A lookup is at most {MaxBytes} bytes.");
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = MaxBytes;
        var mediaType = http.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        List<string> codes;
        if (mediaType is "application/json")
        {
            try
            {
                codes = await JsonSerializer.DeserializeAsync<List<string>>(http.Request.Body, cancellationToken: ct) ?? [];
            }
            catch (JsonException)
            {
                throw RequestValidationException.ForField("codes", "send a JSON array of codes (strings).");
            }
            if (codes.Any(c => c is null)) throw RequestValidationException.ForField("codes", "every code is a string.");
        }
        else if (mediaType is "text/plain")
        {
            using var reader = new StreamReader(http.Request.Body);
            var text = await reader.ReadToEndAsync(ct);
            codes = text.Split([';', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        }
        else throw new UnsupportedMediaTypeException("Send the codes as application/json (an array) or text/plain (one per line, or separated by ';').");
        return TypedResults.Ok(await mediator.Send(new Lookup(codes, string.IsNullOrWhiteSpace(region) ? null : region.Trim(), http.Caller()), ct));
    }

    private static async Task<IResult> ListAsync(HttpContext http, IMediator mediator, CancellationToken ct, int offset = 0, int limit = 20) =>
        TypedResults.Ok(await mediator.Send(new ListLookups(offset, limit, http.Caller()), ct));
}
