using System.Text;
using System.Xml.Linq;
using Traceability.Ledger.Epcis;

namespace Traceability.Ledger.Tests.Epcis;

/// <summary>
/// Properties of the event hash over generated events (seeded, so a failure is reproducible by its seed): the
/// same event written with another key order, other whitespace, EPC URNs instead of Digital Links, other CBV
/// notations, or in XML instead of JSON-LD has the same hash; changing a value changes it.
/// </summary>
public class EventHashPropertyTests
{
    private const int Cases = 300;
    private const string Ns = "https://ns.example.com/epcis/";

    /// <summary>A generated event: ordered (key, value) pairs where a value is a string, a list or a nested record.</summary>
    private sealed record Field(string Key, object Value);

    private sealed record Generated(string Type, List<Field> Fields);

    public static IEnumerable<object[]> Seeds() => Enumerable.Range(1, Cases).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void HashIgnoresKeyOrderWhitespaceIdentifierFormAndBinding(int seed)
    {
        var rnd = new Random(seed);
        var ev = Generate(rnd);

        var baseline = HashJson(ev, new Random(seed * 7), shuffle: false, whitespace: false, digitalLink: false, vocab: 0);
        HashJson(ev, new Random(seed * 11), shuffle: true, whitespace: true, digitalLink: false, vocab: 0).Should().Be(baseline, "key order and whitespace do not matter");
        HashJson(ev, new Random(seed * 13), shuffle: true, whitespace: false, digitalLink: true, vocab: 0).Should().Be(baseline, "an EPC URN and its Digital Link are the same identifier");
        HashJson(ev, new Random(seed * 17), shuffle: false, whitespace: true, digitalLink: false, vocab: 1).Should().Be(baseline, "bare CBV words, their URNs and their URIs are the same value");
        HashJson(ev, new Random(seed * 19), shuffle: true, whitespace: false, digitalLink: false, vocab: 2).Should().Be(baseline);
        HashXml(ev, new Random(seed * 23), digitalLink: seed % 2 == 0).Should().Be(baseline, "the XML binding of the same event");

        // a JSON-LD event written by EpcisJsonLd and read back
        var parsed = EpcisParser.ParseJson(Document(Json(ev, new Random(seed), false, false, false, 0)));
        EventHash.Compute(EpcisParser.ParseEventJson(EpcisJsonLd.WriteEvent(parsed.Events[0]))).Should().Be(baseline);
        var fromXml = EpcisParser.ParseXml(Xml(ev, new Random(seed), false));
        EventHash.Compute(EpcisParser.ParseEventJson(EpcisJsonLd.WriteEvent(fromXml.Events[0]))).Should().Be(baseline);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void HashChangesGivenAnyChangedValue(int seed)
    {
        var rnd = new Random(seed);
        var ev = Generate(rnd);
        var baseline = HashJson(ev, new Random(seed), false, false, false, 0);
        var changed = Mutate(ev, rnd);
        HashJson(changed, new Random(seed), false, false, false, 0).Should().NotBe(baseline);
    }

    // ---- generator -------------------------------------------------------------------------------------------

    private static readonly string[] BizSteps = ["shipping", "receiving", "commissioning", "packing", "inspecting", "departing"];
    private static readonly string[] Dispositions = ["in_transit", "in_progress", "active", "recalled", "sellable_accessible"];
    private static readonly string[] Btts = ["po", "desadv", "inv"];
    private static readonly string[] Sdts = ["owning_party", "possessing_party", "location"];
    private static readonly string[] Measurements = ["Temperature", "RelativeHumidity", "Speed"];
    private const string SerialChars = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789-_.";

    private static string Digits(Random r, int n)
    {
        var sb = new StringBuilder(n);
        for (var i = 0; i < n; i++) sb.Append((char)('0' + r.Next(10)));
        return sb.ToString();
    }

    private static string Serial(Random r)
    {
        var n = r.Next(1, 13);
        var sb = new StringBuilder(n);
        for (var i = 0; i < n; i++) sb.Append(SerialChars[r.Next(SerialChars.Length)]);
        return sb.ToString();
    }

    private static string Sgtin(Random r)
    {
        var cp = r.Next(6, 13);
        return $"urn:epc:id:sgtin:{Digits(r, cp)}.{Digits(r, 13 - cp)}.{Serial(r)}";
    }

    private static string Sscc(Random r)
    {
        var cp = r.Next(6, 13);
        return $"urn:epc:id:sscc:{Digits(r, cp)}.{Digits(r, 17 - cp)}";
    }

    private static string Sgln(Random r, bool ext)
    {
        var cp = r.Next(6, 13);
        return $"urn:epc:id:sgln:{Digits(r, cp)}.{Digits(r, 12 - cp)}.{(ext ? Digits(r, 3) : "0")}";
    }

    private static string Pgln(Random r)
    {
        var cp = r.Next(6, 13);
        return $"urn:epc:id:pgln:{Digits(r, cp)}.{Digits(r, 12 - cp)}";
    }

    private static string Lgtin(Random r)
    {
        var cp = r.Next(6, 13);
        return $"urn:epc:class:lgtin:{Digits(r, cp)}.{Digits(r, 13 - cp)}.{Serial(r)}";
    }

    private static string Time(Random r)
    {
        var t = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(r.Next(0, 100_000_000)).AddTicks(r.Next(0, 10_000_000));
        var offset = TimeSpan.FromMinutes(30 * r.Next(-24, 28));
        var local = t.ToOffset(offset);
        var frac = r.Next(4) switch { 0 => "", 1 => "." + local.ToString("fff"), 2 => "." + local.ToString("fffffff"), _ => "." + local.ToString("ff") };
        var off = offset == TimeSpan.Zero && r.Next(2) == 0 ? "Z" : local.ToString("zzz");
        return local.ToString("yyyy-MM-dd'T'HH:mm:ss") + frac + off;
    }

    private static Generated Generate(Random r)
    {
        var type = r.Next(3) switch { 0 => "ObjectEvent", 1 => "AggregationEvent", _ => "TransactionEvent" };
        var f = new List<Field>
        {
            new("eventTime", Time(r)),
            new("eventTimeZoneOffset", $"{(r.Next(2) == 0 ? "+" : "-")}{r.Next(0, 14):00}:{(r.Next(2) == 0 ? "00" : "30")}"),
            new("action", r.Next(2) == 0 ? "ADD" : "OBSERVE"),
            new("bizStep", BizSteps[r.Next(BizSteps.Length)]),
            new("readPoint", new List<Field> { new("id", Sgln(r, r.Next(2) == 0)) }),
        };
        var epcs = Enumerable.Range(0, r.Next(0, 6)).Select(_ => r.Next(3) == 0 ? Sscc(r) : Sgtin(r)).Distinct().ToList();
        if (type == "AggregationEvent")
        {
            f.Add(new("parentID", Sscc(r)));
            f.Add(new("childEPCs", epcs));
        }
        else
        {
            f.Add(new("epcList", epcs));
        }
        if (type == "TransactionEvent" || r.Next(2) == 0)
            f.Add(new("bizTransactionList", Enumerable.Range(0, r.Next(1, 3)).Select(i => (object)new List<Field> { new("type", Btts[r.Next(Btts.Length)]), new("bizTransaction", $"urn:epcglobal:cbv:bt:{Digits(r, 13)}:{Serial(r)}") }).ToList()));
        if (r.Next(2) == 0) f.Add(new("disposition", Dispositions[r.Next(Dispositions.Length)]));
        if (r.Next(2) == 0) f.Add(new("bizLocation", new List<Field> { new("id", Sgln(r, false)) }));
        if (r.Next(2) == 0)
            f.Add(new(type == "AggregationEvent" ? "childQuantityList" : "quantityList", Enumerable.Range(0, r.Next(1, 3)).Select(_ => (object)new List<Field> { new("epcClass", Lgtin(r)), new("quantity", $"{r.Next(1, 500)}.{r.Next(0, 100):00}"), new("uom", "KGM") }).ToList()));
        if (r.Next(2) == 0) f.Add(new("sourceList", new List<object> { new List<Field> { new("type", Sdts[r.Next(Sdts.Length)]), new("source", Pgln(r)) } }));
        if (r.Next(2) == 0) f.Add(new("destinationList", new List<object> { new List<Field> { new("type", Sdts[r.Next(Sdts.Length)]), new("destination", Pgln(r)) } }));
        if (type == "ObjectEvent" && r.Next(2) == 0) f.Add(new("ilmd", new List<Field> { new("cbvmda:lotNumber", Serial(r)), new("example:grade", Serial(r)) }));
        if (r.Next(2) == 0)
        {
            f.Add(new("sensorElementList", new List<object>
            {
                new List<Field>
                {
                    new("sensorMetadata", new List<Field> { new("time", Time(r)), new("example:note", Serial(r)) }),
                    new("sensorReport", Enumerable.Range(0, r.Next(1, 4)).Select(_ => (object)new List<Field> { new("type", Measurements[r.Next(Measurements.Length)]), new("value", $"{r.Next(-30, 40)}.{r.Next(0, 10)}"), new("uom", "CEL") }).ToList()),
                },
            }));
        }
        if (r.Next(2) == 0) f.Add(new("example:myField", Serial(r)));
        if (r.Next(2) == 0) f.Add(new("example:nested", new List<Field> { new("example:a", Serial(r)), new("example:b", new List<Field> { new("example:c", Digits(r, 3)) }) }));
        return new Generated(type, f);
    }

    private static Generated Mutate(Generated ev, Random r)
    {
        var fields = ev.Fields.ToList();
        var i = r.Next(fields.Count);
        var f = fields[i];
        fields[i] = f.Value switch
        {
            string s when f.Key == "eventTime" => f with { Value = s.Replace(s[..4], (int.Parse(s[..4]) + 1).ToString()) },
            string s when f.Key == "eventTimeZoneOffset" => f with { Value = s == "+01:00" ? "+02:00" : "+01:00" },
            string s when f.Key == "action" => f with { Value = s == "ADD" ? "DELETE" : "ADD" },
            string s when f.Key == "bizStep" => f with { Value = s == "shipping" ? "receiving" : "shipping" },
            string s when f.Key == "disposition" => f with { Value = s == "active" ? "recalled" : "active" },
            string s => f with { Value = s + "X" },
            List<string> l => f with { Value = l.Append(Sgtin(r)).ToList() },
            _ => new Field("example:added", "1"),
        };
        if (fields[i] == f) fields.Add(new Field("example:added", "1"));
        return ev with { Fields = fields };
    }

    // ---- writers ---------------------------------------------------------------------------------------------


    private static string VocabForm(string key, string value, int vocab, bool xml)
    {
        var (urn, web) = key switch
        {
            "bizStep" => ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
            "disposition" => ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
            "btt" => ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
            "sdt" => ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
            "measurement" => ("gs1:", "https://gs1.org/voc/"),
            _ => throw new ArgumentException(key),
        };
        if (xml) return vocab == 1 ? web + value : urn + value; // XML has no bare words
        return vocab switch { 0 => value, 1 => urn + value, _ => web + value };
    }

    private static string Id(string value, bool digitalLink) =>
        digitalLink && Gs1Identifiers.TryToCanonicalDigitalLink(value, out var dl) ? dl : value;

    private static string Document(string eventJson) =>
        "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\",{\"example\":\"" + Ns + "\"}],\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2024-01-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[" + eventJson + "]}}";

    private static string HashJson(Generated ev, Random r, bool shuffle, bool whitespace, bool digitalLink, int vocab) =>
        EventHash.Compute(EpcisParser.ParseJson(Document(Json(ev, r, shuffle, whitespace, digitalLink, vocab))).Events[0]);

    private static string Json(Generated ev, Random r, bool shuffle, bool whitespace, bool digitalLink, int vocab)
    {
        var sb = new StringBuilder();
        string Ws() => whitespace ? new string(" \n\t "[r.Next(4)], r.Next(0, 3)) : "";
        string Str(string s) => System.Text.Json.JsonSerializer.Serialize(s);

        void Value(string key, object value, string? parent)
        {
            switch (value)
            {
                case string s:
                    var v = key switch
                    {
                        "bizStep" or "disposition" => VocabForm(key, s, vocab, false),
                        "type" when parent == "bizTransactionList" => VocabForm("btt", s, vocab, false),
                        "type" when parent is "sourceList" or "destinationList" => VocabForm("sdt", s, vocab, false),
                        "type" when parent == "sensorReport" => vocab == 0 ? s : VocabForm("measurement", s, vocab, false),
                        "id" or "parentID" or "source" or "destination" or "epcClass" => Id(s, digitalLink),
                        _ => s,
                    };
                    sb.Append(key is "quantity" or "value" && r.Next(2) == 0 ? v : Str(v));
                    break;
                case List<string> l:
                    sb.Append('[').Append(Ws());
                    var items = shuffle ? l.OrderBy(_ => r.Next()).ToList() : l;
                    for (var i = 0; i < items.Count; i++) sb.Append(i > 0 ? "," + Ws() : "").Append(Str(Id(items[i], digitalLink)));
                    sb.Append(Ws()).Append(']');
                    break;
                case List<Field> obj:
                    Object(obj, key);
                    break;
                case List<object> list:
                    sb.Append('[').Append(Ws());
                    var objs = shuffle ? list.OrderBy(_ => r.Next()).ToList() : list;
                    for (var i = 0; i < objs.Count; i++)
                    {
                        if (i > 0) sb.Append(',').Append(Ws());
                        Object((List<Field>)objs[i], key);
                    }
                    sb.Append(Ws()).Append(']');
                    break;
            }
        }

        void Object(List<Field> fields, string? parent)
        {
            sb.Append('{').Append(Ws());
            var ordered = shuffle ? fields.OrderBy(_ => r.Next()).ToList() : fields;
            for (var i = 0; i < ordered.Count; i++)
            {
                if (i > 0) sb.Append(',').Append(Ws());
                sb.Append(Str(ordered[i].Key)).Append(Ws()).Append(':').Append(Ws());
                Value(ordered[i].Key, ordered[i].Value, parent);
            }
            sb.Append(Ws()).Append('}');
        }

        var all = new List<Field> { new("type", ev.Type) };
        all.AddRange(ev.Fields);
        Object(all, null);
        return sb.ToString();
    }

    private static string HashXml(Generated ev, Random r, bool digitalLink) =>
        EventHash.Compute(EpcisParser.ParseXml(Xml(ev, r, digitalLink)).Events[0]);

    private static string Xml(Generated ev, Random r, bool digitalLink)
    {
        XNamespace epcis = "urn:epcglobal:epcis:xsd:2";
        XNamespace ex = Ns;
        XNamespace mda = "urn:epcglobal:cbv:mda:";
        XName Name(string key) => key.StartsWith("example:") ? ex + key[8..] : key.StartsWith("cbvmda:") ? mda + key[7..] : key;
        var vocab = r.Next(2);

        IEnumerable<object> Content(string key, object value, string? parent)
        {
            switch (value)
            {
                case string s:
                    var v = key switch
                    {
                        "bizStep" or "disposition" => VocabForm(key, s, vocab, true),
                        "id" or "parentID" or "epcClass" => Id(s, digitalLink),
                        _ => s,
                    };
                    yield return new XElement(Name(key), v);
                    break;
                case List<string> l:
                    yield return new XElement(key, l.Select(e => new XElement("epc", Id(e, digitalLink))));
                    break;
                case List<Field> obj:
                    yield return new XElement(Name(key), obj.SelectMany(f => Content(f.Key, f.Value, key)));
                    break;
                case List<object> list when key is "bizTransactionList" or "sourceList" or "destinationList":
                    var item = key[..^4];
                    yield return new XElement(key, list.Cast<List<Field>>().Select(o =>
                        new XElement(item,
                            new XAttribute("type", VocabForm(key == "bizTransactionList" ? "btt" : "sdt", (string)o.First(f => f.Key == "type").Value, 1 - vocab, true)),
                            Id((string)o.First(f => f.Key == item).Value, digitalLink))));
                    break;
                case List<object> list when key is "quantityList" or "childQuantityList":
                    yield return new XElement(key, list.Cast<List<Field>>().Select(o => new XElement("quantityElement", o.SelectMany(f => Content(f.Key, f.Value, "quantityElement")))));
                    break;
                case List<object> list when key == "sensorElementList":
                    yield return new XElement(key, list.Cast<List<Field>>().Select(se => new XElement("sensorElement", se.SelectMany(part => part.Value switch
                    {
                        List<Field> meta => [Attributes("sensorMetadata", meta)],
                        List<object> reports => reports.Cast<List<Field>>().Select(rep => Attributes("sensorReport", rep)),
                        _ => Array.Empty<XElement>(),
                    }))));
                    break;
            }
        }

        XElement Attributes(string name, List<Field> fields) =>
            new(name, fields.Select(f => new XAttribute(Name(f.Key), f.Key == "type" && name == "sensorReport" ? "gs1:" + f.Value : (string)f.Value)));

        var evEl = new XElement(ev.Type, ev.Fields.SelectMany(f => Content(f.Key, f.Value, null)));
        var doc = new XElement(epcis + "EPCISDocument",
            new XAttribute(XNamespace.Xmlns + "epcis", epcis.NamespaceName),
            new XAttribute(XNamespace.Xmlns + "example", ex.NamespaceName),
            new XAttribute(XNamespace.Xmlns + "cbvmda", mda.NamespaceName),
            new XAttribute(XNamespace.Xmlns + "gs1", "https://gs1.org/voc/"),
            new XAttribute("schemaVersion", "2.0"),
            new XElement("EPCISBody", new XElement("EventList", evEl)));
        return doc.ToString(r.Next(2) == 0 ? SaveOptions.None : SaveOptions.DisableFormatting);
    }
}
