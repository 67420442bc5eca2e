using System.Numerics;
using Nethereum.Contracts;
using Traceability.Chain.ContractDefinition;

namespace Traceability.Chain;

/// <summary>An address's membership as memberOf returns it: all zero for an address never registered; ValidUntilBlock 0 while active.</summary>
public sealed record Membership(byte[] MemberId, long ValidFromBlock, long ValidUntilBlock)
{
    public bool IsRegistered => MemberId.Any(b => b != 0);
}

// The member-address functions of the contract (ADR 0010).
public sealed partial class AnchorRegistryClient
{
    /// <summary>Sends registerMember(account, memberId) from the signer, who must be the owner (else NotOwner, before anything is sent).</summary>
    public Task<string> RegisterMemberAsync(string account, byte[] memberId, CancellationToken ct) =>
        SendAsync(new RegisterMemberFunction { Account = EthAddress.Normalize(account), MemberId = Bytes32(memberId) }, ct);

    /// <summary>Sends revokeMember(account) from the signer, who must be the owner.</summary>
    public Task<string> RevokeMemberAsync(string account, CancellationToken ct) =>
        SendAsync(new RevokeMemberFunction { Account = EthAddress.Normalize(account) }, ct);

    public async Task<Membership> MemberOfAsync(string account, CancellationToken ct)
    {
        var m = await QueryAsync(new MemberOfFunction { Account = EthAddress.Normalize(account) }, raw => new MemberOfOutput().DecodeOutput(raw), ct).ConfigureAwait(false);
        return new Membership(m.MemberId, (long)m.ValidFromBlock, (long)m.ValidUntilBlock);
    }

    /// <summary>wasMemberWhenAnchored: whether <paramref name="account"/> was an address of <paramref name="memberId"/> when anchor <paramref name="sequence"/> was written.</summary>
    public Task<bool> WasMemberWhenAnchoredAsync(string account, byte[] memberId, BigInteger sequence, CancellationToken ct) =>
        QuerySimpleAsync<WasMemberWhenAnchoredFunction, bool>(
            new WasMemberWhenAnchoredFunction { Account = EthAddress.Normalize(account), MemberId = Bytes32(memberId), Sequence = sequence }, ct);

    /// <summary>wasMemberAt: whether <paramref name="account"/> was an address of <paramref name="memberId"/> in block <paramref name="blockNumber"/>.</summary>
    public Task<bool> WasMemberAtAsync(string account, byte[] memberId, BigInteger blockNumber, CancellationToken ct) =>
        QuerySimpleAsync<WasMemberAtFunction, bool>(
            new WasMemberAtFunction { Account = EthAddress.Normalize(account), MemberId = Bytes32(memberId), BlockNumber = blockNumber }, ct);
}
