using System.Text.Json;

namespace Traceability.Ledger.Epcis;

/// <summary>
/// Reads EPCIS 2.0 documents (EPCISDocument, EPCISQueryDocument) in the JSON-LD and the XML binding into
/// <see cref="EpcisDocument"/>. Both bindings are reduced to the same element tree (the XML shape), which keeps
/// every field and is what the CBV 2.0 event hash is computed from. JSON-LD contexts are never fetched: the
/// standard EPCIS context is known, custom prefixes come from the document's own @context.
/// </summary>
public static partial class EpcisParser
{
    private static readonly HashSet<string> EventTypes = new(StringComparer.Ordinal)
    {
        "ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent",
    };

    /// <summary>
    /// The deepest nesting accepted, in JSON (objects and arrays) and in XML (elements), counted from the document's
    /// root. The stored events are read again with System.Text.Json's default depth (64), and recursive readers must
    /// not run out of stack on a hostile document: deeper documents are refused before anything is built from them.
    /// </summary>
    public const int MaxDepth = 64;

    // Duplicate keys are refused: the event hash and the indexed fields must read the same value of each key.
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = false };

    /// <summary>The options every later reading of captured JSON uses (the same limits as capture).</summary>
    public static JsonDocumentOptions DocumentOptions => JsonOptions;

    // Both bindings: the word expansion and the checks every event must pass (JSON-LD in EpcisParser.Json.cs, XML in
    // EpcisParser.Xml.cs).

    /// <summary>Bare CBV words in the vocabulary-typed fields to their URIs, then the checks every event must pass.</summary>
    private static void Finish(string type, EpcisNode tree, int index, string path)
    {
        ExpandBareWords(tree);

        var time = tree.ChildValue("eventTime");
        if (time is null) throw new EpcisFormatException($"{path}.eventTime: is required", index, "eventTime");
        if (!EventHash.TryParseTimestamp(time, out _))
            throw new EpcisFormatException($"{path}.eventTime: '{time}' is not an xsd:dateTimeStamp", index, "eventTime");
        var offset = tree.ChildValue("eventTimeZoneOffset")?.Trim();
        if (offset is null) throw new EpcisFormatException($"{path}.eventTimeZoneOffset: is required", index, "eventTimeZoneOffset");
        if (!IsZoneOffset(offset))
            throw new EpcisFormatException($"{path}.eventTimeZoneOffset: '{offset}' is not of the form +hh:mm / -hh:mm", index, "eventTimeZoneOffset");
        var action = tree.ChildValue("action")?.Trim();
        if (action is null && type is not "TransformationEvent")
            throw new EpcisFormatException($"{path}.action: is required for a {type}", index, "action");
        if (action is not null && action is not ("ADD" or "OBSERVE" or "DELETE"))
            throw new EpcisFormatException($"{path}.action: '{action}' is not ADD, OBSERVE or DELETE", index, "action");
        var record = tree.ChildValue("recordTime");
        if (record is not null && !EventHash.TryParseTimestamp(record, out _))
            throw new EpcisFormatException($"{path}.recordTime: '{record}' is not an xsd:dateTimeStamp", index, "recordTime");
    }

    private static bool IsZoneOffset(string s) =>
        s.Length == 6 && s[0] is '+' or '-' && char.IsAsciiDigit(s[1]) && char.IsAsciiDigit(s[2]) && s[3] == ':' && char.IsAsciiDigit(s[4]) && char.IsAsciiDigit(s[5]);

    private static void ExpandBareWords(EpcisNode tree)
    {
        foreach (var n in tree.Children)
        {
            switch (n.Name)
            {
                case "bizStep":
                    Word(n, CbvVocabulary.BizSteps, CbvVocabulary.Cbv + "BizStep-");
                    break;
                case "disposition":
                    Word(n, CbvVocabulary.Dispositions, CbvVocabulary.Cbv + "Disp-");
                    break;
                case "persistentDisposition":
                    foreach (var c in n.Children)
                        if (c.Name is "set" or "unset") Word(c, CbvVocabulary.Dispositions, CbvVocabulary.Cbv + "Disp-");
                    break;
                case "bizTransactionList":
                    TypeWords(n, "bizTransaction", CbvVocabulary.BizTransactionTypes, CbvVocabulary.Cbv + "BTT-");
                    break;
                case "sourceList":
                    TypeWords(n, "source", CbvVocabulary.SourceDestinationTypes, CbvVocabulary.Cbv + "SDT-");
                    break;
                case "destinationList":
                    TypeWords(n, "destination", CbvVocabulary.SourceDestinationTypes, CbvVocabulary.Cbv + "SDT-");
                    break;
                case "errorDeclaration":
                    foreach (var c in n.Children)
                        if (c.Name == "reason") Word(c, CbvVocabulary.ErrorReasons, CbvVocabulary.Cbv + "ER-");
                    break;
                case "sensorElementList":
                    foreach (var se in n.Children)
                    {
                        if (se.Name != "sensorElement") continue;
                        foreach (var r in se.Children)
                        {
                            if (r.Name != "sensorReport") continue;
                            foreach (var f in r.Children)
                            {
                                switch (f.Name)
                                {
                                    case "type": Word(f, CbvVocabulary.MeasurementTypes, CbvVocabulary.Gs1Voc); break;
                                    case "exception": Word(f, CbvVocabulary.SensorExceptions, CbvVocabulary.Gs1Voc); break;
                                    case "component": Word(f, CbvVocabulary.Components, CbvVocabulary.Cbv + "Comp-"); break;
                                }
                            }
                        }
                    }
                    break;
            }
        }
    }

    private static void TypeWords(EpcisNode list, string item, IReadOnlySet<string> words, string prefix)
    {
        foreach (var c in list.Children)
        {
            if (c.Name != item) continue;
            foreach (var t in c.Children)
                if (t.Name == "type") Word(t, words, prefix);
        }
    }

    private static void Word(EpcisNode n, IReadOnlySet<string> words, string prefix)
    {
        var v = n.Value.Trim();
        if (words.Contains(v)) n.Value = prefix + v;
    }
}
