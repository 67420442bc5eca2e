using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;

namespace Traceability.Api.Tests.Support;

/// <summary>
/// One instance of the real service (WebApplicationFactory over Program) on a real SQLite file in its own data folder,
/// anchoring to a real Hardhat node. Dispose and start again on the same folder to test a restart.
/// </summary>
public sealed class TraceService : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key";
    private readonly WebApplicationFactory<Program> _factory;

    /// <param name="configure">Further set-up of the test host (e.g. a middleware that stands in for a remote client).</param>
    public TraceService(string dataDir, Uri rpcUrl, DeployedRegistry registry, IDictionary<string, string>? settings = null, Action<IWebHostBuilder>? configure = null)
    {
        DataDir = dataDir;
        Registry = registry;
        var all = new Dictionary<string, string>
        {
            ["TRACE_DATA_DIR"] = dataDir,
            ["TRACE_ADMIN_KEY"] = AdminKey,
            ["TRACE_CHAIN_RPC"] = rpcUrl.ToString(),
            ["TRACE_CONTRACT"] = registry.Contract,
            ["TRACE_CHAIN_KEY"] = registry.Anchorer.GetPrivateKey(),
            ["TRACE_ANCHOR_SCHEDULE"] = "false",
            ["TRACE_AUDIT_SCHEDULE"] = "false",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) all[k] = v;
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            foreach (var (k, v) in all) b.UseSetting(k, v);
            configure?.Invoke(b);
        });
        Admin = Client(AdminKey);
    }

    public string DataDir { get; }
    public DeployedRegistry Registry { get; }
    public string DatabasePath => Path.Combine(DataDir, "traceability.db");
    public HttpClient Admin { get; }
    public IServiceProvider Services => _factory.Services;

    public HttpClient Client(string? apiKey = null)
    {
        var c = _factory.CreateClient();
        if (apiKey is not null) c.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return c;
    }

    /// <summary>An anonymous client whose requests come from <paramref name="address"/> (the consumer side counts clients by address).</summary>
    public HttpClient ClientFrom(System.Net.IPAddress address) =>
        new(_factory.Server.CreateHandler(c => c.Connection.RemoteIpAddress = address)) { BaseAddress = _factory.Server.BaseAddress };

    /// <summary>A client that neither follows redirects nor keeps cookies, to look at each answer as it is.</summary>
    public HttpClient RawClient() => _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

    /// <summary>Creates a member with the role and returns a client carrying its key, and its id.</summary>
    public async Task<(HttpClient Client, string Id)> MemberAsync(string role, string? name = null, string? gln = null, string[]? regions = null)
    {
        var body = await (await Admin.PostAsJsonAsync("/api/v1/members", new { name = name ?? role + " Co.", role, gln, regionCodes = regions }))
            .ReadAsync<Traceability.Api.Features.Members.MembersApi.CreateMemberResponse>(System.Net.HttpStatusCode.Created);
        return (Client(body.ApiKey), body.Id);
    }

    public static async Task<HttpResponseMessage> CaptureAsync(HttpClient client, string document, string contentType = "application/ld+json") =>
        await client.PostAsync("/api/v1/capture", new StringContent(document, Encoding.UTF8, new MediaTypeHeaderValue(contentType)));

    public static async Task<JsonNode> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) ?? throw new InvalidOperationException("empty body");
    }

    /// <summary>POST /api/v1/anchors/run as admin; returns the status and the body (null on 204).</summary>
    public async Task<(int Status, JsonNode? Body)> AnchorAsync()
    {
        var response = await Admin.PostAsync("/api/v1/anchors/run", null);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>POST /api/v1/anchors/run as admin, expecting an anchor (200): the anchor.</summary>
    public async Task<Traceability.Api.Features.Anchoring.AnchorsApi.AnchorResponse> AnchoredAsync() =>
        await (await Admin.PostAsync("/api/v1/anchors/run", null)).ReadAsync<Traceability.Api.Features.Anchoring.AnchorsApi.AnchorResponse>();

    public long Scalar(string sql)
    {
        using var conn = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    public string Text(string sql)
    {
        using var conn = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return (string)cmd.ExecuteScalar()!;
    }

    /// <summary>Runs SQL on the service's SQLite file directly, behind the service's back (the tamper tests' attacker).</summary>
    public int Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using var conn = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        return cmd.ExecuteNonQuery();
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await _factory.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }
}
