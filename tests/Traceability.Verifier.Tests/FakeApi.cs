using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Traceability.Testing;

namespace Traceability.Verifier.Tests;

/// <summary>
/// The four read endpoints the audit uses, served over real HTTP (HttpListener on a free loopback port) from a
/// <see cref="TestLedger"/> in the documented JSON shapes. Tests edit what it serves through the Tamper hooks.
/// The end-to-end audit against the real API lives with the API's tests.
/// </summary>
public sealed class FakeApi : IAsyncDisposable
{
    public const string ApiKey = "regulator-key";

    private readonly HttpListener _listener;
    private readonly TestLedger _ledger;
    private readonly Task _loop;

    public FakeApi(TestLedger ledger, int pageSize = 2)
    {
        _ledger = ledger;
        PageSize = pageSize;
        // A port found free may be taken before the listener binds it: then another one.
        for (var attempt = 1; ; attempt++)
        {
            Url = new Uri($"http://127.0.0.1:{FreePorts.Next()}/");
            _listener = new HttpListener();
            _listener.Prefixes.Add(Url.ToString());
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < FreePorts.Attempts)
            {
                _listener.Close();
            }
        }
        _loop = Task.Run(LoopAsync);
    }

    public Uri Url { get; }

    /// <summary>The API returns at most this many anchors per page, whatever the limit asked (so that paging is exercised).</summary>
    public int PageSize { get; }

    public int EventRequests;

    /// <summary>Edits the anchor list (the items, in the order served) before it is paged.</summary>
    public Action<List<JsonObject>>? TamperAnchors { get; set; }

    public Action<ulong, JsonObject>? TamperLeaves { get; set; }

    public Action<ulong, JsonObject>? TamperEvent { get; set; }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(context));
        }
    }

    private void Serve(HttpListenerContext context)
    {
        var (status, body) = context.Request.Headers["X-Api-Key"] == ApiKey
            ? Route(context.Request.Url!.AbsolutePath, context.Request.QueryString)
            : (401, new JsonObject { ["title"] = "Unauthorized", ["status"] = 401 });
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        context.Response.StatusCode = status;
        context.Response.ContentType = status == 200 ? "application/json" : "application/problem+json";
        context.Response.OutputStream.Write(bytes);
        context.Response.Close();
    }

    private (int, JsonObject) Route(string path, System.Collections.Specialized.NameValueCollection query)
    {
        var parts = path.Trim('/').Split('/');
        switch (parts)
        {
            case ["api", "v1", "chain"]:
                return (200, new JsonObject { ["rpcUrl"] = _ledger.RpcUrl.ToString(), ["chainId"] = _ledger.ChainId, ["contract"] = _ledger.Contract });

            case ["api", "v1", "anchors"]:
            {
                var items = _ledger.Anchors.Select(_ledger.AnchorJson).ToList();
                TamperAnchors?.Invoke(items);
                var offset = int.Parse(query["offset"] ?? "0", CultureInfo.InvariantCulture);
                var limit = Math.Min(PageSize, int.Parse(query["limit"] ?? "100", CultureInfo.InvariantCulture));
                return (200, new JsonObject
                {
                    ["items"] = new JsonArray(items.Skip(offset).Take(limit).Select(i => (JsonNode)i).ToArray()),
                    ["total"] = items.Count, ["offset"] = offset, ["limit"] = limit,
                });
            }

            case ["api", "v1", "anchors", var n, "leaves"]:
            {
                var anchor = _ledger.Anchors.FirstOrDefault(a => a.Sequence.ToString(CultureInfo.InvariantCulture) == n);
                if (anchor is null) return NotFound();
                var leaves = _ledger.LeavesJson(anchor);
                TamperLeaves?.Invoke(anchor.Sequence, leaves);
                return (200, leaves);
            }

            case ["api", "v1", "events", var s] when ulong.TryParse(s, out var seq) && seq >= 1 && seq <= (ulong)_ledger.Events.Count:
            {
                Interlocked.Increment(ref EventRequests);
                var record = _ledger.EventRecord(seq);
                TamperEvent?.Invoke(seq, record);
                return (200, record);
            }

            default:
                return NotFound();
        }
    }

    private static (int, JsonObject) NotFound() => (404, new JsonObject { ["title"] = "Not Found", ["status"] = 404 });

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
