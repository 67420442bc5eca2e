using System.Numerics;
using System.Text.Json;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.JsonRpc.Client;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Signer;
using Nethereum.Web3.Accounts;
using Traceability.Chain.ContractDefinition;
using NethereumReceipt = Nethereum.RPC.Eth.DTOs.TransactionReceipt;

namespace Traceability.Chain;

/// <summary>An anchor as the contract stores it (getAnchor).</summary>
public sealed record AnchorRecord(BigInteger Sequence, byte[] Root, BigInteger FirstEventSequence, BigInteger LastEventSequence, DateTimeOffset Timestamp, string Submitter);

/// <summary>An Anchored event with the transaction and block that emitted it.</summary>
public sealed record AnchoredLog(BigInteger Sequence, byte[] Root, BigInteger FirstEventSequence, BigInteger LastEventSequence, string Submitter, string TransactionHash, long BlockNumber);

/// <summary>
/// A mined transaction's receipt. <see cref="Succeeded"/> is status 1; a reverted transaction is mined with status 0.
/// <see cref="Raw"/> is Nethereum's receipt, for its logs (e.g. <c>Raw.DecodeAllEvents&lt;AnchoredEventDTO&gt;()</c>).
/// </summary>
public sealed record TransactionReceipt(
    string TransactionHash,
    long BlockNumber,
    string BlockHash,
    bool Succeeded,
    long GasUsed,
    BigInteger EffectiveGasPrice,
    string From,
    string? To,
    string? ContractAddress,
    NethereumReceipt Raw)
{
    public static TransactionReceipt Of(NethereumReceipt r) => new(
        r.TransactionHash,
        (long)r.BlockNumber.Value,
        r.BlockHash,
        r.Succeeded(),
        (long)r.GasUsed.Value,
        r.EffectiveGasPrice?.Value ?? BigInteger.Zero,
        EthAddress.Normalize(r.From),
        r.To is { Length: > 0 } to ? EthAddress.Normalize(to) : null,
        r.ContractAddress is { Length: > 0 } created ? EthAddress.Normalize(created) : null,
        r);
}

/// <summary>
/// Access to one deployed AnchorRegistry through Nethereum: the contract's functions as typed messages
/// (<see cref="ContractDefinition"/>), its reverts as <see cref="ContractRevertedException"/> named after its custom
/// errors, its Anchored events as records. Writing needs a signer key: transactions are EIP-1559, signed by a
/// Nethereum <see cref="Account"/> bound to the chain id the node reports. Reading does not.
/// A chain that cannot be reached throws <see cref="ChainUnavailableException"/> (see <see cref="HttpRpcClient"/>).
/// </summary>
public sealed partial class AnchorRegistryClient
{
    /// <summary>Head room added to eth_estimateGas for the gas limit of the transactions sent here (percent).</summary>
    public const int GasLimitHeadroomPercent = 20;

    private static readonly TimeSpan DeployTimeout = TimeSpan.FromMinutes(2);

    private readonly IClient _rpc;
    private readonly EthECKey? _signer;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private Nethereum.Web3.Web3? _writer;

