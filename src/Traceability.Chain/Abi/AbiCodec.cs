using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Traceability.Chain.Abi;

/// <summary>
/// The Solidity contract ABI encoding (head/tail layout, 32-byte words) for the elementary types
/// <c>uint&lt;M&gt;</c>, <c>int&lt;M&gt;</c>, <c>address</c>, <c>bool</c>, <c>bytes&lt;M&gt;</c>, <c>bytes</c>,
/// <c>string</c> and dynamic arrays <c>T[]</c> of them. Tuples and fixed-size arrays are not supported.
/// </summary>
/// <remarks>
/// Values: integers as <see cref="BigInteger"/> (int, long, uint and ulong are accepted when encoding),
/// addresses as strings (decoded EIP-55 checksummed), <c>bytes&lt;M&gt;</c> and <c>bytes</c> as byte arrays
/// (a <c>bytes&lt;M&gt;</c> value must have exactly M bytes), arrays as any enumerable (decoded as object[]).
/// </remarks>
public static class AbiCodec
{
    private const int Word = 32;

    /// <summary>abi.encode(values) for the given types.</summary>
    public static byte[] Encode(IReadOnlyList<string> types, IReadOnlyList<object> values)
    {
        if (types.Count != values.Count)
            throw new ArgumentException($"{types.Count} types but {values.Count} values.", nameof(values));
        var output = new MemoryStream();
        WriteSequence(output, types.Select(AbiType.Parse).ToList(), values);
        return output.ToArray();
    }

    /// <summary>Decodes abi-encoded data for the given types; trailing bytes are ignored, as Solidity does.</summary>
    public static IReadOnlyList<object> Decode(IReadOnlyList<string> types, ReadOnlySpan<byte> data) =>
        ReadSequence(types.Select(AbiType.Parse).ToList(), data);

    /// <summary>The 32-byte topic of an indexed event argument of a static type (its ABI word).</summary>
    internal static byte[] EncodeTopic(string type, object value)
    {
        var parsed = AbiType.Parse(type);
        if (parsed.IsDynamic) throw new NotSupportedException($"Indexed arguments of dynamic type {type} are hashed; not supported.");
        var word = new byte[Word];
        WriteStatic(word, parsed, value);
        return word;
    }

    internal static object DecodeTopic(string type, ReadOnlySpan<byte> topic)
    {
        var parsed = AbiType.Parse(type);
        if (parsed.IsDynamic) throw new NotSupportedException($"Indexed arguments of dynamic type {type} are hashed; not supported.");
        if (topic.Length != Word) throw new AbiDecodingException("A topic has 32 bytes.");
        return ReadStatic(parsed, topic);
    }

    private static void WriteSequence(MemoryStream output, IReadOnlyList<AbiType> types, IReadOnlyList<object> values)
    {
        var headSize = Word * types.Count;
        var heads = new byte[headSize];
        var tails = new MemoryStream();
        for (var i = 0; i < types.Count; i++)
        {
            var head = heads.AsSpan(i * Word, Word);
            if (types[i].IsDynamic)
            {
                WriteUnsigned(head, headSize + tails.Length);
                WriteDynamic(tails, types[i], values[i]);
            }
            else
            {
                WriteStatic(head, types[i], values[i]);
            }
        }
        output.Write(heads);
        tails.Position = 0;
        tails.CopyTo(output);
    }

    private static void WriteDynamic(MemoryStream output, AbiType type, object value)
    {
        switch (type.Kind)
        {
            case AbiKind.Bytes or AbiKind.String:
                var bytes = type.Kind == AbiKind.String
                    ? Encoding.UTF8.GetBytes(Expect<string>(value, type))
                    : Expect<byte[]>(value, type);
                var length = new byte[Word];
                WriteUnsigned(length, bytes.Length);
                output.Write(length);
                output.Write(bytes);
                output.Write(new byte[PaddedLength(bytes.Length) - bytes.Length]);
                break;
            case AbiKind.Array:
                if (value is string or not IEnumerable) throw new ArgumentException($"Expected a list for {type}.");
                var items = ((IEnumerable)value).Cast<object>().ToList();
                var count = new byte[Word];
                WriteUnsigned(count, items.Count);
                output.Write(count);
                WriteSequence(output, Enumerable.Repeat(type.Element!, items.Count).ToList(), items);
                break;
            default:
                throw new InvalidOperationException($"{type} is not dynamic.");
        }
    }

