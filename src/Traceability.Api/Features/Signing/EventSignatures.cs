using System.Data.Common;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Api.Features.Signing;

/// <summary>
/// An event's member signature as the proof bundle carries it: who signed (<see cref="Signer"/>, an address of
/// <see cref="MemberId"/>), the signed tree's root and size, the event's proof in it, the EIP-712 signature and the
/// domain it was made in (chain id, AnchorRegistry address).
/// </summary>
public sealed record BundleSignature(string Signer, string MemberId, string EventsRoot, long EventCount, IReadOnlyList<string> Proof, string Signature,
    long ChainId, string Contract)
{
    /// <summary>Why this signature does not hold for an event with <paramref name="eventHash"/>, or null when it does (no chain needed).</summary>
    public string? Problem(string eventHash) => TreeProblem(eventHash) ?? SignatureProblem();

    /// <summary>Why the event is not a leaf of the signed tree, or null.</summary>
    public string? TreeProblem(string eventHash)
    {
        try
        {
            var check = SignedEventsTree.Verify(Hex.Decode(EventsRoot), EventHash.Digest(eventHash), Proof.Select(Hex.Decode).ToList(), EventCount);
            return check.IsValid ? null : $"the event is not in the signed tree: {check.Reason}";
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return $"the stored proof is malformed: {e.Message}";
        }
    }

    /// <summary>Why the signature does not recover to <see cref="Signer"/> over the root and count, or null (one recovery per document).</summary>
    public string? SignatureProblem()
    {
        try
        {
            if (!MemberSignatures.TryParseSignature(Signature, out var signature)) return "the stored signature is not 65 bytes";
            var recovered = MemberSignatures.RecoverEventsSigned(signature, ChainId, Contract, Hex.Decode(EventsRoot), EventCount);
            return recovered == Signer ? null : $"the signature recovers to {recovered ?? "no address"}, not the recorded signer {Signer}";
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return $"the stored signature is malformed: {e.Message}";
        }
    }
}

public static class EventSignatures
{
    private const string Select =
        "SELECT es.sequence, d.signer, d.member_id, d.events_root, d.event_count, es.proof, d.signature, d.chain_id, d.contract " +
        "FROM event_signatures es JOIN signed_documents d ON d.id = es.document_id";

    /// <summary>The signature of event <paramref name="sequence"/>, or null for an unsigned event.</summary>
    public static async Task<BundleSignature?> ForEventAsync(DbConnection conn, long sequence, CancellationToken ct) =>
        (await Sql.ListAsync(conn, null, Select + " WHERE es.sequence = @s", r => Read(r).Signature, ct, ("@s", sequence))).FirstOrDefault();

    /// <summary>The signatures of the events <paramref name="first"/>..<paramref name="last"/>, by sequence.</summary>
    public static async Task<Dictionary<long, BundleSignature>> InRangeAsync(DbConnection conn, long first, long last, CancellationToken ct) =>
        (await Sql.ListAsync(conn, null, Select + " WHERE es.sequence BETWEEN @f AND @l", Read, ct, ("@f", first), ("@l", last)))
            .ToDictionary(x => x.Sequence, x => x.Signature);

    private static (long Sequence, BundleSignature Signature) Read(DbDataReader r)
    {
        var proof = (byte[])r.GetValue(5);
        var nodes = new List<string>(proof.Length / 32);
        for (var i = 0; i + 32 <= proof.Length; i += 32) nodes.Add(Hex.Encode(proof.AsSpan(i, 32)));
        return (r.GetInt64(0), new BundleSignature(r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), nodes, r.GetString(6), r.GetInt64(7), r.GetString(8)));
    }
}
