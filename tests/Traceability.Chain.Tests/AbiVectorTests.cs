using System.Numerics;
using System.Text.Json;
using Nethereum.ABI.ABIDeserialisation;
using Nethereum.ABI.FunctionEncoding;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.RPC.Eth.DTOs;
using Traceability.Chain.ContractDefinition;
using Traceability.Testing;

namespace Traceability.Chain.Tests;

/// <summary>
/// The typed AnchorRegistry definition against the compiled artifact's ABI (every function, event and error, both ways)
/// and against ethers' Interface encodings of calls, return values, errors and events.
/// </summary>
public class AbiVectorTests
{
    public static TheoryData<string> CallVectors => Vectors.Names("calls");
    public static TheoryData<string> ResultVectors => Vectors.Names("results");
    public static TheoryData<string> ErrorVectors => Vectors.Names("errors");
    public static TheoryData<string> EventVectors => Vectors.Names("events");

    private static readonly Dictionary<string, Type> Functions = new()
    {
        ["anchor"] = typeof(AnchorFunction), ["getAnchor"] = typeof(GetAnchorFunction), ["anchorCount"] = typeof(AnchorCountFunction),
        ["verify"] = typeof(VerifyFunction), ["setAnchorer"] = typeof(SetAnchorerFunction), ["isAnchorer"] = typeof(IsAnchorerFunction),
        ["owner"] = typeof(OwnerFunction),
        // member addresses, witnesses and cosignatures
        ["MAX_WITNESSES"] = typeof(MaxWitnessesFunction),
        ["cosign"] = typeof(CosignFunction),
        ["cosignatureCount"] = typeof(CosignatureCountFunction),
        ["cosignersOf"] = typeof(CosignersOfFunction),
        ["hasCosigned"] = typeof(HasCosignedFunction),
        ["isFinal"] = typeof(IsFinalFunction),
        ["isWitness"] = typeof(IsWitnessFunction),
        ["memberOf"] = typeof(MemberOfFunction),
        ["registerMember"] = typeof(RegisterMemberFunction),
        ["revokeMember"] = typeof(RevokeMemberFunction),
        ["setWitness"] = typeof(SetWitnessFunction),
        ["setWitnessThreshold"] = typeof(SetWitnessThresholdFunction),
        ["wasMemberAt"] = typeof(WasMemberAtFunction),
        ["wasMemberWhenAnchored"] = typeof(WasMemberWhenAnchoredFunction),
        ["witnessCount"] = typeof(WitnessCountFunction),
        ["witnessThreshold"] = typeof(WitnessThresholdFunction),
    };

    private static readonly Dictionary<string, Type> Events = new()
    {
        ["Anchored"] = typeof(AnchoredEventDTO), ["AnchorerChanged"] = typeof(AnchorerChangedEventDTO),
        ["Cosigned"] = typeof(CosignedEventDTO),
        ["MemberRegistered"] = typeof(MemberRegisteredEventDTO),
        ["MemberRevoked"] = typeof(MemberRevokedEventDTO),
        ["WitnessChanged"] = typeof(WitnessChangedEventDTO),
        ["WitnessThresholdChanged"] = typeof(WitnessThresholdChangedEventDTO),
    };

