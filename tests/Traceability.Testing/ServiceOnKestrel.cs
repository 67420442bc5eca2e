using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Traceability.Testing;

/// <summary>
/// The built service (Traceability.Api.dll) run as its own process on real Kestrel (a browser or a load generator cannot use the in-memory
/// TestServer), with its own data folder, anchoring to a fresh AnchorRegistry on a real Hardhat node.
/// </summary>
public sealed class ServiceOnKestrel : IAsyncDisposable
{
    public const string AdminKey = "browser-test-admin-key";
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ServiceOnKestrel(Process process, Uri baseUrl, string dataDir)
    {
        _process = process;
        BaseUrl = baseUrl;
        DataDir = dataDir;
        Admin = Client(AdminKey);
    }

    public Uri BaseUrl { get; }
    public string DataDir { get; }
    public HttpClient Admin { get; }
    /// <summary>The service's process id (a benchmark reads its CPU time from /proc).</summary>
    public int ProcessId => _process.Id;
    public string DatabasePath => Path.Combine(DataDir, "traceability.db");
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>src/Traceability.Api/bin/{the configuration this test was built in}/net10.0/Traceability.Api.dll.</summary>
    public static string ApiDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0/
            var dll = Path.Combine(RepoPaths.Root, "src", "Traceability.Api", "bin", configuration, "net10.0", "Traceability.Api.dll");
            return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing: build the solution first.");
        }
    }

    /// <summary>Starts the service on a free port (another one if that is taken before Kestrel binds it).</summary>
    public static Task<ServiceOnKestrel> StartAsync(Uri rpcUrl, DeployedRegistry registry, IDictionary<string, string> settings) =>
        FreePorts.StartAsync(port => StartOnAsync(port, rpcUrl, registry, settings));

    private static async Task<ServiceOnKestrel> StartOnAsync(int port, Uri rpcUrl, DeployedRegistry registry, IDictionary<string, string> settings)
    {
        var baseUrl = new Uri($"http://127.0.0.1:{port}");
        var dataDir = Directory.CreateTempSubdirectory("trace-browser-test-").FullName;
        var psi = new ProcessStartInfo("dotnet", [ApiDll, "--urls", baseUrl.ToString().TrimEnd('/')])
        {
            WorkingDirectory = Path.GetDirectoryName(ApiDll)!, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["TRACE_DATA_DIR"] = dataDir;
        psi.Environment["TRACE_ADMIN_KEY"] = AdminKey;
        psi.Environment["TRACE_CHAIN_RPC"] = rpcUrl.ToString();
        psi.Environment["TRACE_CONTRACT"] = registry.Contract;
        psi.Environment["TRACE_CHAIN_KEY"] = registry.Anchorer.GetPrivateKey();
        psi.Environment["TRACE_ANCHOR_SCHEDULE"] = "false";
        psi.Environment["TRACE_PUBLIC_BASE_URL"] = baseUrl.ToString().TrimEnd('/');
        foreach (var (k, v) in settings) psi.Environment[k] = v;

        var process = Process.Start(psi) ?? throw new InvalidOperationException("the service did not start");
        var service = new ServiceOnKestrel(process, baseUrl, dataDir);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (service._log) service._log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (service._log) service._log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // the last lines of output
                var exit = process.ExitCode;
                var log = service.Log;
                await service.DisposeAsync();
                throw FreePorts.SaysAddressInUse(log) ? new PortInUseException(port, log) : new InvalidOperationException($"the service exited ({exit}):\n{log}");
            }
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode) return service;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the service did not answer /health in 60 s:\n{service.Log}");
            await Task.Delay(200);
        }
    }

    public HttpClient Client(string? apiKey = null)
    {
        var c = new HttpClient { BaseAddress = BaseUrl };
        if (apiKey is not null) c.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return c;
    }

    public async Task<(HttpClient Client, string Id)> MemberAsync(string role, string name, string? gln = null, string[]? regions = null)
    {
        var r = await Admin.PostAsJsonAsync("/api/v1/members", new { name, role, gln, regionCodes = regions });
        r.EnsureSuccessStatusCode();
        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
        return (Client((string)body["apiKey"]!), (string)body["id"]!);
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}