    public AnchorRegistryClient(IClient rpc, string contractAddress, EthECKey? signer = null)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        _rpc = rpc;
        ContractAddress = EthAddress.Normalize(contractAddress);
        _signer = signer;
        Web3 = new Nethereum.Web3.Web3(rpc);
    }

    /// <summary>The contract's EIP-55 checksummed address.</summary>
    public string ContractAddress { get; }

    /// <summary>The signer's address, or null for a read-only client.</summary>
    public string? SignerAddress => _signer?.GetPublicAddress();

    /// <summary>A read-only Nethereum Web3 over the same node, for what is not this contract's (blocks, code).</summary>
    public Nethereum.Web3.Web3 Web3 { get; }

    /// <summary>
    /// Sends anchor(sequence, root, first, last) from the signer. Estimates gas first, so a revert
    /// (UnexpectedAnchorSequence, NonContiguousEvents, ...) throws <see cref="ContractRevertedException"/> before
    /// anything is sent. Returns the transaction hash; the receipt says whether it was mined successfully.
    /// </summary>
    public Task<string> SendAnchorAsync(BigInteger sequence, byte[] root, BigInteger first, BigInteger last, CancellationToken ct) =>
        SendAsync(new AnchorFunction { Sequence = sequence, Root = Bytes32(root), FirstEventSequence = first, LastEventSequence = last }, ct);

    /// <summary>Sends setAnchorer(account, authorised) from the signer (who must be the owner, or it throws NotOwner).</summary>
    public Task<string> SetAnchorerAsync(string account, bool authorised, CancellationToken ct) =>
        SendAsync(new SetAnchorerFunction { Account = EthAddress.Normalize(account), Authorised = authorised }, ct);

    /// <summary>The receipt, or null while the transaction is not mined (or unknown).</summary>
    public Task<TransactionReceipt?> GetReceiptAsync(string txHash, CancellationToken ct) => GetReceiptAsync(Web3, txHash, ct);

    /// <summary>Polls until the transaction is mined; <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public Task<TransactionReceipt> WaitForReceiptAsync(string txHash, TimeSpan timeout, CancellationToken ct) =>
        WaitForReceiptAsync(Web3, txHash, timeout, ct);

    /// <summary>Anchor <paramref name="sequence"/>, or null when the contract answers UnknownAnchor.</summary>
    public async Task<AnchorRecord?> GetAnchorAsync(BigInteger sequence, CancellationToken ct)
    {
        try
        {
            var a = await QueryAsync(new GetAnchorFunction { Sequence = sequence }, raw => new GetAnchorOutput().DecodeOutput(raw), ct).ConfigureAwait(false);
            return new AnchorRecord(sequence, a.Root, a.FirstEventSequence, a.LastEventSequence,
                DateTimeOffset.FromUnixTimeSeconds((long)a.Timestamp), EthAddress.Normalize(a.Submitter));
        }
        catch (ContractRevertedException e) when (e.ErrorName == AnchorRegistryErrors.NameOf<UnknownAnchorError>())
        {
            return null;
        }
    }

    public Task<BigInteger> AnchorCountAsync(CancellationToken ct) => QuerySimpleAsync<AnchorCountFunction, BigInteger>(new AnchorCountFunction(), ct);

    /// <summary>verify(sequence, leafHash, proof): true when the leaf hash is in anchor <paramref name="sequence"/>'s tree.</summary>
    public Task<bool> VerifyAsync(BigInteger sequence, byte[] leafHash, IReadOnlyList<byte[]> proof, CancellationToken ct) =>
        QuerySimpleAsync<VerifyFunction, bool>(new VerifyFunction { Sequence = sequence, Leaf = Bytes32(leafHash), Proof = proof.Select(Bytes32).ToList() }, ct);

    public Task<bool> IsAnchorerAsync(string account, CancellationToken ct) =>
        QuerySimpleAsync<IsAnchorerFunction, bool>(new IsAnchorerFunction { Account = EthAddress.Normalize(account) }, ct);

    public async Task<string> OwnerAsync(CancellationToken ct) =>
        EthAddress.Normalize(await QuerySimpleAsync<OwnerFunction, string>(new OwnerFunction(), ct).ConfigureAwait(false));

    /// <summary>The Anchored events of this contract in the block range (<paramref name="toBlock"/> null for latest), in chain order.</summary>
    public async Task<IReadOnlyList<AnchoredLog>> GetAnchoredLogsAsync(long fromBlock, long? toBlock, CancellationToken ct)
    {
        var anchored = Web3.Eth.GetEvent<AnchoredEventDTO>(ContractAddress);
        var filter = anchored.CreateFilterInput(
            new BlockParameter((ulong)fromBlock), toBlock is { } to ? new BlockParameter((ulong)to) : BlockParameter.CreateLatest());
        var logs = await Guard(() => anchored.GetAllChangesAsync(filter), ct).ConfigureAwait(false);
        return logs.Where(l => !l.Log.Removed).Select(l => new AnchoredLog(
            l.Event.Sequence, l.Event.Root, l.Event.FirstEventSequence, l.Event.LastEventSequence, EthAddress.Normalize(l.Event.Submitter),
            l.Log.TransactionHash, (long)l.Log.BlockNumber.Value)).ToList();
    }

    /// <summary>
    /// Deploys <paramref name="bytecode"/> (the init code, e.g. from <see cref="LoadBytecode"/>) from <paramref name="deployer"/>,
    /// who becomes the owner; waits for the receipt. Returns the contract's address and the block it was created in.
    /// </summary>
    public static async Task<(string Address, long Block)> DeployAsync(IClient rpc, EthECKey deployer, byte[] bytecode, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        ArgumentNullException.ThrowIfNull(deployer);
        var web3 = await SignerWeb3Async(rpc, deployer, ct).ConfigureAwait(false);
        var deployment = new AnchorRegistryDeployment(bytecode.ToHex(prefix: true));
        var txHash = await Guard(() => web3.Eth.GetContractDeploymentHandler<AnchorRegistryDeployment>().SendRequestAsync(deployment), ct).ConfigureAwait(false);
        var receipt = await WaitForReceiptAsync(web3, txHash, DeployTimeout, ct).ConfigureAwait(false);
        if (!receipt.Succeeded || receipt.ContractAddress is null)
            throw new InvalidOperationException($"The deployment transaction {txHash} failed in block {receipt.BlockNumber}.");
        return (receipt.ContractAddress, receipt.BlockNumber);
    }

    /// <summary>Reads the init code ("bytecode") from a Hardhat artifact such as artifacts/contracts/AnchorRegistry.sol/AnchorRegistry.json.</summary>
    public static byte[] LoadBytecode(string artifactPath)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(artifactPath));
        var hex = document.RootElement.GetProperty("bytecode").GetString();
        if (string.IsNullOrEmpty(hex) || hex == "0x") throw new InvalidDataException($"{artifactPath} holds no bytecode.");
        return Hex.Decode(hex);
    }

    /// <summary>
    /// A Web3 that signs with <paramref name="key"/>: a Nethereum <see cref="Account"/> bound to the node's chain id
    /// (so a chain that is down at the first send is not mistaken for chain id -1), EIP-1559 transactions.
    /// </summary>
    public static async Task<Nethereum.Web3.Web3> SignerWeb3Async(IClient rpc, EthECKey key, CancellationToken ct)
    {
        var chainId = await Guard(() => new Nethereum.Web3.Web3(rpc).Eth.ChainId.SendRequestAsync(), ct).ConfigureAwait(false);
        var web3 = new Nethereum.Web3.Web3(new Account(key, chainId.Value), rpc);
        web3.TransactionManager.UseLegacyAsDefault = false;
        return web3;
    }

    /// <summary>The receipt of <paramref name="txHash"/> on the node behind <paramref name="web3"/>, or null while it is not mined.</summary>
    public static async Task<TransactionReceipt?> GetReceiptAsync(Nethereum.Web3.IWeb3 web3, string txHash, CancellationToken ct)
    {
        var receipt = await Guard(() => web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(txHash), ct).ConfigureAwait(false);
        return receipt is null ? null : TransactionReceipt.Of(receipt);
    }

    /// <summary>Polls for the receipt until it exists; <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static async Task<TransactionReceipt> WaitForReceiptAsync(Nethereum.Web3.IWeb3 web3, string txHash, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var delay = TimeSpan.FromMilliseconds(25);
        while (true)
        {
            var receipt = await GetReceiptAsync(web3, txHash, ct).ConfigureAwait(false);
            if (receipt is not null) return receipt;
            var left = deadline - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"No receipt for transaction {txHash} after {timeout.TotalSeconds:0.#} s.");
            await Task.Delay(delay < left ? delay : left, ct).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
        }
    }

    private async Task<string> SendAsync<TMessage>(TMessage message, CancellationToken ct) where TMessage : FunctionMessage, new()
    {
        if (_signer is null) throw new InvalidOperationException("This AnchorRegistryClient has no signer; it can only read.");
        var web3 = _writer ??= await SignerWeb3Async(_rpc, _signer, ct).ConfigureAwait(false);
        var handler = web3.Eth.GetContractTransactionHandler<TMessage>();
        // Nethereum estimates before it signs; a revert there is the contract's custom error, and nothing is sent.
        var estimate = await Guard(() => handler.EstimateGasAsync(ContractAddress, message), ct).ConfigureAwait(false);
        message.Gas = estimate.Value + estimate.Value * GasLimitHeadroomPercent / 100;

        // Sends through one client are serialised, and each takes the node's pending nonce: Nethereum's in-memory nonce
        // service would otherwise count past a transaction that failed to send or was dropped, and leave a gap that
        // stalls every later one. Another process sending with the same key can still race for a nonce.
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (web3.TransactionManager.Account.NonceService is { } nonces) await nonces.ResetNonceAsync().ConfigureAwait(false);
            return await Guard(() => handler.SendRequestAsync(ContractAddress, message), ct).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private Task<TOutput> QuerySimpleAsync<TMessage, TOutput>(TMessage message, CancellationToken ct) where TMessage : FunctionMessage, new() =>
        QueryAsync(message, raw => new FunctionCallDecoder().DecodeSimpleTypeOutput<TOutput>(
            ABITypedRegistry.GetFunctionABI<TMessage>().OutputParameters[0], raw), ct);

    private async Task<TOutput> QueryAsync<TMessage, TOutput>(TMessage message, Func<string, TOutput> decode, CancellationToken ct) where TMessage : FunctionMessage, new()
    {
        var raw = await Guard(() => Web3.Eth.GetContractQueryHandler<TMessage>().QueryRawAsync(ContractAddress, message), ct).ConfigureAwait(false);
        if (string.IsNullOrEmpty(raw) || raw == "0x")
        {
            var name = ABITypedRegistry.GetFunctionABI<TMessage>().Name;
            throw new InvalidOperationException($"{name} returned nothing: is {ContractAddress} an AnchorRegistry on this chain?");
        }
        return decode(raw);
    }

    private static byte[] Bytes32(byte[] value) =>
        value.Length == 32 ? value : throw new ArgumentException($"A bytes32 value has 32 bytes, not {value.Length}.", nameof(value));

    /// <summary>Runs a Nethereum call: its revert exceptions become <see cref="ContractRevertedException"/>; <paramref name="ct"/> stops the wait.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> call, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        try
        {
            return await call().WaitAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (ContractRevertedException.From(e) is { } reverted)
        {
            throw reverted;
        }
    }
}
