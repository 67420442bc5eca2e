using System.Numerics;
using Traceability.Ledger.Crypto;

namespace Traceability.Chain;

/// <summary>
/// An EIP-1559 (type 2) transaction with an empty access list. <see cref="To"/> null creates a contract
/// whose init code is <see cref="Data"/>.
/// </summary>
public sealed record Eip1559Transaction(
    long ChainId,
    long Nonce,
    BigInteger MaxPriorityFeePerGas,
    BigInteger MaxFeePerGas,
    long GasLimit,
    string? To,
    BigInteger Value,
    byte[] Data)
{
    private const byte TransactionType = 0x02;

    /// <summary>keccak256(0x02 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList])).</summary>
    public byte[] SigningHash() => Keccak256.Hash(Typed(Rlp.EncodeList(Fields())));

    /// <summary>The raw signed transaction, as eth_sendRawTransaction takes it.</summary>
    public byte[] Sign(EthKey key)
    {
        var signature = key.Sign(SigningHash());
        var fields = Fields();
        fields.Add(Rlp.EncodeInteger(signature.RecoveryId));
        fields.Add(Rlp.EncodeInteger(Hex.FromBigEndian(signature.R)));
        fields.Add(Rlp.EncodeInteger(Hex.FromBigEndian(signature.S)));
        return Typed(Rlp.EncodeList(fields));
    }

    /// <summary>The hash a node reports for the signed transaction: keccak256 of the raw bytes.</summary>
    public static string HashOf(byte[] rawTransaction) => Hex.Encode(Keccak256.Hash(rawTransaction));

    private List<byte[]> Fields() =>
    [
        Rlp.EncodeInteger(ChainId),
        Rlp.EncodeInteger(Nonce),
        Rlp.EncodeInteger(MaxPriorityFeePerGas),
        Rlp.EncodeInteger(MaxFeePerGas),
        Rlp.EncodeInteger(GasLimit),
        Rlp.EncodeBytes(To is null ? [] : EthAddress.Parse(To)),
        Rlp.EncodeInteger(Value),
        Rlp.EncodeBytes(Data),
        Rlp.EncodeList(),
    ];

    private static byte[] Typed(byte[] payload)
    {
        var output = new byte[1 + payload.Length];
        output[0] = TransactionType;
        payload.CopyTo(output, 1);
        return output;
    }
}
