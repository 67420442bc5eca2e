using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Traceability.Api.Infrastructure.Reliability;
using Traceability.Api.Tests.Support;
using Traceability.Chain;
using Traceability.Verifier;

namespace Traceability.Api.Tests.Reliability;

/// <summary>
/// kill -9 at each named crash point of capture and anchoring (TRACE_CRASH_AT, Infrastructure/Reliability/CrashPoints):
/// the service runs as its own process on a SQLite file, anchoring to the collection's Hardhat node (which stays up);
/// it captures and anchors until it kills itself with SIGKILL at the point, then a new process starts on the same data
/// folder, the client sends again what was not acknowledged, and anchoring runs until nothing is pending. Then: every
/// acknowledged receipt's event is stored with the same hash and sequence, no event is stored twice, the contract's
/// anchors are 1..n with contiguous ranges that equal the ledger's (no range anchored twice or skipped), the self-audit
/// is clean and a proof bundle of an event captured around the crash verifies against the chain.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class CrashPointTests(ChainFixture chain) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("trace-crash-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Each point, and the hit it fires on: the first document and anchor go through, the second is cut (the EPCIS job point: its first job).</summary>
    public static TheoryData<string, int> Points => new()
    {
        { CrashPoints.CaptureAfterValidate, 2 },
        { CrashPoints.CaptureAfterInsertBeforeCommit, 2 },
        { CrashPoints.CaptureAfterCommitBeforeResponse, 2 },
        { CrashPoints.EpcisJobAfterCaptureBeforeRecord, 1 },
        { CrashPoints.AnchorAfterTreeBuilt, 2 },
        { CrashPoints.AnchorBeforeSend, 2 },
        { CrashPoints.AnchorAfterSendBeforeRecord, 2 },
        { CrashPoints.AnchorWhilePending, 1 }, // only reached with automine off: the second anchor's transaction waits in the mempool
        { CrashPoints.AnchorAfterMinedBeforeRecord, 2 },
        { CrashPoints.AnchorAfterRecord, 2 },
    };

    [Fact]
    public void EveryCrashPointIsTested() =>
        Points.Select(row => (string)row[0]).Should().BeEquivalentTo(CrashPoints.All, "a crash point without a kill -9 test proves nothing");

    [Theory]
    [MemberData(nameof(Points))]
    public async Task KilledAtTheCrashPointTheRestartLosesNoAcknowledgedEventAndAnchorsEveryRangeOnce(string point, int hit)
    {
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        var dataDir = Path.Combine(_dir, point);
        var settings = new Dictionary<string, string>
        {
            ["TRACE_CHAIN_RPC"] = chain.Node.RpcUrl.ToString(),
            ["TRACE_CONTRACT"] = registry.Contract,
            ["TRACE_CHAIN_KEY"] = registry.Anchorer.GetPrivateKey(),
        };
        var acknowledged = new List<(long Sequence, string EventHash)>();
        var docA = EpcisDocs.Commissioning(3);
        var docB = EpcisDocs.Commissioning(4);
        string makerKey;
        var automineOff = point == CrashPoints.AnchorWhilePending;

        await using (var armed = await ApiProcess.StartAsync(dataDir, new Dictionary<string, string>(settings) { ["TRACE_TESTING"] = "on", ["TRACE_CRASH_AT"] = $"{point}:{hit}" }))
        {
            var (maker, _) = await armed.MemberAsync("manufacturer", "Maker");
            makerKey = maker.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
            acknowledged.AddRange(await CaptureAsync(maker, docA) ?? throw new InvalidOperationException($"the first capture failed:\n{armed.Output}"));
            (await armed.Admin.PostAsync("/api/v1/anchors/run", null)).StatusCode.Should().Be(HttpStatusCode.OK, armed.Output);

            if (point == CrashPoints.EpcisJobAfterCaptureBeforeRecord) await TryAsync(() => maker.PostAsync("/epcis/capture", Content(docB)));
            else if (await TryAsync(() => CaptureAsync(maker, docB)) is { } receipts) acknowledged.AddRange(receipts);
            if (automineOff) await RawRpc.CallAsync(chain.Node.RpcUrl, "evm_setAutomine", false);
            try
            {
                if (!armed.HasExited) await TryAsync(() => armed.Admin.PostAsync("/api/v1/anchors/run", null));
                var exit = await armed.ExitAsync(TimeSpan.FromSeconds(60));
                exit.Should().Be(137, $"the service kills itself with SIGKILL at {point}:\n{armed.Output}");
                armed.Output.Should().Contain($"crash point {point} reached");
            }
            catch
            {
                if (automineOff) await RawRpc.CallAsync(chain.Node.RpcUrl, "evm_setAutomine", true);
                throw;
            }
        }

        await using var restarted = await ApiProcess.StartAsync(dataDir, settings);
        try
        {
            if (automineOff)
            {
                // The restarted service finds its transaction still pending; the block comes a moment later.
                var run = restarted.Admin.PostAsync("/api/v1/anchors/run", null);
                await Task.Delay(TimeSpan.FromSeconds(1.5));
                await RawRpc.CallAsync(chain.Node.RpcUrl, "evm_setAutomine", true);
                await RawRpc.CallAsync(chain.Node.RpcUrl, "evm_mine");
                (await run).StatusCode.Should().Be(HttpStatusCode.OK, restarted.Output);
            }
        }
        finally
        {
            if (automineOff) await RawRpc.CallAsync(chain.Node.RpcUrl, "evm_setAutomine", true);
        }

        // The client did not get an answer for the second document: it sends it again and gets one receipt per event,
        // the first receipts where the document had been stored before the crash.
        var again = await CaptureAsync(restarted.Client(makerKey), docB);
        again.Should().NotBeNull(restarted.Output);
        acknowledged.AddRange(again!);
        for (var runs = 0; ; runs++)
        {
            runs.Should().BeLessThan(5, "anchoring ends once nothing is pending");
            var response = await restarted.Admin.PostAsync("/api/v1/anchors/run", null);
            if (response.StatusCode == HttpStatusCode.NoContent) break;
            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + "\n" + restarted.Output);
        }

        // zero acknowledged events lost, none stored twice
        var stored = ApiProcess.Query(dataDir, "SELECT sequence, event_hash FROM events ORDER BY sequence", r => (r.GetInt64(0), r.GetString(1)));
        stored.Select(e => e.Item1).Should().Equal(Enumerable.Range(1, 7).Select(i => (long)i), "seven distinct events, gap-free");
        stored.Select(e => e.Item2).Should().OnlyHaveUniqueItems();
        foreach (var receipt in acknowledged) stored.Should().Contain(receipt, $"every acknowledged receipt's event is stored as acknowledged (crash at {point})");

        // no range anchored twice or skipped: the chain's anchors are the ledger's, contiguous from event 1 to 7
        var ledger = ApiProcess.Query(dataDir, "SELECT sequence, root, first_event_sequence, last_event_sequence, status FROM anchors ORDER BY sequence",
            r => (Sequence: r.GetInt64(0), Root: r.GetString(1), First: r.GetInt64(2), Last: r.GetInt64(3), Status: r.GetString(4)));
        ledger.Should().OnlyContain(a => a.Status == "Confirmed" || a.Status == "confirmed", restarted.Output);
        using var http = new HttpClient();
        var onChain = new AnchorRegistryClient(new HttpRpcClient(http, chain.Node.RpcUrl), registry.Contract);
        ((long)await onChain.AnchorCountAsync(CancellationToken.None)).Should().Be(ledger.Count);
        var expectedFirst = 1L;
        foreach (var anchor in ledger)
        {
            var record = (await onChain.GetAnchorAsync(anchor.Sequence, CancellationToken.None))!;
            ((long)record.FirstEventSequence, (long)record.LastEventSequence).Should().Be((anchor.First, anchor.Last));
            ("0x" + Convert.ToHexStringLower(record.Root)).Should().Be(anchor.Root);
            anchor.First.Should().Be(expectedFirst, $"anchor {anchor.Sequence} starts where the previous one ended");
            expectedFirst = anchor.Last + 1;
        }
        expectedFirst.Should().Be(8, "every event is anchored");
        (await onChain.GetAnchoredLogsAsync(0, null, CancellationToken.None)).Select(l => (long)l.Sequence)
            .Should().Equal(ledger.Select(a => a.Sequence), "one Anchored event per anchor: nothing was sent twice");

        // a clean self-audit, and the proof of the event captured around the crash verifies against the chain
        var audit = JsonNode.Parse(await (await restarted.Admin.PostAsync("/api/v1/audit/run", null)).Content.ReadAsStringAsync())!;
        ((string)audit["status"]!).Should().Be("ok", audit.ToJsonString());
        var bundle = JsonNode.Parse(await restarted.Admin.GetStringAsync("/api/v1/events/5/proof"));
        var verified = await new BundleVerifier(http).VerifyAsync(bundle, new ChainOptions(chain.Node.RpcUrl));
        verified.Verified.Should().BeTrue(verified.ToLine());

        if (point == CrashPoints.EpcisJobAfterCaptureBeforeRecord)
        {
            var job = JsonNode.Parse(await restarted.Client(makerKey).GetStringAsync("/epcis/capture"))!.AsArray().Single()!;
            ((bool)job["running"]!).Should().BeFalse("a job cut off by the crash is marked finished at the next start");
            ((string)job["errors"]![0]!["detail"]!).Should().NotContain("stored nothing", "the job's document was committed before the crash");
        }
    }

    /// <summary>
    /// The recurring anchoring job (every second, nobody calls /anchors/run) killed mid-run, after its transaction was
    /// sent and before it was recorded: the next process's job adopts the anchor from the chain and carries on.
    /// </summary>
    [Fact]
    public async Task TheRecurringJobKilledMidRunIsCarriedOnByTheNextProcesssJob()
    {
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        var dataDir = Path.Combine(_dir, "job");
        var settings = new Dictionary<string, string>
        {
            ["TRACE_CHAIN_RPC"] = chain.Node.RpcUrl.ToString(), ["TRACE_CONTRACT"] = registry.Contract,
            ["TRACE_CHAIN_KEY"] = registry.Anchorer.GetPrivateKey(), ["TRACE_ANCHOR_SCHEDULE"] = "on", ["TRACE_ANCHOR_INTERVAL"] = "1",
        };
        string makerKey;
        await using (var armed = await ApiProcess.StartAsync(dataDir, new Dictionary<string, string>(settings)
                     { ["TRACE_TESTING"] = "1", ["TRACE_CRASH_AT"] = CrashPoints.AnchorAfterSendBeforeRecord }))
        {
            var (maker, _) = await armed.MemberAsync("manufacturer", "Maker");
            makerKey = maker.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
            (await CaptureAsync(maker, EpcisDocs.Commissioning(3))).Should().HaveCount(3);
            (await armed.ExitAsync(TimeSpan.FromSeconds(60))).Should().Be(137, armed.Output);
        }
        ApiProcess.Query(dataDir, "SELECT status FROM anchors", r => r.GetString(0)).Should().Equal(["pending"], "the job wrote the row, sent, and died");

        await using var restarted = await ApiProcess.StartAsync(dataDir, settings);
        await WaitForAnchoredAsync(dataDir, 3, restarted);
        (await CaptureAsync(restarted.Client(makerKey), EpcisDocs.Commissioning(2))).Should().HaveCount(2);
        await WaitForAnchoredAsync(dataDir, 5, restarted);

        using var http = new HttpClient();
        var onChain = new AnchorRegistryClient(new HttpRpcClient(http, chain.Node.RpcUrl), registry.Contract);
        var logs = await onChain.GetAnchoredLogsAsync(0, null, CancellationToken.None);
        logs.Select(l => ((long)l.Sequence, (long)l.FirstEventSequence, (long)l.LastEventSequence)).Should().Equal([(1L, 1L, 3L), (2L, 4L, 5L)]);
        ApiProcess.Query(dataDir, "SELECT tx_hash FROM anchors ORDER BY sequence", r => r.GetString(0))
            .Should().Equal(logs.Select(l => l.TransactionHash), "the first anchor was adopted with the transaction the killed run sent");
    }

    private static async Task WaitForAnchoredAsync(string dataDir, long lastEvent, ApiProcess service)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (ApiProcess.Query(dataDir, "SELECT COALESCE(MAX(last_event_sequence), 0) FROM anchors WHERE status = 'confirmed'", r => r.GetInt64(0))[0] < lastEvent)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the job did not anchor events up to {lastEvent} within 60 s:\n{service.Output}");
            await Task.Delay(250);
        }
    }

    private static StringContent Content(string document) => new(document, Encoding.UTF8, new MediaTypeHeaderValue("application/ld+json"));

    /// <summary>POST /api/v1/capture; the receipts of a 2xx answer, null for no answer (the process died) or another status.</summary>
    private static async Task<List<(long, string)>?> CaptureAsync(HttpClient client, string document)
    {
        var response = await client.PostAsync("/api/v1/capture", Content(document));
        if (!response.IsSuccessStatusCode) return null;
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return [.. body["receipts"]!.AsArray().Select(r => ((long)r!["sequence"]!, (string)r["eventHash"]!))];
    }

    /// <summary>A request to a process that may die under it: the answer's value, or default when the connection dropped.</summary>
    private static async Task<T?> TryAsync<T>(Func<Task<T>> request)
    {
        try { return await request(); }
        catch (HttpRequestException) { return default; }
        catch (TaskCanceledException) { return default; }
        // killed between accepting the connection and the client reading its peer's address: .NET throws this unwrapped
        catch (System.Net.Sockets.SocketException) { return default; }
    }
}
