using System.Text.Json;
using Traceability.Ledger.Crypto;
using Traceability.Ledger.Merkle;

namespace Traceability.Ledger.Tests.Merkle;

/// <summary>Reads the vector files written by vectors/make-vectors.js (copied next to the test assembly).</summary>
internal static class MerkleVectors
{
    public static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "Merkle", "vectors");

    public static JsonElement Load(string fileName)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory, fileName)));
        return document.RootElement.Clone();
    }

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.StartsWith("0x", StringComparison.Ordinal) ? hex[2..] : hex);

    public static byte[] Hex(JsonElement element) => Hex(element.GetString()!);

    public static string ToHex(byte[] bytes) => "0x" + Convert.ToHexStringLower(bytes);

    public static MerkleLeaf Leaf(JsonElement value) =>
        new(ulong.Parse(value[0].GetString()!, System.Globalization.CultureInfo.InvariantCulture), Hex(value[1]));

    public static List<byte[]> HexList(JsonElement array) => array.EnumerateArray().Select(Hex).ToList();

    /// <summary>The inputs make-vectors.js uses for a tree of <paramref name="size"/> leaves (for files that do not store them).</summary>
    public static List<MerkleLeaf> Regenerate(int size)
    {
        var leaves = new List<MerkleLeaf>(size);
        for (var i = 0; i < size; i++)
        {
            var sequence = size == 7 ? ulong.MaxValue - 6 + (ulong)i : (ulong)size * 1000 + (ulong)i + 1;
            leaves.Add(new MerkleLeaf(sequence, Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes($"traceability-merkle-vectors:{size}:{i}"))));
        }

        return leaves;
    }
}
