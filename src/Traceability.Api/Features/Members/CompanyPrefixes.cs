using Microsoft.EntityFrameworkCore;
using Traceability.Api.Domain;
using Traceability.Api.Infrastructure.Auth;
using Traceability.Api.Infrastructure.Errors;
using Traceability.Api.Infrastructure.Persistence;
using Traceability.Api.Infrastructure.Validation;

namespace Traceability.Api.Features.Members;

/// <summary>
/// GS1 company prefixes a member declares (4 to 12 digits, each declared by one member only). A member that declared
/// some registers GTINs and SGLNs under them only; nobody else registers keys under a declared prefix. A member that
/// declared none is not restricted (GS1 licences are not checked here), except by others' declarations.
/// </summary>
public static class CompanyPrefixes
{
    public const int MaxPerMember = 50;

    public static void Validate(IReadOnlyList<string>? prefixes, List<FieldError> errors)
    {
        if (prefixes is null) return;
        if (prefixes.Count > MaxPerMember) errors.Add(new("companyPrefixes", $"at most {MaxPerMember} company prefixes."));
        foreach (var p in prefixes)
            if (p is not { Length: >= 4 and <= 12 } || !Digits.IsAscii(p))
                errors.Add(new("companyPrefixes", $"'{(p is { Length: > 20 } ? p[..20] + "…" : p)}' is not a GS1 company prefix (4 to 12 digits)."));
    }

    /// <summary>The prefixes as stored: each once, in the order given (after <see cref="Validate"/> passed).</summary>
    public static List<string> Distinct(IReadOnlyList<string>? prefixes) => prefixes?.Distinct(StringComparer.Ordinal).ToList() ?? [];

    /// <summary>Does the key's digits (a GTIN without its indicator digit, or a GLN) start with one of the prefixes?</summary>
    public static bool Covers(IEnumerable<string> prefixes, string keyDigits) =>
        prefixes.Any(p => keyDigits.StartsWith(p, StringComparison.Ordinal));

    /// <summary>409 when another member already declared one of these prefixes (or one that overlaps it).</summary>
    public static async Task RequireUnclaimedAsync(TraceDbContext db, IReadOnlyList<string> prefixes, string? memberId, CancellationToken ct)
    {
        if (prefixes.Count == 0) return;
        var others = await db.Members.AsNoTracking().Where(m => m.Id != memberId).Select(m => new { m.Id, m.CompanyPrefixes }).ToListAsync(ct);
        foreach (var p in prefixes)
            foreach (var o in others)
                if (o.CompanyPrefixes.Any(q => q.StartsWith(p, StringComparison.Ordinal) || p.StartsWith(q, StringComparison.Ordinal)))
                    throw new ConflictException($"Company prefix {p} overlaps a prefix another member declared.");
    }

    /// <summary>The caller registers a key: <see cref="RequireUnderAsync"/> for itself (the operator is not restricted).</summary>
    public static Task RequireUnderOwnAsync(TraceDbContext db, Caller caller, string field, string keyDigits, string what, CancellationToken ct) =>
        caller.Role == MemberRole.Admin ? Task.CompletedTask : RequireUnderAsync(db, caller.MemberId, field, keyDigits, what, ct);

    /// <summary>
    /// 422 naming <paramref name="field"/> when the key is not under the member's declared prefixes, or falls under a
    /// prefix another member declared.
    /// </summary>
    public static async Task RequireUnderAsync(TraceDbContext db, string memberId, string field, string keyDigits, string what, CancellationToken ct)
    {
        var declared = await db.Members.AsNoTracking()
            .Select(m => new { m.Id, m.CompanyPrefixes }).ToListAsync(ct);
        var own = declared.FirstOrDefault(m => m.Id == memberId)?.CompanyPrefixes ?? [];
        string? problem = null;
        if (own.Count > 0 && !Covers(own, keyDigits))
            problem = $"{what} is not under the member's company prefixes ({string.Join(", ", own)}).";
        else if (own.Count == 0 && declared.Any(m => m.Id != memberId && Covers(m.CompanyPrefixes, keyDigits)))
            problem = $"{what} is under a company prefix another member declared.";
        if (problem is not null)
            throw new RequestValidationException("Not under the member's company prefixes", [new FieldError(field, problem, Rule: "company-prefix")], unprocessable: true);
    }
}
