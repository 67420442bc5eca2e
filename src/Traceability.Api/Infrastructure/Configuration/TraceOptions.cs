using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Traceability.Api.Infrastructure.Configuration;

/// <summary>
/// The service's settings. Each one is read from the environment variable named in its comment
/// (the names README.md documents); a bad value stops the start with a clear line.
/// </summary>
public sealed class TraceOptions
{
    /// <summary>TRACE_DATA_DIR: the data folder (SQLite file, chain.json, chain key, admin key).</summary>
    [Required] public string DataDir { get; set; } = "data";

    /// <summary>TRACE_DB: empty for SQLite in the data folder; a PostgreSQL connection string switches to PostgreSQL.</summary>
    public string? Database { get; set; }

    /// <summary>TRACE_ADMIN_KEY: the admin API key; generated once and kept in the data folder when empty.</summary>
    public string? AdminKey { get; set; }

    /// <summary>TRACE_CHAIN_RPC: the chain's JSON-RPC URL; defaults to the deployment record's.</summary>
    public string? ChainRpc { get; set; }

    /// <summary>TRACE_CONTRACT: the AnchorRegistry address; defaults to the deployment record's.</summary>
    public string? Contract { get; set; }

    /// <summary>TRACE_CHAIN_KEY: the anchorer's private key (hex); defaults to the data folder's chain-key file.</summary>
    public string? ChainKey { get; set; }

    /// <summary>TRACE_CHAIN_OWNER_KEY: the AnchorRegistry owner's private key (hex), for registering member addresses; defaults to the anchorer key.</summary>
    public string? ChainOwnerKey { get; set; }

    /// <summary>TRACE_REQUIRE_SIGNATURES: when on, capture refuses documents without a member's Trace-Signature (default off).</summary>
    public bool RequireSignatures { get; set; }

    /// <summary>TRACE_ANCHOR_INTERVAL: seconds between anchoring runs (default 60); run on the nearest interval a cron schedule can keep (see Infrastructure/Jobs/IntervalSchedule).</summary>
    [Range(1, 86_400)] public int AnchorIntervalSeconds { get; set; } = 60;

    /// <summary>TRACE_ANCHOR_MAX_EVENTS: the most events in one anchor (default 100,000).</summary>
    [Range(1, 10_000_000)] public int AnchorMaxEvents { get; set; } = 100_000;

    /// <summary>TRACE_CONFIRMATIONS: blocks after which an anchor counts as confirmed (default 1: the block that includes it).</summary>
    [Range(1, 1000)] public int Confirmations { get; set; } = 1;

    /// <summary>TRACE_ANCHOR_SCHEDULE: false/off/0 turns the recurring anchoring job off (on-demand only); true/on/1 (the default) keeps it.</summary>
    public bool AnchorSchedule { get; set; } = true;

    /// <summary>TRACE_AUDIT_INTERVAL: seconds between self-audit runs (default 86,400: daily).</summary>
    [Range(1, 31_536_000)] public int AuditIntervalSeconds { get; set; } = 86_400;

    /// <summary>TRACE_AUDIT_SCHEDULE: false/off/0 turns the recurring self-audit off (POST /api/v1/audit/run only).</summary>
    public bool AuditSchedule { get; set; } = true;

    /// <summary>TRACE_LOG_FORMAT: "text" (the default: one readable line per entry) or "json" (compact JSON, one object per line).</summary>
    public bool LogAsJson { get; set; }

    /// <summary>TRACE_CAPTURE_MAX_BYTES: the largest capture document (default 10 MB).</summary>
    [Range(1024, 1_000_000_000)] public long CaptureMaxBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>TRACE_CAPTURE_MAX_EVENTS: the most events in one capture document (default 10,000).</summary>
    [Range(1, 1_000_000)] public int CaptureMaxEvents { get; set; } = 10_000;

    /// <summary>TRACE_PUBLIC_BASE_URL: the base of Digital Link URIs printed on labels (default http://localhost:5080).</summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:5080";

    /// <summary>TRACE_SCAN_LIMIT: scans of one code after which the consumer page warns of a possible counterfeit (default 5).</summary>
    [Range(1, 1_000_000)] public int ScanLimit { get; set; } = 5;

    /// <summary>TRACE_SCAN_SALT: the secret that scan IP addresses are hashed with (HMAC-SHA256); generated once into the data folder when empty.</summary>
    public string? ScanSalt { get; set; }

    /// <summary>TRACE_CONSUMER_RATE_LIMIT: consumer requests per client address per minute (default 60; 0 turns the limit off).</summary>
    [Range(0, 10_000_000)] public int ConsumerRateLimit { get; set; } = 60;

    /// <summary>
    /// TRACE_TRUSTED_PROXIES: the reverse proxies in front of the service, as comma-separated addresses or CIDR networks
    /// (e.g. "10.0.0.5, 172.16.0.0/12"). A request from one of them is taken to come from the client its
    /// X-Forwarded-For names (and X-Forwarded-Proto its scheme): the consumer rate limit and the scans' address hash then
    /// see the real client. Empty (the default): those headers are ignored, as anyone can send them.
    /// </summary>
    public IReadOnlyList<System.Net.IPNetwork> TrustedProxies { get; set; } = [];

    /// <summary>
    /// TRACE_EVENTID_CHECK: "lenient" (the default) captures an event whose ni: eventID disagrees with the computed CBV 2.0
    /// hash, keeping its eventID and warning on the receipt; "strict" refuses the document.
    /// </summary>
    public bool StrictEventIds { get; set; }

