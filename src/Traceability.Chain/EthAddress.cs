using System.Text;
using Traceability.Ledger.Crypto;

namespace Traceability.Chain;

/// <summary>20-byte Ethereum addresses and their EIP-55 mixed-case checksum.</summary>
public static class EthAddress
{
    public const int Size = 20;

    /// <summary>The EIP-55 checksummed form of a 20-byte address.</summary>
    public static string ToChecksum(ReadOnlySpan<byte> address)
    {
        if (address.Length != Size) throw new ArgumentException("An address has 20 bytes.", nameof(address));
        var lower = Convert.ToHexStringLower(address);
        var hash = Keccak256.Hash(Encoding.ASCII.GetBytes(lower));
        var chars = new char[2 + 40];
        chars[0] = '0';
        chars[1] = 'x';
        for (var i = 0; i < 40; i++)
        {
            var nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0f;
            chars[2 + i] = nibble >= 8 ? char.ToUpperInvariant(lower[i]) : lower[i];
        }
        return new string(chars);
    }

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
        if (mixedCase && !string.Equals(ToChecksum(bytes), "0x" + digits, StringComparison.Ordinal))
            throw new FormatException($"Bad EIP-55 checksum in address '{address}'.");
        return bytes;
    }

    /// <summary>Normalises any accepted spelling of an address to its checksummed form.</summary>
    public static string Normalize(string address) => ToChecksum(Parse(address));

    /// <summary>The address of an uncompressed secp256k1 public key (64 bytes x||y, or 65 with the 0x04 prefix).</summary>
    public static string FromPublicKey(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length == 65 && publicKey[0] == 0x04) publicKey = publicKey[1..];
        if (publicKey.Length != 64) throw new ArgumentException("An uncompressed public key has 64 bytes (x||y).", nameof(publicKey));
        return ToChecksum(Keccak256.Hash(publicKey).AsSpan(12));
    }

    /// <summary>The address of the contract that <paramref name="deployer"/> creates with transaction nonce <paramref name="nonce"/>.</summary>
    public static string ContractAddress(string deployer, long nonce)
    {
        var encoded = Rlp.EncodeList(Rlp.EncodeBytes(Parse(deployer)), Rlp.EncodeInteger(nonce));
        return ToChecksum(Keccak256.Hash(encoded).AsSpan(12));
    }
}
