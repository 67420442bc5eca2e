using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text;

namespace Traceability.Chain.Tests.Integration;

[CollectionDefinition(Name)]
public sealed class HardhatCollection : ICollectionFixture<HardhatNodeFixture>
{
    public const string Name = "hardhat node";
}

/// <summary>
/// A real Hardhat node (the repository's node_modules/.bin/hardhat) on a free local port, started once per
/// test run and killed with its process tree at the end. Hardhat's default account #0 is the deployer and owner.
/// </summary>
public sealed class HardhatNodeFixture : IAsyncLifetime
{
    /// <summary>Hardhat's well-known default account #0 (funded with 10,000 ETH on every Hardhat node).</summary>
    public const string DefaultAccount0Key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ReceiptTimeout = TimeSpan.FromSeconds(30);

    private readonly StringBuilder _log = new();
    private Process? _node;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };
    public EthKey Owner { get; } = EthKey.FromHex(DefaultAccount0Key);
    public string RepositoryRoot { get; } = FindRepositoryRoot();
    public int Port { get; private set; }
    public EthereumRpcClient Rpc { get; private set; } = null!;
    public byte[] Bytecode { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var artifact = Path.Combine(RepositoryRoot, "artifacts", "contracts", "AnchorRegistry.sol", "AnchorRegistry.json");
        if (!File.Exists(artifact)) await CompileAsync();
        Bytecode = AnchorRegistryClient.LoadBytecode(artifact);

        Port = FreePort();
        Rpc = new EthereumRpcClient(Http, new Uri($"http://127.0.0.1:{Port}"));
        _node = Start(HardhatPath, $"node --hostname 127.0.0.1 --port {Port}");

        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (_node.HasExited) throw new InvalidOperationException($"The Hardhat node exited with {_node.ExitCode}:\n{Log}");
            try
            {
                if (await Rpc.GetChainIdAsync(CancellationToken.None) == 31337) return;
            }
            catch (ChainUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public Task DisposeAsync()
    {
        if (_node is { HasExited: false })
        {
            _node.Kill(entireProcessTree: true);
            _node.WaitForExit(10_000);
        }
        _node?.Dispose();
        Http.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>What the node printed so far (the last lines), for failure messages.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    /// <summary>Deploys a fresh AnchorRegistry owned by <see cref="Owner"/>, so each test starts from anchor 0.</summary>
    public async Task<(AnchorRegistryClient Owner, string Address, long Block)> DeployRegistryAsync()
    {
        var (address, block) = await AnchorRegistryClient.DeployAsync(Rpc, Owner, Bytecode, CancellationToken.None);
        return (new AnchorRegistryClient(Rpc, address, Owner), address, block);
    }

    /// <summary>A new key funded with 1 ETH by <see cref="Owner"/> and authorised as an anchorer of <paramref name="registry"/>.</summary>
    public async Task<EthKey> NewAnchorerAsync(AnchorRegistryClient registry)
    {
        var key = await NewFundedKeyAsync();
        await MinedAsync(await registry.SetAnchorerAsync(key.Address, true, CancellationToken.None));
        return key;
    }

    public async Task<EthKey> NewFundedKeyAsync()
    {
        var key = EthKey.Generate();
        await MinedAsync(await Rpc.SendTransactionAsync(Owner, key.Address, BigInteger.Pow(10, 18), [], CancellationToken.None));
        return key;
    }

    /// <summary>Waits for the receipt and asserts that the transaction succeeded.</summary>
    public async Task<TransactionReceipt> MinedAsync(string txHash)
    {
        var receipt = await Rpc.WaitForReceiptAsync(txHash, ReceiptTimeout, CancellationToken.None);
        receipt.Succeeded.Should().BeTrue($"transaction {txHash} should succeed");
        return receipt;
    }

    private string HardhatPath => Path.Combine(RepositoryRoot, "node_modules", ".bin", "hardhat");

    private async Task CompileAsync()
    {
        using var compile = Start(HardhatPath, "compile");
        await compile.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (compile.ExitCode != 0) throw new InvalidOperationException($"hardhat compile failed ({compile.ExitCode}):\n{Log}");
    }

    private Process Start(string fileName, string arguments)
    {
        if (!File.Exists(fileName)) throw new FileNotFoundException($"{fileName} is missing: run npm ci in {RepositoryRoot}.");
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(fileName, arguments)
            {
                WorkingDirectory = RepositoryRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            },
        };
        // Hardhat logs every request; the pipes must be drained or the node blocks. Keep the tail for diagnostics.
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.AppendLine(line);
            if (_log.Length > 20_000) _log.Remove(0, _log.Length - 20_000);
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Traceability.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Traceability.sln above {AppContext.BaseDirectory}.");
    }
}
