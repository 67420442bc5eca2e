using System.Net;
using System.Net.Sockets;

namespace Traceability.Api.Features.Epcis;

/// <summary>
/// Where the service may POST a subscriber's deliveries. A subscriber names the URL, so without bounds it could make the
/// service call its own host or the cloud's instance metadata (SSRF): only http and https, no user info, and never an
/// address that is unspecified, link-local (169.254.0.0/16, fe80::/10: the metadata services live there), multicast,
/// reserved, or a known metadata address; loopback only when TRACE_SUBSCRIPTION_ALLOW_LOOPBACK is on (tests, development).
/// Private networks are allowed: members' receivers may sit on the consortium's own network. The address is checked when
/// the connection is made (<see cref="ConnectAsync"/>), so a name that resolves differently later is caught too.
/// </summary>
public static class WebhookDestination
{
    public const int MaxLength = 2048;

    private static readonly IPAddress[] Metadata =
    [
        IPAddress.Parse("100.100.100.200"), // Alibaba Cloud instance metadata
        IPAddress.Parse("fd00:ec2::254"),   // AWS instance metadata over IPv6
    ];

    /// <summary>Why <paramref name="dest"/> is refused, or null when it may be used.</summary>
    public static string? Problem(string? dest, bool allowLoopback)
    {
        if (string.IsNullOrWhiteSpace(dest)) return "is required.";
        if (dest.Length > MaxLength) return $"at most {MaxLength} characters.";
        if (!Uri.TryCreate(dest, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return "must be an absolute http or https URL.";
        if (uri.UserInfo.Length > 0) return "must not carry user info (user:password@).";
        if (uri.Fragment.Length > 0) return "must not carry a fragment.";
        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) && !IsAllowed(literal, allowLoopback))
            return $"{literal} is not an address deliveries may be sent to (loopback, link-local, multicast, reserved or metadata).";
        if (!allowLoopback && uri.IdnHost.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return "localhost is not an address deliveries may be sent to.";
        return null;
    }

    /// <summary>Whether a connection to <paramref name="address"/> may be made.</summary>
    public static bool IsAllowed(IPAddress address, bool allowLoopback)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (Metadata.Contains(address)) return false;
        if (IPAddress.IsLoopback(address)) return allowLoopback;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 => false,                    // "this network"
                169 when b[1] == 254 => false, // link-local, instance metadata
                >= 224 => false,               // multicast, reserved, broadcast
                _ => true,
            };
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return !address.Equals(IPAddress.IPv6Any) && !address.IsIPv6LinkLocal && !address.IsIPv6Multicast && !address.IsIPv6SiteLocal;
        }
        return false;
    }

    /// <summary>SocketsHttpHandler.ConnectCallback: resolves the host and connects only to an allowed address.</summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowLoopback, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = addresses.Where(a => IsAllowed(a, allowLoopback)).ToList();
        if (allowed.Count == 0) throw new HttpRequestException($"{host} resolves to no address deliveries may be sent to.");
        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }
        throw new HttpRequestException($"Could not connect to {host}.", last);
    }
}