    [Fact]
    public async Task TypedDefinitionHasEverySignatureOfArtifactAbiGivenCompiledContract()
    {
        await HardhatNode.EnsureCompiledAsync();
        using var artifact = JsonDocument.Parse(await File.ReadAllBytesAsync(DeployedRegistry.ArtifactPath));
        var abi = new ABIJsonDeserialiser().DeserialiseContract(artifact.RootElement.GetProperty("abi").GetRawText());

        abi.Functions.Select(f => (f.Signature, f.Sha3Signature)).Should().BeEquivalentTo(
            Functions.Values.Select(t => ABITypedRegistry.GetFunctionABI(t)).Select(f => (f.Signature, f.Sha3Signature)));
        foreach (var function in abi.Functions)
        {
            var typed = ABITypedRegistry.GetFunctionABI(Functions[function.Name]);
            (typed.OutputParameters ?? []).Select(p => p.Type).Should().Equal((function.OutputParameters ?? []).Select(p => p.Type), function.Name);
        }
        abi.Events.Select(e => (e.Name, e.Sha3Signature, Indexed: string.Join(",", e.InputParameters.Select(p => p.Indexed)))).Should().BeEquivalentTo(
            Events.Values.Select(t => ABITypedRegistry.GetEvent(t)).Select(e => (e.Name, e.Sha3Signature, Indexed: string.Join(",", e.InputParameters.Select(p => p.Indexed)))));
        abi.Errors.Select(e => (e.Signature, e.Sha3Signature)).Should().BeEquivalentTo(
            AnchorRegistryErrors.All.Select(ABITypedRegistry.GetError).Select(e => (e.Signature, e.Sha3Signature)));
    }

    [Theory]
    [MemberData(nameof(CallVectors))]
    public void CallDataEqualsEthersGivenFunctionMessage(string name)
    {
        var v = Vectors.Get("calls", name);
        var (message, callData) = Message(v.Str("function"), v.GetProperty("args"));
        var abi = ABITypedRegistry.GetFunctionABI(message.GetType());

        abi.Signature.Should().Be(v.Str("signature"));
        ("0x" + abi.Sha3Signature).Should().Be(v.Str("selector"));
        callData.Should().Be(v.Str("expected"));
    }

    [Theory]
    [MemberData(nameof(ResultVectors))]
    public void OutputDecodesToValuesGivenEthersReturnData(string name)
    {
        var v = Vectors.Get("results", name);
        var encoded = v.Str("encoded");
        var values = v.GetProperty("values");
        switch (v.Str("function"))
        {
            case "getAnchor":
                var a = new GetAnchorOutput().DecodeOutput(encoded);
                Hex.Encode(a.Root).Should().Be(values[0].GetString());
                a.FirstEventSequence.Should().Be(values[1].Big());
                a.LastEventSequence.Should().Be(values[2].Big());
                a.Timestamp.Should().Be(values[3].Big());
                a.Submitter.Should().Be(values[4].GetString());
                break;
            case "anchorCount":
                Simple<AnchorCountFunction, BigInteger>(encoded).Should().Be(values[0].Big());
                break;
            case "verify":
                Simple<VerifyFunction, bool>(encoded).Should().Be(values[0].GetBoolean());
                break;
            case "isAnchorer":
                Simple<IsAnchorerFunction, bool>(encoded).Should().Be(values[0].GetBoolean());
                break;
            case "owner":
                Simple<OwnerFunction, string>(encoded).Should().BeEquivalentTo(values[0].GetString());
                break;
            default:
                throw new InvalidOperationException($"No decoder for {v.Str("function")}.");
        }
    }

    [Theory]
    [MemberData(nameof(ErrorVectors))]
    public void RevertNamesErrorAndArgumentsGivenEthersEncoding(string name)
    {
        var v = Vectors.Get("errors", name);
        var data = v.Str("expected");
        // What Nethereum raises for this revert data: Error(string) as a reason, anything else as a custom error.
        Exception raised;
        try
        {
            new FunctionCallDecoder().ThrowIfErrorOnOutput(data);
            raised = new SmartContractCustomErrorRevertException(data);
        }
        catch (SmartContractRevertException e) { raised = e; }

        var reverted = ContractRevertedException.From(raised)!;

        reverted.ErrorName.Should().Be(v.Str("error"));
        reverted.Signature.Should().Be(v.Str("signature"));
        Hex.Encode(reverted.RevertData).Should().Be(data);
        var expected = v.GetProperty("args").EnumerateArray().ToList();
        reverted.Arguments.Should().HaveCount(expected.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var actual = reverted.Arguments[i];
            switch (actual)
            {
                case BigInteger n: n.Should().Be(expected[i].Big()); break;
                case string s: s.Should().Be(expected[i].GetString()); break;
                default: throw new InvalidOperationException($"Unexpected argument type {actual.GetType().Name}.");
            }
        }
    }

