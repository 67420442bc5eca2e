namespace Traceability.Api.Features.Orders;

/// <summary>
/// The verdict on each code of an outbound scan against an order, as a pure function: <see cref="Decide"/> takes the
/// order's lines as they are and what is known about each code (<see cref="ScanFacts"/>: read by the scanning handler
/// from the units table and the custody rules), and returns one verdict per code in the order scanned, and what the
/// accepted ones add to each line. No database: the table-driven tests build the facts by hand.
/// <para>
/// The checks, first failing wins: the code must read (<c>invalid-code</c>); a code already met in this request is
/// accepted once (<c>duplicate</c>); it must name a unit of the ledger (<c>unknown-code</c>); a unit already shipped
/// against this order is <c>duplicate</c> too; then the custody rules for shipping (<c>not-holder</c>,
/// <c>recalled-unit</c>, <c>on-hold-unit</c>, <c>destroyed-unit</c>, <c>not-commissioned</c>): a unit that may not move
/// says so before anything about the order; a unit already on its way is <c>already-shipped</c>; its product and lot
/// must be on a line (<c>not-on-order</c>) with room left (<c>line-complete</c>). A case (SSCC) counts its contents:
/// accepted only when every unit inside is, refused with the first unit's rule otherwise.
/// </para>
/// </summary>
public static class ScanDecision
{
    public const string Accepted = "accepted";
    public const string InvalidCode = "invalid-code";
    public const string Duplicate = "duplicate";
    public const string UnknownCode = "unknown-code";
    public const string AlreadyShipped = "already-shipped";
    public const string NotOnOrder = "not-on-order";
    public const string LineComplete = "line-complete";
    public const string EmptyCase = "empty-case";
    public const string NotHolder = "not-holder";

    /// <summary>One unit a code counts: an item itself, or an item inside a case.</summary>
    public sealed record ItemFact(string Epc, string Gtin, string? Lot, bool InTransit, bool OnThisOrder);

    /// <summary>
    /// What the handler found about one scanned code: its canonical EPC (null when it does not read, with
    /// <see cref="Problem"/>), whether it names a unit of the ledger, the items it counts (a case: everything inside), and
    /// the custody rule broken by shipping it (the rule name as the custody table says it, with the unit at fault).
    /// </summary>
    public sealed record ScanFacts(string Code, string? Epc, string? Problem, bool Known, bool IsCase, IReadOnlyList<ItemFact> Items,
        string? CustodyRule = null, string? CustodyEpc = null, string? CustodyMessage = null);

    /// <summary>The verdict on one code; <see cref="Lines"/>: the line each accepted item counts on.</summary>
    public sealed record Verdict(int Index, string Code, string? Epc, string Result, string? Message, IReadOnlyList<(string Epc, int Line)> Lines)
    {
        public bool IsAccepted => Result == Accepted;
    }

    /// <summary>The verdict on every code, in the order scanned; the lines' <c>Scanned</c> counts are not changed.</summary>
    public static List<Verdict> Decide(IReadOnlyList<OrderLine> lines, IReadOnlyList<ScanFacts> codes)
    {
        var room = lines.ToDictionary(l => l.Line, l => l.Quantity - l.Scanned);
        var seenCodes = new HashSet<string>(StringComparer.Ordinal);
        var acceptedItems = new HashSet<string>(StringComparer.Ordinal);
        var verdicts = new List<Verdict>(codes.Count);
        for (var i = 0; i < codes.Count; i++)
        {
            var c = codes[i];
            Verdict Refuse(string rule, string message) => new(i, c.Code, c.Epc, rule, message, []);
            if (c.Epc is null) { verdicts.Add(Refuse(InvalidCode, c.Problem ?? "the code does not read.")); continue; }
            if (!seenCodes.Add(c.Epc) || c.Items.Any(item => acceptedItems.Contains(item.Epc)))
            {
                verdicts.Add(Refuse(Duplicate, "scanned before in this request; counted once."));
                continue;
            }
            if (!c.Known) { verdicts.Add(Refuse(UnknownCode, $"{c.Epc} is not a unit of the ledger (never commissioned or packed here).")); continue; }
            if (c.Items.Any(item => item.OnThisOrder)) { verdicts.Add(Refuse(Duplicate, "already shipped against this order; counted once.")); continue; }
            if (c.CustodyRule is { } rule)
            {
                verdicts.Add(Refuse(rule == "holder-only" ? NotHolder : rule, c.CustodyMessage ?? $"{c.CustodyEpc ?? c.Epc} breaks {rule}."));
                continue;
            }
            if (c.IsCase && c.Items.Count == 0) { verdicts.Add(Refuse(EmptyCase, $"{c.Epc} holds no unit to ship.")); continue; }
            if (c.Items.FirstOrDefault(item => item.InTransit) is { } moving)
            {
                verdicts.Add(Refuse(AlreadyShipped, $"{moving.Epc} is already on its way (shipped and not received)."));
                continue;
            }

            // Each item takes a place on the line of its product and lot, else on the line of its product for any lot.
            var taken = new List<(string Epc, int Line)>();
            var used = new Dictionary<int, long>();
            string? refusal = null, message = null;
            foreach (var item in c.Items)
            {
                var candidates = lines.Where(l => l.Gtin == item.Gtin && (l.Lot is null || l.Lot == item.Lot)).OrderBy(l => l.Lot is null).ToList();
                if (candidates.Count == 0)
                {
                    (refusal, message) = (NotOnOrder, $"{item.Epc}: GTIN {item.Gtin} lot {item.Lot ?? "(none)"} is on no line of the order.");
                    break;
                }
                var line = candidates.FirstOrDefault(l => room[l.Line] - used.GetValueOrDefault(l.Line) > 0);
                if (line is null)
                {
                    (refusal, message) = (LineComplete, $"{item.Epc}: line {candidates[0].Line} (GTIN {item.Gtin}) has every unit it asks for.");
                    break;
                }
                used[line.Line] = used.GetValueOrDefault(line.Line) + 1;
                taken.Add((item.Epc, line.Line));
            }
            if (refusal is not null) { verdicts.Add(Refuse(refusal, message!)); continue; }
            foreach (var (line, n) in used) room[line] -= n;
            foreach (var (epc, _) in taken) acceptedItems.Add(epc);
            verdicts.Add(new Verdict(i, c.Code, c.Epc, Accepted, null, taken));
        }
        return verdicts;
    }
}
