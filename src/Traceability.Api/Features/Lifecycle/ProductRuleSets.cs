using System.Data.Common;
using Traceability.Api.Features.Capture;
using Traceability.Api.Features.Tracing;
using Traceability.Api.Infrastructure.Persistence;

namespace Traceability.Api.Features.Lifecycle;

/// <summary>
/// The versions of the products' control points for the length of one capture (one instance per request scope): read in
/// one query for the document's products, on demand for others (the contents of an inspected container), and added to
/// as the capture records new versions, so that a later event of the same document is judged by them. The control point
/// step reads the rule sets; the custody step reads the hold rule in force (<see cref="IHoldRules"/>).
/// </summary>
public sealed class ProductRuleSets : IHoldRules
{
    private const string Columns = "gtin, version, effective_from, rules_json, sha256";

    private readonly Dictionary<string, List<RuleSetVersion>> _versions = new(StringComparer.Ordinal);

    private static RuleSetVersion Read(DbDataReader r) =>
        new(r.GetString(0), r.GetInt64(1), DbTime.Parse(r.GetString(2)), ControlRules.Parse(r.GetString(3)), r.GetString(4));

    /// <summary>The start of a capture: forgets the last one's, reads these products' versions.</summary>
    public async Task BeginAsync(CaptureContext context, IReadOnlyCollection<string> gtins, CancellationToken ct)
    {
        _versions.Clear();
        foreach (var g in gtins) _versions[g] = [];
        foreach (var row in await Sql.ListInAsync(context.Connection, context.Transaction, $"SELECT {Columns} FROM control_rule_sets WHERE gtin IN ({{in}})", gtins, Read, ct))
            _versions[row.Gtin].Add(row);
    }

    /// <summary>Every version of a product's rules (read once per capture).</summary>
    public async ValueTask<IReadOnlyList<RuleSetVersion>> VersionsAsync(CaptureContext context, string gtin, CancellationToken ct)
    {
        if (_versions.TryGetValue(gtin, out var known)) return known;
        return _versions[gtin] = await context.ListAsync($"SELECT {Columns} FROM control_rule_sets WHERE gtin = @g", Read, ct, ("@g", gtin));
    }

    /// <summary>Whether any product read so far has a version (every product of a capture is read at its start).</summary>
    public bool AnyVersions
    {
        get
        {
            foreach (var list in _versions.Values)
                if (list.Count > 0) return true;
            return false;
        }
    }

    /// <summary>A version recorded by this capture, in force for the events after it.</summary>
    public void Add(RuleSetVersion version)
    {
        if (!_versions.TryGetValue(version.Gtin, out var list)) _versions[version.Gtin] = list = [];
        list.Add(version);
    }

    /// <summary>The end of a capture: what it learnt may be rolled back with it.</summary>
    public void Clear() => _versions.Clear();

    public async ValueTask<HoldRule> InForceAsync(CaptureContext context, string gtin, DateTimeOffset at, CancellationToken ct) =>
        ControlRules.HoldRuleInForce(await VersionsAsync(context, gtin, ct), at);
}
