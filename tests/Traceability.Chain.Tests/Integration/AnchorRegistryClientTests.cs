using System.Numerics;
using Nethereum.ABI;
using Nethereum.Contracts;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Signer;
using Traceability.Chain.ContractDefinition;
using Traceability.Ledger.Crypto;
using Xunit.Abstractions;
using TransactionReceipt = Traceability.Chain.TransactionReceipt;

namespace Traceability.Chain.Tests.Integration;

/// <summary>AnchorRegistryClient against a real Hardhat node; every test deploys its own registry.</summary>
[Collection(HardhatCollection.Name)]
public class AnchorRegistryClientTests(HardhatNodeFixture node, ITestOutputHelper output)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly byte[] SomeRoot = Keccak256.Hash("some root"u8);

    [Fact]
    public async Task DeployReturnsContractOwnedByDeployerGivenBytecode()
    {
        var (registry, address, block) = await node.DeployRegistryAsync();

        (await node.Web3.Eth.GetCode.SendRequestAsync(address)).Should().NotBe("0x").And.StartWith("0x");
        block.Should().BeGreaterThan(0);
        (await registry.OwnerAsync(None)).Should().Be(node.Owner.GetPublicAddress());
        (await registry.AnchorCountAsync(None)).Should().Be(BigInteger.Zero);
        (await registry.IsAnchorerAsync(node.Owner.GetPublicAddress(), None)).Should().BeFalse();
    }

    [Fact]
    public async Task SetAnchorerAuthorisesAccountAndEmitsAnchorerChanged()
    {
        var (registry, address, _) = await node.DeployRegistryAsync();
        var account = EthECKey.GenerateKey().GetPublicAddress();

        var receipt = await node.MinedAsync(await registry.SetAnchorerAsync(account, true, None));

        (await registry.IsAnchorerAsync(account, None)).Should().BeTrue();
        var log = receipt.Raw.DecodeAllEvents<AnchorerChangedEventDTO>().Should().ContainSingle().Subject;
        log.Log.Address.Should().BeEquivalentTo(address);
        log.Event.Account.Should().Be(account);
        log.Event.Authorised.Should().BeTrue();

        await node.MinedAsync(await registry.SetAnchorerAsync(account, false, None));
        (await registry.IsAnchorerAsync(account, None)).Should().BeFalse();
    }

    [Fact]
    public async Task ConcurrentSendsThroughOneClientGetConsecutiveNonces()
    {
        var (registry, _, _) = await node.DeployRegistryAsync();
        var owner = node.Owner.GetPublicAddress();
        var before = (await node.Web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(owner, BlockParameter.CreatePending())).Value;
        var accounts = Enumerable.Range(0, 4).Select(_ => EthECKey.GenerateKey().GetPublicAddress()).ToList();

        var hashes = await Task.WhenAll(accounts.Select(a => registry.SetAnchorerAsync(a, true, None)));

        foreach (var hash in hashes) await node.MinedAsync(hash);
        (await node.Web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(owner, BlockParameter.CreateLatest())).Value.Should().Be(before + 4);
        foreach (var a in accounts) (await registry.IsAnchorerAsync(a, None)).Should().BeTrue();
    }

    [Fact]
    public async Task AnchorRecordsRootThatVerifiesStandardMerkleTreeProofs()
    {
        var (ownerClient, address, deployBlock) = await node.DeployRegistryAsync();
        var anchorer = await node.NewAnchorerAsync(ownerClient);
        var registry = new AnchorRegistryClient(node.Rpc, address, anchorer);
        registry.SignerAddress.Should().Be(anchorer.GetPublicAddress());
        var tree = Vectors.Get("merkle", "2 leaves");
        var root = tree.Bytes("root");
        var leaves = tree.GetProperty("leaves").EnumerateArray().ToList();

        var txHash = await registry.SendAnchorAsync(1, root, 1, 2, None);
        var receipt = await registry.WaitForReceiptAsync(txHash, TimeSpan.FromSeconds(30), None);

        receipt.Succeeded.Should().BeTrue();
        receipt.TransactionHash.Should().Be(txHash);
        receipt.To.Should().Be(address);
        receipt.From.Should().Be(anchorer.GetPublicAddress());
        receipt.Raw.Type.Value.Should().Be(2, "anchors are EIP-1559 transactions");
        receipt.EffectiveGasPrice.Should().BeGreaterThan(BigInteger.Zero);
        output.WriteLine($"anchor(1, root, 1, 2): gas used {receipt.GasUsed}, effective gas price {receipt.EffectiveGasPrice} wei");
        var block = await node.Web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(new HexBigInteger(receipt.BlockNumber));

        var anchor = await registry.GetAnchorAsync(1, None);
        anchor.Should().NotBeNull();
        anchor!.Sequence.Should().Be(BigInteger.One);
        anchor.Root.Should().Equal(root);
        anchor.FirstEventSequence.Should().Be(BigInteger.One);
        anchor.LastEventSequence.Should().Be(new BigInteger(2));
        anchor.Submitter.Should().Be(anchorer.GetPublicAddress());
        anchor.Timestamp.Should().Be(DateTimeOffset.FromUnixTimeSeconds((long)block.Timestamp.Value));
        (await registry.AnchorCountAsync(None)).Should().Be(BigInteger.One);

        foreach (var leaf in leaves)
        {
            var value = leaf.GetProperty("value");
            var leafHash = LeafHash(value[0].Big(), Hex.Decode(value[1].GetString()!));
            Hex.Encode(leafHash).Should().Be(leaf.Str("leafHash"), "the hand-made leaf hash must equal OpenZeppelin's");
            var proof = leaf.GetProperty("proof").EnumerateArray().Select(p => Hex.Decode(p.GetString()!)).ToList();

            (await registry.VerifyAsync(1, leafHash, proof, None)).Should().BeTrue();
            (await registry.VerifyAsync(2, leafHash, proof, None)).Should().BeFalse("anchor 2 does not exist");
        }
        var wrongLeaf = LeafHash(3, new byte[32]);
        (await registry.VerifyAsync(1, wrongLeaf, [Hex.Decode(leaves[1].Str("leafHash"))], None)).Should().BeFalse();

        var logs = await registry.GetAnchoredLogsAsync(deployBlock, null, None);
        var anchored = logs.Should().ContainSingle().Subject;
        anchored.Should().BeEquivalentTo(new AnchoredLog(1, root, 1, 2, anchorer.GetPublicAddress(), txHash, receipt.BlockNumber));
    }

    [Fact]
    public async Task AnchorAcceptsConsecutiveAnchorsAndLogsThemInOrder()
    {
        var (ownerClient, address, deployBlock) = await node.DeployRegistryAsync();
        var registry = new AnchorRegistryClient(node.Rpc, address, await node.NewAnchorerAsync(ownerClient));

        var first = await node.MinedAsync(await registry.SendAnchorAsync(1, SomeRoot, 1, 10, None));
        var second = await node.MinedAsync(await registry.SendAnchorAsync(2, Keccak256.Hash("second"u8), 11, 11, None));
        output.WriteLine($"gas used: first anchor {first.GasUsed}, second anchor {second.GasUsed}");

        (await registry.AnchorCountAsync(None)).Should().Be(new BigInteger(2));
        var head = (long)(await node.Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync()).Value;
        var logs = await registry.GetAnchoredLogsAsync(deployBlock, head, None);
        logs.Select(l => (l.Sequence, l.FirstEventSequence, l.LastEventSequence, l.BlockNumber)).Should().Equal(
            (BigInteger.One, BigInteger.One, new BigInteger(10), first.BlockNumber),
            (new BigInteger(2), new BigInteger(11), new BigInteger(11), second.BlockNumber));
        (await registry.GetAnchoredLogsAsync(second.BlockNumber + 1, null, None)).Should().BeEmpty();
    }

    [Fact]
    public async Task SendAnchorThrowsNotAuthorisedGivenUnauthorisedSigner()
    {
        var (_, address, _) = await node.DeployRegistryAsync();
        var stranger = await node.NewFundedKeyAsync();
        var registry = new AnchorRegistryClient(node.Rpc, address, stranger);

        var e = await Reverted(() => registry.SendAnchorAsync(1, SomeRoot, 1, 1, None));

        e.ErrorName.Should().Be("NotAuthorised");
        e.Arguments.Should().Equal(stranger.GetPublicAddress());
        e.Message.Should().Be($"The contract reverted with NotAuthorised({stranger.GetPublicAddress()}).");
        e.InnerException.Should().BeOfType<SmartContractCustomErrorRevertException>("Nethereum raised it at gas estimation");
        var sent = await node.Web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(stranger.GetPublicAddress(), BlockParameter.CreatePending());
        sent.Value.Should().Be(0, "nothing may be sent when the estimate reverts");
    }

    [Fact]
    public async Task SendAnchorThrowsUnexpectedAnchorSequenceGivenGap()
    {
        var registry = await AnchorerClientAsync();

        var e = await Reverted(() => registry.SendAnchorAsync(2, SomeRoot, 1, 1, None));

        e.ErrorName.Should().Be("UnexpectedAnchorSequence");
        e.Arguments.Should().Equal(BigInteger.One, new BigInteger(2));
    }

    [Fact]
    public async Task SendAnchorThrowsUnexpectedAnchorSequenceGivenSameAnchorTwice()
    {
        var registry = await AnchorerClientAsync();
        await node.MinedAsync(await registry.SendAnchorAsync(1, SomeRoot, 1, 5, None));

        var e = await Reverted(() => registry.SendAnchorAsync(1, SomeRoot, 1, 5, None));

        e.ErrorName.Should().Be("UnexpectedAnchorSequence");
        e.Arguments.Should().Equal(new BigInteger(2), BigInteger.One);
    }

    [Fact]
    public async Task SendAnchorThrowsNonContiguousEventsGivenSkippedEvent()
    {
        var registry = await AnchorerClientAsync();
        await node.MinedAsync(await registry.SendAnchorAsync(1, SomeRoot, 1, 5, None));

        var e = await Reverted(() => registry.SendAnchorAsync(2, SomeRoot, 7, 9, None));

        e.ErrorName.Should().Be("NonContiguousEvents");
        e.Arguments.Should().Equal(new BigInteger(6), new BigInteger(7));
        e.Signature.Should().Be("NonContiguousEvents(uint256,uint256)");
    }

    [Fact]
    public async Task SendAnchorThrowsInvalidEventRangeGivenLastBeforeFirst()
    {
        var registry = await AnchorerClientAsync();

        var e = await Reverted(() => registry.SendAnchorAsync(1, SomeRoot, 1, 0, None));

        e.ErrorName.Should().Be("InvalidEventRange");
        e.Arguments.Should().Equal(BigInteger.One, BigInteger.Zero);
    }

    [Fact]
    public async Task SendAnchorThrowsZeroRootGivenZeroRoot()
    {
        var registry = await AnchorerClientAsync();

        var e = await Reverted(() => registry.SendAnchorAsync(1, new byte[32], 1, 1, None));

        e.ErrorName.Should().Be("ZeroRoot");
        e.Arguments.Should().BeEmpty();
    }

    [Fact]
    public async Task SetAnchorerThrowsNotOwnerGivenOtherSigner()
    {
        var (_, address, _) = await node.DeployRegistryAsync();
        var stranger = await node.NewFundedKeyAsync();
        var registry = new AnchorRegistryClient(node.Rpc, address, stranger);

        var e = await Reverted(() => registry.SetAnchorerAsync(stranger.GetPublicAddress(), true, None));

        e.ErrorName.Should().Be("NotOwner");
        e.Arguments.Should().Equal(stranger.GetPublicAddress());
    }

    [Fact]
    public async Task GetAnchorReturnsNullGivenUnknownAnchor()
    {
        var (registry, _, _) = await node.DeployRegistryAsync();

        (await registry.GetAnchorAsync(0, None)).Should().BeNull();
        (await registry.GetAnchorAsync(1, None)).Should().BeNull();
    }

    [Fact]
    public async Task QueryThrowsNethereumCustomErrorNamedUnknownAnchorGivenRawGetAnchorCall()
    {
        var (_, address, _) = await node.DeployRegistryAsync();
        var query = node.Web3.Eth.GetContractQueryHandler<GetAnchorFunction>();

        var act = () => query.QueryRawAsync(address, new GetAnchorFunction { Sequence = 42 });

        var revert = (await act.Should().ThrowAsync<SmartContractCustomErrorRevertException>()).Which;
        revert.IsCustomErrorFor<UnknownAnchorError>().Should().BeTrue();
        revert.IsCustomErrorFor<UnexpectedAnchorSequenceError>().Should().BeFalse();
        revert.DecodeError<UnknownAnchorError>().Sequence.Should().Be(new BigInteger(42));
        var e = ContractRevertedException.From(revert)!;
        e.ErrorName.Should().Be("UnknownAnchor");
        e.Arguments.Should().Equal(new BigInteger(42));
        e.Message.Should().Contain("UnknownAnchor(42)");
    }

    [Fact]
    public async Task SendAnchorThrowsInvalidOperationGivenReadOnlyClient()
    {
        var (_, address, _) = await node.DeployRegistryAsync();
        var readOnly = new AnchorRegistryClient(node.Rpc, address);

        var act = () => readOnly.SendAnchorAsync(1, SomeRoot, 1, 1, None);

        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("*no signer*");
    }

    private async Task<AnchorRegistryClient> AnchorerClientAsync()
    {
        var (ownerClient, address, _) = await node.DeployRegistryAsync();
        return new AnchorRegistryClient(node.Rpc, address, await node.NewAnchorerAsync(ownerClient));
    }

    private static async Task<ContractRevertedException> Reverted(Func<Task> action)
    {
        var assertion = await action.Should().ThrowAsync<ContractRevertedException>();
        return assertion.Which;
    }

    // OpenZeppelin StandardMerkleTree leaf over ["uint256","bytes32"]: keccak256(keccak256(abi.encode(sequence, digest))),
    // the encoding by Nethereum's ABI encoder.
    private static byte[] LeafHash(BigInteger sequence, byte[] digest) =>
        Keccak256.Hash(Keccak256.Hash(new ABIEncode().GetABIEncoded(new ABIValue("uint256", sequence), new ABIValue("bytes32", digest))));
}
