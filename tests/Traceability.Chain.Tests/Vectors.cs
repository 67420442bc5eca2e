using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Traceability.Chain.Tests;

/// <summary>
/// The known answers of vectors/chain-vectors.json, produced by vectors/make-vectors.js with ethers 6 and
/// @openzeppelin/merkle-tree (each vector says how, in "producedBy"). Theories take a vector's name.
/// </summary>
internal static class Vectors
{
    private static readonly Lazy<JsonElement> Root = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "vectors", "chain-vectors.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return document.RootElement.Clone();
    });

    public static IReadOnlyList<JsonElement> All(string group) => Root.Value.GetProperty("vectors").GetProperty(group).EnumerateArray().ToList();

    public static TheoryData<string> Names(string group)
    {
        var data = new TheoryData<string>();
        foreach (var v in All(group)) data.Add(v.GetProperty("name").GetString()!);
        return data;
    }

    public static JsonElement Get(string group, string name) => All(group).Single(v => v.GetProperty("name").GetString() == name);

    public static string Str(this JsonElement e, string property) => e.GetProperty(property).GetString()!;

    public static byte[] Bytes(this JsonElement e, string property) => Hex.Decode(e.Str(property));

    public static BigInteger Big(this JsonElement e) => e.ValueKind == JsonValueKind.Number
        ? BigInteger.Parse(e.GetRawText(), CultureInfo.InvariantCulture)
        : BigInteger.Parse(e.GetString()!, CultureInfo.InvariantCulture);

    public static BigInteger Big(this JsonElement e, string property) => e.GetProperty(property).Big();

    public static JsonElement Arg(this JsonElement e, int index) => e.GetProperty("args")[index];
}
