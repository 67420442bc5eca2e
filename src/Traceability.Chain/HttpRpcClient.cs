using System.Text;
using Nethereum.JsonRpc.Client;
using Nethereum.JsonRpc.Client.RpcMessages;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Traceability.Chain;

/// <summary>
/// Nethereum's JSON-RPC transport over the caller's <see cref="HttpClient"/>. Nethereum frames the requests and reads
/// the answers (its message types and serializer settings); this class only posts them and names a chain that cannot
/// be used. Nethereum's own RpcClient sets BaseAddress on the HttpClient it is given, so that client could not be
/// shared (the verifier's, the service's factory client) nor reused after its first request, and it reports refusals,
/// timeouts and non-JSON answers all as RpcClientUnknownException. Here they are <see cref="ChainUnavailableException"/>,
/// whose messages name only scheme://host:port (RPC URLs often carry an API key in the path).
/// A JSON-RPC error object is still Nethereum's RpcResponseException, and reverts Nethereum's revert exceptions.
/// </summary>
public sealed class HttpRpcClient : ClientBase
{
    private static readonly JsonSerializerSettings Settings = DefaultJsonSerializerSettingsFactory.BuildDefaultJsonSerializerSettings();

    private readonly HttpClient _http;

    public HttpRpcClient(HttpClient http, Uri rpcUrl)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(rpcUrl);
        _http = http;
        RpcUrl = rpcUrl;
    }

    public Uri RpcUrl { get; }

    /// <summary>The URL without path, query or user info, for messages.</summary>
    public string SafeEndpoint => $"{RpcUrl.Scheme}://{RpcUrl.Authority}";

    public override async Task<RpcResponseMessage> SendAsync(RpcRequestMessage rpcRequestMessage, string? route = null) =>
        await PostAsync<RpcResponseMessage>(rpcRequestMessage, rpcRequestMessage.Method).ConfigureAwait(false);

    protected override async Task<RpcResponseMessage[]> SendAsync(RpcRequestMessage[] requests) =>
        await PostAsync<RpcResponseMessage[]>(requests, "a batch").ConfigureAwait(false);

    private async Task<T> PostAsync<T>(object request, string method) where T : class
    {
        using var content = new StringContent(JsonConvert.SerializeObject(request, Settings), Encoding.UTF8, "application/json");
        using var timeout = new CancellationTokenSource(ConnectionTimeout);
        string body;
        int status;
        try
        {
            using var response = await _http.PostAsync(RpcUrl, content, timeout.Token).ConfigureAwait(false);
            status = (int)response.StatusCode;
            body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ChainUnavailableException($"The chain at {SafeEndpoint} did not answer {method}: {e.Message}", e);
        }
        catch (OperationCanceledException e)
        {
            throw new ChainUnavailableException($"The chain at {SafeEndpoint} did not answer {method} in time.", e);
        }

        JToken token;
        try
        {
            token = JToken.Parse(body);
        }
        catch (JsonException e)
        {
            throw new ChainUnavailableException($"The chain at {SafeEndpoint} answered {method} with HTTP {status} and a body that is not JSON, not JSON-RPC.", e);
        }
        var hasError = token is JObject o && o["error"] is JObject;
        var isJsonRpc = token is JArray || (token is JObject answer && (answer.ContainsKey("result") || hasError));
        // A node may send an error object with an HTTP error status; anything else with one is not a node answering.
        if (!isJsonRpc || (status is < 200 or >= 300 && !hasError))
            throw new ChainUnavailableException($"The chain at {SafeEndpoint} answered {method} with HTTP {status}, not JSON-RPC.");
        var message = token.ToObject<T>(JsonSerializer.Create(Settings))
            ?? throw new ChainUnavailableException($"The chain at {SafeEndpoint} answered {method} with an empty JSON-RPC message.");
        return message;
    }
}
