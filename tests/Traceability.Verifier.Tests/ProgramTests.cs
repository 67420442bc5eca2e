using System.Diagnostics;
using System.Text.Json.Nodes;
using Traceability.Testing;

namespace Traceability.Verifier.Tests;

/// <summary>
/// The built verifier run as a process: its one line of output and its exit status. With TRACE_VERIFY_TOOL set to an
/// installed trace-verify, the same tests check the packaged .NET tool.
/// </summary>
[Collection(VerifierCollection.Name)]
public sealed class ProgramTests(VerifierFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("trace-verify-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        // TRACE_VERIFY_TOOL names an installed trace-verify (dotnet tool install) to run these tests against instead.
        var tool = Environment.GetEnvironmentVariable("TRACE_VERIFY_TOOL");
        var psi = new ProcessStartInfo(string.IsNullOrEmpty(tool) ? "dotnet" : tool)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (string.IsNullOrEmpty(tool)) psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Traceability.Verifier.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("TRACE_CHAIN_RPC");
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await stdout, await stderr);
    }

    private string Write(JsonNode bundle, string name = "bundle.json")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, bundle.ToJsonString());
        return path;
    }

    [Fact]
    public async Task ExitsZeroWithOneVerifiedLineGivenAGoodBundle()
    {
        var (exit, stdout, stderr) = await RunAsync(Write(fixture.Main.Bundle(7)), "--rpc", fixture.RpcUrl.ToString());
        exit.Should().Be(0, stderr);
        stdout.Should().StartWith($"VERIFIED event 7 ({fixture.Main.Event(7).Hash}) in anchor 2 (events 6..11), block ");
        stdout.TrimEnd().Should().NotContain("\n");
    }

    [Fact]
    public async Task ExitsOneWithAFailedLineGivenATamperedBundle()
    {
        var bundle = fixture.Main.Bundle(7);
        bundle["event"]!["eventTime"] = "2000-01-01T00:00:00.000Z";
        var (exit, stdout, _) = await RunAsync(Write(bundle), "--rpc", fixture.RpcUrl.ToString());
        exit.Should().Be(1);
        stdout.Should().StartWith("FAILED: event hash mismatch: the event hashes to ni:///sha-256;");
    }

    [Fact]
    public async Task PrintsOneJsonObjectGivenJson()
    {
        var (exit, stdout, _) = await RunAsync(Write(fixture.Main.Bundle(VerifierFixture.FirstUnanchored)), "--rpc", fixture.RpcUrl.ToString(), "--json");
        exit.Should().Be(1);
        var json = JsonNode.Parse(stdout)!.AsObject();
        json["verified"]!.GetValue<bool>().Should().BeFalse();
        json["check"]!.GetValue<string>().Should().Be(Checks.Anchor);
        json["reason"]!.GetValue<string>().Should().StartWith("not anchored yet");
        json["sequence"]!.GetValue<ulong>().Should().Be(VerifierFixture.FirstUnanchored);
        json.Select(p => p.Key).Should().Contain(["verified", "reason", "check", "sequence", "anchor", "block", "timestamp", "contract", "chainId"]);
    }

    [Fact]
    public async Task ExitsOneWithAClearReasonGivenAnUnreachableChain()
    {
        var (exit, stdout, stderr) = await RunAsync(Write(fixture.Main.Bundle(7)), "--rpc", $"http://127.0.0.1:{HardhatNode.FreePort()}");
        exit.Should().Be(1);
        stdout.Should().StartWith("FAILED: chain unreachable: ").And.Contain("127.0.0.1");
        stderr.Should().BeEmpty();
    }

    [Fact]
    public async Task ExitsOneGivenAFileThatIsNotJson()
    {
        var path = Path.Combine(_dir, "not.json");
        File.WriteAllText(path, "this is not json");
        var (exit, stdout, _) = await RunAsync(path);
        exit.Should().Be(1);
        stdout.Should().StartWith("FAILED: malformed bundle:");
    }

    [Theory]
    [InlineData]
    [InlineData("--bogus")]
    [InlineData("a.json", "b.json")]
    [InlineData("a.json", "--rpc")]
    [InlineData("a.json", "--contract", "0x12")]
    [InlineData("--audit")]
    [InlineData("a.json", "--api", "http://localhost")]
    public async Task ExitsTwoGivenAUsageError(params string[] args)
    {
        var (exit, stdout, stderr) = await RunAsync(args);
        exit.Should().Be(2);
        stdout.Should().BeEmpty();
        stderr.Should().Contain("usage: trace-verify");
    }

    [Fact]
    public async Task ExitsTwoGivenAMissingFile()
    {
        var (exit, _, stderr) = await RunAsync(Path.Combine(_dir, "missing.json"));
        exit.Should().Be(2);
        stderr.Should().Contain("cannot read");
    }
}
