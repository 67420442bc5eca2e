using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Traceability.Api.Infrastructure.Persistence;

/// <summary>
/// A write statement prepared once on SQLite's C API (SQLitePCL.raw, the layer under Microsoft.Data.Sqlite) and run many
/// times: the rows a capture appends (events, their EPCs, units, parties, lots). Microsoft.Data.Sqlite binds every
/// parameter by name and builds a data reader on each execution; at thousands of rows per capture that overhead and its
/// allocations were a large share of the time spent under the capture lock. Here parameters are bound by position
/// (resolved to SQLite's indexes once), strings as UTF-8 encoded into one buffer kept with the statement, and an
/// execution allocates nothing. A value equal to the one bound at the same position for the previous row is not bound
/// again: SQLite keeps bindings across <c>sqlite3_reset</c>, and much of a row repeats from row to row in one capture
/// (its record time, its caller, a unit's product, lot and holder), while each binding is a P/Invoke with a handle to
/// count and, for text, a UTF-8 copy. Errors surface as <see cref="SqliteException"/>, as they do through
/// Microsoft.Data.Sqlite.
/// </summary>
/// <remarks>
/// Runs on the connection's current transaction (SQLite has one per connection), on one thread at a time (the capture's).
/// Dispose before the connection closes.
/// </remarks>
public sealed class SqliteStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _stmt;
    private readonly int[] _slots;
    private static readonly object Unbound = new();
    private readonly object?[] _bound; // the value bound at each position (kept by SQLite across executions), or Unbound
    private byte[] _text = new byte[1024];

    /// <param name="connection">An open connection.</param>
    /// <param name="sql">One statement with named parameters.</param>
    /// <param name="parameters">The parameter names, in the order <see cref="Bind"/> is called with.</param>
    public SqliteStatement(SqliteConnection connection, string sql, IReadOnlyList<string> parameters)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The SQLite connection is not open.");
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(_db, sql, out _stmt), _db);
        _slots = new int[parameters.Count];
        _bound = new object?[parameters.Count];
        Array.Fill(_bound, Unbound);
        for (var i = 0; i < parameters.Count; i++)
        {
            _slots[i] = raw.sqlite3_bind_parameter_index(_stmt, parameters[i]);
            if (_slots[i] == 0) throw new ArgumentException($"The statement has no parameter {parameters[i]}: {sql}", nameof(parameters));
        }
    }

    /// <summary>Binds the <paramref name="position"/>-th parameter (in the order given to the constructor).</summary>
    public void Bind(int position, object? value)
    {
        if (value is DBNull) value = null;
        // a blob's array may have been changed in place since it was bound, so it is always bound again
        if (value is not byte[] && Equals(_bound[position], value)) return;
        _bound[position] = Unbound; // until SQLite has taken the new value
        var slot = _slots[position];
        var rc = value switch
        {
            null => raw.sqlite3_bind_null(_stmt, slot),
            string s => BindText(slot, s),
            long l => raw.sqlite3_bind_int64(_stmt, slot, l),
            int n => raw.sqlite3_bind_int64(_stmt, slot, n),
            bool b => raw.sqlite3_bind_int64(_stmt, slot, b ? 1 : 0),
            double d => raw.sqlite3_bind_double(_stmt, slot, d),
            byte[] bytes => raw.sqlite3_bind_blob(_stmt, slot, bytes),
            _ => throw new ArgumentException($"No SQLite binding for a {value.GetType().Name}; pass a string, a number or null.", nameof(value)),
        };
        SqliteException.ThrowExceptionForRC(rc, _db);
        _bound[position] = value;
    }

    /// <summary>Binds text as UTF-8 (the database's encoding), so that SQLite does not convert it from UTF-16 itself.</summary>
    private int BindText(int slot, string s)
    {
        var max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (_text.Length < max) _text = new byte[Math.Max(max, 2 * _text.Length)];
        var n = Encoding.UTF8.GetBytes(s, _text);
        return raw.sqlite3_bind_text(_stmt, slot, _text.AsSpan(0, n)); // SQLite copies it (SQLITE_TRANSIENT)
    }

    /// <summary>Runs the statement with the values bound; the number of rows it changed (0 for an ignored conflict).</summary>
    public int Execute()
    {
        try
        {
            var rc = raw.sqlite3_step(_stmt);
            if (rc is not (raw.SQLITE_DONE or raw.SQLITE_ROW)) SqliteException.ThrowExceptionForRC(rc, _db);
            return raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(_stmt);
        }
    }

    public void Dispose() => _stmt.Dispose();
}
