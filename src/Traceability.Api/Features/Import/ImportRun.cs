using System.Data.Common;
using System.Globalization;
using System.Text;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Import;

/// <summary>
/// One import file being applied on one connection and transaction: what the rows came to (created, updated, unchanged,
/// refused) and every row's errors. A kind writes only when no row was refused and it is not a dry run; the caller
/// commits or rolls back the whole file.
/// </summary>
public sealed class ImportRun(DbConnection conn, DbTransaction tx, Caller caller, DateTimeOffset now, bool dryRun, IEnumerable<RowError> readErrors)
{
    /// <summary>Errors listed in one answer; <see cref="Refused"/> counts every refused record all the same.</summary>
    public const int MaxErrorsListed = 1_000;

    private readonly HashSet<int> _refusedRows = [.. readErrors.Select(e => e.Row)];
    private readonly List<RowError> _errors = [.. readErrors.Take(MaxErrorsListed)];
    private int _errorCount = readErrors.Count();

    public DbConnection Connection { get; } = conn;
    public DbTransaction Transaction { get; } = tx;
    public Caller Caller { get; } = caller;
    public DateTimeOffset Now { get; } = now;
    public string NowText { get; } = DbTime.Format(now);
    public bool DryRun { get; } = dryRun;
    public int Created { get; set; }
    public int Updated { get; set; }
    public int Unchanged { get; set; }
    /// <summary>Records refused: rows, or for orders the orders (an order may span several rows).</summary>
    public int Refused { get; set; }
    public IReadOnlyList<RowError> Errors => _errors;
    public int ErrorCount => _errorCount;

    /// <summary>Rows refused while the file was read (an unknown field, a value of the wrong type).</summary>
    public int RowsRefusedOnReading => _refusedRows.Count;

    /// <summary>Did reading the file already refuse this row?</summary>
    public bool RefusedOnReading(int row) => _refusedRows.Contains(row);

    public void Error(int row, string field, string message, string? rule = null)
    {
        _errorCount++;
        if (_errors.Count < MaxErrorsListed) _errors.Add(new RowError(row, field, message, rule));
    }

    /// <summary>Writes go ahead: not a dry run, and nothing refused.</summary>
    public bool Writes => !DryRun && Refused == 0 && _errorCount == 0;

    /// <summary>
    /// Inserts or updates rows with <c>INSERT ... VALUES (...) ON CONFLICT (key) DO UPDATE SET c = excluded.c</c>, the same
    /// SQL on both databases. PostgreSQL gets multi-row statements of up to 500 rows (one round trip each); SQLite one row
    /// per execution of one prepared statement, which is faster there: it has no round trip, and binding a parameter by
    /// name looks through all of the statement's names (500 rows of 6 columns made 100,000 products take 5 times longer).
    /// </summary>
    public async Task UpsertAsync(string table, string[] columns, string key, string[] update, IReadOnlyList<object?[]> rows, CancellationToken ct)
    {
        var batch = Connection is Microsoft.Data.Sqlite.SqliteConnection ? 1 : Math.Max(1, Math.Min(500, 30_000 / columns.Length));
        DbCommand? full = null;
        try
        {
            for (var start = 0; start < rows.Count; start += batch)
            {
                var n = Math.Min(batch, rows.Count - start);
                DbCommand cmd;
                if (n == batch && full is not null) cmd = full;
                else
                {
                    cmd = Sql.Command(Connection, Transaction, UpsertSql(table, columns, key, update, n));
                    for (var i = 0; i < n * columns.Length; i++) Sql.AddParameter(cmd, "@p" + i.ToString(CultureInfo.InvariantCulture), null);
                    if (n == batch)
                    {
                        cmd.Prepare();
                        full = cmd;
                    }
                }
                for (var r = 0; r < n; r++)
                    for (var c = 0; c < columns.Length; c++)
                        cmd.Parameters[r * columns.Length + c].Value = rows[start + r][c] ?? DBNull.Value;
                await cmd.ExecuteNonQueryAsync(ct);
                if (cmd != full) await cmd.DisposeAsync();
            }
        }
        finally
        {
            if (full is not null) await full.DisposeAsync();
        }
    }

    private static string UpsertSql(string table, string[] columns, string key, string[] update, int rows)
    {
        var sql = new StringBuilder($"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ");
        for (var r = 0; r < rows; r++)
        {
            if (r > 0) sql.Append(", ");
            sql.Append('(');
            for (var c = 0; c < columns.Length; c++)
            {
                if (c > 0) sql.Append(", ");
                sql.Append("@p").Append((r * columns.Length + c).ToString(CultureInfo.InvariantCulture));
            }
            sql.Append(')');
        }
        sql.Append($" ON CONFLICT ({key}) DO UPDATE SET ").Append(string.Join(", ", update.Select(c => $"{c} = excluded.{c}")));
        return sql.ToString();
    }
}
