using System.Net;
using System.Text.Json.Nodes;
using Traceability.Api.Tests.Support;

namespace Traceability.Api.Tests;

/// <summary>
/// Capture enforces what the EPCIS 2.0 JSON schema (../shared/conformance/epcis-spec/EPCIS-JSON-Schema.json) requires:
/// the test reads the schema's "required" lists and its eventTimeZoneOffset pattern and action enum, and checks that
/// an event missing each required field, or breaking the pattern or the enum, is refused naming that field.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class SchemaConformanceTests(ChainFixture chain)
{
    private static JsonObject Schema => JsonNode.Parse(File.ReadAllText(RepoPaths.SharedPath("conformance", "epcis-spec", "EPCIS-JSON-Schema.json")))!.AsObject();

    /// <summary>A valid event of each type, using every field the schema requires of it.</summary>
    private static JsonObject ValidEvent(string type)
    {
        var e = EpcisDocs.Commissioning();
        e["type"] = type;
        e.Remove("epcList");
        e["bizStep"] = "receiving";
        switch (type)
        {
            case "ObjectEvent":
                e["action"] = "OBSERVE";
                e["epcList"] = new JsonArray($"urn:epc:id:sgtin:0614141.107346.{EpcisDocs.NextSerial()}");
                break;
            case "AggregationEvent":
                e["parentID"] = "urn:epc:id:sscc:0614141.1234567890";
                e["childEPCs"] = new JsonArray($"urn:epc:id:sgtin:0614141.107346.{EpcisDocs.NextSerial()}");
                e["bizStep"] = "packing";
                break;
            case "AssociationEvent":
                e["parentID"] = "urn:epc:id:grai:4012345.55555.987";
                e["childEPCs"] = new JsonArray($"urn:epc:id:giai:4000001.{EpcisDocs.NextSerial()}");
                e["bizStep"] = "assembling";
                break;
            case "TransactionEvent":
                e["action"] = "ADD";
                e["epcList"] = new JsonArray($"urn:epc:id:sgtin:0614141.107346.{EpcisDocs.NextSerial()}");
                e["bizTransactionList"] = new JsonArray(new JsonObject { ["type"] = "po", ["bizTransaction"] = "urn:epcglobal:cbv:bt:0614141000005:PO-1" });
                break;
            case "TransformationEvent":
                e.Remove("action");
                e["inputEPCList"] = new JsonArray($"urn:epc:id:sgtin:0614141.107346.{EpcisDocs.NextSerial()}");
                e["outputEPCList"] = new JsonArray($"urn:epc:id:sgtin:0614141.107346.{EpcisDocs.NextSerial()}");
                e["bizStep"] = "commissioning";
                break;
        }
        return e;
    }

    public static IEnumerable<object[]> RequiredFields()
    {
        if (RepoPaths.Shared is null) return [["(none)", "(none)"]];
        var defs = Schema["definitions"]!.AsObject();
        var common = defs["Event"]!["required"]!.AsArray().Select(f => (string)f!).ToList();
        var cases = new List<object[]>();
        foreach (var type in new[] { "ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent" })
        {
            var own = defs[type]!["allOf"]!.AsArray().OfType<JsonObject>().Where(o => o["required"] is not null)
                .SelectMany(o => o["required"]!.AsArray().Select(f => (string)f!));
            foreach (var field in common.Concat(own).Where(f => f != "type").Distinct()) cases.Add([type, field]);
        }
        return cases;
    }

    [SharedTheory]
    [MemberData(nameof(RequiredFields))]
    public async Task RefusesAnEventMissingAFieldTheSchemaRequires(string type, string field)
    {
        await using var svc = await chain.StartServiceAsync();
        var (regulator, _) = await svc.MemberAsync("regulator");
        (await TraceService.CaptureAsync(regulator, EpcisDocs.Document(ValidEvent(type)))).StatusCode.Should().Be(HttpStatusCode.Created, $"a complete {type} is accepted");

        var broken = ValidEvent(type);
        broken.Remove(field).Should().BeTrue($"the test's {type} carries {field}");
        var response = await TraceService.CaptureAsync(regulator, EpcisDocs.Document(broken));
        ((int)response.StatusCode).Should().BeOneOf(400, 422);
        var (_, errors) = await response.ReadProblemAsync(response.StatusCode);
        errors.Select(e => e.Field).Should().Contain(f => f.Contains(field, StringComparison.Ordinal), string.Join("; ", errors));
        svc.Scalar("SELECT COUNT(*) FROM events").Should().Be(1);
    }

    [SharedFact]
    public async Task RefusesWhatBreaksTheSchemasOffsetPatternAndActionEnum()
    {
        var defs = Schema["definitions"]!.AsObject();
        var pattern = new System.Text.RegularExpressions.Regex((string)defs["Event"]!["properties"]!["eventTimeZoneOffset"]!["pattern"]!);
        var actions = defs["action"]!["enum"]!.AsArray().Select(a => (string)a!).ToList();
        await using var svc = await chain.StartServiceAsync();
        var (regulator, _) = await svc.MemberAsync("regulator");

        foreach (var offset in new[] { "+08:00", "-14:00", "+14:00", "+14:30", "+8:00", "08:00", "+15:00", "Z" })
        {
            var e = ValidEvent("ObjectEvent");
            e["eventTimeZoneOffset"] = offset;
            var accepted = (await TraceService.CaptureAsync(regulator, EpcisDocs.Document(e))).StatusCode == HttpStatusCode.Created;
            accepted.Should().Be(pattern.IsMatch(offset), $"the schema's pattern {(pattern.IsMatch(offset) ? "accepts" : "refuses")} '{offset}'");
        }
        foreach (var action in actions.Append("CREATE").Append("add"))
        {
            var e = ValidEvent("ObjectEvent");
            e["action"] = action;
            var accepted = (await TraceService.CaptureAsync(regulator, EpcisDocs.Document(e))).StatusCode == HttpStatusCode.Created;
            accepted.Should().Be(actions.Contains(action), $"the schema's action enum is {string.Join("/", actions)}");
        }
    }
}
