using System.Numerics;
using System.Text.Json;
using Traceability.Chain.Abi;
using Traceability.Chain.ContractDefinition;

namespace Traceability.Chain.Tests;

/// <summary>AnchorRegistry's function calls, return values, errors and events against ethers' Interface over the compiled artifact.</summary>
public class AbiVectorTests
{
    public static TheoryData<string> CallVectors => Vectors.Names("calls");
    public static TheoryData<string> ResultVectors => Vectors.Names("results");
    public static TheoryData<string> ErrorVectors => Vectors.Names("errors");
    public static TheoryData<string> EventVectors => Vectors.Names("events");

    [Theory]
    [MemberData(nameof(CallVectors))]
    public void EncodeReturnsEthersCallDataGivenFunctionMessage(string name)
    {
        var v = Vectors.Get("calls", name);
        var message = Message(v.Str("function"), v.GetProperty("args"));

        message.Function.Signature.Should().Be(v.Str("signature"));
        Hex.Encode(message.Function.Selector).Should().Be(v.Str("selector"));
        Hex.Encode(message.Encode()).Should().Be(v.Str("expected"));
        Normalise(message.Function.DecodeCall(v.Bytes("expected"))).Should().BeEquivalentTo(Normalise(message.Arguments));
    }

    [Theory]
    [MemberData(nameof(ResultVectors))]
    public void DecodeOutputReturnsValuesGivenEthersReturnData(string name)
    {
        var v = Vectors.Get("results", name);
        var encoded = v.Bytes("encoded");
        var values = v.GetProperty("values");
        switch (v.Str("function"))
        {
            case "getAnchor":
                var a = new GetAnchorFunction(1).DecodeOutput(encoded);
                Hex.Encode(a.Root).Should().Be(values[0].GetString());
                a.FirstEventSequence.Should().Be(values[1].Big());
                a.LastEventSequence.Should().Be(values[2].Big());
                a.Timestamp.Should().Be(values[3].Big());
                a.Submitter.Should().Be(values[4].GetString());
                break;
            case "anchorCount":
                new AnchorCountFunction().DecodeOutput(encoded).Should().Be(values[0].Big());
                break;
            case "verify":
                new VerifyFunction(1, new byte[32], []).DecodeOutput(encoded).Should().Be(values[0].GetBoolean());
                break;
            case "isAnchorer":
                new IsAnchorerFunction("0x0000000000000000000000000000000000000000").DecodeOutput(encoded).Should().Be(values[0].GetBoolean());
                break;
            case "owner":
                new OwnerFunction().DecodeOutput(encoded).Should().Be(values[0].GetString());
                break;
            default:
                throw new InvalidOperationException($"No decoder for {v.Str("function")}.");
        }
    }

    [Theory]
    [MemberData(nameof(ErrorVectors))]
    public void RevertDataDecodesToErrorNameAndArgumentsGivenEthersEncoding(string name)
    {
        var v = Vectors.Get("errors", name);
        var error = AnchorRegistryErrors.All.Append(AbiError.ErrorString).Append(AbiError.Panic).Single(e => e.Name == v.Str("error"));
        var expectedArguments = error.Inputs.Select((p, i) => Value(p.Type, v.Arg(i))).ToList();

        error.Signature.Should().Be(v.Str("signature"));
        Hex.Encode(error.Selector).Should().Be(v.Str("selector"));
        Hex.Encode(error.Encode(expectedArguments)).Should().Be(v.Str("expected"));

        var reverted = ContractRevertedException.FromRevertData(v.Bytes("expected"), AnchorRegistryErrors.All);
        reverted.ErrorName.Should().Be(v.Str("error"));
        reverted.Signature.Should().Be(v.Str("signature"));
        Normalise(reverted.Arguments).Should().BeEquivalentTo(Normalise(expectedArguments));
    }

