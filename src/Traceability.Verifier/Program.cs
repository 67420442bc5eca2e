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
           trace-verify BUNDLE.json [--receipt RECEIPT.json] [--min-witnesses K] ...
           trace-verify witness --api URL --api-key KEY --rpc URL --key HEX [--once]   (trace-verify witness --help)

    Verifies a proof bundle (GET /api/v1/events/{sequence}/proof; "-" reads it from standard input) against the
    AnchorRegistry contract on the chain, never the API. --audit checks every anchor and event the API lists against
    the chain. --rpc defaults to $TRACE_CHAIN_RPC, else http://127.0.0.1:8545; --contract to the bundle's anchor
    contract (audit: the contract the API names); --api-key to $TRACE_API_KEY.
    --receipt also checks that the service kept the capture receipt's promise (the receipt in its receiptsRoot by its
    receiptProof, that root signed by an anchorer of the contract, the bundle's event, anchored no later than its
    deadline); --min-witnesses K fails when fewer than K witnesses cosigned the anchor on chain.
    A bundle's member signature is checked when it has one (digest in the signed root, signer recovered, a member
    address when anchored); --require-signature fails a bundle without one.
    Exit status: 0 verified, 1 failed, 2 usage error.
    """;

if (args.Length > 0 && args[0] == "witness")
{
    if (args.Skip(1).Any(a => a is "--help" or "-h"))
    {
        Console.WriteLine(WitnessOptions.Usage);
        return 0;
    }
    WitnessOptions witness;
    try { witness = WitnessOptions.Parse(args[1..]); }
    catch (UsageException e)
    {
        Console.Error.WriteLine($"trace-verify: {e.Message}");
        Console.Error.WriteLine(WitnessOptions.Usage);
        return 2;
    }
    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
    using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
    using var witnessHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
    var stdout = TextWriter.Synchronized(Console.Out);
    return await new WitnessCommand(witnessHttp, witnessHttp, stdout).RunAsync(witness, stop.Token);
}

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
if (command.Receipt is null && command.MinWitnesses is null)
{
    var json = result.ToJson();
    json["signature"] = signature;
    Console.WriteLine(command.Json ? json.ToJsonString(output) : result.ToLine() + (result.Verified ? signed : ""));
    return result.Verified ? 0 : 1;
}
return await Promises.ReportAsync(http, command, bundle, result, chain, output);