    private static void WriteStatic(Span<byte> word, AbiType type, object value)
    {
        switch (type.Kind)
        {
            case AbiKind.Uint:
                var unsigned = ToBigInteger(value, type);
                if (unsigned.Sign < 0 || unsigned.GetBitLength() > type.Size)
                    throw new ArgumentOutOfRangeException(nameof(value), $"{unsigned} does not fit {type}.");
                WriteUnsigned(word, unsigned);
                break;
            case AbiKind.Int:
                var signed = ToBigInteger(value, type);
                var limit = BigInteger.One << (type.Size - 1);
                if (signed < -limit || signed >= limit)
                    throw new ArgumentOutOfRangeException(nameof(value), $"{signed} does not fit {type}.");
                WriteUnsigned(word, signed.Sign >= 0 ? signed : (BigInteger.One << 256) + signed);
                break;
            case AbiKind.Address:
                var address = value switch
                {
                    string text => EthAddress.Parse(text),
                    byte[] raw when raw.Length == EthAddress.Size => raw,
                    _ => throw new ArgumentException($"Expected an address string for {type}."),
                };
                address.CopyTo(word[12..]);
                break;
            case AbiKind.Bool:
                word[Word - 1] = Expect<bool>(value, type) ? (byte)1 : (byte)0;
                break;
            case AbiKind.FixedBytes:
                var fixedBytes = Expect<byte[]>(value, type);
                if (fixedBytes.Length != type.Size)
                    throw new ArgumentException($"{type} needs exactly {type.Size} bytes, got {fixedBytes.Length}.");
                fixedBytes.CopyTo(word);
                break;
            default:
                throw new InvalidOperationException($"{type} is not static.");
        }
    }

    private static IReadOnlyList<object> ReadSequence(IReadOnlyList<AbiType> types, ReadOnlySpan<byte> data)
    {
        var values = new object[types.Count];
        for (var i = 0; i < types.Count; i++)
        {
            var head = Slice(data, i * Word, Word);
            if (!types[i].IsDynamic)
            {
                values[i] = ReadStatic(types[i], head);
                continue;
            }
            var offset = ReadLength(head, data.Length);
            values[i] = ReadDynamic(types[i], data[offset..]);
        }
        return values;
    }

