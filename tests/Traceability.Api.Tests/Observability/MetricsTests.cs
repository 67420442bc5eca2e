using System.Globalization;
using System.Net;
using System.Text.Json;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests.Observability;

/// <summary>GET /metrics (Prometheus text) read after real captures, an anchor on the Hardhat node, a chain outage and an audit.</summary>
[Collection(ChainCollection.Name)]
public sealed class MetricsTests(ChainFixture chain)
{
    [Fact]
    public async Task MetricsCountCapturesAnchorsGasChainErrorsAndAuditFindings()
    {
        await using var svc = await chain.StartServiceAsync();
        using var anonymous = svc.Client();
        var (maker, _) = await svc.MemberAsync("manufacturer");
        var document = EpcisDocs.Commissioning(3);
        (await TraceService.CaptureAsync(maker, document)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await TraceService.CaptureAsync(maker, document)).StatusCode.Should().Be(HttpStatusCode.Created, "the same events again: receipts, nothing appended");

        var before = await ScrapeAsync(anonymous);
        Value(before, "trace_events_captured_total").Should().Be(3);
        Value(before, "trace_capture_duration_seconds_count").Should().Be(2, "one duration per capture document");
        Value(before, "trace_capture_duration_seconds_sum").Should().BeGreaterThan(0);
        Value(before, "trace_anchor_pending_events").Should().Be(3);
        Value(before, "trace_anchor_oldest_pending_age_seconds").Should().BeGreaterThanOrEqualTo(0);
        Value(before, "trace_anchors", "status=\"confirmed\"").Should().Be(0);
        Value(before, "trace_sqlite_memory_bytes").Should().BeGreaterThan(0, "SQLite's caches and statements of the captures");

        var anchor = await svc.AnchoredAsync();
        var receipt = await RawRpc.ReceiptAsync(chain.Node.RpcUrl, anchor.TxHash!);
        var after = await ScrapeAsync(anonymous);
        Value(after, "trace_anchors", "status=\"confirmed\"").Should().Be(1);
        Value(after, "trace_anchors", "status=\"pending\"").Should().Be(0);
        Value(after, "trace_anchor_pending_events").Should().Be(0);
        Value(after, "trace_anchor_oldest_pending_age_seconds").Should().Be(0);
        Value(after, "trace_anchor_gas_used_count").Should().Be(1);
        Value(after, "trace_anchor_gas_used_sum").Should().Be(RawRpc.Quantity(receipt["gasUsed"]), "the gas of the anchor's receipt");
        Value(after, "trace_events_captured_total").Should().Be(3);

        (await TraceService.CaptureAsync(maker, EpcisDocs.Commissioning(1))).StatusCode.Should().Be(HttpStatusCode.Created);
        chain.Proxy.Stop();
        try
        {
            (await svc.AnchorAsync()).Status.Should().Be(503);
        }
        finally
        {
            chain.Proxy.Start();
        }
        var outage = await ScrapeAsync(anonymous);
        Value(outage, "trace_chain_errors_total", "kind=\"unavailable\"").Should().Be(1);
        Value(outage, "trace_anchor_pending_events").Should().Be(1);

        svc.Execute("UPDATE events SET json = json_set(json, '$.disposition', 'stolen') WHERE sequence = 2").Should().Be(1);
        var run = await (await svc.Admin.PostAsync("/api/v1/audit/run", null)).ReadAsync<Traceability.Api.Features.Audit.AuditApi.AuditRunResponse>();
        run.Status.Should().Be("failed");
        run.Mismatches.Should().Be(2, "the event's hash, and the root of its anchor rebuilt from the recomputed hashes");
        Value(await ScrapeAsync(anonymous), "trace_audit_findings_total").Should().Be(2);
    }

    [Fact]
    public async Task RequestLogsAreJsonObjectsWithTheRequestsFieldsWhenAsked()
    {
        var registry = await DeployedRegistry.DeployAsync(chain.Node.RpcUrl);
        await using var svc = await ServiceOnKestrel.StartAsync(chain.Node.RpcUrl, registry, new Dictionary<string, string> { ["TRACE_LOG_FORMAT"] = "json" });
        using var client = svc.Client();
        (await client.GetAsync("/api/v1/chain")).StatusCode.Should().Be(HttpStatusCode.OK);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        JsonElement? request = null;
        while (request is null && DateTime.UtcNow < deadline)
        {
            var lines = svc.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            lines.Should().NotBeEmpty().And.OnlyContain(l => l.StartsWith('{') && l.EndsWith('}'), "every line is one JSON object");
            request = lines.Select(l => JsonDocument.Parse(l).RootElement)
                .FirstOrDefault(e => e.TryGetProperty("RequestPath", out var p) && p.GetString() == "/api/v1/chain") is { ValueKind: JsonValueKind.Object } found ? found : null;
            if (request is null) await Task.Delay(200);
        }
        request.Should().NotBeNull(svc.Log);
        request!.Value.GetProperty("RequestMethod").GetString().Should().Be("GET");
        request.Value.GetProperty("StatusCode").GetInt32().Should().Be(200);
        request.Value.GetProperty("Elapsed").GetDouble().Should().BeGreaterThan(0);
        request.Value.GetProperty("@t").GetString().Should().NotBeNullOrEmpty();
    }

    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        var response = await client.GetAsync("/metrics");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the one sample named <paramref name="name"/> (and holding <paramref name="label"/>, if given).</summary>
    private static double Value(string exposition, string name, string? label = null)
    {
        var samples = exposition.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(l => label is null || l.Contains(label, StringComparison.Ordinal)).ToList();
        samples.Should().ContainSingle($"one sample of {name} {label}\n{exposition}");
        var text = samples[0];
        return double.Parse(text[(text.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
