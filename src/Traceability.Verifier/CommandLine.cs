using System.Globalization;

namespace Traceability.Verifier;

public sealed class UsageException(string message) : Exception(message);

/// <summary>The verifier's arguments, parsed by hand: a handful of options, each with at most one value.</summary>
public sealed record CommandLine(
    string? Bundle, bool Audit, Uri? Api, string? ApiKey, string? Rpc, string? Contract, bool Json, int Concurrency, bool Help)
{
    /// <summary>--receipt RECEIPT.json: also check that the service kept the signed receipt's promise (ReceiptCheck).</summary>
    public string? Receipt { get; init; }

    /// <summary>--min-witnesses k: also require k cosignatures on the bundle's anchor, read from the chain (WitnessCheck).</summary>
    public int? MinWitnesses { get; init; }

    /// <summary>--require-signature: an unsigned bundle fails (SignatureCheck).</summary>
    public bool RequireSignature { get; init; }

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var requireSignature = false;
        string? bundle = null, api = null, apiKey = null, rpc = null, contract = null, concurrency = null, receipt = null, minWitnesses = null;
        bool audit = false, json = false, help = false;

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inline = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is var eq and > 0)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }

            string Value() => inline ?? (i + 1 < args.Count ? args[++i] : throw new UsageException($"{arg} needs a value"));

            switch (arg)
            {
                case "--help" or "-h": help = true; break;
                case "--json": json = true; break;
                case "--audit": audit = true; break;
                case "--require-signature": requireSignature = true; break;
                case "--api": api = Value(); break;
                case "--api-key": apiKey = Value(); break;
                case "--rpc": rpc = Value(); break;
                case "--contract": contract = Value(); break;
                case "--concurrency": concurrency = Value(); break;
                case "--receipt": receipt = Value(); break;
                case "--min-witnesses": minWitnesses = Value(); break;
                case var option when option.StartsWith("--", StringComparison.Ordinal):
                    throw new UsageException($"unknown option {option}");
                default:
                    if (bundle is not null) throw new UsageException($"one bundle at a time (got {bundle} and {arg})");
                    bundle = arg;
                    break;
            }
        }

        if (help) return new CommandLine(null, false, null, null, null, null, false, 8, true);

        if (rpc is not null && !IsHttpUrl(rpc)) throw new UsageException($"--rpc {rpc} is not an http(s) URL");
        if (contract is not null && !IsAddress(contract)) throw new UsageException($"--contract {contract} is not an address (0x and 40 hex digits)");

        var parallel = 8;
        if (concurrency is not null && (!int.TryParse(concurrency, NumberStyles.None, CultureInfo.InvariantCulture, out parallel) || parallel is < 1 or > 64))
            throw new UsageException("--concurrency takes a number from 1 to 64");

        int? witnesses = null;
        if (minWitnesses is not null)
        {
            if (!int.TryParse(minWitnesses, NumberStyles.None, CultureInfo.InvariantCulture, out var k) || k is < 1 or > 64)
                throw new UsageException("--min-witnesses takes a number from 1 to 64 (the contract's MAX_WITNESSES)");
            witnesses = k;
        }

        if (audit)
        {
            if (receipt is not null || witnesses is not null) throw new UsageException("--receipt and --min-witnesses go with a bundle, not --audit");
            if (bundle is not null) throw new UsageException("--audit takes no bundle");
            if (api is null) throw new UsageException("--audit needs --api URL");
            if (!IsHttpUrl(api)) throw new UsageException($"--api {api} is not an http(s) URL");
            apiKey ??= Environment.GetEnvironmentVariable("TRACE_API_KEY") is { Length: > 0 } k ? k : null;
            return new CommandLine(null, true, new Uri(api), apiKey, rpc, contract, json, parallel, false);
        }

        if (api is not null || apiKey is not null) throw new UsageException("--api and --api-key go with --audit; a bundle is verified without the API");
        if (bundle is null) throw new UsageException("no bundle given");
        return new CommandLine(bundle, false, null, null, rpc, contract, json, parallel, false) { Receipt = receipt, MinWitnesses = witnesses, RequireSignature = requireSignature };
    }

    private static bool IsHttpUrl(string s) =>
        Uri.TryCreate(s, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps);

    private static bool IsAddress(string s) =>
        s.Length == 42 && s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && s.AsSpan(2).ContainsAnyExcept("0123456789abcdefABCDEF") is false;
}
