using System.Numerics;
using System.Text;
using Nethereum.ABI.EIP712;
using Nethereum.Signer;
using Nethereum.Signer.EIP712;
using Nethereum.Util;

namespace Traceability.Chain;

/// <summary>
/// The signatures members make, shared by the service and the verifier so both read them the same way:
/// <list type="bullet">
/// <item>the EIP-191 personal signature of <see cref="AddressClaim"/> with which a member proves it holds an address's key;</item>
/// <item>the EIP-712 signature of <c>EventsSigned(bytes32 eventsRoot, uint256 eventCount)</c> over the events of one
/// capture document, in the domain <c>{name: "Traceability", version: "1", chainId, verifyingContract: the AnchorRegistry}</c>;</item>
/// <item>the member id as the contract's <c>bytes32 memberId</c> (<see cref="MemberIdBytes32"/>).</item>
/// </list>
/// </summary>
public static class MemberSignatures
{
    public const string DomainName = "Traceability";
    public const string DomainVersion = "1";
    public const string PrimaryType = "EventsSigned";

    /// <summary>A signature is r (32 bytes), s (32 bytes) and v (1 byte): "0x" and 130 hex digits.</summary>
    public const int SignatureLength = 65;

    /// <summary>The longest member id that fits the contract's bytes32 with a terminating zero, as ethers' encodeBytes32String allows.</summary>
    public const int MaxMemberIdBytes = 31;

    /// <summary>The text a member signs (EIP-191 personal_sign) to add an address: the address as given, EIP-55 checksummed.</summary>
    public static string AddressClaim(string memberId, string address) => $"Traceability: member {memberId} uses address {address}";

    /// <summary>
    /// The member id as the contract's bytes32: its UTF-8 bytes, zero-padded on the right (ethers'
    /// <c>encodeBytes32String(id)</c>, Solidity's <c>bytes32("m_...")</c>). Throws <see cref="ArgumentException"/> for an
    /// empty id or one longer than <see cref="MaxMemberIdBytes"/> bytes.
    /// </summary>
    public static byte[] MemberIdBytes32(string memberId)
    {
        ArgumentNullException.ThrowIfNull(memberId);
        var bytes = Encoding.UTF8.GetBytes(memberId);
        if (bytes.Length is 0 or > MaxMemberIdBytes)
            throw new ArgumentException($"A member id maps to bytes32 when it has 1 to {MaxMemberIdBytes} UTF-8 bytes, not {bytes.Length}.", nameof(memberId));
        var word = new byte[32];
        bytes.CopyTo(word, 0);
        return word;
    }

    /// <summary>The member id a bytes32 from the contract stands for (the inverse of <see cref="MemberIdBytes32"/>).</summary>
    public static string MemberIdOf(byte[] bytes32)
    {
        var end = Array.IndexOf(bytes32, (byte)0);
        return Encoding.UTF8.GetString(bytes32, 0, end < 0 ? bytes32.Length : end);
    }

    /// <summary>
    /// Reads "0x" + 130 hex digits into 65 bytes with v 27 or 28 (0 and 1 are taken as 27 and 28, as some wallets write
    /// them). False for anything else.
    /// </summary>
    public static bool TryParseSignature(string? text, out byte[] signature)
    {
        signature = [];
        if (text is not { Length: 2 + 2 * SignatureLength } || !text.StartsWith("0x", StringComparison.Ordinal)) return false;
        try { signature = Convert.FromHexString(text.AsSpan(2)); }
        catch (FormatException) { return false; }
        if (signature[64] is 0 or 1) signature[64] += 27;
        return signature[64] is 27 or 28;
    }

    /// <summary>The address that made an EIP-191 personal signature of <paramref name="text"/>, checksummed; null when none can be recovered.</summary>
    public static string? RecoverPersonal(string text, byte[] signature)
    {
        try
        {
            return EthAddress.Normalize(new EthereumMessageSigner().EncodeUTF8AndEcRecover(text, Hex.Encode(signature)));
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>An EIP-191 personal signature of <paramref name="text"/> (what a wallet's personal_sign gives).</summary>
    public static string SignPersonal(string text, EthECKey key) => new EthereumMessageSigner().EncodeUTF8AndSign(text, key);

    /// <summary>The EIP-712 typed data a member signs over one capture document's events.</summary>
    public static TypedData<Domain> EventsSigned(long chainId, string contract, byte[] eventsRoot, long eventCount) => new()
    {
        Domain = new Domain { Name = DomainName, Version = DomainVersion, ChainId = chainId, VerifyingContract = EthAddress.Normalize(contract) },
        Types = new Dictionary<string, MemberDescription[]>
        {
            ["EIP712Domain"] =
            [
                new() { Name = "name", Type = "string" }, new() { Name = "version", Type = "string" },
                new() { Name = "chainId", Type = "uint256" }, new() { Name = "verifyingContract", Type = "address" },
            ],
            [PrimaryType] = [new() { Name = "eventsRoot", Type = "bytes32" }, new() { Name = "eventCount", Type = "uint256" }],
        },
        PrimaryType = PrimaryType,
        Message =
        [
            new MemberValue { TypeName = "bytes32", Value = eventsRoot },
            new MemberValue { TypeName = "uint256", Value = new BigInteger(eventCount) },
        ],
    };

    /// <summary>The EIP-712 signature (eth_signTypedData_v4) of <see cref="EventsSigned"/> with <paramref name="key"/>: "0x" and 130 hex digits.</summary>
    public static string SignEventsSigned(EthECKey key, long chainId, string contract, byte[] eventsRoot, long eventCount) =>
        new Eip712TypedDataSigner().SignTypedDataV4(EventsSigned(chainId, contract, eventsRoot, eventCount), key);

    /// <summary>The address that signed <see cref="EventsSigned"/>, checksummed; null when none can be recovered.</summary>
    public static string? RecoverEventsSigned(byte[] signature, long chainId, string contract, byte[] eventsRoot, long eventCount)
    {
        if (signature.Length != SignatureLength || eventsRoot.Length != 32 || eventCount < 1) return null;
        try
        {
            var signer = new Eip712TypedDataSigner().RecoverFromSignatureV4(EventsSigned(chainId, contract, eventsRoot, eventCount), Hex.Encode(signature));
            return EthAddress.Normalize(signer);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="address"/> is written with its EIP-55 checksum (mixed case, as wallets show it).</summary>
    public static bool IsChecksummed(string address) =>
        address is { Length: 42 } && address.StartsWith("0x", StringComparison.Ordinal) && AddressUtil.Current.ConvertToChecksumAddress(address) == address;
}
