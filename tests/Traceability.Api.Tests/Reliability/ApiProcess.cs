using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Traceability.Api.Tests.Reliability;

/// <summary>
/// The built service (Traceability.Api.dll) as its own process on Kestrel over a data folder, so a test can see it die
/// (TRACE_CRASH_AT kills it with SIGKILL) and start another one on the same folder.
/// </summary>
internal sealed class ApiProcess : IAsyncDisposable
{
    public const string AdminKey = "reliability-admin-key";
    private readonly Process _process;
    private readonly List<string> _output = [];

    private ApiProcess(Process process, string url, string dataDir)
    {
        _process = process;
        DataDir = dataDir;
        Admin = Client(url, AdminKey);
    }

    public string DataDir { get; }
    public HttpClient Admin { get; }
    public Uri BaseAddress => Admin.BaseAddress!;
    public string Output { get { lock (_output) return string.Join('\n', _output); } }
    public bool HasExited => _process.HasExited;

    public static HttpClient Client(string url, string? key)
    {
        var c = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(90) };
        if (key is not null) c.DefaultRequestHeaders.Add("X-Api-Key", key);
        return c;
    }

    public HttpClient Client(string? key) => Client(BaseAddress.ToString().TrimEnd('/'), key);

    /// <summary>
    /// Starts the service on a free port and waits until /health answers (any status: a chain problem is the test's to
    /// judge). <paramref name="workingDirectory"/>: where it is started from (the test binaries' folder when null).
    /// </summary>
    public static Task<ApiProcess> StartAsync(string dataDir, IDictionary<string, string> environment, string? workingDirectory = null) =>
        FreePorts.StartAsync(port => StartOnAsync(port, dataDir, environment, workingDirectory ?? AppContext.BaseDirectory));

    public int Pid => _process.Id;

    private static async Task<ApiProcess> StartOnAsync(int port, string dataDir, IDictionary<string, string> environment, string workingDirectory)
    {
        var url = $"http://127.0.0.1:{port}";
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Traceability.Api.dll"));
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(url);
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("TRACE_", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(key);
        psi.Environment["TRACE_DATA_DIR"] = dataDir;
        psi.Environment["TRACE_ADMIN_KEY"] = AdminKey;
        psi.Environment["TRACE_ANCHOR_SCHEDULE"] = "false";
        psi.Environment["TRACE_AUDIT_SCHEDULE"] = "false";
        foreach (var (k, v) in environment) psi.Environment[k] = v;

        var service = new ApiProcess(Process.Start(psi)!, url, dataDir);
        service._process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (service._output) service._output.Add(e.Data); };
        service._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (service._output) service._output.Add(e.Data); };
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();

        using var probe = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            if (service._process.HasExited)
            {
                await service._process.WaitForExitAsync();
                var output = service.Output;
                await service.DisposeAsync();
                throw FreePorts.SaysAddressInUse(output) ? new PortInUseException(port, output) : new InvalidOperationException($"The service exited:\n{output}");
            }
            try
            {
                using var health = await probe.GetAsync("/health");
                return service;
            }
            catch (HttpRequestException) { /* not listening yet */ }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline)
            {
                await service.DisposeAsync();
                throw new TimeoutException($"The service did not answer /health within 90 s:\n{service.Output}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Waits for the process to end (it was told to crash) and returns its exit code (137: killed by SIGKILL).</summary>
    public async Task<int> ExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public async Task<(HttpClient Client, string Id)> MemberAsync(string role, string name)
    {
        var r = await Admin.PostAsJsonAsync("/api/v1/members", new { name, role });
        r.EnsureSuccessStatusCode();
        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
        return (Client((string)body["apiKey"]!), (string)body["id"]!);
    }

    /// <summary>Reads the SQLite file directly (the service may be gone).</summary>
    public static List<T> Query<T>(string dataDir, string sql, Func<SqliteDataReader, T> read)
    {
        using var conn = new SqliteConnection($"Data Source={Path.Combine(dataDir, "traceability.db")};Pooling=False;Mode=ReadOnly");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var rows = new List<T>();
        while (r.Read()) rows.Add(read(r));
        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        _process.Dispose();
        SqliteConnection.ClearAllPools();
    }
}
