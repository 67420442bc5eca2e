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
/// the event's sequence; and, once per capture request, the anchoring key's EIP-712 signature of
/// <c>Receipts(receiptsRoot, receiptCount)</c> under the AnchorRegistry's domain, the root over the struct hashes of the
/// receipts' <c>Receipt(digest, sequence, recordTime, anchorDeadline)</c>, each receipt carrying its proof
/// (<see cref="ServiceReceipts"/>). Without an anchoring key or a known chain id, receipts carry the deadline unsigned.
/// The policies are read (and the current setting recorded) at start-up, before the server takes requests.
/// </summary>
public sealed class AnchorPromises(IServiceScopeFactory scopes, ChainConnection chain, TraceOptions options, TimeProvider time, ILogger<AnchorPromises> log)
    : IHostedService, IReceiptPromise
{
    private volatile IReadOnlyList<ReceiptPolicy> _policies = [new(1, TimeSpan.FromSeconds(options.MaxAnchorDelaySeconds))];
    private Signer? _signer; // made when the chain id is first known; a reference, so concurrent requests never see half of one

    private sealed record Signer(ServiceReceipts Receipts, RecoverableSigner Key);

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

    /// <summary>
    /// The receipts of one capture request with their deadlines and, when the service has an anchoring key, its one
    /// signature over the root of their tree, with each receipt's proof to that root.
    /// </summary>
    public async Task<IReadOnlyList<CaptureReceipt>> SignAsync(IReadOnlyList<CaptureReceipt> receipts, CancellationToken ct)
    {
        var signed = new CaptureReceipt[receipts.Count];
        for (var i = 0; i < signed.Length; i++) signed[i] = receipts[i] with { AnchorDeadline = DeadlineOf(receipts[i].Sequence, receipts[i].RecordTime) };
        if (signed.Length == 0 || await SignerAsync(ct) is not { } signer) return signed;

        var messages = new ReceiptMessage[signed.Length];
        for (var i = 0; i < signed.Length; i++)
        {
            var r = signed[i];
            messages[i] = ServiceReceipts.Message(EventHash.Digest(r.EventHash), r.Sequence, r.RecordTime, r.AnchorDeadline!.Value);
        }
        var batch = signer.Receipts.SignBatch(messages, signer.Key);
        var root = Hex.Encode(batch.Root);
        for (var i = 0; i < signed.Length; i++)
            signed[i] = signed[i] with { ReceiptSignature = batch.Signature, ReceiptsRoot = root, ReceiptCount = batch.Count, ReceiptProof = batch.ProofAt(i) };
        return signed;
    }

    private async Task<Signer?> SignerAsync(CancellationToken ct)
    {
        if (chain.Signer is not { } key || chain.Contract is not { } contract) return null;
        if (_signer is { } known) return known;
        long? chainId;
        try { chainId = await chain.GetChainIdAsync(ct); }
        catch (ChainUnavailableException) { chainId = chain.KnownChainId; } // the deployment record's, until the node answers
        if (chainId is null or 0) return null;
        return _signer = new Signer(new ServiceReceipts(chainId.Value, contract), new RecoverableSigner(key));
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
