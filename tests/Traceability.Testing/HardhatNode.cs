using System.Diagnostics;
using Traceability.Chain;

namespace Traceability.Testing;

/// <summary>
/// A real Hardhat node (node_modules/.bin/hardhat node) on a free loopback port, started for a test fixture and killed
/// with its process tree on dispose.
/// </summary>
public sealed class HardhatNode : IAsyncDisposable
{
    /// <summary>Hardhat's default account #0 (funded with 10,000 ETH on every fresh node).</summary>
    public const string DefaultAccountKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    private readonly Process _process;
    private readonly List<string> _output = [];

    private HardhatNode(Process process, int port)
    {
        _process = process;
        Port = port;
        RpcUrl = new Uri($"http://127.0.0.1:{port}");
    }

    public int Port { get; }
    public Uri RpcUrl { get; }
    public string Output { get { lock (_output) return string.Join('\n', _output); } }

    /// <summary>A port nobody listens on right now: for a closed-port URL, or see <see cref="FreePorts.StartAsync{T}"/>.</summary>
    public static int FreePort() => FreePorts.Next();

    /// <summary>Compiles the contracts (hardhat compile, offline) when the AnchorRegistry artifact is missing.</summary>
    public static async Task EnsureCompiledAsync()
    {
        if (File.Exists(DeployedRegistry.ArtifactPath)) return;
        var psi = new ProcessStartInfo(HardhatPath, ["compile", "--quiet"])
        {
            WorkingDirectory = RepoPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var compile = Process.Start(psi)!;
        var output = compile.StandardOutput.ReadToEndAsync();
        var errors = compile.StandardError.ReadToEndAsync();
        await compile.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (compile.ExitCode != 0) throw new InvalidOperationException($"hardhat compile failed ({compile.ExitCode}):\n{await output}{await errors}");
    }

    private static string HardhatPath
    {
        get
        {
            var path = Path.Combine(RepoPaths.Root, "node_modules", ".bin", "hardhat");
            return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: run npm ci (scripts/test does).");
        }
    }

    /// <summary>Starts a node on <paramref name="port"/>, or on a free port (another one if that is taken before the node binds it).</summary>
    public static Task<HardhatNode> StartAsync(int? port = null, CancellationToken ct = default) =>
        port is { } p ? StartOnAsync(p, ct) : FreePorts.StartAsync(free => StartOnAsync(free, ct));

    private static async Task<HardhatNode> StartOnAsync(int p, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(HardhatPath, ["node", "--hostname", "127.0.0.1", "--port", p.ToString()])
        {
            WorkingDirectory = RepoPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("hardhat node did not start");
        var node = new HardhatNode(process, p);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (node._output) if (node._output.Count < 2000) node._output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (node._output) if (node._output.Count < 2000) node._output.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var web3 = new Nethereum.Web3.Web3(new HttpRpcClient(http, node.RpcUrl));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // the last lines of output
                var exit = process.ExitCode;
                process.Dispose();
                throw FreePorts.SaysAddressInUse(node.Output) ? new PortInUseException(p, node.Output)
                    : new InvalidOperationException($"hardhat node exited ({exit}):\n{node.Output}");
            }
            try
            {
                await web3.Eth.ChainId.SendRequestAsync().WaitAsync(ct);
                // Another process that took the port would answer too: ready once this node says it listens.
                if (node.Output.Contains($"JSON-RPC server at http://127.0.0.1:{p}/", StringComparison.Ordinal)) return node;
                throw new TimeoutException("the node has not said it listens yet");
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, ct);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
