using System.Diagnostics;

namespace Traceability.Api.Tests.Support;

/// <summary>
/// The built verifier (Traceability.Verifier.dll, as scripts/verify runs it) as a process of its own. The settings it
/// would read from the environment are removed, so each test says what the verifier is given.
/// </summary>
public static class VerifierProcess
{
    public static Process Start(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Traceability.Verifier.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var name in new[] { "TRACE_CHAIN_RPC", "TRACE_API_KEY", "TRACE_WITNESS_KEY", "TRACE_SIGNING_KEY" }) psi.Environment.Remove(name);
        return Process.Start(psi)!;
    }

    /// <summary>Runs it to the end (at most two minutes): exit status, standard output, standard error.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await stdout, await stderr);
    }
}
