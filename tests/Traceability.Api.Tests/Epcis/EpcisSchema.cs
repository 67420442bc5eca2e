using System.Text.Json.Nodes;
using Json.Schema;

namespace Traceability.Api.Tests.Epcis;

/// <summary>The EPCIS 2.0 JSON schema of ../shared/conformance/epcis-spec, to validate every JSON answer against.</summary>
public static class EpcisSchema
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromText(File.ReadAllText(RepoPaths.SharedPath("conformance", "epcis-spec", "EPCIS-JSON-Schema.json"))));

    /// <summary>Fails the test with the schema's first errors when the document does not validate.</summary>
    public static void ShouldValidate(JsonNode document)
    {
        using var json = System.Text.Json.JsonDocument.Parse(document.ToJsonString());
        var result = Schema.Value.Evaluate(json.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Value}")).Take(10).ToList();
        result.IsValid.Should().BeTrue(string.Join("\n", errors) + "\n" + document.ToJsonString()[..Math.Min(2000, document.ToJsonString().Length)]);
    }
}
