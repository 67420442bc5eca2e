using Mediator;
using Microsoft.AspNetCore.Http.Features;
using Traceability.Api.Domain;
using Traceability.Api.Features.Analytics;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Import;

/// <summary>
/// ERP import: <c>POST /api/v1/import/{products|locations|dealers|orders}</c> with a JSON array or a CSV file (header
/// row), by Content-Type. Upserts by natural key (GTIN, SGLN, GLN, order number); <c>?dryRun=true</c> checks every row
/// and writes nothing. A file is applied in one transaction, all or nothing: when any row is refused nothing is written
/// and the answer is 422 listing each bad row and field. A member imports its own master data only.
/// </summary>
public static class ImportApi
{
    public const long MaxBytes = 64L * 1024 * 1024;
    public const int MaxRows = 100_000;

    public static readonly IReadOnlyList<string> Kinds = ["products", "locations", "dealers", "orders"];

    public sealed record ImportResult(string Kind, bool DryRun, int Rows, int Created, int Updated, int Unchanged, int Refused,
        int ErrorCount, IReadOnlyList<RowError> Errors);

    public static RouteGroupBuilder MapImportApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("api/v1/import").WithTags("ERP import");
        group.MapPost("{kind}", ImportAsync)
            .RequireRoles(MemberRole.Manufacturer, MemberRole.Logistics, MemberRole.Dealer, MemberRole.Regulator)
            .Accepts<object>("application/json", "text/csv")
            .WithSummary($"Import products, locations, dealers or orders from the ERP (JSON array or CSV with a header row; at most {MaxRows:N0} rows, 64 MB); ?dryRun=true checks without writing")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422);
        return group;
    }

    /// <summary>Who may import what: products, dealers and orders are a manufacturer's; every member keeps its locations; the operator all but orders.</summary>
    public static string? Refusal(string kind, Caller caller) => (kind, caller.Role) switch
    {
        ("orders", MemberRole.Admin) => "Orders belong to a member: import them with the member's key.",
        (_, MemberRole.Admin) => null,
        ("locations", _) => null,
        (_, MemberRole.Manufacturer) => null,
        _ => $"Role '{caller.Role.ToWire()}' may not import {kind}; manufacturers import products, dealers and orders.",
    };

    private static IReadOnlyList<string> FieldsOf(string kind) => kind switch
    {
        "products" => ProductImport.Fields,
        "locations" => LocationImport.Fields,
        "dealers" => DealerImport.Fields,
        _ => OrderImport.Fields,
    };

    /// <summary>A read file applied (or checked) as one transaction.</summary>
    public sealed record ImportFile(string Kind, IReadOnlyList<ImportRow> Rows, IReadOnlyList<RowError> ReadErrors, bool DryRun, Caller Caller) : ICommand<ImportResult>
    {
        public sealed class Handler(TraceDbContext db, RegionTable regions, TimeProvider time) : ICommandHandler<ImportFile, ImportResult>
        {
            public async ValueTask<ImportResult> Handle(ImportFile command, CancellationToken ct)
            {
                var (kind, rows, readErrors, dryRun, caller) = command;
                var conn = await Sql.OpenAsync(db, ct);
                // One transaction for the file: what is read to decide (existing rows, owners, prefixes) is what the writes
                // build on, and a refused row leaves nothing written. On SQLite it takes the write lock from the start.
                await using var tx = await conn.BeginTransactionAsync(ct);
                var run = new ImportRun(conn, tx, caller, time.GetUtcNow(), dryRun, readErrors);
                switch (kind)
                {
                    case "products": await ProductImport.RunAsync(run, rows, ct); break;
                    case "locations": await LocationImport.RunAsync(run, rows, regions, ct); break;
                    case "dealers": await DealerImport.RunAsync(run, rows, regions, ct); break;
                    default: await OrderImport.RunAsync(run, rows, ct); break;
                }
                if (run.Writes) await tx.CommitAsync(ct);
                else await tx.RollbackAsync(ct);
                return new ImportResult(kind, dryRun, rows.Count, run.Created, run.Updated, run.Unchanged, run.Refused, run.ErrorCount, run.Errors);
            }
        }
    }

    private static async Task<IResult> ImportAsync(string kind, HttpContext http, IMediator mediator, CancellationToken ct, bool dryRun = false)
    {
        if (!Kinds.Contains(kind)) throw new NotFoundException($"Import of '{(kind.Length > 40 ? kind[..40] : kind)}' (the kinds are {string.Join(", ", Kinds)})");
        var caller = http.Caller();
        if (Refusal(kind, caller) is { } refusal) throw new ForbiddenException(refusal);

        var mediaType = http.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        var csv = mediaType is "text/csv";
        if (!csv && mediaType is not ("application/json" or "text/json"))
            throw new UnsupportedMediaTypeException("An import file is application/json (an array of objects) or text/csv (a header row, then a row per record).");
        if (http.Request.ContentLength > MaxBytes)
            throw new PayloadTooLargeException($"The file is {http.Request.ContentLength} bytes; at most {MaxBytes} are accepted.");
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = MaxBytes + 1;

        await using var body = new BoundedStream(http.Request.Body, MaxBytes);
        var fields = FieldsOf(kind);
        var (rows, readErrors) = csv
            ? await ImportRows.ReadCsvAsync(body, fields, MaxRows, ct)
            : await ImportRows.ReadJsonAsync(body, fields, MaxRows, ct);
        var result = await mediator.Send(new ImportFile(kind, rows, readErrors, dryRun, caller), ct);
        if (dryRun || result.ErrorCount == 0) return TypedResults.Ok(result);
        return TypedResults.Problem(statusCode: 422, title: "Rows refused", type: ProblemDetailsExceptionHandler.TypeBase + "import-refused",
            detail: $"{result.Refused} of the file's records were refused; nothing was written.", instance: http.Request.Path,
            extensions: new Dictionary<string, object?>
            {
                ["kind"] = kind, ["rows"] = result.Rows, ["created"] = result.Created, ["updated"] = result.Updated, ["unchanged"] = result.Unchanged,
                ["refused"] = result.Refused, ["errorCount"] = result.ErrorCount, ["errors"] = result.Errors,
            });
    }

    /// <summary>The request body, refused (413) past <paramref name="limit"/> bytes whatever the server's own limit.</summary>
    private sealed class BoundedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => Count(await inner.ReadAsync(buffer, ct));
        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => Count(await inner.ReadAsync(buffer.AsMemory(offset, count), ct));

        private int Count(int n)
        {
            _read += n;
            if (_read > limit) throw new PayloadTooLargeException($"The file is larger than {limit} bytes.");
            return n;
        }
    }
}
