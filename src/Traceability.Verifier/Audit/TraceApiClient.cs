using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Traceability.Verifier.Audit;

/// <summary>The API did not answer, or answered something other than the documented JSON.</summary>
public sealed class ApiException(string message, HttpStatusCode? status = null, Exception? inner = null) : Exception(message, inner)
{
    public HttpStatusCode? Status { get; } = status;
}

/// <summary>An anchor as the API lists it (<c>GET /api/v1/anchors</c>); every field is the API's claim, to be checked.</summary>
public sealed record ApiAnchor(ulong Sequence, string? Root, ulong FirstEventSequence, ulong LastEventSequence, ulong Count, string? Status, string? Contract);

/// <summary>
/// The few read-only calls of the Traceability API the audit needs, authenticated with <c>X-Api-Key</c>. Answers are
/// returned as JSON for the auditor to check; only their outer shape is enforced here.
/// </summary>
public sealed class TraceApiClient
{
    public const int PageSize = 1000;

    private readonly HttpClient _http;
    private readonly Uri _baseUrl;
    private readonly string? _apiKey;

    public TraceApiClient(HttpClient http, Uri baseUrl, string? apiKey)
    {
        _http = http;
        _baseUrl = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        _apiKey = apiKey;
    }

    /// <summary>GET /api/v1/chain → {rpcUrl, chainId, contract}.</summary>
    public Task<JsonObject> GetChainAsync(CancellationToken ct) => GetObjectAsync("api/v1/chain", ct);

    /// <summary>Every anchor, page by page (GET /api/v1/anchors?offset=&amp;limit=), in the order the API lists them.</summary>
    public async Task<IReadOnlyList<ApiAnchor>> GetAllAnchorsAsync(CancellationToken ct)
    {
        var anchors = new List<ApiAnchor>();
        for (var offset = 0L; ; )
        {
            var page = await GetObjectAsync($"api/v1/anchors?offset={offset}&limit={PageSize}", ct).ConfigureAwait(false);
            if (page["items"] is not JsonArray items) throw new ApiException("GET /api/v1/anchors: the answer has no 'items' array");
            var total = page["total"] is JsonValue t && t.TryGetValue<long>(out var n) ? n : throw new ApiException("GET /api/v1/anchors: the answer has no 'total'");
            foreach (var item in items) anchors.Add(ReadAnchor(item));
            offset += items.Count;
            if (items.Count == 0 || offset >= total) return anchors;
        }
    }

    /// <summary>GET /api/v1/anchors/{sequence}/leaves → {encoding, values:[["seq","0xdigest"], ...]}.</summary>
    public Task<JsonObject> GetLeavesAsync(ulong anchorSequence, CancellationToken ct) =>
        GetObjectAsync($"api/v1/anchors/{anchorSequence.ToString(CultureInfo.InvariantCulture)}/leaves", ct);

    /// <summary>GET /api/v1/events/{sequence} → {sequence, eventId, eventHash, event:{...}, anchor}.</summary>
    public Task<JsonObject> GetEventAsync(ulong sequence, CancellationToken ct) =>
        GetObjectAsync($"api/v1/events/{sequence.ToString(CultureInfo.InvariantCulture)}", ct);

    private static ApiAnchor ReadAnchor(JsonNode? item)
    {
        if (item is not JsonObject o) throw new ApiException("GET /api/v1/anchors: an item is not an object");
        return new ApiAnchor(
            UInt(o, "sequence"),
            o["root"]?.GetValueKind() == JsonValueKind.String ? (string?)o["root"] : null,
            UInt(o, "firstEventSequence"),
            UInt(o, "lastEventSequence"),
            UInt(o, "count"),
            o["status"]?.GetValueKind() == JsonValueKind.String ? (string?)o["status"] : null,
            o["contract"]?.GetValueKind() == JsonValueKind.String ? (string?)o["contract"] : null);
    }

    private static ulong UInt(JsonObject o, string name) => o[name] switch
    {
        JsonValue v when v.TryGetValue<ulong>(out var n) => n,
        JsonValue v when v.TryGetValue<string>(out var s) && ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n,
        _ => throw new ApiException($"GET /api/v1/anchors: an item's '{name}' is missing or not a non-negative integer"),
    };

    private async Task<JsonObject> GetObjectAsync(string relative, CancellationToken ct)
    {
        var url = new Uri(_baseUrl, relative);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (_apiKey is not null) request.Headers.Add("X-Api-Key", _apiKey);
        request.Headers.Accept.ParseAdd("application/json");
        HttpResponseMessage response;
        try { response = await _http.SendAsync(request, ct).ConfigureAwait(false); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new ApiException($"GET {url.AbsolutePath}: the API at {_baseUrl.GetLeftPart(UriPartial.Authority)} cannot be reached: {e.Message}", inner: e);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? " (the audit needs a regulator's or the admin's --api-key)" : "";
                throw new ApiException($"GET {url.PathAndQuery} answered {(int)response.StatusCode} {response.ReasonPhrase}{hint}", response.StatusCode);
            }

            try
            {
                return JsonNode.Parse(body) as JsonObject ?? throw new ApiException($"GET {url.PathAndQuery}: the answer is not a JSON object");
            }
            catch (JsonException e)
            {
                throw new ApiException($"GET {url.PathAndQuery}: the answer is not JSON: {e.Message}", inner: e);
            }
        }
    }
}
