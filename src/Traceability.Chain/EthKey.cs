using System.Security.Cryptography;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math.EC;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Traceability.Chain;

/// <summary>An ECDSA signature over secp256k1 with low s (EIP-2) and the recovery id (y parity of R, 0 or 1).</summary>
public sealed record EcdsaSignature(byte[] R, byte[] S, int RecoveryId);

/// <summary>
/// A secp256k1 private key and its Ethereum address. Signs 32-byte hashes deterministically (RFC 6979
/// with HMAC-SHA256), normalises s to the lower half of the order, and finds the recovery id by
/// recovering the public key from both candidates.
/// </summary>
public sealed class EthKey
{
    private static readonly X9ECParameters Curve = SecNamedCurves.GetByName("secp256k1");
    private static readonly ECDomainParameters Domain = new(Curve.Curve, Curve.G, Curve.N, Curve.H);
    private static readonly BcBigInteger HalfN = Curve.N.ShiftRight(1);

    private readonly BcBigInteger _d;
    private readonly ECPoint _publicKey;

    private EthKey(BcBigInteger d)
    {
        if (d.SignValue <= 0 || d.CompareTo(Curve.N) >= 0)
            throw new ArgumentException("A private key must lie in [1, n-1] of secp256k1.");
        _d = d;
        _publicKey = Curve.G.Multiply(d).Normalize();
        PublicKey = _publicKey.GetEncoded(false);
        Address = EthAddress.FromPublicKey(PublicKey);
    }

    /// <summary>The EIP-55 checksummed address.</summary>
    public string Address { get; }

    /// <summary>The private key as 0x + 64 lower-case hex digits. Treat as a secret.</summary>
    public string PrivateKeyHex => Hex.Encode(ToFixed32(_d));

    /// <summary>The uncompressed public key (0x04 || x || y).</summary>
    public byte[] PublicKey { get; }

    /// <summary>Reads a 32-byte private key written as 64 hex digits, with or without 0x.</summary>
    public static EthKey FromHex(string hex)
    {
        var bytes = Hex.Decode(hex.Trim());
        if (bytes.Length != 32) throw new FormatException("A private key has 32 bytes (64 hex digits).");
        return new EthKey(new BcBigInteger(1, bytes));
    }

    /// <summary>A new key from the operating system's cryptographic random number generator.</summary>
    public static EthKey Generate()
    {
        while (true)
        {
            var d = new BcBigInteger(1, RandomNumberGenerator.GetBytes(32));
            if (d.SignValue > 0 && d.CompareTo(Curve.N) < 0) return new EthKey(d);
        }
    }

    /// <summary>Signs a 32-byte message hash (for a transaction, keccak256 of its signing payload).</summary>
    public EcdsaSignature Sign(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != 32) throw new ArgumentException("Sign a 32-byte hash.", nameof(hash));
        var hashBytes = hash.ToArray();
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, new ECPrivateKeyParameters(_d, Domain));
        var rs = signer.GenerateSignature(hashBytes);
        var r = rs[0];
        var s = rs[1];
        if (s.CompareTo(HalfN) > 0) s = Curve.N.Subtract(s);

        for (var recoveryId = 0; recoveryId < 2; recoveryId++)
        {
            var recovered = Recover(hashBytes, r, s, recoveryId);
            if (recovered is not null && recovered.Equals(_publicKey))
                return new EcdsaSignature(ToFixed32(r), ToFixed32(s), recoveryId);
        }
        throw new CryptographicException("Could not find the recovery id of a signature just made.");
    }

    /// <summary>Recovers the signer's address from a hash and a signature, or null when the signature is invalid.</summary>
    public static string? RecoverAddress(ReadOnlySpan<byte> hash, EcdsaSignature signature)
    {
        var point = Recover(hash.ToArray(), new BcBigInteger(1, signature.R), new BcBigInteger(1, signature.S), signature.RecoveryId);
        return point is null ? null : EthAddress.FromPublicKey(point.GetEncoded(false));
    }

    public override string ToString() => Address;

    // SEC 1 v2, 4.1.6, for x = r (the x = r + n candidates have negligible probability and are not tried).
    private static ECPoint? Recover(byte[] hash, BcBigInteger r, BcBigInteger s, int recoveryId)
    {
        if (r.SignValue <= 0 || r.CompareTo(Curve.N) >= 0 || s.SignValue <= 0 || s.CompareTo(Curve.N) >= 0) return null;
        if (recoveryId is not (0 or 1)) return null;
        var prime = ((FpCurve)Curve.Curve).Q;
        if (r.CompareTo(prime) >= 0) return null;

        var compressed = new byte[33];
        compressed[0] = (byte)(0x02 + recoveryId);
        ToFixed32(r).CopyTo(compressed, 1);
        ECPoint bigR;
        try { bigR = Curve.Curve.DecodePoint(compressed); }
        catch (ArgumentException) { return null; }
        if (!bigR.Multiply(Curve.N).IsInfinity) return null;

        var e = new BcBigInteger(1, hash);
        var rInverse = r.ModInverse(Curve.N);
        var minusE = BcBigInteger.Zero.Subtract(e).Mod(Curve.N);
        var q = ECAlgorithms.SumOfTwoMultiplies(Curve.G, minusE.Multiply(rInverse).Mod(Curve.N), bigR, s.Multiply(rInverse).Mod(Curve.N));
        return q.IsInfinity ? null : q.Normalize();
    }

    private static byte[] ToFixed32(BcBigInteger value)
    {
        var bytes = value.ToByteArrayUnsigned();
        if (bytes.Length == 32) return bytes;
        var output = new byte[32];
        bytes.CopyTo(output, 32 - bytes.Length);
        return output;
    }
}
