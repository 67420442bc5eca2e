using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Traceability.Api.Tests.Support;

/// <summary>Runs js/verify-with-openzeppelin.js with node: the JS library's own verdict on bundles and anchors.</summary>
public static class OpenZeppelinJs
{
    public static async Task<JsonNode> CheckAsync(IEnumerable<JsonNode> bundles, IEnumerable<JsonNode> anchors)
    {
        var input = Path.GetTempFileName();
        await File.WriteAllTextAsync(input, new JsonObject
        {
            ["bundles"] = new JsonArray(bundles.Select(b => b.DeepClone()).ToArray()),
            ["anchors"] = new JsonArray(anchors.Select(a => a.DeepClone()).ToArray()),
        }.ToJsonString());
        var script = Path.Combine(AppContext.BaseDirectory, "js", "verify-with-openzeppelin.js");
        var psi = new ProcessStartInfo("node", [script, input])
        {
            WorkingDirectory = RepoPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["TRACE_REPO_ROOT"] = RepoPaths.Root;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        File.Delete(input);
        if (p.ExitCode != 0) throw new InvalidOperationException($"node failed ({p.ExitCode}): {await stderr}");
        return JsonNode.Parse(await stdout)!;
    }
}
