using NBitcoin.Secp256k1;
using Nethereum.Signer;

namespace Traceability.Chain;

/// <summary>
/// Ethereum signatures (r, s, v with v 27 or 28) of 32-byte hashes with NBitcoin.Secp256k1, a C# port of
/// libsecp256k1: RFC 6979 nonces and low s, so r, s and v are the ones Nethereum's <c>EthECKey.SignAndCalculateV</c>
/// gives for the same key and hash (a unit test compares them). It is about ten times faster because it returns the
/// recovery id with the signature, where Nethereum finds v by recovering the public key for each candidate
/// (docs/adr/0026-one-receipt-signature-per-capture.md). Recovery and verification stay with Nethereum.
/// </summary>
public sealed class RecoverableSigner : IDisposable
{
    private readonly ECPrivKey _key;

    public RecoverableSigner(EthECKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        // Nethereum gives the private key without its leading zero bytes.
        var raw = key.GetPrivateKeyAsBytes();
        if (raw.Length > 32) raw = raw[^32..];
        Span<byte> secret = stackalloc byte[32];
        secret.Clear();
        raw.CopyTo(secret[(32 - raw.Length)..]);
        _key = ECPrivKey.TryCreate(secret, out var created) && created is not null
            ? created
            : throw new ArgumentException("The key is not a valid secp256k1 private key.", nameof(key));
        secret.Clear();
        Address = EthAddress.Normalize(key.GetPublicAddress());
    }

    /// <summary>The key's EIP-55 address (what a signature of it recovers to).</summary>
    public string Address { get; }

    /// <summary>The 65-byte signature r, s, v of <paramref name="hash"/> (32 bytes), v 27 or 28.</summary>
    public byte[] Sign(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != 32) throw new ArgumentException($"A signed hash has 32 bytes, not {hash.Length}.", nameof(hash));
        if (!_key.TrySignRecoverable(hash, out var signature) || signature is null)
            throw new InvalidOperationException("secp256k1 could not sign the hash.");
        var rsv = new byte[65];
        signature.WriteToSpanCompact(rsv.AsSpan(0, 64), out var recoveryId);
        // Ids 2 and 3 (r overflowing the group order) have a probability near 2^-128 and no Ethereum v.
        if (recoveryId is not (0 or 1)) throw new InvalidOperationException($"secp256k1 gave the recovery id {recoveryId}, which Ethereum's v cannot express.");
        rsv[64] = (byte)(27 + recoveryId);
        return rsv;
    }

    public void Dispose() => _key.Dispose();
}
