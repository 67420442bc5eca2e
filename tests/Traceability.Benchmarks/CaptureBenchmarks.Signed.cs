using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Nethereum.Signer;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Benchmarks;

// The cost of member signatures at capture: the same 1,000-event documents signed (Trace-Signature: recovery, the
// signed tree, one proof row per event) and unsigned, one sender each, back to back in one run.
public static partial class CaptureBenchmarks
{
    private const long SigningChainId = 31337;
    private const string SigningContract = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

    private static void Send(HttpClient http, string key, byte[] body, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/capture") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/ld+json");
        request.Headers.Add("X-Api-Key", key);
        if (signature is not null) request.Headers.Add("Trace-Signature", signature);
        using var response = http.Send(request);
        if (response.StatusCode != System.Net.HttpStatusCode.Created) throw new InvalidOperationException($"capture answered {(int)response.StatusCode}");
    }

    private static void WriteSigningDomain(string dataDir) =>
        File.WriteAllText(Path.Combine(dataDir, "chain.json"), $$"""{"chainId":{{SigningChainId}},"contract":"{{SigningContract}}"}""");

    /// <param name="oneSenderRate">events/s of one sender in (a): how many documents to sign beforehand (half as many again, and at least 3).</param>
    private static List<Figure> SignedPass(HttpClient http, string memberKey, string dataDir, DocumentTemplate bulk, SerialCounter serials, int seconds,
        double oneSenderRate, Action<string> log)
    {
        // The member's address, written straight into the service's table (registering it needs a chain; capture only reads the table).
        var key = EthECKey.GenerateKey();
        var address = EthAddress.Normalize(key.GetPublicAddress());
        using (var conn = new SqliteConnection($"Data Source={Path.Combine(dataDir, "traceability.db")};Pooling=False"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "INSERT INTO member_addresses (address, member_id, registered_at, registered_tx, registered_block) " +
                "SELECT @a, id, '2026-01-01T00:00:00.000Z', '', 1 FROM members WHERE name = 'Bench Manufacturer'";
            cmd.Parameters.AddWithValue("@a", address);
            if (cmd.ExecuteNonQuery() != 1) throw new InvalidOperationException("the bench manufacturer is missing");
        }

        // Documents signed before the clock starts, so the load generator does not compete with the service for the cores.
        var signatures = new ConditionalWeakTable<byte[], string>();
        var ready = new ConcurrentQueue<byte[]>();
        var signing = System.Diagnostics.Stopwatch.StartNew();
        var count = (int)Math.Ceiling(Math.Max(3, oneSenderRate * seconds * 1.5 / EventsPerDocument));
        for (var i = 0; i < count; i++)
        {
            var body = bulk.Next(serials);
            var digests = EpcisParser.ParseJson(body).Events.Select(e => EventHash.Digest(EventHash.Compute(e))).ToList();
            signatures.Add(body, MemberSignatures.SignEventsSigned(key, SigningChainId, SigningContract, SignedEventsTree.Build(digests).Root, digests.Count));
            ready.Enqueue(body);
        }
        log($"  (a') {count} documents of {EventsPerDocument} events signed in the bench process in {signing.Elapsed.TotalSeconds:F1} s ({signing.Elapsed.TotalMilliseconds / count:F1} ms each: parse, hash, tree, sign)");

        byte[] NextSigned() => ready.TryDequeue(out var body) ? body : throw new InvalidOperationException($"more than {count} signed documents sent in {seconds} s");
        string? SignatureOf(byte[] body) => signatures.TryGetValue(body, out var s) ? s : null;

        var (signedDocs, signedSeconds) = Load(http, memberKey, NextSigned, 1, TimeSpan.FromSeconds(seconds), out var signedLatency, SignatureOf);
        var (unsignedDocs, unsignedSeconds) = Load(http, memberKey, () => bulk.Next(serials), 1, TimeSpan.FromSeconds(seconds), out var unsignedLatency);
        var signedRate = signedDocs * (double)EventsPerDocument / signedSeconds;
        var unsignedRate = unsignedDocs * (double)EventsPerDocument / unsignedSeconds;
        log($"  (a') 1 sender, signed: {signedRate:N0} events/s (p50 {signedLatency.P50:F0} ms, p99 {signedLatency.P99:F0} ms); unsigned right after: {unsignedRate:N0} events/s " +
            $"(p50 {unsignedLatency.P50:F0} ms, p99 {unsignedLatency.P99:F0} ms); signed/unsigned {signedRate / unsignedRate:P0}; load average {Machine.LoadAverage()}");
        while (ready.TryDequeue(out var left)) Send(http, memberKey, left, SignatureOf(left)); // every serial handed out is stored
        return
        [
            new Figure("capture over HTTP, signed 1,000-event documents (Trace-Signature)", Math.Round(signedRate), "events/s",
                $"1 sender, {seconds} s; p50 {signedLatency.P50.ToString("F0", CultureInfo.InvariantCulture)} ms, p99 {signedLatency.P99.ToString("F0", CultureInfo.InvariantCulture)} ms per document"),
            new Figure("capture over HTTP, unsigned 1,000-event documents, right after", Math.Round(unsignedRate), "events/s",
                $"1 sender, {seconds} s; p50 {unsignedLatency.P50.ToString("F0", CultureInfo.InvariantCulture)} ms, p99 {unsignedLatency.P99.ToString("F0", CultureInfo.InvariantCulture)} ms per document"),
            new Figure("signed / unsigned capture", Math.Round(signedRate / unsignedRate, 3), "ratio",
                "the cost of checking and storing member signatures: recovery once per document, the signed tree, one proof row per event"),
        ];
    }
}
