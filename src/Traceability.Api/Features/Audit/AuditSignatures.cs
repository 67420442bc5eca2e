using System.Data.Common;
using Traceability.Api.Domain;
using Traceability.Api.Features.Signing;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Audit;

// The member-signature part of the self-audit: every stored signature must still hold for its event (the event's digest in
// the signed tree, the signature recovering to the recorded signer, the signer's member the event's submitter); with
// TRACE_REQUIRE_SIGNATURES on, every event in a member's name must carry one.
public sealed partial class AuditLedger
{
    private const int SignatureBatch = 10_000;

    /// <summary>Checks the member signatures of events 1..<paramref name="lastEvent"/>; each bad one is an event finding.</summary>
    private async Task AuditSignaturesAsync(DbConnection conn, long lastEvent, Findings findings, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var require = scope.ServiceProvider.GetRequiredService<TraceOptions>().RequireSignatures;
        var documents = new Dictionary<long, string?>(); // a document's signature is recovered once, whatever its size
        for (long first = 1; first <= lastEvent; first += SignatureBatch)
        {
            var last = Math.Min(lastEvent, first + SignatureBatch - 1);
            var rows = await Sql.ListAsync(conn, null,
                "SELECT e.sequence, e.event_hash, e.submitter_id, es.document_id FROM events e LEFT JOIN event_signatures es ON es.sequence = e.sequence " +
                "WHERE e.sequence BETWEEN @f AND @l ORDER BY e.sequence",
                r => (Sequence: r.GetInt64(0), Hash: r.GetString(1), Submitter: r.GetString(2), Document: r.Long(3)), ct, ("@f", first), ("@l", last));
            var signatures = await EventSignatures.InRangeAsync(conn, first, last, ct);
            foreach (var row in rows)
            {
                if (row.Document is not { } document || !signatures.TryGetValue(row.Sequence, out var s))
                {
                    if (require && row.Submitter != Infrastructure.Auth.Caller.AdminId)
                        findings.Add(null, row.Sequence, AuditKinds.SignatureMissing,
                            $"event {row.Sequence} is in member {row.Submitter}'s name but carries no member signature (TRACE_REQUIRE_SIGNATURES is on)", (row.Sequence, row.Sequence));
                    continue;
                }
                if (!documents.TryGetValue(document, out var documentProblem)) documents[document] = documentProblem = s.SignatureProblem();
                var problem = s.MemberId != row.Submitter
                    ? $"event {row.Sequence} is in member {row.Submitter}'s name, its signature in member {s.MemberId}'s"
                    : s.TreeProblem(row.Hash) ?? documentProblem;
                if (problem is not null)
                    findings.Add(null, row.Sequence, AuditKinds.Signature, $"event {row.Sequence}: {problem}", (row.Sequence, row.Sequence));
            }
        }
    }
}
