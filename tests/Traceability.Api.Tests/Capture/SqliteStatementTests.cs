using FluentAssertions;
using Microsoft.Data.Sqlite;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Tests.Capture;

/// <summary>
/// A statement run for many rows binds a value again only when it differs from the one bound before it at the same
/// position (SQLite keeps bindings across executions). Each row read back from a real SQLite file must hold exactly what
/// was passed for it: repeats, changes, nulls after values and values after nulls, long text, and a blob changed in place.
/// </summary>
public sealed class SqliteStatementTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"statement-{Guid.NewGuid():N}.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var f in new[] { _path, _path + "-wal", _path + "-shm" }) File.Delete(f);
    }

    [Fact]
    public void EachRowHoldsWhatWasPassedForIt()
    {
        var longText = new string('é', 700) + "end"; // more UTF-8 bytes than the statement's first buffer
        var blob = new byte[] { 1, 2, 3 };
        object?[][] rows =
        [
            ["a", 1L, null, blob],
            ["a", 1L, null, blob],           // the same values again
            ["b", 1L, "x", blob],
            ["b", 2L, null, blob],           // a null after a value
            [longText, 2L, "x", blob],       // a value after a null; long text
            [longText, 2, "x", blob],        // an int where a long was bound: bound again, stored the same
            ["a", 3L, DBNull.Value, blob],   // DBNull is null
        ];

        using var connection = new SqliteConnection($"Data Source={_path}");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE t (n INTEGER PRIMARY KEY, s TEXT, l INTEGER, x TEXT, b BLOB)";
            create.ExecuteNonQuery();
        }

        var expectedBlobs = new List<byte[]>();
        using (var statement = new SqliteStatement(connection, "INSERT INTO t (s, l, x, b) VALUES (@s, @l, @x, @b)", ["@s", "@l", "@x", "@b"]))
        {
            for (var i = 0; i < rows.Length; i++)
            {
                blob[0] = (byte)(10 + i); // the same array, changed in place
                expectedBlobs.Add([.. blob]);
                for (var p = 0; p < 4; p++) statement.Bind(p, rows[i][p]);
                statement.Execute().Should().Be(1);
            }
        }

        var stored = new List<(string S, long L, string? X, byte[] B)>();
        using (var read = connection.CreateCommand())
        {
            read.CommandText = "SELECT s, l, x, b FROM t ORDER BY n";
            using var r = read.ExecuteReader();
            while (r.Read()) stored.Add((r.GetString(0), r.GetInt64(1), r.IsDBNull(2) ? null : r.GetString(2), (byte[])r.GetValue(3)));
        }

        stored.Select(x => (x.S, x.L, x.X)).Should().Equal(rows.Select(r => ((string)r[0]!, Convert.ToInt64(r[1]), r[2] as string)));
        stored.Select(x => x.B).Should().BeEquivalentTo(expectedBlobs, o => o.WithStrictOrdering());
    }
}
