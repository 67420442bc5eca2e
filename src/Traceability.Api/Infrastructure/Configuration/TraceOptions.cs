using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace Traceability.Api.Infrastructure.Configuration;

/// <summary>
/// The service's settings. Each one is read from the environment variable named in its comment
/// (the names README.md documents); a bad value stops the start with a clear line.
/// </summary>
public sealed class TraceOptions
{
    /// <summary>TRACE_DATA_DIR: the data folder (SQLite file, chain.json, chain key, admin key).</summary>
    [ConfigurationKeyName("TRACE_DATA_DIR")] [Required] public string DataDir { get; set; } = "data";

    /// <summary>TRACE_DB: empty for SQLite in the data folder; a PostgreSQL connection string switches to PostgreSQL.</summary>
    [ConfigurationKeyName("TRACE_DB")] public string? Database { get; set; }

    /// <summary>TRACE_ADMIN_KEY: the admin API key; generated once and kept in the data folder when empty.</summary>
    [ConfigurationKeyName("TRACE_ADMIN_KEY")] public string? AdminKey { get; set; }

    /// <summary>TRACE_CHAIN_RPC: the chain's JSON-RPC URL; defaults to the deployment record's.</summary>
    [ConfigurationKeyName("TRACE_CHAIN_RPC")] public string? ChainRpc { get; set; }

    /// <summary>TRACE_CONTRACT: the AnchorRegistry address; defaults to the deployment record's.</summary>
    [ConfigurationKeyName("TRACE_CONTRACT")] public string? Contract { get; set; }

    /// <summary>TRACE_CHAIN_KEY: the anchorer's private key (hex); defaults to the data folder's chain-key file.</summary>
    [ConfigurationKeyName("TRACE_CHAIN_KEY")] public string? ChainKey { get; set; }

    /// <summary>TRACE_CHAIN_OWNER_KEY: the AnchorRegistry owner's private key (hex), for registering member addresses; defaults to the anchorer key.</summary>
    [ConfigurationKeyName("TRACE_CHAIN_OWNER_KEY")] public string? ChainOwnerKey { get; set; }

    /// <summary>TRACE_REQUIRE_SIGNATURES: when on, capture refuses documents without a member's Trace-Signature (default off).</summary>
    [ConfigurationKeyName("TRACE_REQUIRE_SIGNATURES")] public Switch RequireSignaturesSetting { get; set; } = Switch.Off;

    public bool RequireSignatures => RequireSignaturesSetting == Switch.On;

    /// <summary>TRACE_ANCHOR_INTERVAL: seconds between anchoring runs (default 60); run on the nearest interval a cron schedule can keep (see Infrastructure/Jobs/IntervalSchedule).</summary>
    [ConfigurationKeyName("TRACE_ANCHOR_INTERVAL")] [Range(1, 86_400)] public int AnchorIntervalSeconds { get; set; } = 60;

    /// <summary>TRACE_ANCHOR_MAX_EVENTS: the most events in one anchor (default 100,000).</summary>
    [ConfigurationKeyName("TRACE_ANCHOR_MAX_EVENTS")] [Range(1, 10_000_000)] public int AnchorMaxEvents { get; set; } = 100_000;

    /// <summary>TRACE_CONFIRMATIONS: blocks after which an anchor counts as confirmed (default 1: the block that includes it).</summary>
    [ConfigurationKeyName("TRACE_CONFIRMATIONS")] [Range(1, 1000)] public int Confirmations { get; set; } = 1;

    /// <summary>TRACE_ANCHOR_SCHEDULE: false/off/0 turns the recurring anchoring job off (on-demand only); true/on/1 (the default) keeps it.</summary>
    [ConfigurationKeyName("TRACE_ANCHOR_SCHEDULE")] public Switch AnchorScheduleSetting { get; set; } = Switch.On;

    public bool AnchorSchedule => AnchorScheduleSetting == Switch.On;

    /// <summary>TRACE_AUDIT_INTERVAL: seconds between self-audit runs (default 86,400: daily).</summary>
    [ConfigurationKeyName("TRACE_AUDIT_INTERVAL")] [Range(1, 31_536_000)] public int AuditIntervalSeconds { get; set; } = 86_400;

    /// <summary>TRACE_AUDIT_SCHEDULE: false/off/0 turns the recurring self-audit off (POST /api/v1/audit/run only).</summary>
    [ConfigurationKeyName("TRACE_AUDIT_SCHEDULE")] public Switch AuditScheduleSetting { get; set; } = Switch.On;

    public bool AuditSchedule => AuditScheduleSetting == Switch.On;

