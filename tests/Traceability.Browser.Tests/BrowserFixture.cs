using Microsoft.Playwright;

namespace Traceability.Browser.Tests;

/// <summary>
/// One Hardhat node, one service on Kestrel and one headless chromium (Debian's, through Playwright's ExecutablePath:
/// Playwright's own browser download is never used) for the test collection.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public static string ChromiumPath => Environment.GetEnvironmentVariable("TRACE_CHROMIUM") is { Length: > 0 } p ? p : "/usr/bin/chromium";

    public static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-quic",
    ];

    /// <summary>The scan limit the service runs with, so that the fourth scan of a code warns.</summary>
    public const int ScanLimit = 3;

    public static string ScreenshotDir { get; } = Path.Combine(RepoPaths.Root, "test-results", "screenshots");

    public HardhatNode Node { get; private set; } = null!;
    public ServiceOnKestrel Service { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath) && !RepoPaths.OnCi) return; // every BrowserFact is skipped
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException(
                $"chromium not found at {ChromiumPath}: install Debian's package (apt-get install -y chromium; scripts/test does) or set TRACE_CHROMIUM.");
        Node = await HardhatNode.StartAsync();
        var registry = await DeployedRegistry.DeployAsync(Node.RpcUrl);
        Service = await ServiceOnKestrel.StartAsync(Node.RpcUrl, registry, new Dictionary<string, string>
        {
            ["TRACE_SCAN_LIMIT"] = ScanLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["TRACE_CONSUMER_RATE_LIMIT"] = "1000",
            // the browser is on 127.0.0.1: its X-Forwarded-For plays distinct phones for the scan limit (distinct scanners)
            ["TRACE_TRUSTED_PROXIES"] = "127.0.0.0/8",
        });
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ChromiumArgs });
        Directory.CreateDirectory(ScreenshotDir);
    }

    /// <summary>A phone-sized page in the given language.</summary>
    public async Task<IPage> PhoneAsync(string locale = "en-US")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            Locale = locale, ViewportSize = new ViewportSize { Width = 390, Height = 844 }, DeviceScaleFactor = 2, IsMobile = true, HasTouch = true,
            AcceptDownloads = true,
            ExtraHTTPHeaders = new Dictionary<string, string> { ["Accept-Language"] = locale == "en-US" ? "en-US,en;q=0.9" : "zh-CN,zh;q=0.9,en;q=0.5" },
        });
        return await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
        if (Service is not null) await Service.DisposeAsync();
        if (Node is not null) await Node.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

/// <summary>
/// A browser test. Without chromium it is skipped on a developer machine, but on CI (CI=true) it runs and fails with the
/// fixture's message, so that a CI machine without the browser cannot pass silently.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!File.Exists(BrowserFixture.ChromiumPath) && !RepoPaths.OnCi)
            Skip = $"chromium not found at {BrowserFixture.ChromiumPath} (apt-get install -y chromium): skipped locally; CI=true makes this a failure";
    }
}
