using System.Numerics;

namespace Traceability.Chain;

/// <summary>
/// Recursive Length Prefix encoding (Ethereum yellow paper, appendix B). Items are byte strings or lists
/// of items; integers are encoded as their minimal big-endian bytes (zero is the empty string).
/// </summary>
public static class Rlp
{
    /// <summary>Encodes a byte string: one byte below 0x80 stands for itself, otherwise a length prefix.</summary>
    public static byte[] EncodeBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 1 && bytes[0] < 0x80) return [bytes[0]];
        var prefix = LengthPrefix(bytes.Length, 0x80);
        var output = new byte[prefix.Length + bytes.Length];
        prefix.CopyTo(output, 0);
        bytes.CopyTo(output.AsSpan(prefix.Length));
        return output;
    }

    /// <summary>Encodes a non-negative integer as its minimal big-endian byte string.</summary>
    public static byte[] EncodeInteger(BigInteger value) => EncodeBytes(Hex.ToBigEndian(value));

    /// <summary>Encodes a list whose items are already RLP-encoded.</summary>
    public static byte[] EncodeList(IReadOnlyList<byte[]> encodedItems)
    {
        var payloadLength = 0;
        foreach (var item in encodedItems) payloadLength += item.Length;
        var prefix = LengthPrefix(payloadLength, 0xc0);
        var output = new byte[prefix.Length + payloadLength];
        prefix.CopyTo(output, 0);
        var offset = prefix.Length;
        foreach (var item in encodedItems)
        {
            item.CopyTo(output, offset);
            offset += item.Length;
        }
        return output;
    }

    /// <summary>Encodes a list whose items are already RLP-encoded.</summary>
    public static byte[] EncodeList(params byte[][] encodedItems) => EncodeList((IReadOnlyList<byte[]>)encodedItems);

    private static byte[] LengthPrefix(int length, byte offset)
    {
        if (length <= 55) return [(byte)(offset + length)];
        var lengthBytes = Hex.ToBigEndian(length);
        var prefix = new byte[1 + lengthBytes.Length];
        prefix[0] = (byte)(offset + 55 + lengthBytes.Length);
        lengthBytes.CopyTo(prefix, 1);
        return prefix;
    }
}
