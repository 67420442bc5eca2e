using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Traceability.Verifier;
using Traceability.Verifier.Audit;

// trace-verify: the independent verifier. Exit 0 verified / audit clean, 1 failed, 2 usage error.
const string Usage = """
    usage: trace-verify BUNDLE.json [--rpc URL] [--contract ADDRESS] [--require-signature] [--json]
           trace-verify sign DOCUMENT --key HEX [--chain-id N --contract ADDRESS | --api URL] [--json]
           trace-verify --audit --api URL [--api-key KEY] [--rpc URL] [--contract ADDRESS] [--concurrency N] [--json]

    Verifies a proof bundle (GET /api/v1/events/{sequence}/proof; "-" reads it from standard input) against the
    AnchorRegistry contract on the chain, never the API. --audit checks every anchor and event the API lists against
    the chain. --rpc defaults to $TRACE_CHAIN_RPC, else http://127.0.0.1:8545; --contract to the bundle's anchor
    contract (audit: the contract the API names); --api-key to $TRACE_API_KEY. A bundle's member signature is
    checked when it has one (digest in the signed root, signer recovered, a member address when anchored);
    --require-signature fails a bundle without one.
    Exit status: 0 verified, 1 failed, 2 usage error.
    """;

if (args is ["sign", .. var signArgs])
{
    using var signHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
    return await SignCommand.RunAsync(signArgs, signHttp, Console.Out, Console.Error);
}

CommandLine command;
try
{
    command = CommandLine.Parse(args);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"trace-verify: {e.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

if (command.Help)
{
    Console.WriteLine(Usage);
    return 0;
}

var output = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
var chain = new ChainOptions(ChainOptions.ResolveRpcUrl(command.Rpc), command.Contract);

if (command.Audit)
{
    var auditor = new LedgerAuditor(http, Console.Error);
    var report = await auditor.AuditAsync(new AuditOptions(command.Api!, command.ApiKey, chain, command.Concurrency));
    if (command.Json)
    {
        Console.WriteLine(report.ToJson().ToJsonString(output));
    }
    else
    {
        foreach (var finding in report.Findings) Console.WriteLine($"MISMATCH {finding}");
        if (report.Mismatches > report.Findings.Count) Console.WriteLine($"... and {report.Mismatches - report.Findings.Count} more mismatches");
        Console.WriteLine(report.SummaryLine());
    }
    return report.Ok ? 0 : 1;
}

JsonNode? bundle;
try
{
    var text = command.Bundle == "-" ? await Console.In.ReadToEndAsync() : await File.ReadAllTextAsync(command.Bundle!);
    bundle = JsonNode.Parse(text);
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"trace-verify: cannot read {command.Bundle}: {e.Message}");
    return 2;
}
catch (JsonException e)
{
    bundle = null;
    var failed = new VerificationResult(false, Checks.Bundle, $"malformed bundle: {command.Bundle} is not JSON: {e.Message}");
    Console.WriteLine(command.Json ? failed.ToJson().ToJsonString(output) : failed.ToLine());
    return 1;
}

var anchored = await new BundleVerifier(http).VerifyAsync(bundle, chain);
var (result, signed, signature) = await SignatureCheck.VerifyAsync(http, bundle, anchored, chain, command.RequireSignature);
var json = result.ToJson();
json["signature"] = signature;
Console.WriteLine(command.Json ? json.ToJsonString(output) : result.ToLine() + (result.Verified ? signed : ""));
return result.Verified ? 0 : 1;
