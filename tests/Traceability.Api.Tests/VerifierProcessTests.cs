using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests;

/// <summary>
/// The verifier's story with real processes: the service (the built Traceability.Api.dll on Kestrel, its own SQLite
/// file, the Hardhat node) and the built verifier (Traceability.Verifier.dll, as scripts/verify runs it). A bundle from
/// the running service verifies; after the event row is edited in the SQLite file, the verifier prints FAILED and the
/// audit exits non-zero, and so does the service's own audit.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class VerifierProcessTests(ChainFixture chain) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("trace-verify-e2e-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { /* a log file still held open: harmless */ }
    }


    [Fact]
    public async Task BundleFromARunningServiceVerifiesAndAfterTheEventRowIsEditedTheVerifierFailsAndTheAuditExitsNonZero()
    {
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        var dataDir = Path.Combine(_dir, "data");
        var rpc = chain.Node.RpcUrl.ToString();
        await using var service = await ServiceProcess.StartAsync(dataDir, new Dictionary<string, string>
        {
            ["TRACE_CHAIN_RPC"] = rpc,
            ["TRACE_CONTRACT"] = registry.Contract,
            ["TRACE_CHAIN_KEY"] = registry.Anchorer.GetPrivateKey(),
        });
        var http = service.Http;

        var member = await (await http.PostAsJsonAsync("/api/v1/members", new { name = "Maker", role = "manufacturer" }))
            .ReadAsync<Traceability.Api.Features.Members.MembersApi.CreateMemberResponse>(HttpStatusCode.Created);
        using var maker = new HttpClient { BaseAddress = http.BaseAddress };
        maker.DefaultRequestHeaders.Add("X-Api-Key", member.ApiKey);
        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(3))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await http.PostAsync("/api/v1/anchors/run", null)).StatusCode.Should().Be(HttpStatusCode.OK);

        var bundlePath = Path.Combine(_dir, "bundle-2.json");
        await File.WriteAllTextAsync(bundlePath, await http.GetStringAsync("/api/v1/events/2/proof"));
        var verified = await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc);
        verified.Exit.Should().Be(0, verified.Out + verified.Err);
        verified.Out.Should().StartWith("VERIFIED event 2 (ni:///sha-256;").And.Contain("in anchor 1 (events 1..3)");

        var audit = await VerifierProcess.RunAsync("--audit", "--api", service.Url, "--api-key", ServiceProcess.AdminKey, "--rpc", rpc, "--contract", registry.Contract);
        audit.Exit.Should().Be(0, audit.Out + audit.Err);
        audit.Out.Trim().Should().StartWith("AUDIT OK: 1 anchors (1 on chain), 3 events, 3 leaves checked, 3 events rehashed, 0 mismatches");

        // Behind the service's back: the event row's JSON edited in the SQLite file.
        await using (var conn = new SqliteConnection($"Data Source={Path.Combine(dataDir, "traceability.db")};Pooling=False"))
        {
            await conn.OpenAsync();
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = "UPDATE events SET json = json_set(json, '$.bizStep', 'destroying') WHERE sequence = 2";
            (await cmd.ExecuteNonQueryAsync()).Should().Be(1);
        }

        await File.WriteAllTextAsync(bundlePath, await http.GetStringAsync("/api/v1/events/2/proof"));
        var failed = await VerifierProcess.RunAsync(bundlePath, "--rpc", rpc);
        failed.Exit.Should().Be(1);
        failed.Out.Should().StartWith("FAILED: event hash mismatch: the event hashes to ni:///sha-256;");

        var failedAudit = await VerifierProcess.RunAsync("--audit", "--api", service.Url, "--api-key", ServiceProcess.AdminKey, "--rpc", rpc, "--contract", registry.Contract);
        failedAudit.Exit.Should().Be(1);
        failedAudit.Out.Should().StartWith("MISMATCH anchor 1, event 2: event: the event hashes to ni:///sha-256;");
        failedAudit.Out.Trim().Split('\n')[^1].Should().StartWith("AUDIT FAILED: anchor 1, event 2: event:");

        var run = await (await http.PostAsync("/api/v1/audit/run", null)).ReadAsync<Traceability.Api.Features.Audit.AuditApi.AuditRunResponse>();
        run.Status.Should().Be("failed");
        run.Summary.Should().StartWith("AUDIT FAILED: anchor 1, event 2: event-hash:");
        (await http.GetAnswerAsync<Traceability.Api.Features.Events.EventsApi.ProofBundle>("/api/v1/events/2/proof")).Audit.Status.Should().Be("failed");
        var alerts = (await http.GetAnswerAsync<Traceability.Api.Features.Alerts.AlertsApi.AlertPage>("/api/v1/alerts?type=tamper")).Items;
        // An alert's detail is free-form JSON, per alert type.
        alerts.Should().Contain(a => a.Detail.GetProperty("eventSequence").GetInt64() == 2);
    }
}

/// <summary>The built service run as its own process on Kestrel (what scripts/run starts), with the admin key and a data folder.</summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    public const string AdminKey = "process-admin-key";
    private readonly Process _process;
    private readonly List<string> _output = [];

    private ServiceProcess(Process process, string url)
    {
        _process = process;
        Url = url;
        Http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
    }

    public string Url { get; }
    public HttpClient Http { get; }
    public string Output { get { lock (_output) return string.Join('\n', _output); } }

    public static async Task<ServiceProcess> StartAsync(string dataDir, IDictionary<string, string> environment)
    {
        var url = $"http://127.0.0.1:{HardhatNode.FreePort()}";
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Traceability.Api.dll"));
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(url);
        psi.Environment["TRACE_DATA_DIR"] = dataDir;
        psi.Environment["TRACE_ADMIN_KEY"] = AdminKey;
        psi.Environment["TRACE_ANCHOR_SCHEDULE"] = "false";
        psi.Environment["TRACE_AUDIT_SCHEDULE"] = "false";
        psi.Environment.Remove("TRACE_DB");
        foreach (var (k, v) in environment) psi.Environment[k] = v;

        var service = new ServiceProcess(Process.Start(psi)!, url);
        service._process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (service._output) service._output.Add(e.Data); };
        service._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (service._output) service._output.Add(e.Data); };
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            if (service._process.HasExited) throw new InvalidOperationException($"The service exited with {service._process.ExitCode}:\n{service.Output}");
            try
            {
                using var health = await service.Http.GetAsync("/health");
                if (health.StatusCode == HttpStatusCode.OK) return service;
            }
            catch (HttpRequestException) { /* not listening yet */ }
            if (DateTime.UtcNow > deadline)
            {
                await service.DisposeAsync();
                throw new TimeoutException($"The service did not answer /health within 90 s:\n{service.Output}");
            }
            await Task.Delay(250);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        _process.Dispose();
    }
}
