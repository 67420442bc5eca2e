namespace Traceability.Verifier.Tests;

/// <summary>The arguments of <c>witness</c>, <c>--receipt</c> and <c>--min-witnesses</c>: what is accepted, and the usage error for what is not.</summary>
public sealed class WitnessOptionsTests
{
    private const string Key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    public static TheoryData<string[], string> BadWitnessArguments => new()
    {
        { ["--rpc", "http://127.0.0.1:8545", "--key", Key], "--api URL" },
        { ["--api", "ftp://x", "--key", Key], "--api URL" },
        { ["--api", "http://127.0.0.1:5080"], "--key HEX" },
        { ["--api", "http://127.0.0.1:5080", "--key", "0x12"], "not a private key" },
        { ["--api", "http://127.0.0.1:5080", "--key", Key, "--interval", "0"], "--interval" },
        { ["--api", "http://127.0.0.1:5080", "--key", Key, "--contract", "0x1234"], "not an address" },
        { ["--api", "http://127.0.0.1:5080", "--key", Key, "bundle.json"], "unknown argument" },
    };

    [Theory]
    [MemberData(nameof(BadWitnessArguments))]
    public void WitnessParseThrowsUsageExceptionNamingTheProblem(string[] args, string mentions)
    {
        var act = () => WitnessOptions.Parse(args);
        act.Should().Throw<UsageException>().WithMessage($"*{mentions}*");
    }

    [Fact]
    public void WitnessParseReadsEveryOption()
    {
        var o = WitnessOptions.Parse(["--api", "http://127.0.0.1:5080", "--api-key", "k", "--rpc", "http://127.0.0.1:9545", "--key", Key,
            "--contract", "0x5fbdb2315678afecb367f032d93f642f64180aa3", "--once", "--interval=3"]);
        o.Should().Be(new WitnessOptions(new Uri("http://127.0.0.1:5080"), "k", new Uri("http://127.0.0.1:9545"), Key,
            "0x5FbDB2315678afecb367f032d93F642f64180aa3", true, TimeSpan.FromSeconds(3)));
    }

    public static TheoryData<string[], string> BadBundleArguments => new()
    {
        { ["b.json", "--min-witnesses", "0"], "--min-witnesses" },
        { ["b.json", "--min-witnesses", "65"], "--min-witnesses" },
        { ["--audit", "--api", "http://x", "--receipt", "r.json"], "go with a bundle" },
        { ["--audit", "--api", "http://x", "--min-witnesses", "2"], "go with a bundle" },
    };

    [Theory]
    [MemberData(nameof(BadBundleArguments))]
    public void BundleParseThrowsUsageExceptionNamingTheProblem(string[] args, string mentions)
    {
        var act = () => CommandLine.Parse(args);
        act.Should().Throw<UsageException>().WithMessage($"*{mentions}*");
    }

    [Fact]
    public void BundleParseKeepsReceiptAndMinWitnesses()
    {
        var c = CommandLine.Parse(["b.json", "--receipt", "r.json", "--min-witnesses", "2"]);
        (c.Bundle, c.Receipt, c.MinWitnesses).Should().Be(("b.json", "r.json", 2));
    }
}
