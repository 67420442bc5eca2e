using Traceability.Api.Features.Orders;
using static Traceability.Api.Features.Orders.ScanDecision;

namespace Traceability.Api.Tests.Orders;

/// <summary>
/// The order verdicts as a table: each row an order's lines, the facts about the codes scanned, and the verdict expected
/// on each. No database: <see cref="ScanDecision.Decide"/> is a pure function.
/// </summary>
public sealed class ScanDecisionTableTests
{
    private const string A = "09506000134352";
    private const string B = "09506000134369";
    private static string U(string serial, string gtin = A) => $"https://id.gs1.org/01/{gtin}/21/{serial}";
    private const string Case = "https://id.gs1.org/00/106141412345678908";

    private static OrderLine Line(int n, string gtin, string? lot, long quantity, long scanned = 0) => new(n, gtin, lot, quantity, scanned, 0);

    private static ScanFacts Item(string serial, string gtin = A, string? lot = "L1", bool inTransit = false, bool onOrder = false, string? rule = null) =>
        new(serial, U(serial, gtin), null, true, false, [new ItemFact(U(serial, gtin), gtin, lot, inTransit, onOrder)], rule, rule is null ? null : U(serial, gtin));

    private static ScanFacts CaseOf(params ScanDecision.ItemFact[] items) => new("case", Case, null, true, true, items);

    private static ItemFact Inside(string serial, string gtin = A, string? lot = "L1") => new(U(serial, gtin), gtin, lot, false, false);

    private static readonly OrderLine[] OneLine = [Line(1, A, "L1", 2)];

    public sealed record Row(OrderLine[] Lines, ScanFacts[] Codes, string[] Expected, int[]? LinesTaken = null);

    private static readonly Dictionary<string, Row> Rows = new()
    {
        ["a unit of the line's product and lot"] = new(OneLine, [Item("1")], [Accepted], [1]),
        ["a line for any lot takes every lot"] = new([Line(1, A, null, 2)], [Item("1", lot: "L7"), Item("2", lot: null)], [Accepted, Accepted], [1, 1]),
        ["the lot-specific line first, then the any-lot line"] = new([Line(1, A, null, 5), Line(2, A, "L1", 1)], [Item("1"), Item("2")], [Accepted, Accepted], [2, 1]),
        ["a code that does not read"] = new(OneLine, [new("junk", null, "the code is neither...", false, false, [])], [InvalidCode]),
        ["a code scanned twice in one request"] = new(OneLine, [Item("1"), Item("1")], [Accepted, Duplicate], [1]),
        ["a code already shipped against the order"] = new(OneLine, [Item("1", onOrder: true)], [Duplicate]),
        ["a code the ledger does not know"] = new(OneLine, [new("x", U("9"), null, false, false, [])], [UnknownCode]),
        ["another product"] = new(OneLine, [Item("1", gtin: B)], [NotOnOrder]),
        ["another lot than the line's"] = new(OneLine, [Item("1", lot: "L2")], [NotOnOrder]),
        ["more than the line asks for"] = new(OneLine, [Item("1"), Item("2"), Item("3")], [Accepted, Accepted, LineComplete], [1, 1]),
        ["a line already fulfilled by earlier scans"] = new([Line(1, A, "L1", 2, scanned: 2)], [Item("1")], [LineComplete]),
        ["a unit another member holds"] = new(OneLine, [Item("1", rule: "holder-only")], [NotHolder]),
        ["a recalled unit"] = new(OneLine, [Item("1", rule: "recalled-unit")], ["recalled-unit"]),
        ["a unit on quality hold"] = new(OneLine, [Item("1", rule: "on-hold-unit")], ["on-hold-unit"]),
        ["custody speaks before the order: a recalled unit of another product"] = new(OneLine, [Item("1", gtin: B, rule: "recalled-unit")], ["recalled-unit"]),
        ["a unit already on its way"] = new(OneLine, [Item("1", inTransit: true)], [AlreadyShipped]),
        ["a case counts its contents"] = new([Line(1, A, "L1", 3)], [CaseOf(Inside("1"), Inside("2")), Item("3")], [Accepted, Accepted], [1, 1, 1]),
        ["a case larger than the room left"] = new(OneLine, [CaseOf(Inside("1"), Inside("2"), Inside("3"))], [LineComplete]),
        ["a case with a unit not on the order"] = new([Line(1, A, "L1", 5)], [CaseOf(Inside("1"), Inside("2", gtin: B))], [NotOnOrder]),
        ["a case with nothing inside"] = new(OneLine, [CaseOf()], [EmptyCase]),
        ["a unit scanned alone after its case"] = new([Line(1, A, "L1", 5)], [CaseOf(Inside("1"), Inside("2")), Item("1")], [Accepted, Duplicate], [1, 1]),
        ["a refused case leaves room for the next code"] = new(OneLine, [CaseOf(Inside("1"), Inside("2"), Inside("3")), Item("4")], [LineComplete, Accepted], [1]),
    };

    public static TheoryData<string> RowNames => new(Rows.Keys);

    [Theory]
    [MemberData(nameof(RowNames))]
    public void EachCodeGetsItsVerdict(string row)
    {
        var (lines, codes, expected, taken) = Rows[row];
        var verdicts = ScanDecision.Decide(lines, codes);
        verdicts.Select(v => v.Result).Should().Equal(expected);
        verdicts.Select(v => v.Index).Should().Equal(Enumerable.Range(0, codes.Length));
        verdicts.Where(v => !v.IsAccepted).All(v => v.Message != null && v.Lines.Count == 0).Should().BeTrue("a refusal says why and counts nothing");
        verdicts.SelectMany(v => v.Lines.Select(l => l.Line)).Should().Equal(taken ?? []);
    }

    [Fact]
    public void EveryOrderVerdictHasARow()
    {
        var results = Rows.Values.SelectMany(r => r.Expected).ToHashSet();
        results.Should().Contain([Accepted, InvalidCode, Duplicate, UnknownCode, AlreadyShipped, NotOnOrder, LineComplete, EmptyCase, NotHolder]);
    }
}
