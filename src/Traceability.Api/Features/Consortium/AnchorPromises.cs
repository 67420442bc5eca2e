using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Chain;
using Traceability.Ledger.Epcis;

namespace Traceability.Api.Features.Consortium;

/// <summary>A TRACE_MAX_ANCHOR_DELAY in force from event <see cref="FromSequence"/> on (table receipt_policies).</summary>
public sealed record ReceiptPolicy(long FromSequence, TimeSpan MaxDelay);

/// <summary>
/// The service's promise on each capture receipt: <c>anchorDeadline</c> = record time + the anchoring delay in force for
/// the event's sequence, and <c>receiptSignature</c>, the anchoring key's EIP-712 signature of
/// <c>Receipt(digest, sequence, recordTime, anchorDeadline)</c> under the AnchorRegistry's domain. Without an anchoring
/// key or a known chain id, receipts carry the deadline unsigned. The policies are read (and the current setting
/// recorded) at start-up, before the server takes requests.
/// </summary>
public sealed class AnchorPromises(IServiceScopeFactory scopes, ChainConnection chain, TraceOptions options, TimeProvider time, ILogger<AnchorPromises> log)
    : IHostedService, IReceiptPromise
{
    private volatile IReadOnlyList<ReceiptPolicy> _policies = [new(1, TimeSpan.FromSeconds(options.MaxAnchorDelaySeconds))];
    private ServiceReceipts? _receipts;

    public IReadOnlyList<ReceiptPolicy> Policies => _policies;

    /// <summary>The delay promised for event <paramref name="sequence"/>.</summary>
    public TimeSpan DelayFor(long sequence)
    {
        var policies = _policies;
        var chosen = policies[0]; // events from before the first recorded setting get the first one
        foreach (var p in policies)
            if (p.FromSequence <= sequence) chosen = p;
        return chosen.MaxDelay;
    }

    public DateTimeOffset DeadlineOf(long sequence, DateTimeOffset recordTime) => recordTime + DelayFor(sequence);

    /// <summary>The receipts with their deadline and, when the service has an anchoring key, its signature.</summary>
    public async Task<IReadOnlyList<CaptureReceipt>> SignAsync(IReadOnlyList<CaptureReceipt> receipts, CancellationToken ct)
    {
        var signer = await SignerAsync(ct);
        var signed = new CaptureReceipt[receipts.Count];
        for (var i = 0; i < receipts.Count; i++)
        {
            var r = receipts[i];
            var deadline = DeadlineOf(r.Sequence, r.RecordTime);
            signed[i] = r with
            {
                AnchorDeadline = deadline,
                ReceiptSignature = signer is null ? null
                    : signer.Value.Receipts.Sign(ServiceReceipts.Message(EventHash.Digest(r.EventHash), r.Sequence, r.RecordTime, deadline), signer.Value.Key),
            };
        }
        return signed;
    }

    private async Task<(ServiceReceipts Receipts, Nethereum.Signer.EthECKey Key)?> SignerAsync(CancellationToken ct)
    {
        if (chain.Signer is not { } key || chain.Contract is not { } contract) return null;
        if (_receipts is { } known) return (known, key);
        long? chainId;
        try { chainId = await chain.GetChainIdAsync(ct); }
        catch (ChainUnavailableException) { chainId = chain.KnownChainId; } // the deployment record's, until the node answers
        if (chainId is null or 0) return null;
        _receipts = new ServiceReceipts(chainId.Value, contract);
        return (_receipts, key);
    }

    public async Task StartAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
        var conn = await Sql.OpenAsync(db, ct);
        var rows = await Sql.ListAsync(conn, null, "SELECT from_sequence, max_delay_seconds FROM receipt_policies ORDER BY from_sequence",
            r => new ReceiptPolicy(r.GetInt64(0), TimeSpan.FromSeconds(r.GetInt64(1))), ct);
        var wanted = TimeSpan.FromSeconds(options.MaxAnchorDelaySeconds);
        if (rows.Count == 0 || rows[^1].MaxDelay != wanted)
        {
            var next = await Sql.LongAsync(conn, null, "SELECT COALESCE(MAX(sequence), 0) + 1 FROM events", ct);
            // A restart with a new setting before any new event replaces the row it would shadow.
            await Sql.ExecAsync(conn, null,
                "INSERT INTO receipt_policies (from_sequence, max_delay_seconds, since) VALUES (@f, @d, @s) " +
                "ON CONFLICT (from_sequence) DO UPDATE SET max_delay_seconds = excluded.max_delay_seconds, since = excluded.since", ct,
                ("@f", next), ("@d", (long)options.MaxAnchorDelaySeconds), ("@s", DbTime.Format(time.GetUtcNow())));
            rows.RemoveAll(p => p.FromSequence >= next);
            rows.Add(new ReceiptPolicy(next, wanted));
            if (rows.Count > 1) log.LogInformation("Receipts promise anchoring within {Seconds} s from event {Sequence} on", options.MaxAnchorDelaySeconds, next);
        }
        _policies = rows;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
