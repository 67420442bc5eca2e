using FluentAssertions;
using Nethereum.Signer;
using Traceability.Chain;
using Xunit;

namespace Traceability.Chain.Tests;

public class ServiceReceiptTests
{
    // Expected values from ethers 6 (node_modules), Hardhat's account 1:
    //   new ethers.Wallet(Key).signTypedData({name:"Traceability",version:"1",chainId:31337,verifyingContract:Contract},
    //     {Receipt:[{name:"digest",type:"bytes32"},{name:"sequence",type:"uint256"},{name:"recordTime",type:"uint64"},{name:"anchorDeadline",type:"uint64"}]},
    //     {digest:"0x"+"ab".repeat(32),sequence:42,recordTime:1764576000,anchorDeadline:1764576600})
    private const string Key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    private const string Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    private const string Contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    private const string EthersSignature =
        "0x7c4068e321bcf33f9db25b24969618336336bf83d540218e606d03da5e7237453149ef1f17d7238806b9647a000b135e27352a18a2097dde58d28304e35482151b";

    private static ReceiptMessage Message(long sequence = 42) => ServiceReceipts.Message(
        Enumerable.Repeat((byte)0xab, 32).ToArray(), sequence, DateTimeOffset.FromUnixTimeSeconds(1764576000), DateTimeOffset.FromUnixTimeSeconds(1764576600));

    [Fact]
    public void SignsAsEthersSignTypedDataDoes()
    {
        new ServiceReceipts(31337, Contract).Sign(Message(), new EthECKey(Key)).Should().Be(EthersSignature);
    }

    [Theory]
    [InlineData(1L, 0L)]
    [InlineData(123_456_789L, 1L)]
    [InlineData(long.MaxValue, 31337L)]
    public void SignsAsNethereumsTypedDataSignerDoes(long sequence, long chainId)
    {
        var message = Message(sequence);
        var typedData = new Nethereum.ABI.EIP712.TypedData<Nethereum.ABI.EIP712.Domain>
        {
            Domain = new Nethereum.ABI.EIP712.Domain { Name = "Traceability", Version = "1", ChainId = chainId, VerifyingContract = Contract },
            Types = Nethereum.ABI.EIP712.MemberDescriptionFactory.GetTypesMemberDescription(typeof(Nethereum.ABI.EIP712.Domain), typeof(ReceiptMessage)),
            PrimaryType = "Receipt",
        };
        var reference = new Nethereum.Signer.EIP712.Eip712TypedDataSigner().SignTypedDataV4(message, typedData, new EthECKey(Key));
        new ServiceReceipts(chainId, Contract).Sign(message, new EthECKey(Key)).Should().Be(reference);
    }

    [Fact]
    public void RecoversTheSignerOfEthersSignature()
    {
        new ServiceReceipts(31337, Contract).Recover(Message(), EthersSignature).Should().Be(Address);
    }

    [Theory]
    [InlineData(31337, Contract, 43)]   // another sequence
    [InlineData(1, Contract, 42)]       // another chain
    [InlineData(31337, "0x0000000000000000000000000000000000000001", 42)] // another contract
    public void RecoversAnotherAddressWhenAnythingSignedDiffers(long chainId, string contract, long sequence)
    {
        new ServiceReceipts(chainId, contract).Recover(Message(sequence), EthersSignature).Should().NotBe(Address);
    }

    [Fact]
    public void RefusesASignatureThatIsNot65Bytes()
    {
        var act = () => new ServiceReceipts(31337, Contract).Recover(Message(), "0x1234");
        act.Should().Throw<FormatException>();
    }
}
