using System.Data.Common;
using System.Globalization;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Capture;

/// <summary>
/// Which events a SQLite ledger holds, by event hash: capture asks it whether an event was captured before, instead of a
/// unique index on <c>events.event_hash</c> (migration 0006 says why: random inserts into that index were the largest
/// cost of a capture). A map from the first 8 bytes of each hash (<c>hash_key</c>) to the event's sequence; a hit is
/// confirmed against the stored row, so two hashes sharing their first 8 bytes (in a ledger of 10 million events, a
/// chance of about 1 in 370,000) are told apart, the later ones kept by full hash.
/// <para>
/// Loaded at start-up (or by the first capture) from the covering index <c>ix_events_hash_key</c>: 0.66-0.78 s for a
/// 1,000,000-event ledger on the bench machine; rows written before migration 0006 get their <c>hash_key</c> then.
/// Kept in step by capture: every append goes through <see cref="CaptureEpcisDocument"/>, under the capture lock, and
/// is added here only once committed. About 28 bytes of memory per event (28 MB per million). One service process per
/// SQLite file (as SQLite's single writer implies); several instances share a PostgreSQL database, where the unique
/// index stays and this map is not used.
/// </para>
/// </summary>
public sealed class EventHashIndex(ILogger<EventHashIndex>? log = null)
{
    private Dictionary<long, long>? _first; // hash_key -> sequence of the first event with that key
    private readonly Dictionary<string, long> _sharingKey = new(StringComparer.Ordinal); // the later events whose key was taken

    public bool IsLoaded => _first is not null;

    public int Count => (_first?.Count ?? 0) + _sharingKey.Count;

    /// <summary>The first 8 bytes of the hash's digest, big-endian, as a signed integer (the <c>hash_key</c> column).</summary>
    public static long Key(string eventHash) =>
        TryKey(eventHash, out var key) ? key : throw new FormatException($"'{eventHash}' is not an ni:///sha-256 event hash");

    private static bool TryKey(string eventHash, out long key)
    {
        key = 0;
        if (!eventHash.StartsWith(EventHash.Prefix, StringComparison.Ordinal) || eventHash.Length < EventHash.Prefix.Length + 16) return false;
        if (!ulong.TryParse(eventHash.AsSpan(EventHash.Prefix.Length, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var bits)) return false;
        key = unchecked((long)bits);
        return true;
    }

    /// <summary>Reads the map from the ledger, once: at start-up, or under the capture lock inside a capture's transaction.</summary>
    public async Task LoadAsync(DbConnection conn, DbTransaction tx, CancellationToken ct)
    {
        if (_first is not null) return;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = await Sql.LongAsync(conn, tx, "SELECT COALESCE(MAX(sequence), 0) FROM events", ct);
        var first = new Dictionary<long, long>((int)Math.Min(int.MaxValue / 2, last));
        var unkeyed = new List<long>();
        var collided = new List<long>();
        await using (var cmd = Sql.Command(conn, tx, "SELECT sequence, hash_key FROM events"))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var sequence = r.GetInt64(0);
                if (r.IsDBNull(1)) unkeyed.Add(sequence);
                else if (!first.TryAdd(r.GetInt64(1), sequence)) collided.Add(sequence);
            }
        }

        // Rows from before migration 0006: key them now, once.
        if (unkeyed.Count > 0) log?.LogInformation("Keying {Count} events stored before migration 0006 (once)", unkeyed.Count);
        await using (var read = Sql.Command(conn, tx, "SELECT event_hash FROM events WHERE sequence = @s", ("@s", null)))
        await using (var write = Sql.Command(conn, tx, "UPDATE events SET hash_key = @k WHERE sequence = @s", ("@k", null), ("@s", null)))
        {
            foreach (var sequence in unkeyed)
            {
                read.Parameters[0].Value = sequence;
                if (await read.ExecuteScalarAsync(ct) is not string hash || !TryKey(hash, out var key)) continue; // not a hash: nothing can equal it
                write.Parameters[0].Value = key;
                write.Parameters[1].Value = sequence;
                await write.ExecuteNonQueryAsync(ct);
                if (!first.TryAdd(key, sequence)) collided.Add(sequence);
            }
            foreach (var sequence in collided)
            {
                read.Parameters[0].Value = sequence;
                if (await read.ExecuteScalarAsync(ct) is string hash) _sharingKey.TryAdd(hash, sequence);
            }
        }
        _first = first;
        log?.LogInformation("Event hash map loaded: {Count} events in {Milliseconds} ms", Count, clock.ElapsedMilliseconds);
    }

    /// <summary>
    /// The sequence of the event that may have this hash: certain when it came from the full-hash list, otherwise to be
    /// confirmed by reading that row's hash. Null: no event with this hash.
    /// </summary>
    public long? Candidate(string eventHash)
    {
        if (_first is null) throw new InvalidOperationException("The event hash map is not loaded.");
        if (_sharingKey.TryGetValue(eventHash, out var exact)) return exact;
        return _first.TryGetValue(Key(eventHash), out var sequence) ? sequence : null;
    }

    /// <summary>Records events that were committed.</summary>
    public void Add(IEnumerable<(string EventHash, long Sequence)> committed)
    {
        if (_first is null) return; // loaded on the next capture, with these rows
        foreach (var (hash, sequence) in committed)
            if (!_first.TryAdd(Key(hash), sequence)) _sharingKey.TryAdd(hash, sequence);
    }
}
