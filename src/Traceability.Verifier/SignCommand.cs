using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nethereum.Signer;
using Traceability.Chain;
using Traceability.Ledger.Epcis;
using Traceability.Ledger.Merkle;

namespace Traceability.Verifier;

/// <summary>
/// <c>trace-verify sign DOCUMENT --key HEX [--chain-id N --contract ADDRESS | --api URL] [--json]</c>: the member's
/// Trace-Signature header for a capture document. Hashes every event (CBV 2.0) in document order, builds the signed
/// tree over their digests, and signs EventsSigned(eventsRoot, eventCount) with EIP-712 in the domain of the chain and
/// AnchorRegistry (given, or read from the API's GET /api/v1/chain). Prints "Trace-Signature: 0x..." (with --json:
/// the signer, eventsRoot, eventCount, the event hashes and the signature). The key may come from $TRACE_SIGNING_KEY
/// instead of the command line.
/// </summary>
public static class SignCommand
{
    public const string Usage = "usage: trace-verify sign DOCUMENT --key HEX [--chain-id N --contract ADDRESS | --api URL] [--json]\n" +
        "       trace-verify sign --claim MEMBER_ID --key HEX   (the body of POST /api/v1/members/{id}/addresses)";

    /// <summary>The signature of <paramref name="document"/> (JSON-LD or XML bytes) and what was signed.</summary>
    public sealed record Signed(string Signer, byte[] EventsRoot, int EventCount, IReadOnlyList<string> EventHashes, string Signature);

    public static Signed Sign(ReadOnlyMemory<byte> document, EthECKey key, long chainId, string contract)
    {
        var body = document.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? document[3..] : document;
        var text = System.Text.Encoding.UTF8.GetString(body.Span).TrimStart();
        var parsed = text.StartsWith('<') ? EpcisParser.ParseXml(text) : EpcisParser.ParseJson(body);
        if (parsed.Events.Count == 0) throw new FormatException("the document holds no event");
        var hashes = parsed.Events.Select(EventHash.Compute).ToList();
        var root = SignedEventsTree.Build(hashes.Select(EventHash.Digest).ToList()).Root;
        var signature = MemberSignatures.SignEventsSigned(key, chainId, contract, root, hashes.Count);
        return new Signed(EthAddress.Normalize(key.GetPublicAddress()), root, hashes.Count, hashes, signature);
    }

    public static async Task<int> RunAsync(IReadOnlyList<string> args, HttpClient http, TextWriter stdout, TextWriter stderr)
    {
        string? document = null, keyHex = null, chainIdText = null, contract = null, api = null, claim = null;
        var json = false;
        try
        {
            for (var i = 0; i < args.Count; i++)
            {
                string Value() => i + 1 < args.Count ? args[++i] : throw new UsageException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--key": keyHex = Value(); break;
                    case "--claim": claim = Value(); break;
                    case "--chain-id": chainIdText = Value(); break;
                    case "--contract": contract = Value(); break;
                    case "--api": api = Value(); break;
                    case "--json": json = true; break;
                    case var o when o.StartsWith("--", StringComparison.Ordinal): throw new UsageException($"unknown option {o}");
                    default:
                        if (document is not null) throw new UsageException($"one document at a time (got {document} and {args[i]})");
                        document = args[i];
                        break;
                }
            }
            keyHex ??= Environment.GetEnvironmentVariable("TRACE_SIGNING_KEY") is { Length: > 0 } k ? k : null;
            if (claim is not null && (document ?? api ?? chainIdText ?? contract) is not null) throw new UsageException("--claim takes only --key");
            if (document is null && claim is null) throw new UsageException("no document given");
            if (keyHex is null) throw new UsageException("--key HEX (or $TRACE_SIGNING_KEY) is required");
            if (claim is null && api is not null == (chainIdText is not null || contract is not null)) throw new UsageException("give --api URL, or --chain-id N and --contract ADDRESS");
            if (claim is null && api is null && (chainIdText is null || contract is null)) throw new UsageException("--chain-id and --contract go together");
        }
        catch (UsageException e)
        {
            await stderr.WriteLineAsync($"trace-verify sign: {e.Message}\n{Usage}");
            return 2;
        }

        EthECKey key;
        try { key = new EthECKey(keyHex.StartsWith("0x", StringComparison.Ordinal) ? keyHex[2..] : keyHex); }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            await stderr.WriteLineAsync("trace-verify sign: --key is not a 32-byte hex private key");
            return 2;
        }

        if (claim is not null)
        {
            // The address as checksummed, and its personal signature of the claim text: proof that the member holds the key.
            var address = EthAddress.Normalize(key.GetPublicAddress());
            await stdout.WriteLineAsync(new JsonObject { ["address"] = address, ["signature"] = MemberSignatures.SignPersonal(MemberSignatures.AddressClaim(claim, address), key) }.ToJsonString());
            return 0;
        }

        long chainId;
        try
        {
            if (api is not null)
            {
                var info = JsonNode.Parse(await http.GetStringAsync(new Uri(new Uri(api.TrimEnd('/') + "/"), "api/v1/chain")));
                chainId = info?["chainId"]?.GetValue<long>() ?? throw new FormatException($"{api} names no chainId");
                contract = info?["contract"]?.GetValue<string>() ?? throw new FormatException($"{api} names no contract");
            }
            else
            {
                chainId = long.Parse(chainIdText!, NumberStyles.None, CultureInfo.InvariantCulture);
            }
            contract = EthAddress.Normalize(contract!);

            var signed = Sign(await File.ReadAllBytesAsync(document!), key, chainId, contract);
            if (json)
            {
                await stdout.WriteLineAsync(new JsonObject
                {
                    ["header"] = "Trace-Signature", ["signature"] = signed.Signature, ["signer"] = signed.Signer,
                    ["eventsRoot"] = Hex.Encode(signed.EventsRoot), ["eventCount"] = signed.EventCount, ["chainId"] = chainId, ["contract"] = contract,
                    ["eventHashes"] = new JsonArray(signed.EventHashes.Select(h => (JsonNode?)h).ToArray()),
                }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                await stdout.WriteLineAsync($"Trace-Signature: {signed.Signature}");
            }
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException or FormatException or JsonException
            or EpcisFormatException or InvalidOperationException or OverflowException)
        {
            await stderr.WriteLineAsync($"trace-verify sign: {e.Message}");
            return 1;
        }
    }
}
