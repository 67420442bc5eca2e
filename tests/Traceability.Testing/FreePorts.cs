using System.Net;
using System.Net.Sockets;

namespace Traceability.Testing;

/// <summary>The program's listener found the port taken (by another test's process, between finding it free and binding it).</summary>
public sealed class PortInUseException(int port, string output) : InvalidOperationException($"port {port} is already in use:\n{output}")
{
    public int Port { get; } = port;
}

/// <summary>
/// Loopback ports for the processes tests start. A port found free is released before the program binds it, so another
/// process may take it in between: <see cref="StartAsync{T}"/> starts again on a new port when the bind fails.
/// </summary>
public static class FreePorts
{
    public const int Attempts = 5;

    /// <summary>A port nobody listens on right now (it may be taken by the time it is used).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Hardhat/Node ("listen EADDRINUSE") and Kestrel ("Failed to bind to address ...: address already in use").</summary>
    public static bool SaysAddressInUse(string output) =>
        output.Contains("EADDRINUSE", StringComparison.Ordinal) || output.Contains("address already in use", StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs <paramref name="start"/> on ports from <paramref name="ports"/> (free ones by default) until one binds.</summary>
    public static async Task<T> StartAsync<T>(Func<int, Task<T>> start, Func<int>? ports = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await start((ports ?? Next)());
            }
            catch (PortInUseException) when (attempt < Attempts)
            {
            }
        }
    }
}
