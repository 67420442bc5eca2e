using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Chain;

namespace Traceability.Api.Features.Anchoring;

/// <summary>
/// Does the chain still hold what the ledger records as confirmed? A devnet started without its saved state, or a
/// contract deployed afresh, holds fewer anchors (or none, or no code at all) than the ledger confirmed: every proof
/// then fails and the next anchor is refused. Cheap (three or four calls: the code, anchorCount, getAnchor of the
/// highest confirmed anchor), so it runs on /health (cached a few seconds by <see cref="ChainHealth"/>) and before
/// each anchoring run. The full comparison of every anchor is the self-audit's.
/// </summary>
public static class ChainLedgerCheck
{
    public const string ReanchorHint = "an admin re-anchors them from the ledger with POST /api/v1/anchors/reanchor";

    /// <summary>The highest anchor the ledger records as confirmed, as the check needs it.</summary>
    public sealed record Recorded(long Sequence, string Root, long FirstEventSequence, long LastEventSequence);

    /// <summary>What the chain answered: the contract's code (present or not), its anchorCount, and getAnchor of the recorded sequence.</summary>
    public sealed record Seen(bool HasCode, long AnchorCount, AnchorRecord? AtRecorded);

    /// <summary>Null when the chain holds the ledger's highest confirmed anchor unchanged; otherwise the reason, for /health and the anchoring job.</summary>
    public static string? Judge(string contract, Recorded? recorded, Seen seen)
    {
        if (recorded is null) return null;
        if (!seen.HasCode)
            return $"the chain lost the anchors the ledger confirmed: no AnchorRegistry code at {contract}, and the ledger records anchors 1..{recorded.Sequence} as confirmed " +
                   $"(the devnet lost its state?); run chain-devnet/up to deploy a new AnchorRegistry, then {ReanchorHint}";
        if (seen.AnchorCount < recorded.Sequence)
            return $"the chain lost the anchors the ledger confirmed: AnchorRegistry {contract} holds {seen.AnchorCount} anchors, the ledger records anchors 1..{recorded.Sequence} as confirmed " +
                   $"(anchors {seen.AnchorCount + 1}..{recorded.Sequence} are missing: the chain was reset or the contract deployed afresh); {ReanchorHint}";
        if (seen.AtRecorded is not { } a || !a.Root.AsSpan().SequenceEqual(Hex.Decode(recorded.Root)) ||
            a.FirstEventSequence != recorded.FirstEventSequence || a.LastEventSequence != recorded.LastEventSequence)
            return $"the chain holds a different anchor {recorded.Sequence} than the ledger confirmed at {contract}" +
                   (seen.AtRecorded is { } other ? $" (root {Hex.Encode(other.Root)}, events {other.FirstEventSequence}..{other.LastEventSequence}; the ledger: root {recorded.Root}, events {recorded.FirstEventSequence}..{recorded.LastEventSequence})" : "") +
                   ": another deployment or another history; re-anchoring cannot repair it, run the self-audit";
        return null;
    }

    /// <summary>Reads the ledger's highest confirmed anchor and asks the chain; null when they agree or nothing is confirmed yet.</summary>
    public static async Task<string?> FindProblemAsync(TraceDbContext db, ChainConnection chain, CancellationToken ct)
    {
        if (chain.Registry is not { } registry || chain.Web3 is null) return null; // not configured: /health says so
        var recorded = await db.Anchors.AsNoTracking().Where(a => a.Status == AnchorStatus.Confirmed)
            .OrderByDescending(a => a.Sequence)
            .Select(a => new Recorded(a.Sequence, a.Root, a.FirstEventSequence, a.LastEventSequence))
            .FirstOrDefaultAsync(ct);
        if (recorded is null) return null;
        var hasCode = await chain.HasCodeAsync(registry.ContractAddress, ct);
        if (!hasCode) return Judge(registry.ContractAddress, recorded, new Seen(false, 0, null));
        var count = (long)await registry.AnchorCountAsync(ct);
        var at = count >= recorded.Sequence ? await registry.GetAnchorAsync(recorded.Sequence, ct) : null;
        return Judge(registry.ContractAddress, recorded, new Seen(true, count, at));
    }
}
