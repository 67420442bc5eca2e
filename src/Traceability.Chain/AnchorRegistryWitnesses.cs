using System.Numerics;
using Traceability.Chain.ContractDefinition;

namespace Traceability.Chain;

/// <summary>Who cosigned an anchor, read from the contract: the cosigners, the current threshold k and witness count, and isFinal.</summary>
public sealed record AnchorCosignatures(IReadOnlyList<string> Cosigners, int Threshold, int WitnessCount, bool Final);

// The witness side of AnchorRegistry (docs/adr/0010-consortium-trust-on-chain.md): the owner sets witnesses and the
// threshold, a witness cosigns a root it rebuilt, anyone reads who cosigned and whether an anchor is final.
public sealed partial class AnchorRegistryClient
{
    /// <summary>Sends cosign(sequence, root) from the signer (a witness); RootMismatch, NotWitness, AlreadyCosigned, UnknownAnchor throw before sending.</summary>
    public Task<string> CosignAsync(BigInteger sequence, byte[] root, CancellationToken ct) =>
        SendAsync(new CosignFunction { Sequence = sequence, Root = Bytes32(root) }, ct);

    /// <summary>Sends setWitness(account, witness) from the signer (the owner).</summary>
    public Task<string> SetWitnessAsync(string account, bool witness, CancellationToken ct) =>
        SendAsync(new SetWitnessFunction { Account = EthAddress.Normalize(account), Witness = witness }, ct);

    /// <summary>Sends setWitnessThreshold(k) from the signer (the owner).</summary>
    public Task<string> SetWitnessThresholdAsync(int threshold, CancellationToken ct) =>
        SendAsync(new SetWitnessThresholdFunction { Threshold = threshold }, ct);

    public Task<bool> IsWitnessAsync(string account, CancellationToken ct) =>
        QuerySimpleAsync<IsWitnessFunction, bool>(new IsWitnessFunction { Account = EthAddress.Normalize(account) }, ct);

    public Task<bool> HasCosignedAsync(BigInteger sequence, string witness, CancellationToken ct) =>
        QuerySimpleAsync<HasCosignedFunction, bool>(new HasCosignedFunction { Sequence = sequence, Witness = EthAddress.Normalize(witness) }, ct);

    public Task<bool> IsFinalAsync(BigInteger sequence, CancellationToken ct) =>
        QuerySimpleAsync<IsFinalFunction, bool>(new IsFinalFunction { Sequence = sequence }, ct);

    public async Task<int> WitnessCountAsync(CancellationToken ct) =>
        (int)await QuerySimpleAsync<WitnessCountFunction, BigInteger>(new WitnessCountFunction(), ct).ConfigureAwait(false);

    public async Task<int> WitnessThresholdAsync(CancellationToken ct) =>
        (int)await QuerySimpleAsync<WitnessThresholdFunction, BigInteger>(new WitnessThresholdFunction(), ct).ConfigureAwait(false);

    /// <summary>The cosigners of anchor <paramref name="sequence"/> in the order they cosigned (EIP-55).</summary>
    public async Task<IReadOnlyList<string>> CosignersOfAsync(BigInteger sequence, CancellationToken ct) =>
        (await QuerySimpleAsync<CosignersOfFunction, List<string>>(new CosignersOfFunction { Sequence = sequence }, ct).ConfigureAwait(false))
        .Select(EthAddress.Normalize).ToList();

    /// <summary>Cosigners, threshold, witness count and isFinal of one anchor (four calls).</summary>
    public async Task<AnchorCosignatures> GetCosignaturesAsync(BigInteger sequence, CancellationToken ct)
    {
        var cosigners = await CosignersOfAsync(sequence, ct).ConfigureAwait(false);
        var threshold = await WitnessThresholdAsync(ct).ConfigureAwait(false);
        var witnesses = await WitnessCountAsync(ct).ConfigureAwait(false);
        var final = await IsFinalAsync(sequence, ct).ConfigureAwait(false);
        return new AnchorCosignatures(cosigners, threshold, witnesses, final);
    }
}