    [Fact]
    public void RevertIsUnknownWithItsDataGivenForeignSelector()
    {
        var reverted = ContractRevertedException.From(new SmartContractCustomErrorRevertException("0xdeadbeef"))!;

        reverted.ErrorName.Should().Be(ContractRevertedException.UnknownError);
        reverted.Arguments.Should().BeEmpty();
        reverted.Message.Should().Contain("0xdeadbeef");
    }

    [Fact]
    public void RevertHasNoReasonGivenEmptyData()
    {
        ContractRevertedException.From(new SmartContractCustomErrorRevertException("0x"))!.ErrorName.Should().Be(ContractRevertedException.NoReason);
    }

    [Fact]
    public void FromReturnsNullGivenExceptionThatIsNoRevert()
    {
        ContractRevertedException.From(new ChainUnavailableException("down")).Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(EventVectors))]
    public void EventLogDecodesGivenEthersTopicsAndData(string name)
    {
        var v = Vectors.Get("events", name);
        var type = Events[v.Str("event")];
        var abi = ABITypedRegistry.GetEvent(type);
        var log = new FilterLog
        {
            Topics = v.GetProperty("topics").EnumerateArray().Select(t => (object)t.GetString()!).ToArray(),
            Data = v.Str("data"),
        };
        var args = v.GetProperty("args");

        ("0x" + abi.Sha3Signature).Should().Be(v.Str("topic0"));
        if (type == typeof(AnchoredEventDTO))
        {
            var e = new[] { log }.DecodeAllEvents<AnchoredEventDTO>().Should().ContainSingle().Subject.Event;
            e.Sequence.Should().Be(args[0].Big());
            Hex.Encode(e.Root).Should().Be(args[1].GetString());
            e.FirstEventSequence.Should().Be(args[2].Big());
            e.LastEventSequence.Should().Be(args[3].Big());
            e.Submitter.Should().BeEquivalentTo(args[4].GetString());
        }
        else
        {
            var e = new[] { log }.DecodeAllEvents<AnchorerChangedEventDTO>().Should().ContainSingle().Subject.Event;
            e.Account.Should().BeEquivalentTo(args[0].GetString());
            e.Authorised.Should().Be(args[1].ValueKind == JsonValueKind.True || args[1].ToString() == "true");
        }
    }

    private static TOutput Simple<TMessage, TOutput>(string encoded) where TMessage : FunctionMessage =>
        new FunctionCallDecoder().DecodeSimpleTypeOutput<TOutput>(ABITypedRegistry.GetFunctionABI<TMessage>().OutputParameters[0], encoded);

    private static (FunctionMessage Message, string CallData) Message(string function, JsonElement args) => function switch
    {
        "anchor" => Encoded(new AnchorFunction
        {
            Sequence = args[0].Big(), Root = Hex.Decode(args[1].GetString()!), FirstEventSequence = args[2].Big(), LastEventSequence = args[3].Big(),
        }),
        "getAnchor" => Encoded(new GetAnchorFunction { Sequence = args[0].Big() }),
        "anchorCount" => Encoded(new AnchorCountFunction()),
        "verify" => Encoded(new VerifyFunction
        {
            Sequence = args[0].Big(), Leaf = Hex.Decode(args[1].GetString()!), Proof = args[2].EnumerateArray().Select(p => Hex.Decode(p.GetString()!)).ToList(),
        }),
        "setAnchorer" => Encoded(new SetAnchorerFunction { Account = args[0].GetString()!, Authorised = args[1].GetBoolean() }),
        "isAnchorer" => Encoded(new IsAnchorerFunction { Account = args[0].GetString()! }),
        "owner" => Encoded(new OwnerFunction()),
        _ => throw new InvalidOperationException($"No message for {function}."),
    };

    // Nethereum encodes by the message's static type, so each message is encoded where its type is known.
    private static (FunctionMessage, string) Encoded<T>(T message) where T : FunctionMessage, new() => (message, message.GetCallData().ToHex(prefix: true));
}
