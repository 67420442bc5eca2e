namespace Traceability.Chain;

/// <summary>0x-prefixed hex as the chain, the proof bundles and the API write byte data.</summary>
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
}
