using System.Diagnostics;
using Nethereum.Util;
using Org.BouncyCastle.Crypto.Digests;
using Traceability.Ledger.Crypto;

namespace Traceability.Benchmarks;

/// <summary>
/// Keccak-256 of 64-byte inputs (one Merkle node: two 32-byte children) on one thread: the Ledger's own permutation
/// against the two library ones that come with Nethereum, Nethereum's Sha3Keccack and BouncyCastle's KeccakDigest
/// (reused, as a hot loop would). All three must agree on every input; the fastest is the one worth keeping
/// (docs/adr/0007-keccak.md).
/// </summary>
public static class KeccakBenchmark
{
    private const int Count = 500_000;
    private const int Rounds = 5;
    private const int Inputs = 1024;

    public static IReadOnlyList<Figure> Run(Action<string> log)
    {
        var inputs = new byte[Inputs][];
        var random = new Random(7);
        for (var i = 0; i < Inputs; i++)
        {
            inputs[i] = new byte[64];
            random.NextBytes(inputs[i]);
        }

        var nethereum = new Sha3Keccack();
        var bouncy = new KeccakDigest(256);
        foreach (var input in inputs)
        {
            var ledger = Keccak256.Hash(input);
            if (!ledger.AsSpan().SequenceEqual(nethereum.CalculateHash(input)) || !ledger.AsSpan().SequenceEqual(Bouncy(bouncy, input, new byte[32])))
                throw new InvalidOperationException("The three keccak-256 implementations disagree.");
        }

        var output = new byte[32];
        var candidates = new (string Name, string Detail, Action<int> Body)[]
        {
            ("keccak-256 of 64 B, Ledger's Keccak256 (span, no allocation)", "Traceability.Ledger.Crypto.Keccak256.Hash(input, output)",
                n => { for (var i = 0; i < n; i++) Keccak256.Hash(inputs[i % Inputs], output); }),
            ("keccak-256 of 64 B, Ledger's Keccak256 (new byte[] per hash)", "Traceability.Ledger.Crypto.Keccak256.Hash(input), as MerkleLeaf.Hash calls it",
                n => { for (var i = 0; i < n; i++) GC.KeepAlive(Keccak256.Hash(inputs[i % Inputs])); }),
            ("keccak-256 of 64 B, Nethereum Sha3Keccack", "Nethereum.Util.Sha3Keccack.CalculateHash(byte[]) 6.1.0, one instance",
                n => { for (var i = 0; i < n; i++) GC.KeepAlive(nethereum.CalculateHash(inputs[i % Inputs])); }),
            ("keccak-256 of 64 B, BouncyCastle KeccakDigest", "Org.BouncyCastle.Crypto.Digests.KeccakDigest(256) 2.7.0, reused: BlockUpdate + DoFinal",
                n => { for (var i = 0; i < n; i++) Bouncy(bouncy, inputs[i % Inputs], output); }),
        };

        // Warm every candidate up (tiered JIT), then interleave the timed rounds so that a busy machine slows them alike.
        foreach (var c in candidates) c.Body(Count / 4);
        var best = new double[candidates.Length];
        Array.Fill(best, double.MaxValue);
        for (var round = 0; round < Rounds; round++)
        {
            for (var k = 0; k < candidates.Length; k++)
            {
                GC.Collect();
                var clock = Stopwatch.StartNew();
                candidates[k].Body(Count);
                best[k] = Math.Min(best[k], clock.Elapsed.TotalSeconds);
            }
        }

        var figures = new List<Figure>();
        for (var k = 0; k < candidates.Length; k++)
        {
            var rate = Math.Round(Count / best[k]);
            log($"  {candidates[k].Name}: {rate:N0} hashes/s");
            figures.Add(new Figure(candidates[k].Name, rate, "hashes/s",
                $"{candidates[k].Detail}; {Count:N0} hashes per round, one thread, best of {Rounds} interleaved rounds"));
        }
        return figures;
    }

    private static byte[] Bouncy(KeccakDigest digest, byte[] input, byte[] output)
    {
        digest.BlockUpdate(input, 0, input.Length);
        digest.DoFinal(output, 0);
        return output;
    }
}