    [Theory]
    [MemberData(nameof(EventVectors))]
    public void EventLogRoundTripsGivenEthersTopicsAndData(string name)
    {
        var v = Vectors.Get("events", name);
        var definition = v.Str("event") == "Anchored" ? AnchoredEvent.Definition : AnchorerChangedEvent.Definition;
        var arguments = definition.Inputs.Select((p, i) => Value(p.Type, v.Arg(i))).ToList();
        var topics = v.GetProperty("topics").EnumerateArray().Select(t => t.GetString()!).ToList();

        definition.Signature.Should().Be(v.Str("signature"));
        definition.Topic0.Should().Be(v.Str("topic0"));
        var (encodedTopics, data) = definition.EncodeLog(arguments);
        encodedTopics.Should().Equal(topics);
        Hex.Encode(data).Should().Be(v.Str("data"));

        if (v.Str("event") == "Anchored")
        {
            var e = AnchoredEvent.Decode(topics, v.Bytes("data"));
            e.Sequence.Should().Be((BigInteger)arguments[0]);
            e.Root.Should().Equal((byte[])arguments[1]);
            e.FirstEventSequence.Should().Be((BigInteger)arguments[2]);
            e.LastEventSequence.Should().Be((BigInteger)arguments[3]);
            e.Submitter.Should().Be((string)arguments[4]);
        }
        else
        {
            AnchorerChangedEvent.Decode(topics, v.Bytes("data")).Should().Be(new AnchorerChangedEvent((string)arguments[0], (bool)arguments[1]));
        }
    }

    [Fact]
    public void FromRevertDataReturnsUnknownGivenForeignSelector()
    {
        var reverted = ContractRevertedException.FromRevertData(Hex.Decode("0xdeadbeef"), AnchorRegistryErrors.All);
        reverted.ErrorName.Should().Be(ContractRevertedException.UnknownError);
        reverted.Arguments.Should().BeEmpty();
        reverted.Message.Should().Contain("0xdeadbeef");
    }

    [Fact]
    public void FromRevertDataReturnsNoReasonGivenEmptyData()
    {
        ContractRevertedException.FromRevertData([], AnchorRegistryErrors.All).ErrorName.Should().Be(ContractRevertedException.NoReason);
    }

    [Fact]
    public void DecodeThrowsGivenTruncatedData()
    {
        var data = new VerifyFunction(1, new byte[32], [new byte[32], new byte[32]]).Encode();
        var act = () => VerifyFunction.Definition.DecodeCall(data.AsSpan(0, data.Length - 1));
        act.Should().Throw<AbiDecodingException>();
    }

    [Fact]
    public void EncodeThrowsGivenBytes32OfWrongLength()
    {
        var act = () => new AnchorFunction(1, new byte[31], 1, 1).Encode();
        act.Should().Throw<ArgumentException>().WithMessage("*32 bytes*");
    }

    private static IFunctionMessage Message(string function, JsonElement args) => function switch
    {
        "anchor" => new AnchorFunction(args[0].Big(), Hex.Decode(args[1].GetString()!), args[2].Big(), args[3].Big()),
        "getAnchor" => new GetAnchorFunction(args[0].Big()),
        "anchorCount" => new AnchorCountFunction(),
        "verify" => new VerifyFunction(args[0].Big(), Hex.Decode(args[1].GetString()!), args[2].EnumerateArray().Select(p => Hex.Decode(p.GetString()!)).ToList()),
        "setAnchorer" => new SetAnchorerFunction(args[0].GetString()!, args[1].GetBoolean()),
        "isAnchorer" => new IsAnchorerFunction(args[0].GetString()!),
        "owner" => new OwnerFunction(),
        _ => throw new InvalidOperationException($"No message for {function}."),
    };

    private static object Value(string type, JsonElement json) => type switch
    {
        "uint256" => json.Big(),
        "bytes32" => Hex.Decode(json.GetString()!),
        "address" or "string" => json.GetString()!,
        "bool" => json.GetBoolean(),
        _ => throw new InvalidOperationException(type),
    };

    // Compares byte arrays by content and lists element-wise through one textual form.
    private static IReadOnlyList<string> Normalise(IEnumerable<object> values) => values.Select(v => v switch
    {
        byte[] b => Hex.Encode(b),
        System.Collections.IEnumerable list and not string => "[" + string.Join(",", Normalise(list.Cast<object>())) + "]",
        _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!,
    }).ToList();
}