    /// <summary>TRACE_LOG_FORMAT: "text" (the default: one readable line per entry) or "json" (compact JSON, one object per line).</summary>
    [ConfigurationKeyName("TRACE_LOG_FORMAT")] public LogFormat LogFormat { get; set; } = LogFormat.Text;

    public bool LogAsJson => LogFormat == LogFormat.Json;

    /// <summary>TRACE_CAPTURE_MAX_BYTES: the largest capture document (default 10 MB).</summary>
    [ConfigurationKeyName("TRACE_CAPTURE_MAX_BYTES")] [Range(1024, 1_000_000_000)] public long CaptureMaxBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>TRACE_CAPTURE_MAX_EVENTS: the most events in one capture document (default 10,000).</summary>
    [ConfigurationKeyName("TRACE_CAPTURE_MAX_EVENTS")] [Range(1, 1_000_000)] public int CaptureMaxEvents { get; set; } = 10_000;

    /// <summary>TRACE_PUBLIC_BASE_URL: the base of Digital Link URIs printed on labels (default http://localhost:5080).</summary>
    [ConfigurationKeyName("TRACE_PUBLIC_BASE_URL")] public string PublicBaseUrl { get; set; } = "http://localhost:5080";

    /// <summary>TRACE_SCAN_LIMIT: scans of one code after which the consumer page warns of a possible counterfeit (default 5).</summary>
    [ConfigurationKeyName("TRACE_SCAN_LIMIT")] [Range(1, 1_000_000)] public int ScanLimit { get; set; } = 5;

    /// <summary>TRACE_SCAN_SALT: the secret that scan IP addresses are hashed with (HMAC-SHA256); generated once into the data folder when empty.</summary>
    [ConfigurationKeyName("TRACE_SCAN_SALT")] public string? ScanSalt { get; set; }

    /// <summary>TRACE_CONSUMER_RATE_LIMIT: consumer requests per client address per minute (default 60; 0 turns the limit off).</summary>
    [ConfigurationKeyName("TRACE_CONSUMER_RATE_LIMIT")] [Range(0, 10_000_000)] public int ConsumerRateLimit { get; set; } = 60;

    /// <summary>
    /// TRACE_TRUSTED_PROXIES: the reverse proxies in front of the service, as comma-separated addresses or CIDR networks
    /// (e.g. "10.0.0.5, 172.16.0.0/12"). A request from one of them is taken to come from the client its
    /// X-Forwarded-For names (and X-Forwarded-Proto its scheme): the consumer rate limit and the scans' address hash then
    /// see the real client. Empty (the default): those headers are ignored, as anyone can send them.
    /// </summary>
    [ConfigurationKeyName("TRACE_TRUSTED_PROXIES")] public string? TrustedProxiesSetting { get; set; }

    /// <summary>The networks of <see cref="TrustedProxiesSetting"/>, read by <see cref="Bind"/>.</summary>
    public IReadOnlyList<System.Net.IPNetwork> TrustedProxies { get; private set; } = [];

    /// <summary>
    /// TRACE_EVENTID_CHECK: "lenient" (the default) captures an event whose ni: eventID disagrees with the computed CBV 2.0
    /// hash, keeping its eventID and warning on the receipt; "strict" refuses the document.
    /// </summary>
    [ConfigurationKeyName("TRACE_EVENTID_CHECK")] public EventIdCheck EventIdCheck { get; set; } = EventIdCheck.Lenient;

    public bool StrictEventIds => EventIdCheck == EventIdCheck.Strict;

    /// <summary>TRACE_SUBSCRIPTIONS_PER_MEMBER: the most webhook subscriptions (to queries and to alerts) one member keeps (default 20).</summary>
    [ConfigurationKeyName("TRACE_SUBSCRIPTIONS_PER_MEMBER")] [Range(1, 10_000)] public int SubscriptionsPerMember { get; set; } = 20;

    /// <summary>TRACE_SUBSCRIPTION_ALLOW_LOOPBACK: on lets subscriptions deliver to loopback addresses (tests, development); off (the default) refuses them.</summary>
    [ConfigurationKeyName("TRACE_SUBSCRIPTION_ALLOW_LOOPBACK")] public Switch SubscriptionAllowLoopbackSetting { get; set; } = Switch.Off;

    public bool SubscriptionAllowLoopback => SubscriptionAllowLoopbackSetting == Switch.On;

    /// <summary>TRACE_TESTING: on allows the settings that exist for the test suites only (TRACE_CRASH_AT).</summary>
    [ConfigurationKeyName("TRACE_TESTING")] public Switch Testing { get; set; } = Switch.Off;

    /// <summary>TRACE_CRASH_AT (testing only, with TRACE_TESTING on): POINT[:N], the crash point the reliability tests kill the process at (Infrastructure/Reliability/CrashPoints).</summary>
    [ConfigurationKeyName("TRACE_CRASH_AT")] public string? CrashAtSetting { get; set; }

