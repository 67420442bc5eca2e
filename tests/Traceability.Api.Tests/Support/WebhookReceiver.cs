using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Traceability.Api.Tests.Support;

/// <summary>One POST a receiver took: its path, body, headers, and the status it answered.</summary>
public sealed record WebhookDelivery(string Path, JsonNode Body, byte[] Raw, string? Signature, int Status, DateTimeOffset At);

/// <summary>
/// A real webhook receiver on Kestrel (loopback, a free port): keeps every POST and answers what <see cref="Answer"/>
/// says for its path (200 by default).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<WebhookDelivery> _all = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>The status to answer a POST to a path with (evaluated for each POST).</summary>
    public Func<string, int> Answer { get; set; } = _ => 200;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("{**path}", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            var raw = buffer.ToArray();
            var path = http.Request.Path.Value!;
            var status = receiver.Answer(path);
            receiver._all.Enqueue(new WebhookDelivery(path, JsonNode.Parse(raw)!, raw, http.Request.Headers["GS1-Signature"].FirstOrDefault(), status, DateTimeOffset.UtcNow));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        receiver.Url = new Uri(app.Urls.First());
        return receiver;
    }

    /// <summary>Every POST to <paramref name="path"/>, in arrival order.</summary>
    public IReadOnlyList<WebhookDelivery> To(string path) => _all.Where(d => d.Path == path).ToList();

    /// <summary>The POSTs to the path that were acknowledged (2xx).</summary>
    public IReadOnlyList<WebhookDelivery> Acknowledged(string path) => To(path).Where(d => d.Status is >= 200 and < 300).ToList();

    /// <summary>The events of the acknowledged EPCISQueryDocuments sent to the path.</summary>
    public IReadOnlyList<JsonObject> Events(string path) =>
        Acknowledged(path).SelectMany(d => d.Body["epcisBody"]!["queryResults"]!["resultsBody"]!["eventList"]!.AsArray()).Select(e => e!.AsObject()).ToList();

    /// <summary>Waits (up to <paramref name="seconds"/>) until <paramref name="done"/> holds; false if it never did.</summary>
    public static Task<bool> WaitAsync(Func<bool> done, double seconds = 20) => WaitAsync(() => Task.FromResult(done()), seconds);

    public static async Task<bool> WaitAsync(Func<Task<bool>> done, double seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            if (await done()) return true;
            await Task.Delay(50);
        }
        return await done();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
