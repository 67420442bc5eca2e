using System.Globalization;
using System.Numerics;

namespace Traceability.Chain;

/// <summary>The 0x-prefixed hex strings of the Ethereum JSON-RPC: byte data and quantities.</summary>
public static class Hex
{
    /// <summary>Lower-case hex with the 0x prefix ("0x" for no bytes).</summary>
    public static string Encode(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    /// <summary>Decodes hex data with or without the 0x prefix; an odd length is an error.</summary>
    public static byte[] Decode(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        if (digits.Length % 2 != 0) throw new FormatException($"Hex data has an odd number of digits: '{hex}'.");
        return Convert.FromHexString(digits);
    }

    /// <summary>A JSON-RPC quantity: 0x-prefixed, no leading zeros ("0x0" for zero). Negative values are an error.</summary>
    public static string EncodeQuantity(BigInteger value)
    {
        if (value.Sign < 0) throw new ArgumentOutOfRangeException(nameof(value), "Quantities are never negative.");
        if (value.IsZero) return "0x0";
        return "0x" + Convert.ToHexStringLower(value.ToByteArray(isUnsigned: true, isBigEndian: true)).TrimStart('0');
    }

    /// <summary>Parses a JSON-RPC quantity ("0x1a", also tolerating leading zeros).</summary>
    public static BigInteger DecodeQuantity(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        if (digits.Length == 0) throw new FormatException("An empty quantity.");
        return BigInteger.Parse("0" + digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }

    /// <summary>The minimal big-endian bytes of a non-negative integer (empty for zero), as RLP and ethers' toBeArray use.</summary>
    public static byte[] ToBigEndian(BigInteger value)
    {
        if (value.Sign < 0) throw new ArgumentOutOfRangeException(nameof(value), "Only non-negative integers.");
        return value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
    }

    /// <summary>Reads an unsigned big-endian integer.</summary>
    public static BigInteger FromBigEndian(ReadOnlySpan<byte> bytes) => new(bytes, isUnsigned: true, isBigEndian: true);
}
