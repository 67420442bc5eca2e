using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Nethereum.Signer;
using Traceability.Api.Tests.Support;
using Traceability.Chain;

namespace Traceability.Api.Tests;

/// <summary>
/// Signed receipts and witnesses with real processes: the service (Traceability.Api.dll on Kestrel, its SQLite file, the
/// Hardhat node) administers the witnesses with the contract owner's key; each witness is the built verifier run as
/// <c>trace-verify witness</c> with its own key; the receipts and bundles are checked by <c>trace-verify --receipt</c>.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class WitnessProcessTests(ChainFixture chain) : IDisposable
{
    private const string Gtin = "10614141073464";
    private readonly string _dir = Directory.CreateTempSubdirectory("trace-witness-e2e-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { /* a log file still held open: harmless */ }
    }

    [Fact]
    public async Task ThreeWitnessesWithThresholdTwoMakeAnAnchorFinalAndTheAnchorTheBundleAndTheConsumerPageShowIt()
    {
        var (service, owner, anchorer, contract) = await StartAsync();
        await using var _ = service;
        var rpc = chain.Node.RpcUrl.ToString();
        var witnesses = new[] { EthECKey.GenerateKey(), EthECKey.GenerateKey(), EthECKey.GenerateKey() };
        foreach (var w in witnesses)
        {
            await FundAsync(w);
            (await service.Http.PostAsJsonAsync("/api/v1/consortium/witnesses", new { address = w.GetPublicAddress() })).StatusCode.Should().Be(HttpStatusCode.OK);
        }
        var consortium = await (await service.Http.PutAsJsonAsync("/api/v1/consortium/threshold", new { k = 2 }))
            .ReadAsync<Traceability.Api.Features.Consortium.ConsortiumApi.ConsortiumResponse>();
        consortium.Threshold.Should().Be(2);
        consortium.Witnesses.Should().BeEquivalentTo(witnesses.Select(w => EthAddress.Normalize(w.GetPublicAddress())));
        consortium.Owner.Should().Be(EthAddress.Normalize(owner.GetPublicAddress()));

        var (maker, serials) = await MakerWithEventsAsync(service, 3);
        using var makerClient = maker;
        var captured = await TraceService.CaptureAsync(maker, EpcisDocs.Document(serials.Select(s => EpcisDocs.Commissioning(s)).ToArray()));
        captured.StatusCode.Should().Be(HttpStatusCode.Created);
        var receiptsPath = Path.Combine(_dir, "receipts.json");
        await File.WriteAllTextAsync(receiptsPath, await captured.Content.ReadAsStringAsync());
        (await service.Http.PostAsync("/api/v1/anchors/run", null)).StatusCode.Should().Be(HttpStatusCode.OK);

        // Two witnesses at once, one pass each: the anchor becomes final (k = 2).
        var first = WitnessAsync(service.Url, maker, rpc, witnesses[0], "--once");
        var second = WitnessAsync(service.Url, maker, rpc, witnesses[1], "--once");
        foreach (var run in await Task.WhenAll(first, second))
        {
            run.Exit.Should().Be(0, run.Out + run.Err);
            run.Out.Should().Contain("COSIGNED anchor 1 (root 0x").And.Contain("WITNESS OK: 1 anchors cosigned now, 0 cosigned before");
        }

        var anchor = (await service.Http.GetAnswerAsync<Traceability.Api.Features.Anchoring.AnchorsApi.AnchorResponse>("/api/v1/anchors/1")).Witnesses!;
        anchor.Cosigners.Should().BeEquivalentTo(witnesses[..2].Select(w => EthAddress.Normalize(w.GetPublicAddress())));
        anchor.Final.Should().BeTrue();
        anchor.Threshold.Should().Be(2);
        anchor.Witnesses.Should().Be(3);

        var bundlePath = Path.Combine(_dir, "bundle.json");
        var bundle = await service.Http.GetStringAsync("/api/v1/events/2/proof");
        JsonSerializer.Deserialize<Traceability.Api.Features.Events.EventsApi.ProofBundle>(bundle, ApiAnswers.Json)!.Witnesses!.Cosigners.Should().HaveCount(2);
        await File.WriteAllTextAsync(bundlePath, bundle);

        var enough = await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc, "--min-witnesses", "2", "--receipt", receiptsPath);
        enough.Exit.Should().Be(0, enough.Out + enough.Err);
        enough.Out.Should().Contain("VERIFIED event 2").And.Contain("RECEIPT KEPT: event 2 was promised by " + EthAddress.Normalize(anchorer.GetPublicAddress()))
            .And.Contain("WITNESSED: anchor 1 is cosigned by 2 of 3 witnesses").And.Contain("threshold 2, final");
        var tooFew = await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc, "--min-witnesses", "3");
        tooFew.Exit.Should().Be(1);
        tooFew.Out.Should().Contain("FAILED: too few witnesses: anchor 1 is cosigned by 2 of 3 witnesses");

        // The bundle's own "witnesses" is not what counts: a bundle claiming three cosigners still fails --min-witnesses 3.
        var boasting = JsonNode.Parse(bundle)!;
        boasting["witnesses"]!["cosigners"] = new JsonArray(witnesses.Select(w => (JsonNode)w.GetPublicAddress()).ToArray());
        await File.WriteAllTextAsync(bundlePath, boasting.ToJsonString());
        (await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc, "--min-witnesses", "3")).Exit.Should().Be(1);

        // A receipt altered after signing (another deadline) is no longer in the root the service signed.
        var forged = JsonNode.Parse(await File.ReadAllTextAsync(receiptsPath))!;
        forged["receipts"]![1]!["anchorDeadline"] = "2099-01-01T00:00:00Z";
        await File.WriteAllTextAsync(receiptsPath, forged.ToJsonString());
        await File.WriteAllTextAsync(bundlePath, bundle);
        var forgery = await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc, "--receipt", receiptsPath);
        forgery.Exit.Should().Be(1);
        forgery.Out.Should().Contain("FAILED: receipt: the receipt's digest, sequence, recordTime and anchorDeadline are not in its receiptsRoot");

        // A tree of its own with the altered receipt, signed by a key that is not an anchorer, recovers to that key.
        var impostor = EthECKey.GenerateKey();
        var r1 = forged["receipts"]![1]!;
        var message = ServiceReceipts.Message(Traceability.Ledger.Epcis.EventHash.Digest((string)r1["eventHash"]!), (long)r1["sequence"]!,
            DateTimeOffset.Parse((string)r1["recordTime"]!, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse("2099-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using (var impostorKey = new RecoverableSigner(impostor))
        {
            var own = new ServiceReceipts(31337, contract).SignBatch([message], impostorKey);
            r1["receiptsRoot"] = Hex.Encode(own.Root);
            r1["receiptCount"] = 1;
            r1["receiptProof"] = new JsonArray();
            r1["receiptSignature"] = own.Signature;
        }
        await File.WriteAllTextAsync(receiptsPath, forged.ToJsonString());
        var impersonation = await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc, "--receipt", receiptsPath);
        impersonation.Exit.Should().Be(1);
        impersonation.Out.Should().Contain("FAILED: receipt: the receipt is signed by " + EthAddress.Normalize(impostor.GetPublicAddress()))
            .And.Contain("which is not an anchorer of " + contract);

        var page = JsonSerializer.Deserialize<Traceability.Api.Features.Consumer.ConsumerApi.ConsumerJson>(
            await ConsumerAsync(service, $"/01/{Gtin}/21/{serials[1]}?lang=en", "application/json"), ApiAnswers.Json)!;
        page.Verification.Should().Be("verified");
        page.ConfirmationText.Should().Be("Verified on chain, confirmed by 2 of 3 members");
        var html = await ConsumerAsync(service, $"/01/{Gtin}/21/{serials[1]}?lang=zh", "text/html");
        html.Should().Contain("已通过区块链验证，经 3 个联盟成员中的 2 个确认");

        // The third witness polls (no --once) until it has cosigned, and stops cleanly on SIGTERM.
        using var third = StartWitness(service.Url, maker, rpc, witnesses[2], "--interval", "1");
        var registry = new AnchorRegistryClient(new HttpRpcClient(new HttpClient(), chain.Node.RpcUrl), contract);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await registry.HasCosignedAsync(1, witnesses[2].GetPublicAddress(), default) && DateTime.UtcNow < until) await Task.Delay(250);
        (await registry.CosignersOfAsync(1, default)).Should().HaveCount(3);
        Process.Start("kill", ["-TERM", third.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        await third.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        third.Process.ExitCode.Should().Be(0, third.Output);
    }

    [Fact]
    public async Task AWitnessFedAlteredLeavesRefusesToCosignAndExitsNonZeroNamingTheAnchorAndTheLeaf()
    {
        var (service, _, _, contract) = await StartAsync();
        await using var __ = service;
        var rpc = chain.Node.RpcUrl.ToString();
        var witness = EthECKey.GenerateKey();
        await FundAsync(witness);
        (await service.Http.PostAsJsonAsync("/api/v1/consortium/witnesses", new { address = witness.GetPublicAddress() })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await service.Http.PutAsJsonAsync("/api/v1/consortium/threshold", new { k = 1 })).StatusCode.Should().Be(HttpStatusCode.OK);

        var (maker, serials) = await MakerWithEventsAsync(service, 3);
        using var makerClient = maker;
        (await TraceService.CaptureAsync(maker, EpcisDocs.Document(serials.Select(s => EpcisDocs.Commissioning(s)).ToArray()))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await service.Http.PostAsync("/api/v1/anchors/run", null)).StatusCode.Should().Be(HttpStatusCode.OK);

        await using var proxy = await LeafAlteringProxy.StartAsync(service.Url, alterLeafIndex: 1);
        var refused = await WitnessAsync(proxy.Url, maker, rpc, witness, "--once");
        refused.Exit.Should().Be(1, refused.Out + refused.Err);
        refused.Out.Should().Contain("WITNESS REFUSED: anchor 1, leaf 1 (event 2): the leaf's digest is 0x" + new string('e', 64) + ", but event 2's hash is ni:///sha-256;")
            .And.Contain("; not cosigned");
        var registry = new AnchorRegistryClient(new HttpRpcClient(new HttpClient(), chain.Node.RpcUrl), contract);
        (await registry.CosignersOfAsync(1, default)).Should().BeEmpty();

        // The same witness against the API itself cosigns.
        var honest = await WitnessAsync(service.Url, maker, rpc, witness, "--once");
        honest.Exit.Should().Be(0, honest.Out + honest.Err);
        (await registry.IsFinalAsync(1, default)).Should().BeTrue();
    }

    [Fact]
    public async Task ABrokenReceiptPromiseIsCaughtByTheVerifierAndBySelfAuditLateAnchorAlertRaisedOnce()
    {
        var (service, _, _, contract) = await StartAsync(new Dictionary<string, string> { ["TRACE_MAX_ANCHOR_DELAY"] = "1" });
        await using var __ = service;
        var rpc = chain.Node.RpcUrl.ToString();
        var (maker, serials) = await MakerWithEventsAsync(service, 2);
        using var makerClient = maker;
        var captured = await TraceService.CaptureAsync(maker, EpcisDocs.Document(serials.Select(s => EpcisDocs.Commissioning(s)).ToArray()));
        var receipts = await captured.ReceiptsAsync();
        foreach (var r in receipts)
        {
            (r.AnchorDeadline - r.RecordTime).Should().Be(TimeSpan.FromSeconds(1));
            r.ReceiptSignature.Should().MatchRegex("^0x[0-9a-f]{130}$");
            r.ReceiptSignature.Should().Be(receipts[0].ReceiptSignature, "one signature covers the request's receipts");
            r.ReceiptsRoot.Should().MatchRegex("^0x[0-9a-f]{64}$");
            r.ReceiptCount.Should().Be(2);
            r.ReceiptProof.Should().ContainSingle().Which.Should().MatchRegex("^0x[0-9a-f]{64}$");
        }
        // The receipt as signed and sent, for the verifier.
        var receiptPath = Path.Combine(_dir, "receipt-1.json");
        await File.WriteAllTextAsync(receiptPath, JsonNode.Parse(await captured.Content.ReadAsStringAsync())!["receipts"]![0]!.ToJsonString());

        await Task.Delay(TimeSpan.FromSeconds(2.5)); // anchoring is off: the one-second promise passes
        var bundlePath = Path.Combine(_dir, "bundle-1.json");
        await File.WriteAllTextAsync(bundlePath, await service.Http.GetStringAsync("/api/v1/events/1/proof"));
        var unanchored = await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc, "--contract", contract, "--receipt", receiptPath);
        unanchored.Exit.Should().Be(1);
        unanchored.Out.Should().StartWith("FAILED: broken promise: event 1 was promised by 0x").And.Contain("and the bundle has no anchor");

        (await service.Http.PostAsync("/api/v1/audit/run", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        var alerts = (await service.Http.GetAnswerAsync<Traceability.Api.Features.Alerts.AlertsApi.AlertPage>("/api/v1/alerts?type=late-anchor")).Items;
        // An alert's detail is free-form JSON, per alert type.
        var detail = alerts.Should().ContainSingle().Subject.Detail;
        detail.GetProperty("firstEvent").GetInt64().Should().Be(1);
        detail.GetProperty("lastEvent").GetInt64().Should().Be(2);
        (detail.TryGetProperty("anchor", out var anchorOf) ? anchorOf.ValueKind : JsonValueKind.Null).Should().Be(JsonValueKind.Null);

        // Anchored late: the verifier names the anchor's block time; the audit does not raise the same run again.
        (await service.Http.PostAsync("/api/v1/anchors/run", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        await File.WriteAllTextAsync(bundlePath, await service.Http.GetStringAsync("/api/v1/events/1/proof"));
        var late = await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc, "--receipt", receiptPath);
        late.Exit.Should().Be(1);
        late.Out.Should().StartWith("VERIFIED event 1").And.Contain("FAILED: broken promise: event 1 was promised by 0x").And.Contain("but anchor 1's block is from");
        (await service.Http.PostAsync("/api/v1/audit/run", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await service.Http.GetAnswerAsync<Traceability.Api.Features.Alerts.AlertsApi.AlertPage>("/api/v1/alerts?type=late-anchor")).Items.Should().ContainSingle();
    }

    /// <summary>A fresh registry (its owner and a separate anchorer, as scripts/run has them) and the service running with both keys.</summary>
    private async Task<(ServiceProcess Service, EthECKey Owner, EthECKey Anchorer, string Contract)> StartAsync(IDictionary<string, string>? settings = null)
    {
        await HardhatNode.EnsureCompiledAsync();
        var owner = EthECKey.GenerateKey();
        await FundAsync(owner);
        using var http = new HttpClient();
        var rpc = new HttpRpcClient(http, chain.Node.RpcUrl);
        var (contract, _) = await AnchorRegistryClient.DeployAsync(rpc, owner, AnchorRegistryClient.LoadBytecode(DeployedRegistry.ArtifactPath), default);
        // As scripts/run sets it up: the anchoring key is not the owner's, and the owner's key (TRACE_CHAIN_OWNER_KEY) sets the witnesses.
        var anchorer = EthECKey.GenerateKey();
        await FundAsync(anchorer);
        var asOwner = new AnchorRegistryClient(rpc, contract, owner);
        await asOwner.WaitForReceiptAsync(await asOwner.SetAnchorerAsync(anchorer.GetPublicAddress(), true, default), TimeSpan.FromSeconds(30), default);
        var environment = new Dictionary<string, string>
        {
            ["TRACE_CHAIN_RPC"] = chain.Node.RpcUrl.ToString(),
            ["TRACE_CONTRACT"] = contract,
            ["TRACE_CHAIN_KEY"] = anchorer.GetPrivateKey(),
            ["TRACE_CHAIN_OWNER_KEY"] = owner.GetPrivateKey(),
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) environment[k] = v;
        return (await ServiceProcess.StartAsync(Path.Combine(_dir, "data"), environment), owner, anchorer, EthAddress.Normalize(contract));
    }

    private async Task FundAsync(EthECKey key)
    {
        using var http = new HttpClient();
        await TestChain.FundAsync(new HttpRpcClient(http, chain.Node.RpcUrl), new EthECKey(HardhatNode.DefaultAccountKey), key.GetPublicAddress(), BigInteger.Pow(10, 19));
    }

    private static async Task<(HttpClient Maker, string[] Serials)> MakerWithEventsAsync(ServiceProcess service, int count)
    {
        var member = await (await service.Http.PostAsJsonAsync("/api/v1/members", new { name = "Maker", role = "manufacturer" })).Content.ReadFromJsonAsync<JsonElement>();
        var maker = new HttpClient { BaseAddress = service.Http.BaseAddress };
        maker.DefaultRequestHeaders.Add("X-Api-Key", member.GetProperty("apiKey").GetString());
        return (maker, Enumerable.Range(0, count).Select(_ => EpcisDocs.NextSerial()).ToArray());
    }

    private static async Task<string> ConsumerAsync(ServiceProcess service, string path, string accept)
    {
        using var client = new HttpClient { BaseAddress = service.Http.BaseAddress };
        client.DefaultRequestHeaders.Add("Accept", accept);
        return await client.GetStringAsync(path);
    }

    private static string[] WitnessArgs(string api, HttpClient member, string rpc, EthECKey key, string[] extra) =>
        ["witness", "--api", api, "--api-key", member.DefaultRequestHeaders.GetValues("X-Api-Key").Single(), "--rpc", rpc, "--key", key.GetPrivateKey(), .. extra];

    private static Task<(int Exit, string Out, string Err)> WitnessAsync(string api, HttpClient member, string rpc, EthECKey key, params string[] extra) =>
        VerifierProcess.RunAsync(WitnessArgs(api, member, rpc, key, extra));

    private static RunningVerifier StartWitness(string api, HttpClient member, string rpc, EthECKey key, params string[] extra) =>
        new(VerifierProcess.Start(WitnessArgs(api, member, rpc, key, extra)));



    /// <summary>A verifier process left running, its output collected; killed on dispose if it is still running.</summary>
    private sealed class RunningVerifier : IDisposable
    {
        private readonly System.Text.StringBuilder _output = new();

        public RunningVerifier(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }
        public string Output { get { lock (_output) return _output.ToString(); } }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }

    /// <summary>An HTTP proxy in front of the API that passes everything through, except that it rewrites one leaf's digest in every leaves answer.</summary>
    private sealed class LeafAlteringProxy : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly HttpClient _upstream;

        private LeafAlteringProxy(WebApplication app, HttpClient upstream, string url) { _app = app; _upstream = upstream; Url = url; }

        public string Url { get; }

        public static async Task<LeafAlteringProxy> StartAsync(string target, int alterLeafIndex)
        {
            var url = $"http://127.0.0.1:{HardhatNode.FreePort()}";
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(url);
            var app = builder.Build();
            var upstream = new HttpClient { BaseAddress = new Uri(target) };
            app.Run(async http =>
            {
                using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), http.Request.Path + http.Request.QueryString);
                foreach (var h in http.Request.Headers.Where(h => h.Key is "X-Api-Key" or "Accept")) request.Headers.TryAddWithoutValidation(h.Key, h.Value.ToArray());
                using var response = await upstream.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode && http.Request.Path.Value!.EndsWith("/leaves", StringComparison.Ordinal))
                {
                    var leaves = JsonNode.Parse(body)!;
                    leaves["values"]![alterLeafIndex]![1] = "0x" + new string('e', 64);
                    body = leaves.ToJsonString();
                }
                http.Response.StatusCode = (int)response.StatusCode;
                http.Response.ContentType = response.Content.Headers.ContentType?.ToString();
                await http.Response.WriteAsync(body);
            });
            await app.StartAsync();
            return new LeafAlteringProxy(app, upstream, url);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _upstream.Dispose();
        }
    }
}
