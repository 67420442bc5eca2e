using System.Data.Common;
using Microsoft.Data.Sqlite;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Capture;

/// <summary>
/// What a capture step sees: the capture's connection and transaction (everything a step writes commits or rolls back
/// with the events), the caller, and a list of rule violations. A step that refuses an event adds a violation naming
/// the rule and the EPC; when any step has added one, the whole document is refused with 422 and nothing is stored.
/// </summary>
public sealed class CaptureContext(DbConnection connection, DbTransaction transaction, Caller caller, DateTimeOffset recordTime)
    : IAsyncDisposable
{
    private readonly Dictionary<string, DbCommand> _prepared = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SqliteStatement> _statements = new(StringComparer.Ordinal);

    public DbConnection Connection { get; } = connection;
    public DbTransaction Transaction { get; } = transaction;
    public Caller Caller { get; } = caller;
    public DateTimeOffset RecordTime { get; } = recordTime;
    public List<FieldError> Violations { get; } = [];

    public DbCommand Command(string sql)
    {
        var cmd = Connection.CreateCommand();
        cmd.Transaction = Transaction;
        cmd.CommandText = sql;
        return cmd;
    }

    /// <summary>
    /// Runs a write that is run for many events of one capture: prepared on its first use (parsed and planned once) and
    /// reused until the capture ends; on SQLite straight on its C API (<see cref="SqliteStatement"/>). The parameters are
    /// bound by position, in the order of the first call. The number of rows changed.
    /// </summary>
    public async Task<int> ExecAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        if (Connection is not SqliteConnection sqlite) return await Bind(sql, parameters).ExecuteNonQueryAsync(ct);
        if (!_statements.TryGetValue(sql, out var statement))
            _statements[sql] = statement = new SqliteStatement(sqlite, sql, parameters.Select(p => p.Name).ToArray());
        for (var i = 0; i < parameters.Length; i++) statement.Bind(i, parameters[i].Value);
        return statement.Execute();
    }

    /// <summary>Reads the rows of a query that is run for many events of one capture, prepared once as in <see cref="ExecAsync"/>.</summary>
    public async Task<List<T>> ListAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var r = await Bind(sql, parameters).ExecuteReaderAsync(ct);
        var list = new List<T>();
        while (await r.ReadAsync(ct)) list.Add(map(r));
        return list;
    }

    private DbCommand Bind(string sql, (string Name, object? Value)[] parameters)
    {
        if (!_prepared.TryGetValue(sql, out var cmd))
        {
            cmd = Command(sql);
            foreach (var (name, value) in parameters) Sql.AddParameter(cmd, name, value);
            cmd.Prepare();
            _prepared[sql] = cmd;
            return cmd;
        }
        for (var i = 0; i < parameters.Length; i++) cmd.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
        return cmd;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var cmd in _prepared.Values) await cmd.DisposeAsync();
        _prepared.Clear();
        foreach (var statement in _statements.Values) statement.Dispose();
        _statements.Clear();
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
    /// <summary>Once before the first event, with every new or repeated event of the document (e.g. to load state in bulk).</summary>
    ValueTask BeginAsync(CaptureContext context, IReadOnlyList<ValidatedEvent> events, CancellationToken ct) => ValueTask.CompletedTask;

    ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct);

    ValueTask CompleteAsync(CaptureContext context, CancellationToken ct) => ValueTask.CompletedTask;
}
