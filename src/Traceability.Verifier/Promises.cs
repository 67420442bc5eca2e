using System.Text.Json;
using System.Text.Json.Nodes;

namespace Traceability.Verifier;

/// <summary>
/// The bundle verification followed by <c>--receipt</c> and <c>--min-witnesses</c>: each prints its own line, the
/// first failure decides the exit status (a bundle that is not anchored yet is still checked against its receipt, as
/// that is where a broken promise shows).
/// </summary>
public static class Promises
{
    public static async Task<int> ReportAsync(HttpClient http, CommandLine command, JsonNode? bundleJson, VerificationResult result, ChainOptions chain,
        JsonSerializerOptions output)
    {
        ReceiptOutcome? receipt = null;
        WitnessOutcome? witnesses = null;
        if (command.Receipt is not null && (result.Verified || result.Check == Checks.Anchor))
        {
            JsonNode? receiptJson;
            try { receiptJson = JsonNode.Parse(await File.ReadAllTextAsync(command.Receipt)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"trace-verify: cannot read {command.Receipt}: {e.Message}");
                return 2;
            }
            catch (JsonException e) { receiptJson = null; Console.Error.WriteLine($"trace-verify: {command.Receipt} is not JSON: {e.Message}"); }
            receipt = await ReceiptCheck.CheckAsync(http, receiptJson, ProofBundle.Parse(bundleJson), result, chain, DateTimeOffset.UtcNow);
        }
        if (command.MinWitnesses is { } k && result.Verified) witnesses = await WitnessCheck.CheckAsync(http, result, chain, k);

        var ok = result.Verified && receipt is not { Kept: false } && witnesses is not { Enough: false };
        if (command.Json)
        {
            var json = result.ToJson();
            json["verified"] = ok;
            if (receipt is not null) json["receipt"] = receipt.ToJson();
            if (witnesses is not null) json["witnesses"] = witnesses.ToJson();
            Console.WriteLine(json.ToJsonString(output));
            return ok ? 0 : 1;
        }

        // The bundle's own line first when it verified, or failed for a reason the receipt does not explain.
        if (result.Verified || receipt is null) Console.WriteLine(result.ToLine());
        if (receipt is not null) Console.WriteLine(receipt.Kept ? receipt.Line : $"FAILED: {receipt.Line}");
        if (witnesses is not null) Console.WriteLine(witnesses.Enough ? witnesses.Line : $"FAILED: {witnesses.Line}");
        return ok ? 0 : 1;
    }
}
