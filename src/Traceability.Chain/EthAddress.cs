using Nethereum.Util;

namespace Traceability.Chain;

/// <summary>The address rule of the service and the verifier, over Nethereum's EIP-55 checksum.</summary>
public static class EthAddress
{
    /// <summary>
    /// Parses "0x" + 40 hex digits. An all-lower-case or all-upper-case address is accepted as is; a
    /// mixed-case one must carry a correct EIP-55 checksum.
    /// </summary>
    public static byte[] Parse(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.Length != 42 || !address.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            throw new FormatException($"Not an address (0x and 40 hex digits): '{address}'.");
        var bytes = Hex.Decode(address);
        var digits = address[2..];
        var mixedCase = digits.Any(char.IsUpper) && digits.Any(char.IsLower);
        if (mixedCase && !AddressUtil.Current.IsChecksumAddress(address))
            throw new FormatException($"Bad EIP-55 checksum in address '{address}'.");
        return bytes;
    }

    /// <summary>Normalises any accepted spelling of an address to its checksummed form.</summary>
    public static string Normalize(string address)
    {
        Parse(address);
        return AddressUtil.Current.ConvertToChecksumAddress(address);
    }
}
