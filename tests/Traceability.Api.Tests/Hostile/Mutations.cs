using System.Text;
using System.Text.Json.Nodes;

namespace Traceability.Api.Tests.Hostile;

/// <summary>
/// Deterministic mutations of valid capture documents, from a seed: fields dropped, repeated, retyped, nested deeper,
/// made huge; bad dates, bad EPCs, bad quantities, broken Unicode, truncated or bit-flipped text, many events, XML
/// with a DTD or too deep. The same seed gives the same document (the failing seed is reported).
/// </summary>
public static class Mutations
{
    private static readonly string[] BadTimes =
    [
        "2026-11-01T08:00:00", "2026-11-01", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "9999-12-31T23:59:59.999999999+14:00",
        "0001-01-01T00:00:00-14:00", "2026-11-01T24:00:00Z", "2026-11-01T08:00:00+99:99", "", " ", "now", "2026-11-01T08:00:00ZZ",
        "1e10", "2026-11-01T08:00:60Z", "２０２６-11-01T08:00:00Z", "2026-11-01T08:00:00.Z", "-2026-11-01T08:00:00Z",
    ];

    private static readonly string[] Fields =
    [
        "type", "eventTime", "eventTimeZoneOffset", "epcList", "action", "bizStep", "disposition", "readPoint", "bizLocation", "ilmd",
        "quantityList", "parentID", "childEPCs", "bizTransactionList", "sourceList", "destinationList", "sensorElementList", "eventID",
        "recordTime", "persistentDisposition", "errorDeclaration", "certificationInfo", "example:x",
    ];

    public static (string Body, string ContentType) Make(int seed, string existingEpc)
    {
        var rng = new Random(seed);
        if (rng.Next(10) == 0) return (Xml(rng), "application/xml");
        var e = rng.Next(3) switch
        {
            0 => HostileWorld.Event(HostileWorld.NewEpc()),
            1 => Observe(existingEpc, rng),
            _ => Quantities(),
        };
        var doc = HostileWorld.Document(e);
        var ops = 1 + rng.Next(3);
        string? text = null;
        for (var i = 0; i < ops; i++)
        {
            var op = rng.Next(14);
            if (text is not null && op < 11) op = 11 + rng.Next(3); // once text, only text operations
            switch (op)
            {
                case 0: Drop(rng, e); break;
                case 1: e[Pick(rng, Fields)] = Value(rng); break;
                case 2: Deepen(rng, e); break;
                case 3: e[Pick(rng, Fields)] = new string((char)('a' + rng.Next(26)), rng.Next(4) == 0 ? 200_000 : 1 + rng.Next(6000)); break;
                case 4: e["eventTime"] = Pick(rng, BadTimes); break;
                case 5: e["epcList"] = new JsonArray(BadEpc(rng)); break;
                case 6: e["quantityList"] = new JsonArray(new JsonObject { ["epcClass"] = "urn:epc:class:lgtin:0614141.107346.L1", ["quantity"] = Value(rng), ["uom"] = Value(rng) }); break;
                case 7:
                    if (doc["epcisBody"]?["eventList"] is not JsonArray events) break;
                    var copies = rng.Next(40);
                    for (var k = 0; k < copies; k++) events.Add(k % 2 == 0 ? e.DeepClone() : HostileWorld.Event(HostileWorld.NewEpc()));
                    break;
                case 8:
                    if (rng.Next(2) == 0) doc.Remove("epcisBody");
                    else doc["type"] = Value(rng);
                    break;
                case 9: e["example:" + rng.Next(1000)] = Value(rng, depth: 3); break;
                case 10: e["ilmd"] = new JsonObject { ["cbvmda:lotNumber"] = Value(rng) }; break;
                case 11: text = Splice(rng, text ?? Serialise(doc)); break;
                case 12:
                    text ??= Serialise(doc);
                    text = text[..rng.Next(text.Length)];
                    break;
                default:
                    text ??= Serialise(doc);
                    var chars = text.ToCharArray();
                    for (var k = 0; k < 1 + rng.Next(4); k++) chars[rng.Next(chars.Length)] = (char)rng.Next(32, 127);
                    text = new string(chars);
                    break;
            }
        }
        return (text ?? Serialise(doc), rng.Next(20) == 0 ? "application/json" : "application/ld+json");
    }

    private static string Serialise(JsonObject doc) => doc.ToJsonString(new System.Text.Json.JsonSerializerOptions { MaxDepth = 4096 });

    private static JsonObject Observe(string epc, Random rng)
    {
        var e = HostileWorld.Event(epc);
        e["action"] = "OBSERVE";
        e["bizStep"] = "inspecting";
        e.Remove("ilmd");
        e["eventTime"] = $"2026-11-{1 + rng.Next(28):D2}T08:00:00.000+08:00";
        return e;
    }

