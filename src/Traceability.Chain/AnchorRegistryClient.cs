using System.Numerics;
using System.Text.Json;
using Traceability.Chain.ContractDefinition;

namespace Traceability.Chain;

/// <summary>An anchor as the contract stores it (getAnchor).</summary>
public sealed record AnchorRecord(BigInteger Sequence, byte[] Root, BigInteger FirstEventSequence, BigInteger LastEventSequence, DateTimeOffset Timestamp, string Submitter);

/// <summary>An Anchored event with the transaction and block that emitted it.</summary>
public sealed record AnchoredLog(BigInteger Sequence, byte[] Root, BigInteger FirstEventSequence, BigInteger LastEventSequence, string Submitter, string TransactionHash, long BlockNumber);

/// <summary>
/// Access to one deployed AnchorRegistry: the contract's functions as typed calls, its reverts as
/// <see cref="ContractRevertedException"/> named after its custom errors, its Anchored events as records.
/// Writing needs a signer; reading does not.
/// </summary>
public sealed class AnchorRegistryClient
{
    private static readonly TimeSpan DeployTimeout = TimeSpan.FromMinutes(2);

    private readonly EthereumRpcClient _rpc;
    private readonly EthKey? _signer;

    public AnchorRegistryClient(EthereumRpcClient rpc, string contractAddress, EthKey? signer = null)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        _rpc = rpc;
        ContractAddress = EthAddress.Normalize(contractAddress);
        _signer = signer;
    }

    /// <summary>The contract's EIP-55 checksummed address.</summary>
    public string ContractAddress { get; }

    /// <summary>The signer's address, or null for a read-only client.</summary>
    public string? SignerAddress => _signer?.Address;

    /// <summary>
    /// Sends anchor(sequence, root, first, last) from the signer. Estimates gas first, so a revert
    /// (UnexpectedAnchorSequence, NonContiguousEvents, ...) throws <see cref="ContractRevertedException"/> before
    /// anything is sent. Returns the transaction hash; the receipt says whether it was mined successfully.
    /// </summary>
    public Task<string> SendAnchorAsync(BigInteger sequence, byte[] root, BigInteger first, BigInteger last, CancellationToken ct) =>
        SendAsync(new AnchorFunction(sequence, root, first, last), ct);

    /// <summary>Sends setAnchorer(account, authorised) from the signer (who must be the owner, or it throws NotOwner).</summary>
    public Task<string> SetAnchorerAsync(string account, bool authorised, CancellationToken ct) =>
        SendAsync(new SetAnchorerFunction(EthAddress.Normalize(account), authorised), ct);

    public Task<TransactionReceipt?> GetReceiptAsync(string txHash, CancellationToken ct) => _rpc.GetTransactionReceiptAsync(txHash, ct);

    /// <summary>Polls until the transaction is mined; <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public Task<TransactionReceipt> WaitForReceiptAsync(string txHash, TimeSpan timeout, CancellationToken ct) =>
        _rpc.WaitForReceiptAsync(txHash, timeout, ct);

    /// <summary>Anchor <paramref name="sequence"/>, or null when the contract answers UnknownAnchor.</summary>
    public async Task<AnchorRecord?> GetAnchorAsync(BigInteger sequence, CancellationToken ct)
    {
        try
        {
            var a = await CallAsync(new GetAnchorFunction(sequence), ct).ConfigureAwait(false);
            return new AnchorRecord(sequence, a.Root, a.FirstEventSequence, a.LastEventSequence,
                DateTimeOffset.FromUnixTimeSeconds((long)a.Timestamp), a.Submitter);
        }
        catch (ContractRevertedException e) when (e.ErrorName == AnchorRegistryErrors.UnknownAnchor.Name)
        {
            return null;
        }
    }

    public Task<BigInteger> AnchorCountAsync(CancellationToken ct) => CallAsync(new AnchorCountFunction(), ct);

    /// <summary>verify(sequence, leafHash, proof): true when the leaf hash is in anchor <paramref name="sequence"/>'s tree.</summary>
    public Task<bool> VerifyAsync(BigInteger sequence, byte[] leafHash, IReadOnlyList<byte[]> proof, CancellationToken ct) =>
        CallAsync(new VerifyFunction(sequence, leafHash, proof), ct);

    public Task<bool> IsAnchorerAsync(string account, CancellationToken ct) => CallAsync(new IsAnchorerFunction(EthAddress.Normalize(account)), ct);

    public Task<string> OwnerAsync(CancellationToken ct) => CallAsync(new OwnerFunction(), ct);

    /// <summary>The Anchored events of this contract in the block range (<paramref name="toBlock"/> null for latest), in chain order.</summary>
    public async Task<IReadOnlyList<AnchoredLog>> GetAnchoredLogsAsync(long fromBlock, long? toBlock, CancellationToken ct)
    {
        var filter = new LogFilter(fromBlock, toBlock is { } to ? BlockTag.Number(to) : BlockTag.Latest, ContractAddress, [AnchoredEvent.Definition.Topic0]);
        var logs = await _rpc.GetLogsAsync(filter, ct).ConfigureAwait(false);
        return logs.Where(l => !l.Removed).Select(l =>
        {
            var e = AnchoredEvent.Decode(l.Topics, l.Data);
            return new AnchoredLog(e.Sequence, e.Root, e.FirstEventSequence, e.LastEventSequence, e.Submitter, l.TransactionHash, l.BlockNumber);
        }).ToList();
    }

    /// <summary>
    /// Deploys <paramref name="bytecode"/> (the init code, e.g. from <see cref="LoadBytecode"/>) from <paramref name="deployer"/>,
    /// who becomes the owner; waits for the receipt. Returns the contract's address and the block it was created in.
    /// </summary>
    public static async Task<(string Address, long Block)> DeployAsync(EthereumRpcClient rpc, EthKey deployer, byte[] bytecode, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        var txHash = await rpc.SendTransactionAsync(deployer, null, BigInteger.Zero, bytecode, ct).ConfigureAwait(false);
        var receipt = await rpc.WaitForReceiptAsync(txHash, DeployTimeout, ct).ConfigureAwait(false);
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

    private async Task<TOutput> CallAsync<TOutput>(IFunctionMessage<TOutput> message, CancellationToken ct)
    {
        var call = new CallRequest(ContractAddress, message.Encode(), _signer?.Address);
        var returnData = await _rpc.CallAsync(call, BlockTag.Latest, AnchorRegistryErrors.All, ct).ConfigureAwait(false);
        if (returnData.Length == 0)
            throw new InvalidOperationException($"{message.Function.Name} returned nothing: is {ContractAddress} an AnchorRegistry on this chain?");
        return message.DecodeOutput(returnData);
    }

    private Task<string> SendAsync(IFunctionMessage message, CancellationToken ct)
    {
        if (_signer is null) throw new InvalidOperationException("This AnchorRegistryClient has no signer; it can only read.");
        return _rpc.SendTransactionAsync(_signer, ContractAddress, BigInteger.Zero, message.Encode(), ct, AnchorRegistryErrors.All);
    }
}
