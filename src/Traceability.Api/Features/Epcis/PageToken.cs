using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Traceability.Api.Infrastructure.Auth;

namespace Traceability.Api.Features.Epcis;

/// <summary>Where the next page starts: after the row (order value, sequence); how many events eventCountLimit still allows.</summary>
public sealed record PagePosition(string? OrderValue, long Sequence, int? Remaining);

/// <summary>
/// nextPageToken: the position after the last event of a page, bound to the query's filter parameters and signed
/// (HMAC-SHA256 with a key derived from the admin key), so that a client can neither forge a position nor reuse a token
/// with other filters. It holds no state on the server: it stays valid as long as the admin key.
/// </summary>
public sealed class PageToken(AdminKey adminKey)
{
    private readonly byte[] _key = SHA256.HashData(Encoding.UTF8.GetBytes("epcis-page-token\n" + adminKey.Value));

    private sealed record Body(string F, string? K, long S, int? R);

    public string Create(string fingerprint, PagePosition position)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new Body(Fingerprint(fingerprint), position.OrderValue, position.Sequence, position.Remaining));
        return Base64Url.EncodeToString(body) + "." + Base64Url.EncodeToString(Mac(body));
    }

    /// <summary>The position the token names; QueryParameterException when it was not made here for these filters.</summary>
    public PagePosition Read(string token, string fingerprint)
    {
        var invalid = EpcisException.QueryParameter("nextPageToken", "the token is not one this repository gave for this query (the filter parameters must stay the same).");
        if (token.Length > 2048) throw invalid;
        var dot = token.IndexOf('.');
        if (dot <= 0) throw invalid;
        byte[] body, mac;
        try
        {
            body = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            mac = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException) { throw invalid; }
        if (!CryptographicOperations.FixedTimeEquals(mac, Mac(body))) throw invalid;
        var b = JsonSerializer.Deserialize<Body>(body) ?? throw invalid;
        if (b.F != Fingerprint(fingerprint)) throw invalid;
        return new PagePosition(b.K, b.S, b.R);
    }

    private byte[] Mac(byte[] body) => HMACSHA256.HashData(_key, body)[..16];

    private static string Fingerprint(string filters) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(filters))[..8]);
}
