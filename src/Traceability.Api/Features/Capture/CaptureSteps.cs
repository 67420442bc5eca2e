using System.Data.Common;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Capture;

/// <summary>
/// What a capture step sees: the capture's connection and transaction (everything a step writes commits or rolls back
/// with the events), the caller, and a list of rule violations. A step that refuses an event adds a violation naming
/// the rule and the EPC; when any step has added one, the whole document is refused with 422 and nothing is stored.
/// </summary>
public sealed class CaptureContext(TraceDbContext db, DbConnection connection, DbTransaction transaction, Caller caller, DateTimeOffset recordTime)
{
    public TraceDbContext Db { get; } = db;
    public DbConnection Connection { get; } = connection;
    public DbTransaction Transaction { get; } = transaction;
    public Caller Caller { get; } = caller;
    public DateTimeOffset RecordTime { get; } = recordTime;
    public List<FieldError> Violations { get; } = [];

    /// <summary>State a step keeps for the length of one capture (e.g. units already loaded).</summary>
    public Dictionary<string, object> Items { get; } = new(StringComparer.Ordinal);

    public DbCommand Command(string sql)
    {
        var cmd = Connection.CreateCommand();
        cmd.Transaction = Transaction;
        cmd.CommandText = sql;
        return cmd;
    }
}

/// <summary>A new event, appended in this capture, with its sequence number.</summary>
public sealed record AppendedEvent(long Sequence, ValidatedEvent Validated);

/// <summary>
/// A step of the capture pipeline, run for each new event in document order inside the capture's transaction (business
/// rules, the units' current state, alerts), then once at the end. Registered in DI; run in registration order.
/// </summary>
public interface ICaptureStep
{
    ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct);

    ValueTask CompleteAsync(CaptureContext context, CancellationToken ct) => ValueTask.CompletedTask;
}
