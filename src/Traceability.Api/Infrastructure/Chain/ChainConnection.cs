using System.Text.Json;
using Nethereum.Signer;
using Traceability.Api.Infrastructure.Configuration;
using Traceability.Chain;

namespace Traceability.Api.Infrastructure.Chain;

/// <summary>
/// Where the service anchors: the RPC URL, chain id and AnchorRegistry address (TRACE_CHAIN_RPC / TRACE_CONTRACT, else the
/// deployment record chain.json that chain-devnet/up writes), and the anchorer key (TRACE_CHAIN_KEY, else the data
/// folder's chain-key file).
/// </summary>
public sealed class ChainConnection
{
    public ChainConnection(TraceOptions options, IHttpClientFactory httpFactory)
    {
        var record = ReadRecord(Path.Combine(options.DataDir, "chain.json"));
        RpcUrl = options.ChainRpc is { Length: > 0 } rpc ? rpc : record?.RpcUrl;
        Contract = options.Contract is { Length: > 0 } c ? c : record?.Contract;
        RecordedChainId = record?.ChainId;
        var keyHex = options.ChainKey is { Length: > 0 } k ? k : ReadKeyFile(Path.Combine(options.DataDir, "chain-key"));
        Signer = keyHex is null ? null : new EthECKey(keyHex);
        if (RpcUrl is not null)
        {
            Rpc = new HttpRpcClient(httpFactory.CreateClient("chain"), new Uri(RpcUrl));
            Web3 = new Nethereum.Web3.Web3(Rpc);
            if (Contract is not null) Registry = new AnchorRegistryClient(Rpc, Contract, Signer);
            var ownerKey = options.ChainOwnerKey is { Length: > 0 } o ? new EthECKey(o) : Signer;
            if (Contract is not null) OwnerRegistry = ownerKey == Signer ? Registry : new AnchorRegistryClient(Rpc, Contract, ownerKey);
        }
    }

    public string? RpcUrl { get; }
    public string? Contract { get; }
    public long? RecordedChainId { get; }
    public EthECKey? Signer { get; }

    /// <summary>The anchorer's address, or null without a key.</summary>
    public string? SignerAddress => Signer?.GetPublicAddress();

    public HttpRpcClient? Rpc { get; }

    /// <summary>Read-only Nethereum access to the chain (block number, code); the contract goes through <see cref="Registry"/>.</summary>
    public Nethereum.Web3.Web3? Web3 { get; }

    /// <summary>Whether contract code sits at <paramref name="address"/> on the chain (false when no chain is configured).</summary>
    public async Task<bool> HasCodeAsync(string address, CancellationToken ct)
    {
        if (Web3 is null) return false;
        var code = await Web3.Eth.GetCode.SendRequestAsync(address).WaitAsync(ct);
        return code is not (null or "" or "0x");
    }
    public AnchorRegistryClient? Registry { get; }

    /// <summary>The registry as its owner (TRACE_CHAIN_OWNER_KEY, else the anchorer key): registers and revokes member addresses.</summary>
    public AnchorRegistryClient? OwnerRegistry { get; }

    /// <summary>Why the chain cannot be used, or null.</summary>
    public string? ConfigurationProblem =>
        RpcUrl is null ? "no chain configured (set TRACE_CHAIN_RPC or run chain-devnet/up to write chain.json)"
        : Contract is null ? "no AnchorRegistry address (set TRACE_CONTRACT or run chain-devnet/up)"
        : Signer is null ? "no anchorer key (set TRACE_CHAIN_KEY or run chain-devnet/up to create chain-key)"
        : null;

    private long? _chainId;

    public async Task<long> GetChainIdAsync(CancellationToken ct)
    {
        if (_chainId is { } known) return known;
        if (Web3 is null) return RecordedChainId ?? 0;
        var id = (long)(await Web3.Eth.ChainId.SendRequestAsync().WaitAsync(ct)).Value;
        _chainId = id;
        return id;
    }

    /// <summary>The chain's id as last read, or the recorded one, without a network call.</summary>
    public long? KnownChainId => _chainId ?? RecordedChainId;

    private static DeploymentRecord? ReadRecord(string path)
    {
        if (!File.Exists(path)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        return new DeploymentRecord(
            root.TryGetProperty("rpcUrl", out var r) ? r.GetString() : null,
            root.TryGetProperty("contract", out var c) ? c.GetString() : null,
            root.TryGetProperty("chainId", out var id) && id.ValueKind == JsonValueKind.Number ? id.GetInt64() : null);
    }

    private static string? ReadKeyFile(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;

    private sealed record DeploymentRecord(string? RpcUrl, string? Contract, long? ChainId);
}
