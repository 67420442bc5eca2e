using System.Numerics;
using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Features.Alerts;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Observability;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Reliability;
using Traceability.Chain;
using Traceability.Ledger.Merkle;

namespace Traceability.Api.Features.Anchoring;

/// <summary>
/// The anchoring handler, run by the recurring job and by POST /api/v1/anchors/run.
/// <list type="number">
/// <item>Reconcile: every anchor not yet confirmed is first looked up on the chain (getAnchor) — after a crash at any
/// line it is adopted if the chain holds it, resent only if the chain does not, so no range is anchored twice or skipped.</item>
/// <item>Then each pending range (at most TRACE_ANCHOR_MAX_EVENTS events) gets a tree; the anchor row, with range and
/// root, is written <i>before</i> the transaction is sent; status moves pending → submitted → confirmed.</item>
/// </list>
/// One run at a time per process; with PostgreSQL, instances sharing the database also take an advisory lock for the run.
/// </summary>
public sealed class AnchorPendingEvents(
    IServiceScopeFactory scopes,
    ChainConnection chain,
    ChainHealth health,
    AnchorTrees trees,
    TraceOptions options,
    TimeProvider time,
    TraceMetrics metrics,
    ILogger<AnchorPendingEvents> log)
{
    private static readonly TimeSpan ReceiptTimeout = TimeSpan.FromSeconds(60);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The anchors this run created or brought forward, in order.</summary>
    public sealed record RunResult(IReadOnlyList<Anchor> Anchors, string? Problem);

    public async Task<RunResult> RunAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (chain.ConfigurationProblem is { } notConfigured)
            {
                health.Down(notConfigured);
                return new RunResult([], notConfigured);
            }
            var touched = new List<Anchor>();
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
                if (!await TryLockAcrossInstancesAsync(db, ct))
                    return new RunResult([], null); // another instance sharing the database is anchoring right now
                try
                {
                    return await AnchorAsync(db, touched, ct);
                }
                finally
                {
                    await UnlockAcrossInstancesAsync(db);
                }
            }
            catch (Exception e) when (e is ChainUnavailableException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                var problem = $"chain unavailable at {chain.RpcUrl}: {e.Message}";
                log.LogWarning("Anchoring deferred: {Problem}", problem);
                metrics.ChainError("unavailable");
                health.Down(problem);
                return new RunResult(touched, problem);
            }
        }
        finally
        {
            metrics.Invalidate(); // anchors were written: the next scrape reads the backlog again
            _gate.Release();
        }
    }

    private async Task<RunResult> AnchorAsync(TraceDbContext db, List<Anchor> touched, CancellationToken ct)
    {
        var chainId = await chain.GetChainIdAsync(ct);

        // A chain that lost confirmed anchors refuses the next sequence number forever: say why, once, instead.
        // A chain that does not answer is left to the steps below, which record what they can and defer.
        string? lost = null;
        try
        {
            lost = await health.LostAnchorsAsync(t => ChainLedgerCheck.FindProblemAsync(db, chain, t), fresh: true, ct);
        }
        catch (Exception e) when (e is ChainUnavailableException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { }
        if (lost is not null)
        {
            log.LogError("Anchoring halted: {Problem}", lost);
            var count = await chain.HasCodeAsync(chain.Contract!, ct)
                ? (long)await chain.Registry!.AnchorCountAsync(ct) : 0;
            await AlertWriter.RaiseAsync(db, AlertTypes.ChainReset, null, null, null,
                new { problem = lost, contract = chain.Contract, chainId, anchorsOnChain = count }, time.GetUtcNow(),
                $"chain-reset:lost:{chainId}:{chain.Contract}:{count}", ct);
            health.Down(lost);
            return new RunResult([], lost);
        }

        foreach (var open in await db.Anchors.Where(a => a.Status == AnchorStatus.Pending || a.Status == AnchorStatus.Submitted)
                     .OrderBy(a => a.Sequence).ToListAsync(ct))
        {
            touched.Add(open);
            if (!await BringForwardAsync(db, open, ct)) return Finish(touched);
        }
        if (await db.Anchors.AnyAsync(a => a.Status == AnchorStatus.Failed, ct))
        {
            const string halted = "anchoring halted: an anchor is marked failed (the chain holds a different root); see GET /api/v1/anchors";
            health.Down(halted);
            return new RunResult(touched, halted);
        }

        while (await CreateNextAsync(db, chainId, ct) is { } created)
        {
            touched.Add(created);
            if (!await BringForwardAsync(db, created, ct)) break;
        }
        health.Up();
        return Finish(touched);
    }

    /// <summary>What a re-anchoring did: the anchors written again (in order), or why it wrote none.</summary>
    public sealed record ReanchorResult(IReadOnlyList<Anchor> Reanchored, long AnchorsOnChainBefore, string? Refused, bool ChainUnavailable = false);

    /// <summary>
    /// POST /api/v1/anchors/reanchor: after the chain lost anchors the ledger confirmed (a devnet reset, a contract
    /// deployed afresh by chain-devnet/up), writes them again, in order, with the SAME sequence numbers, ranges and
    /// roots, each root first rebuilt from the stored events and checked against the recorded one. The anchors the
    /// chain still holds must equal the ledger's; otherwise nothing is written (another history: the audit's case).
    /// Each row gets the new transaction, block, contract and chain id as soon as its anchor is confirmed, so a crash
    /// part-way leaves rows that agree with the chain and a second call carries on. Raises a chain-reset alert.
    /// </summary>
    public async Task<ReanchorResult> ReanchorAsync(CancellationToken ct)
    {
        if (chain.ConfigurationProblem is { } notConfigured) return new ReanchorResult([], 0, notConfigured);
        await _gate.WaitAsync(ct);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TraceDbContext>();
            if (!await TryLockAcrossInstancesAsync(db, ct))
                return new ReanchorResult([], 0, "another instance is anchoring right now; try again");
            try
            {
                return await ReanchorLockedAsync(db, ct);
            }
            catch (Exception e) when (e is ChainUnavailableException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                return new ReanchorResult([], 0, $"chain unavailable at {chain.RpcUrl}: {e.Message}", ChainUnavailable: true);
            }
            catch (ContractRevertedException e)
            {
                return new ReanchorResult([], 0, $"the contract refused the re-anchoring: {e.ErrorName}({string.Join(", ", e.Arguments)}); call again to carry on from what the chain holds");
            }
            finally
            {
                await UnlockAcrossInstancesAsync(db);
                health.ForgetLedgerCheck();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<ReanchorResult> ReanchorLockedAsync(TraceDbContext db, CancellationToken ct)
    {
        var registry = chain.Registry!;
        var chainId = await chain.GetChainIdAsync(ct);
        if (!await chain.HasCodeAsync(registry.ContractAddress, ct))
            return new ReanchorResult([], 0, $"no AnchorRegistry code at {registry.ContractAddress}: run chain-devnet/up to deploy one (and restart the service on its chain.json) first");
        var onChainBefore = (long)await registry.AnchorCountAsync(ct);
        var confirmed = await db.Anchors.Where(a => a.Status == AnchorStatus.Confirmed).OrderBy(a => a.Sequence).ToListAsync(ct);
        if (confirmed.Count == 0 || confirmed[^1].Sequence <= onChainBefore)
            return new ReanchorResult([], onChainBefore, $"nothing to re-anchor: AnchorRegistry {registry.ContractAddress} holds {onChainBefore} anchors, " +
                $"the ledger's highest confirmed anchor is {(confirmed.Count == 0 ? "none" : confirmed[^1].Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture))}");

        foreach (var kept in confirmed.Where(a => a.Sequence <= onChainBefore))
        {
            var onChain = await registry.GetAnchorAsync(kept.Sequence, ct);
            if (onChain is null || !onChain.Root.AsSpan().SequenceEqual(Hex.Decode(kept.Root)) ||
                onChain.FirstEventSequence != kept.FirstEventSequence || onChain.LastEventSequence != kept.LastEventSequence)
                return new ReanchorResult([], onChainBefore, $"the chain holds a different anchor {kept.Sequence} than the ledger: re-anchoring would not restore the ledger's history; run the self-audit");
        }

        var lost = confirmed.Where(a => a.Sequence > onChainBefore).ToList();
        var reanchored = new List<Anchor>();
        var next = onChainBefore + 1;
        foreach (var anchor in lost)
        {
            if (anchor.Sequence != next)
                return await DoneAsync($"anchor {next} is not confirmed in the ledger (the next confirmed one is {anchor.Sequence}): let the anchoring job bring it forward, then call again");
            var leaves = await AnchorTrees.LoadLeavesAsync(db, anchor.FirstEventSequence, anchor.LastEventSequence, ct);
            var tree = StandardMerkleTree.Build(leaves);
            if (leaves.Count != anchor.Count || Hex.Encode(tree.Root) != anchor.Root)
                return await DoneAsync($"the ledger's events {anchor.FirstEventSequence}..{anchor.LastEventSequence} no longer give anchor {anchor.Sequence}'s root {anchor.Root}: not re-anchoring a changed ledger; run the self-audit");

            var txHash = await registry.SendAnchorAsync(anchor.Sequence, tree.Root, anchor.FirstEventSequence, anchor.LastEventSequence, ct);
            var receipt = await registry.WaitForReceiptAsync(txHash, ReceiptTimeout, ct);
            if (!receipt.Succeeded) return await DoneAsync($"the re-anchoring transaction {txHash} of anchor {anchor.Sequence} reverted");
            var previous = (anchor.TxHash, anchor.BlockNumber, anchor.Contract);
            anchor.TxHash = txHash;
            anchor.BlockNumber = receipt.BlockNumber;
            anchor.Contract = registry.ContractAddress;
            anchor.ChainId = chainId;
            anchor.ConfirmedAt = time.GetUtcNow();
            anchor.Attempts++;
            anchor.LastError = null;
            await db.SaveChangesAsync(ct);
            trees.Remember(anchor.Sequence, tree, anchor.Root);
            log.LogWarning("Re-anchored anchor {Sequence} (events {First}..{Last}, root {Root}) on {Contract} in block {Block} ({Tx}); it was {OldTx} in block {OldBlock} on {OldContract}",
                anchor.Sequence, anchor.FirstEventSequence, anchor.LastEventSequence, anchor.Root, anchor.Contract, anchor.BlockNumber, txHash,
                previous.TxHash, previous.BlockNumber, previous.Contract);
            reanchored.Add(anchor);
            next++;
        }
        return await DoneAsync(null);

        async Task<ReanchorResult> DoneAsync(string? refused)
        {
            if (reanchored.Count > 0)
            {
                var detail = new
                {
                    contract = registry.ContractAddress, chainId, anchorsOnChainBefore = onChainBefore,
                    reanchored = new { first = reanchored[0].Sequence, last = reanchored[^1].Sequence },
                    events = new { first = reanchored[0].FirstEventSequence, last = reanchored[^1].LastEventSequence },
                    unfinished = refused,
                };
                await AlertWriter.RaiseAsync(db, AlertTypes.ChainReset, null, null, null, detail, time.GetUtcNow(),
                    $"chain-reset:reanchored:{chainId}:{registry.ContractAddress}:{reanchored[0].Sequence}-{reanchored[^1].Sequence}", CancellationToken.None);
                log.LogWarning("Re-anchored anchors {First}..{Last} (events {FirstEvent}..{LastEvent}) on {Contract}: the chain held {Before}",
                    reanchored[0].Sequence, reanchored[^1].Sequence, reanchored[0].FirstEventSequence, reanchored[^1].LastEventSequence, registry.ContractAddress, onChainBefore);
                health.Up();
            }
            return new ReanchorResult(reanchored, onChainBefore, refused);
        }
    }

    /// <summary>
    /// With PostgreSQL, instances sharing the database take a session advisory lock for the run (released at the end of the run); with SQLite there is one instance and the in-process gate suffices.
    /// </summary>
    private static async Task<bool> TryLockAcrossInstancesAsync(TraceDbContext db, CancellationToken ct)
    {
        if (!db.Database.IsNpgsql()) return true;
        await db.Database.OpenConnectionAsync(ct);
        await using var cmd = db.Database.GetDbConnection().CreateCommand();
        cmd.CommandText = "SELECT pg_try_advisory_lock(7245002)";
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task UnlockAcrossInstancesAsync(TraceDbContext db)
    {
        if (!db.Database.IsNpgsql()) return;
        await using var cmd = db.Database.GetDbConnection().CreateCommand();
        cmd.CommandText = "SELECT pg_advisory_unlock(7245002)";
        await cmd.ExecuteScalarAsync();
    }

    private RunResult Finish(List<Anchor> touched) =>
        new(touched, touched.FirstOrDefault(a => a.Status != AnchorStatus.Confirmed)?.LastError);

    /// <summary>Writes the next anchor row (pending, with range and root) for the events after the last anchored one; null when none are pending.</summary>
    private async Task<Anchor?> CreateNextAsync(TraceDbContext db, long chainId, CancellationToken ct)
    {
        var lastAnchored = await db.Anchors.MaxAsync(a => (long?)a.LastEventSequence, ct) ?? 0;
        var lastEvent = await db.Events.MaxAsync(e => (long?)e.Sequence, ct) ?? 0;
        if (lastEvent <= lastAnchored) return null;

        var first = lastAnchored + 1;
        var last = Math.Min(lastEvent, lastAnchored + options.AnchorMaxEvents);
        var leaves = await AnchorTrees.LoadLeavesAsync(db, first, last, ct);
        if (leaves.Count != last - first + 1 || (long)leaves[0].Sequence != first || (long)leaves[^1].Sequence != last)
            throw new InvalidOperationException($"Events {first}..{last} are not contiguous in the database ({leaves.Count} rows): refusing to anchor.");

        var tree = StandardMerkleTree.Build(leaves);
        CrashPoints.Hit(CrashPoints.AnchorAfterTreeBuilt);
        var anchor = new Anchor
        {
            Sequence = (await db.Anchors.MaxAsync(a => (long?)a.Sequence, ct) ?? 0) + 1,
            Root = Hex.Encode(tree.Root),
            FirstEventSequence = first,
            LastEventSequence = last,
            Status = AnchorStatus.Pending,
            ChainId = chainId,
            Contract = chain.Contract!,
            CreatedAt = time.GetUtcNow(),
        };
        db.Anchors.Add(anchor);
        await db.SaveChangesAsync(ct);
        trees.Remember(anchor.Sequence, tree, anchor.Root);
        log.LogInformation("Anchor {Sequence}: events {First}..{Last}, root {Root}", anchor.Sequence, first, last, anchor.Root);
        return anchor;
    }

    /// <summary>Moves one anchor as far as it can go now. False when it cannot be confirmed yet (later anchors must wait).</summary>
    private async Task<bool> BringForwardAsync(TraceDbContext db, Anchor anchor, CancellationToken ct)
    {
        var registry = chain.Registry!;

        // The chain is the judge: whatever our row says, first ask whether the anchor is already there.
        var onChain = await registry.GetAnchorAsync(anchor.Sequence, ct);
        if (onChain is not null) return await AdoptAsync(db, anchor, onChain, ct);

        if (anchor.Status == AnchorStatus.Submitted && anchor.TxHash is { } sent)
        {
            var receipt = await registry.GetReceiptAsync(sent, ct);
            if (receipt is null && time.GetUtcNow() - (anchor.SubmittedAt ?? anchor.CreatedAt) < ReceiptTimeout)
                return await WaitAndConfirmAsync(db, anchor, sent, ct);
            // Mined and reverted, or never mined: the range is still free on the chain, so it is sent again below.
            anchor.LastError = receipt is null ? $"transaction {sent} was not mined; sending again" : $"transaction {sent} reverted; sending again";
            anchor.Status = AnchorStatus.Pending;
            await db.SaveChangesAsync(ct);
        }

        string txHash;
        try
        {
            anchor.Attempts++;
            CrashPoints.Hit(CrashPoints.AnchorBeforeSend);
            txHash = await registry.SendAnchorAsync(anchor.Sequence, Hex.Decode(anchor.Root), anchor.FirstEventSequence, anchor.LastEventSequence, ct);
            CrashPoints.Hit(CrashPoints.AnchorAfterSendBeforeRecord);
        }
        catch (ContractRevertedException e)
        {
            anchor.LastError = $"the contract refused anchor {anchor.Sequence}: {e.ErrorName}({string.Join(", ", e.Arguments)})";
            await db.SaveChangesAsync(ct);
            log.LogError("{Error}", anchor.LastError);
            metrics.ChainError("refused");
            health.Down(anchor.LastError);
            return false;
        }
        anchor.TxHash = txHash;
        anchor.Status = AnchorStatus.Submitted;
        anchor.SubmittedAt = time.GetUtcNow();
        anchor.LastError = null;
        await db.SaveChangesAsync(ct);
        return await WaitAndConfirmAsync(db, anchor, txHash, ct);
    }

    private async Task<bool> WaitAndConfirmAsync(TraceDbContext db, Anchor anchor, string txHash, CancellationToken ct)
    {
        var registry = chain.Registry!;
        var deadline = time.GetUtcNow() + ReceiptTimeout;
        while (true)
        {
            var receipt = await registry.GetReceiptAsync(txHash, ct);
            if (receipt is null) CrashPoints.Hit(CrashPoints.AnchorWhilePending);
            if (receipt is not null)
            {
                if (!receipt.Succeeded)
                {
                    anchor.Status = AnchorStatus.Pending;
                    anchor.LastError = $"transaction {txHash} reverted";
                    metrics.ChainError("reverted");
                    await db.SaveChangesAsync(ct);
                    return false;
                }
                anchor.BlockNumber = receipt.BlockNumber;
                var head = (long)(await chain.Web3!.Eth.Blocks.GetBlockNumber.SendRequestAsync().WaitAsync(ct)).Value;
                if (head - receipt.BlockNumber + 1 >= options.Confirmations)
                {
                    CrashPoints.Hit(CrashPoints.AnchorAfterMinedBeforeRecord);
                    anchor.Status = AnchorStatus.Confirmed;
                    anchor.ConfirmedAt = time.GetUtcNow();
                    await db.SaveChangesAsync(ct);
                    CrashPoints.Hit(CrashPoints.AnchorAfterRecord);
                    log.LogInformation("Anchor {Sequence} confirmed in block {Block} ({Tx}, {Gas} gas)", anchor.Sequence, receipt.BlockNumber, txHash, receipt.GasUsed);
                    metrics.AnchorConfirmed(receipt.GasUsed);
                    return true;
                }
            }
            if (time.GetUtcNow() > deadline)
            {
                await db.SaveChangesAsync(ct);
                return false; // stays submitted; the next run confirms it
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), time, ct);
        }
    }

    /// <summary>The chain already holds anchor N: confirm our row if it is the same batch, mark it failed if not.</summary>
    private async Task<bool> AdoptAsync(TraceDbContext db, Anchor anchor, AnchorRecord onChain, CancellationToken ct)
    {
        if (!onChain.Root.AsSpan().SequenceEqual(Hex.Decode(anchor.Root)) ||
            onChain.FirstEventSequence != anchor.FirstEventSequence || onChain.LastEventSequence != anchor.LastEventSequence)
        {
            anchor.Status = AnchorStatus.Failed;
            anchor.LastError = $"the chain holds a different anchor {anchor.Sequence}: root {Hex.Encode(onChain.Root)}, events {onChain.FirstEventSequence}..{onChain.LastEventSequence}";
            await db.SaveChangesAsync(ct);
            log.LogCritical("{Error}", anchor.LastError);
            metrics.ChainError("mismatch");
            health.Down(anchor.LastError);
            return false;
        }
        if (anchor.TxHash is null || anchor.BlockNumber is null)
        {
            // Crashed between sending and recording: find our transaction from the Anchored event.
            var log = (await chain.Registry!.GetAnchoredLogsAsync(0, null, ct)).FirstOrDefault(l => l.Sequence == anchor.Sequence);
            if (log is not null)
            {
                anchor.TxHash = log.TransactionHash;
                anchor.BlockNumber = log.BlockNumber;
            }
        }
        if (anchor.TxHash is not null && anchor.Status != AnchorStatus.Confirmed) return await WaitAndConfirmAsync(db, anchor, anchor.TxHash, ct);
        anchor.Status = AnchorStatus.Confirmed;
        anchor.ConfirmedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return true;
    }

}

/// <summary>Anchor every pending event now (POST /api/v1/anchors/run and the recurring job).</summary>
public sealed record RunAnchoring : Mediator.ICommand<AnchorPendingEvents.RunResult>
{
    /// <summary>The anchoring service is a singleton (one run at a time per process); the scoped handler only hands it the run.</summary>
    public sealed class Handler(AnchorPendingEvents anchoring) : Mediator.ICommandHandler<RunAnchoring, AnchorPendingEvents.RunResult>
    {
        public async ValueTask<AnchorPendingEvents.RunResult> Handle(RunAnchoring command, CancellationToken ct) => await anchoring.RunAsync(ct);
    }
}
