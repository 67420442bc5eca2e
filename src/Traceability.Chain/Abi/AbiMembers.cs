using System.Text;
using Traceability.Ledger.Crypto;

namespace Traceability.Chain.Abi;

/// <summary>A named, typed input or output of a function, event or error. <see cref="Indexed"/> only for event inputs.</summary>
public sealed record AbiParameter(string Type, string Name, bool Indexed = false);

/// <summary>What functions, events and errors share: a name, inputs, and the canonical signature "name(type,...)".</summary>
public abstract class AbiMember
{
    protected AbiMember(string name, IReadOnlyList<AbiParameter> inputs)
    {
        Name = name;
        Inputs = inputs;
        InputTypes = inputs.Select(p => p.Type).ToArray();
        Signature = $"{name}({string.Join(",", InputTypes)})";
        SignatureHash = Keccak256.Hash(Encoding.ASCII.GetBytes(Signature));
    }

    public string Name { get; }
    public IReadOnlyList<AbiParameter> Inputs { get; }
    public IReadOnlyList<string> InputTypes { get; }

    /// <summary>The canonical signature, e.g. "anchor(uint256,bytes32,uint256,uint256)".</summary>
    public string Signature { get; }

    /// <summary>keccak256 of <see cref="Signature"/>.</summary>
    protected byte[] SignatureHash { get; }

    public override string ToString() => Signature;
}

/// <summary>A contract function: the 4-byte selector, call data encoding and return data decoding.</summary>
public sealed class AbiFunction(string name, IReadOnlyList<AbiParameter> inputs, IReadOnlyList<AbiParameter> outputs)
    : AbiMember(name, inputs)
{
    public IReadOnlyList<AbiParameter> Outputs { get; } = outputs;

    /// <summary>The first four bytes of keccak256(signature).</summary>
    public byte[] Selector => SignatureHash[..4];

    /// <summary>selector || abi.encode(arguments).</summary>
    public byte[] EncodeCall(IReadOnlyList<object> arguments) => [.. SignatureHash.AsSpan(0, 4), .. AbiCodec.Encode(InputTypes, arguments)];

    /// <summary>Decodes call data made by <see cref="EncodeCall"/>; the selector must match.</summary>
    public IReadOnlyList<object> DecodeCall(ReadOnlySpan<byte> callData)
    {
        if (callData.Length < 4 || !callData[..4].SequenceEqual(Selector))
            throw new AbiDecodingException($"The call data is not a call of {Signature}.");
        return AbiCodec.Decode(InputTypes, callData[4..]);
    }

    /// <summary>Decodes what the function returned.</summary>
    public IReadOnlyList<object> DecodeOutput(ReadOnlySpan<byte> returnData) =>
        AbiCodec.Decode(Outputs.Select(p => p.Type).ToArray(), returnData);

    /// <summary>abi.encode(values) of the outputs, as a node would return them (for tests and fakes).</summary>
    public byte[] EncodeOutput(IReadOnlyList<object> values) => AbiCodec.Encode(Outputs.Select(p => p.Type).ToArray(), values);
}

/// <summary>A custom error (or the built-in Error(string) and Panic(uint256)): selector and revert data.</summary>
public sealed class AbiError(string name, IReadOnlyList<AbiParameter> inputs) : AbiMember(name, inputs)
{
    /// <summary>Error(string), what require(cond, "reason") and revert("reason") produce.</summary>
    public static readonly AbiError ErrorString = new("Error", [new("string", "reason")]);

    /// <summary>Panic(uint256), what failed asserts, arithmetic overflow and bad array indexes produce.</summary>
    public static readonly AbiError Panic = new("Panic", [new("uint256", "code")]);

    /// <summary>The first four bytes of keccak256(signature).</summary>
    public byte[] Selector => SignatureHash[..4];

    /// <summary>The revert data: selector || abi.encode(arguments).</summary>
    public byte[] Encode(IReadOnlyList<object> arguments) => [.. SignatureHash.AsSpan(0, 4), .. AbiCodec.Encode(InputTypes, arguments)];

    /// <summary>True when the revert data starts with this error's selector.</summary>
    public bool Matches(ReadOnlySpan<byte> revertData) => revertData.Length >= 4 && revertData[..4].SequenceEqual(Selector);

    /// <summary>Decodes the arguments of revert data that <see cref="Matches"/>.</summary>
    public IReadOnlyList<object> Decode(ReadOnlySpan<byte> revertData)
    {
        if (!Matches(revertData)) throw new AbiDecodingException($"The revert data is not {Signature}.");
        return AbiCodec.Decode(InputTypes, revertData[4..]);
    }
}

/// <summary>A (non-anonymous) event: topic 0, indexed arguments in the following topics, the others in the data.</summary>
public sealed class AbiEvent(string name, IReadOnlyList<AbiParameter> inputs) : AbiMember(name, inputs)
{
    /// <summary>keccak256(signature), the first topic of every log of this event, as 0x-hex.</summary>
    public string Topic0 => Hex.Encode(SignatureHash);

    /// <summary>The topics and data a log of this event carries for the given arguments (in input order).</summary>
    public (IReadOnlyList<string> Topics, byte[] Data) EncodeLog(IReadOnlyList<object> arguments)
    {
        if (arguments.Count != Inputs.Count) throw new ArgumentException($"{Signature} takes {Inputs.Count} arguments.", nameof(arguments));
        var topics = new List<string> { Topic0 };
        var dataTypes = new List<string>();
        var dataValues = new List<object>();
        for (var i = 0; i < Inputs.Count; i++)
        {
            if (Inputs[i].Indexed) topics.Add(Hex.Encode(AbiCodec.EncodeTopic(Inputs[i].Type, arguments[i])));
            else
            {
                dataTypes.Add(Inputs[i].Type);
                dataValues.Add(arguments[i]);
            }
        }
        return (topics, AbiCodec.Encode(dataTypes, dataValues));
    }

    /// <summary>Decodes a log's topics and data into the arguments, in input order. Topic 0 must be <see cref="Topic0"/>.</summary>
    public IReadOnlyList<object> DecodeLog(IReadOnlyList<string> topics, ReadOnlySpan<byte> data)
    {
        var indexedCount = Inputs.Count(p => p.Indexed);
        if (topics.Count != 1 + indexedCount || !string.Equals(topics[0], Topic0, StringComparison.OrdinalIgnoreCase))
            throw new AbiDecodingException($"The log is not a {Signature} event.");
        var dataValues = AbiCodec.Decode(Inputs.Where(p => !p.Indexed).Select(p => p.Type).ToArray(), data);
        var values = new object[Inputs.Count];
        int topic = 1, dataIndex = 0;
        for (var i = 0; i < Inputs.Count; i++)
            values[i] = Inputs[i].Indexed ? AbiCodec.DecodeTopic(Inputs[i].Type, Hex.Decode(topics[topic++])) : dataValues[dataIndex++];
        return values;
    }
}