    public string DatabasePathOrConnection => string.IsNullOrWhiteSpace(Database) ? Path.Combine(DataDir, "traceability.db") : Database!;

    public bool UsesPostgres => !string.IsNullOrWhiteSpace(Database) &&
        (Database!.Contains("Host=", StringComparison.OrdinalIgnoreCase) || Database.StartsWith("postgres", StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads the TRACE_* variables (and the same keys from any other configuration source).</summary>
    public static void Bind(TraceOptions o, IConfiguration c)
    {
        o.DataDir = c["TRACE_DATA_DIR"] is { Length: > 0 } d ? d : o.DataDir;
        o.Database = c["TRACE_DB"] ?? o.Database;
        o.AdminKey = c["TRACE_ADMIN_KEY"] ?? o.AdminKey;
        o.ChainRpc = c["TRACE_CHAIN_RPC"] ?? o.ChainRpc;
        o.Contract = c["TRACE_CONTRACT"] ?? o.Contract;
        o.ChainKey = c["TRACE_CHAIN_KEY"] ?? o.ChainKey;
        o.ChainOwnerKey = c["TRACE_CHAIN_OWNER_KEY"] ?? o.ChainOwnerKey;
        o.RequireSignatures = Switch(c, "TRACE_REQUIRE_SIGNATURES", o.RequireSignatures);
        o.AnchorIntervalSeconds = Integer(c, "TRACE_ANCHOR_INTERVAL", o.AnchorIntervalSeconds);
        o.AnchorMaxEvents = Integer(c, "TRACE_ANCHOR_MAX_EVENTS", o.AnchorMaxEvents);
        o.Confirmations = Integer(c, "TRACE_CONFIRMATIONS", o.Confirmations);
        o.AnchorSchedule = Switch(c, "TRACE_ANCHOR_SCHEDULE", o.AnchorSchedule);
        o.AuditIntervalSeconds = Integer(c, "TRACE_AUDIT_INTERVAL", o.AuditIntervalSeconds);
        o.AuditSchedule = Switch(c, "TRACE_AUDIT_SCHEDULE", o.AuditSchedule);
        o.LogAsJson = c["TRACE_LOG_FORMAT"] is not { Length: > 0 } format ? o.LogAsJson
            : format.Trim().ToLowerInvariant() switch
            {
                "json" => true,
                "text" => false,
                _ => throw new OptionsValidationException("TRACE_LOG_FORMAT", typeof(TraceOptions), [$"TRACE_LOG_FORMAT must be 'text' or 'json', got '{format}'."]),
            };
        o.CaptureMaxBytes = Integer(c, "TRACE_CAPTURE_MAX_BYTES", o.CaptureMaxBytes);
        o.CaptureMaxEvents = Integer(c, "TRACE_CAPTURE_MAX_EVENTS", o.CaptureMaxEvents);
        o.PublicBaseUrl = c["TRACE_PUBLIC_BASE_URL"] ?? o.PublicBaseUrl;
        o.ScanLimit = Integer(c, "TRACE_SCAN_LIMIT", o.ScanLimit);
        o.ScanSalt = c["TRACE_SCAN_SALT"] ?? o.ScanSalt;
        o.ConsumerRateLimit = Integer(c, "TRACE_CONSUMER_RATE_LIMIT", o.ConsumerRateLimit);
        o.StrictEventIds = c["TRACE_EVENTID_CHECK"] switch
        {
            null or "" or "lenient" => false,
            "strict" => true,
            var v => throw new OptionsValidationException("TRACE_EVENTID_CHECK", typeof(TraceOptions), [$"TRACE_EVENTID_CHECK must be 'lenient' or 'strict', got '{v}'."]),
        };
        if (c["TRACE_TRUSTED_PROXIES"] is { } proxies) o.TrustedProxies = Networks("TRACE_TRUSTED_PROXIES", proxies);
    }

    /// <summary>Comma-separated addresses (a network of one) and CIDR networks.</summary>
    private static List<System.Net.IPNetwork> Networks(string key, string value)
    {
        var list = new List<System.Net.IPNetwork>();
        foreach (var entry in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (System.Net.IPNetwork.TryParse(entry, out var network)) list.Add(network);
            else if (System.Net.IPAddress.TryParse(entry, out var address))
                list.Add(new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            else throw new OptionsValidationException(key, typeof(TraceOptions), [$"{key}: '{entry}' is not an IP address or a CIDR network (such as 10.0.0.0/8)."]);
        }
        return list;
    }


    /// <summary>An on/off setting: true/on/1/yes or false/off/0/no (any case); anything else stops the start naming the variable.</summary>
    private static bool Switch(IConfiguration c, string key, bool fallback) =>
        c[key] is not { Length: > 0 } v ? fallback
        : v.Trim().ToLowerInvariant() switch
        {
            "true" or "on" or "1" or "yes" => true,
            "false" or "off" or "0" or "no" => false,
            _ => throw new OptionsValidationException(key, typeof(TraceOptions), [$"{key} must be on or off (true/false, on/off, 1/0, yes/no), got '{v}'."]),
        };

    private static T Integer<T>(IConfiguration c, string key, T fallback) where T : System.Numerics.IBinaryInteger<T> =>
        c[key] is not { } v ? fallback
        : T.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n
        : throw new OptionsValidationException(key, typeof(TraceOptions), [$"{key} must be an integer, got '{v}'."]);
}