    private static object ReadDynamic(AbiType type, ReadOnlySpan<byte> data)
    {
        var length = ReadLength(Slice(data, 0, Word), data.Length);
        var body = data[Word..];
        if (type.Kind == AbiKind.Array)
        {
            if ((long)length * Word > body.Length) throw new AbiDecodingException($"An array of {length} items overruns the data.");
            return ReadSequence(Enumerable.Repeat(type.Element!, length).ToList(), body).ToArray();
        }
        var bytes = Slice(body, 0, length).ToArray();
        if (type.Kind == AbiKind.Bytes) return bytes;
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException e) { throw new AbiDecodingException("A string is not valid UTF-8.", e); }
    }

    private static object ReadStatic(AbiType type, ReadOnlySpan<byte> word)
    {
        switch (type.Kind)
        {
            case AbiKind.Uint:
                var unsigned = Hex.FromBigEndian(word);
                if (unsigned.GetBitLength() > type.Size) throw new AbiDecodingException($"A value overflows {type}.");
                return unsigned;
            case AbiKind.Int:
                var signed = new BigInteger(word, isUnsigned: false, isBigEndian: true);
                var limit = BigInteger.One << (type.Size - 1);
                if (signed < -limit || signed >= limit) throw new AbiDecodingException($"A value overflows {type}.");
                return signed;
            case AbiKind.Address:
                if (word[..12].ContainsAnyExcept((byte)0)) throw new AbiDecodingException("An address word has non-zero high bytes.");
                return EthAddress.ToChecksum(word[12..]);
            case AbiKind.Bool:
                if (word[..^1].ContainsAnyExcept((byte)0) || word[^1] > 1) throw new AbiDecodingException("A bool word is neither 0 nor 1.");
                return word[^1] == 1;
            case AbiKind.FixedBytes:
                if (word[type.Size..].ContainsAnyExcept((byte)0)) throw new AbiDecodingException($"A {type} word has non-zero padding.");
                return word[..type.Size].ToArray();
            default:
                throw new InvalidOperationException($"{type} is not static.");
        }
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> data, int offset, int length)
    {
        if (offset < 0 || length < 0 || (long)offset + length > data.Length)
            throw new AbiDecodingException($"The data ({data.Length} bytes) is too short: needed {length} bytes at offset {offset}.");
        return data.Slice(offset, length);
    }

    private static int ReadLength(ReadOnlySpan<byte> word, int limit)
    {
        var value = Hex.FromBigEndian(word);
        if (value > limit) throw new AbiDecodingException($"An offset or length ({value}) points beyond the data ({limit} bytes).");
        return (int)value;
    }

    private static void WriteUnsigned(Span<byte> word, BigInteger value)
    {
        var bytes = Hex.ToBigEndian(value);
        word.Clear();
        bytes.CopyTo(word[(Word - bytes.Length)..]);
    }

    private static int PaddedLength(int length) => (length + Word - 1) / Word * Word;

    private static BigInteger ToBigInteger(object value, AbiType type) => value switch
    {
        BigInteger b => b,
        int i => i,
        long l => l,
        uint u => u,
        ulong ul => ul,
        _ => throw new ArgumentException($"Expected an integer for {type}, got {value?.GetType().Name ?? "null"}."),
    };

    private static T Expect<T>(object value, AbiType type) =>
        value is T typed ? typed : throw new ArgumentException($"Expected {typeof(T).Name} for {type}, got {value?.GetType().Name ?? "null"}.");

    private enum AbiKind { Uint, Int, Address, Bool, FixedBytes, Bytes, String, Array }

    private sealed record AbiType(AbiKind Kind, int Size, AbiType? Element, string Name)
    {
        public bool IsDynamic => Kind is AbiKind.Bytes or AbiKind.String or AbiKind.Array;

        public override string ToString() => Name;

        public static AbiType Parse(string name)
        {
            if (name.EndsWith("[]", StringComparison.Ordinal))
                return new AbiType(AbiKind.Array, 0, Parse(name[..^2]), name);
            if (name.Contains('[') || name.Contains('('))
                throw new NotSupportedException($"ABI type '{name}' (fixed-size arrays and tuples) is not supported.");
            return name switch
            {
                "address" => new AbiType(AbiKind.Address, 160, null, name),
                "bool" => new AbiType(AbiKind.Bool, 8, null, name),
                "string" => new AbiType(AbiKind.String, 0, null, name),
                "bytes" => new AbiType(AbiKind.Bytes, 0, null, name),
                "uint" or "int" => throw new NotSupportedException("Write uint256/int256 in full: signatures use canonical types."),
                _ when name.StartsWith("uint", StringComparison.Ordinal) => Sized(AbiKind.Uint, name, name[4..], 8, 256, 8),
                _ when name.StartsWith("int", StringComparison.Ordinal) => Sized(AbiKind.Int, name, name[3..], 8, 256, 8),
                _ when name.StartsWith("bytes", StringComparison.Ordinal) => Sized(AbiKind.FixedBytes, name, name[5..], 1, 32, 1),
                _ => throw new NotSupportedException($"Unknown ABI type '{name}'."),
            };
        }

        private static AbiType Sized(AbiKind kind, string name, string digits, int min, int max, int step)
        {
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < min || size > max || size % step != 0)
                throw new NotSupportedException($"Bad ABI type '{name}'.");
            return new AbiType(kind, size, null, name);
        }
    }
}

/// <summary>The bytes given are not a valid ABI encoding of the expected types.</summary>
public sealed class AbiDecodingException : FormatException
{
    public AbiDecodingException(string message) : base(message) { }
    public AbiDecodingException(string message, Exception inner) : base(message, inner) { }
}