    private static JsonObject Quantities()
    {
        var e = HostileWorld.Event(HostileWorld.NewEpc());
        e.Remove("epcList");
        e["action"] = "OBSERVE";
        e["bizStep"] = "inspecting";
        e["quantityList"] = new JsonArray(new JsonObject { ["epcClass"] = "urn:epc:class:lgtin:0614141.107346.L1", ["quantity"] = 5, ["uom"] = "KGM" });
        return e;
    }

    private static void Drop(Random rng, JsonObject e)
    {
        if (e.Count == 0) return;
        var key = e.Select(p => p.Key).ElementAt(rng.Next(e.Count));
        if (e[key] is JsonObject inner && inner.Count > 0 && rng.Next(2) == 0) inner.Remove(inner.First().Key);
        else e.Remove(key);
    }

    private static void Deepen(Random rng, JsonObject e)
    {
        var key = Pick(rng, Fields);
        var depth = 1 + rng.Next(rng.Next(4) == 0 ? 200 : 70);
        JsonNode node = e[key]?.DeepClone() ?? JsonValue.Create("x");
        for (var i = 0; i < depth; i++) node = rng.Next(2) == 0 ? new JsonArray(node) : new JsonObject { ["k"] = node };
        e[key] = node;
    }

    private static JsonNode? Value(Random rng, int depth = 1) => rng.Next(depth > 0 ? 12 : 9) switch
    {
        0 => null,
        1 => JsonValue.Create(rng.Next(2) == 0),
        2 => JsonValue.Create(rng.Next(-1_000_000, 1_000_000)),
        3 => JsonValue.Create(rng.NextDouble() * 1e300 * (rng.Next(2) == 0 ? -1 : 1)),
        4 => JsonValue.Create(""),
        5 => JsonValue.Create("-1"),
        6 => JsonValue.Create("\u202E\u0000\u0007" + "∞"),
        7 => JsonValue.Create("1e999"),
        8 => JsonValue.Create("urn:epc:id:sgtin:0614141.107346." + rng.Next()),
        9 => new JsonArray(Value(rng, depth - 1), Value(rng, depth - 1)),
        10 => new JsonObject { ["a"] = Value(rng, depth - 1), ["example:b"] = Value(rng, depth - 1) },
        _ => new JsonObject { ["id"] = Value(rng, depth - 1) },
    };

    private static string BadEpc(Random rng)
    {
        var epc = HostileWorld.NewEpc();
        var chars = epc.ToCharArray();
        chars[rng.Next(chars.Length)] = "%/:.\u0660x \u00e9"[rng.Next(8)];
        return rng.Next(5) == 0 ? epc + new string('9', 50) : new string(chars);
    }

    /// <summary>Text-level damage the object model cannot express: a repeated key, a lone surrogate escape, a raw control character.</summary>
    private static string Splice(Random rng, string text)
    {
        var at = text.IndexOf("{\"type\":\"ObjectEvent\",", StringComparison.Ordinal);
        if (at < 0) at = 0;
        var insert = rng.Next(5) switch
        {
            0 => "\"action\":\"OBSERVE\",",
            1 => "\"example:s\":\"\\ud800\",",
            2 => "\"example:s\":\"a\\udfffb\",",
            3 => "\"eventTime\":\"2026-11-01T08:00:00Z\",",
            _ => "\"example:\\ud83d\":1,",
        };
        var brace = text.IndexOf('{', at) + 1;
        return brace <= 0 ? text : text.Insert(brace, insert);
    }

    private static string Xml(Random rng)
    {
        var epc = HostileWorld.NewEpc();
        var doc = rng.Next(6) switch
        {
            0 => HostileWorld.Xml(epc, "<example:note>&e;</example:note>", "<!DOCTYPE d [<!ENTITY e \"" + new string('x', 1000) + "\">]>"),
            1 => HostileWorld.Xml(epc, "<example:d>" + string.Concat(Enumerable.Repeat("<x>", 40 + rng.Next(100))) + "</example:d>"),
            2 => HostileWorld.Xml(epc).Replace("2026-11-01T08:00:00.000+08:00", Pick(rng, BadTimes), StringComparison.Ordinal),
            3 => HostileWorld.Xml(epc).Replace("<action>ADD</action>", "", StringComparison.Ordinal),
            4 => HostileWorld.Xml(epc, "<example:n>" + new string('n', rng.Next(10_000)) + "</example:n>"),
            _ => HostileWorld.Xml(epc),
        };
        return rng.Next(3) == 0 ? doc[..rng.Next(doc.Length)] : doc;
    }

    private static T Pick<T>(Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];
}