    /// <summary>The crash point of <see cref="CrashAtSetting"/>, read by <see cref="Bind"/>.</summary>
    public (string Point, int Hit)? CrashAt { get; private set; }

    /// <summary>
    /// TRACE_MAX_ANCHOR_DELAY: seconds within which the service promises, on each signed capture receipt, to anchor the
    /// event (default 600; at least 1, at most a year). Keep it longer than the anchoring interval plus confirmations.
    /// </summary>
    [ConfigurationKeyName("TRACE_MAX_ANCHOR_DELAY")] [Range(1, 31_536_000)] public int MaxAnchorDelaySeconds { get; set; } = 600;

    /// <summary>
    /// TRACE_SQLITE_MEMORY_MIB: the memory SQLite's page caches may hold across all pooled connections together (default
    /// 64). Each connection may cache up to 32 MiB; past this bound a connection reuses its own least recently used
    /// pages instead of allocating more, so the process does not grow with the number of connections times 32 MiB.
    /// </summary>
    [ConfigurationKeyName("TRACE_SQLITE_MEMORY_MIB")] [Range(8, 1_048_576)] public int SqliteMemoryMiB { get; set; } = 64;

    public string DatabasePathOrConnection => string.IsNullOrWhiteSpace(Database) ? Path.Combine(DataDir, "traceability.db") : Database!;

    public bool UsesPostgres => !string.IsNullOrWhiteSpace(Database) &&
        (Database!.Contains("Host=", StringComparison.OrdinalIgnoreCase) || Database.StartsWith("postgres", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Reads the TRACE_* variables (and the same keys from any other configuration source) with the configuration
    /// binder, each into the property that names it. A value the binder cannot read into its property's type stops
    /// the start with one line per bad setting, naming the variable and what it accepts; an empty value leaves the default.
    /// </summary>
    public static void Bind(TraceOptions o, IConfiguration c)
    {
        var settings = typeof(TraceOptions).GetProperties()
            .Select(p => (Property: p, Key: p.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name))
            .Where(p => p.Key is not null).ToList();
        var errors = new List<string>();
        var given = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (property, key) in settings)
        {
            if (c[key!] is not { Length: > 0 } value) continue; // unset or empty: the default
            if (Accepts(property.PropertyType, value.Trim())) given[key!] = value.Trim();
            else errors.Add($"{key} {Expected(property.PropertyType)}, got '{value}'.");
        }
        if (errors.Count > 0) throw new OptionsValidationException(nameof(TraceOptions), typeof(TraceOptions), errors);
        new ConfigurationBuilder().AddInMemoryCollection(given).Build().Bind(o);
        if (o.TrustedProxiesSetting is { } proxies) o.TrustedProxies = Networks("TRACE_TRUSTED_PROXIES", proxies);
        try { o.CrashAt = Reliability.CrashPoints.Parse(o.CrashAtSetting, o.Testing == Switch.On); }
        catch (InvalidOperationException e) { throw new OptionsValidationException("TRACE_CRASH_AT", typeof(TraceOptions), [e.Message]); }
    }

    /// <summary>Would the binder read this value into this type? Enums: one of the type's names (any case), or 1/0 for a <see cref="Switch"/>.</summary>
    private static bool Accepts(Type type, string value)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string)) return true;
        if (target == typeof(Switch) && value is "1" or "0") return true;
        if (target.IsEnum) return Enum.GetNames(target).Contains(value, StringComparer.OrdinalIgnoreCase);
        try { return TypeDescriptor.GetConverter(target).ConvertFromInvariantString(value) is not null; }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException or OverflowException || e.InnerException is FormatException or OverflowException) { return false; }
    }

    private static string Expected(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(Switch) => "must be on or off (true/false, on/off, 1/0, yes/no)",
        var t when t.IsEnum => $"must be {string.Join(" or ", Enum.GetNames(t).Select(n => "'" + n.ToLowerInvariant() + "'"))}",
        var t when t == typeof(int) || t == typeof(long) => "must be an integer",
        var t => $"must be a {t.Name}",
    };

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
}

/// <summary>An on/off setting as written in the environment: on, true, yes or 1; off, false, no or 0 (any case).</summary>
public enum Switch
{
    Off = 0,
    On = 1,
    False = Off,
    True = On,
    No = Off,
    Yes = On,
}

/// <summary>TRACE_LOG_FORMAT: one readable line per entry, or one compact JSON object per line.</summary>
public enum LogFormat { Text, Json }

/// <summary>TRACE_EVENTID_CHECK: what capture does with an ni: eventID that disagrees with the computed hash.</summary>
public enum EventIdCheck { Lenient, Strict }
