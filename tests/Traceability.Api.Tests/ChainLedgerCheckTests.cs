using System.Numerics;
using Traceability.Api.Features.Anchoring;
using Traceability.Chain;

namespace Traceability.Api.Tests;

/// <summary>The decision behind /health's "the chain lost anchors" and the anchoring job's refusal, as a table.</summary>
public sealed class ChainLedgerCheckTests
{
    private const string Contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    private static readonly string Root = "0x" + new string('a', 64);
    private static readonly string OtherRoot = "0x" + new string('b', 64);

    private static AnchorRecord OnChain(long sequence, string root, long first, long last) =>
        new(new BigInteger(sequence), Hex.Decode(root), first, last, DateTimeOffset.UnixEpoch, Contract);

    public static TheoryData<string, ChainLedgerCheck.Recorded?, ChainLedgerCheck.Seen, string?> Cases => new()
    {
        { "nothing confirmed yet, empty contract", null, new(true, 0, null), null },
        { "nothing confirmed yet, no code", null, new(false, 0, null), null },
        { "the chain holds the highest confirmed anchor", new(3, Root, 21, 30), new(true, 3, OnChain(3, Root, 21, 30)), null },
        { "the chain holds more (anchors confirmed later)", new(3, Root, 21, 30), new(true, 5, OnChain(3, Root, 21, 30)), null },
        { "no code at the contract", new(3, Root, 21, 30), new(false, 0, null), "no AnchorRegistry code at " + Contract },
        { "a fresh contract: anchorCount 0", new(3, Root, 21, 30), new(true, 0, null), "holds 0 anchors, the ledger records anchors 1..3 as confirmed (anchors 1..3 are missing" },
        { "a state saved a little early: anchorCount 2", new(3, Root, 21, 30), new(true, 2, null), "holds 2 anchors, the ledger records anchors 1..3 as confirmed (anchors 3..3 are missing" },
        { "another root under the same sequence", new(3, Root, 21, 30), new(true, 3, OnChain(3, OtherRoot, 21, 30)), "the chain holds a different anchor 3" },
        { "another range under the same sequence", new(3, Root, 21, 30), new(true, 3, OnChain(3, Root, 21, 31)), "the chain holds a different anchor 3" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Judges(string situation, ChainLedgerCheck.Recorded? recorded, ChainLedgerCheck.Seen seen, string? expected)
    {
        var problem = ChainLedgerCheck.Judge(Contract, recorded, seen);
        if (expected is null) problem.Should().BeNull(situation);
        else
        {
            problem.Should().Contain(expected, situation);
            if (seen.HasCode && seen.AnchorCount < recorded!.Sequence) problem.Should().Contain("POST /api/v1/anchors/reanchor");
        }
    }
}
