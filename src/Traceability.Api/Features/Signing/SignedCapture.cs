using Traceability.Api.Features.Capture;
using Traceability.Api.Infrastructure.Chain;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Api.Features.Signing;

/// <summary>
/// Capture step for signed documents, inside the capture's transaction: before the first event, rebuilds the signed
/// tree from the document's events (in document order), recovers the signer and refuses the document unless it is an
/// active address of the calling member (rule signature-not-member), or when it is unsigned and signatures are
/// required (rule signature-required); then stores the document's signature once and, for each event appended, its proof
/// in the signed tree. Everything commits or rolls back with the events.
/// <para>A document appended event by event (a proceed capture job) is checked the same way in each of its captures,
/// against the whole document's tree (<see cref="CaptureSignature.DocumentHashes"/>): each event's proof is at its place
/// in the document, and the captures share one signed_documents row (the first that commits writes it).</para>
/// </summary>
public sealed class SignedCaptureStep(CaptureSignature header, ChainConnection chain, TraceOptions options) : ICaptureStep
{
    public const string NotMemberRule = "signature-not-member";
    public const string RequiredRule = "signature-required";

    private StandardMerkleTree? _tree;
    private (IReadOnlyList<string> Leaves, StandardMerkleTree Tree)? _built; // a document appended in parts: its tree is built once
    private Dictionary<string, int>? _positions; // a part's event -> its place in the document
    private long _documentId;
    private byte[] _proof = [];

    public async ValueTask BeginAsync(CaptureContext context, IReadOnlyList<ValidatedEvent> events, CancellationToken ct)
    {
        _tree = null;
        if (header.Signature is not { } signature)
        {
            if (options.RequireSignatures) Refuse(RequiredRule, $"This service requires signed documents (TRACE_REQUIRE_SIGNATURES): send {CaptureSignature.Header}.");
            return;
        }
        if (chain.Contract is null) throw new ChainRefusal(chain.ConfigurationProblem ?? "no AnchorRegistry address");
        var chainId = chain.KnownChainId ?? await chain.GetChainIdAsync(ct);
        var contract = EthAddress.Normalize(chain.Contract);
        var leaves = header.DocumentHashes ?? events.Select(e => e.EventHash).ToList();
        if (_built is not { } built || !ReferenceEquals(built.Leaves, leaves))
            _built = built = (leaves, SignedEventsTree.Build(leaves.Select(h => EventHash.Digest(h)).ToList()));
        var tree = built.Tree;
        var root = tree.Root;
        var signer = MemberSignatures.RecoverEventsSigned(signature, chainId, contract, root, leaves.Count);
        var memberId = context.Caller.MemberId;
        if (signer is null || !await MemberAddressesApi.IsActiveAsync(context.Connection, context.Transaction, signer, memberId, ct))
            Refuse(NotMemberRule, $"The signature recovers to {signer ?? "no address"}, which is not an active address of member {memberId} " +
                $"(eventsRoot {Hex.Encode(root)}, eventCount {leaves.Count}, chainId {chainId}, verifyingContract {contract}).");

        // one row per signed document: a document appended in parts, or sent again, finds the row its first capture wrote
        var existing = await context.ListAsync("SELECT id FROM signed_documents WHERE events_root = @r AND signature = @sig AND member_id = @m AND chain_id = @c AND contract = @k",
            r => r.GetInt64(0), ct, ("@r", Hex.Encode(root)), ("@sig", Hex.Encode(signature)), ("@m", memberId), ("@c", chainId), ("@k", contract));
        if (existing.Count > 0) _documentId = existing[0];
        else
        {
            var cmd = context.Command("INSERT INTO signed_documents (member_id, signer, events_root, event_count, signature, chain_id, contract, record_time) " +
                "VALUES (@m, @s, @r, @n, @sig, @c, @k, @t) RETURNING id");
            foreach (var (name, value) in new (string, object?)[] { ("@m", memberId), ("@s", signer), ("@r", Hex.Encode(root)), ("@n", (long)leaves.Count),
                ("@sig", Hex.Encode(signature)), ("@c", chainId), ("@k", contract), ("@t", DbTime.Format(context.RecordTime)) })
                Sql.AddParameter(cmd, name, value);
            await using (cmd) _documentId = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
        }
        if (header.DocumentHashes is { } all && _positions is null)
        {
            _positions = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = all.Count - 1; i >= 0; i--) _positions[all[i]] = i; // an event twice in the document: its first place (both leaves are the same)
        }
        _tree = tree;
        _proof = new byte[32 * MerkleProofVerifier.MaxProofLength];
    }

    public async ValueTask ApplyAsync(CaptureContext context, AppendedEvent appended, CancellationToken ct)
    {
        if (_tree is null) return;
        var place = _positions is { } positions ? positions[appended.Validated.EventHash] : appended.Validated.Index;
        var nodes = _tree.WriteProofAt(place, _proof);
        await context.ExecAsync("INSERT INTO event_signatures (sequence, document_id, proof) VALUES (@s, @d, @p)", ct,
            ("@s", appended.Sequence), ("@d", _documentId), ("@p", _proof.AsSpan(0, 32 * nodes).ToArray()));
    }

    private static void Refuse(string rule, string message) =>
        throw new RequestValidationException("The document's signature breaks a rule; nothing was stored",
            [new FieldError(CaptureSignature.Header, message, Rule: rule)], unprocessable: true) { Type = "rule-violation" };
}
