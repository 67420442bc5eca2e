using System.Net;
using System.Net.Sockets;

namespace Traceability.Testing;

/// <summary>
/// A loopback TCP forwarder in front of a real node: stopping it is a real network outage for the service under test
/// (connections refused), starting it again on the same port is the recovery.
/// </summary>
public sealed class TcpProxy(int targetPort) : IAsyncDisposable
{
    private TcpListener? _listener;
    private CancellationTokenSource? _cts;
    private readonly List<TcpClient> _open = [];

    public int Port { get; private set; }
    public Uri Url => new($"http://127.0.0.1:{Port}");

    public void Start()
    {
        if (_listener is not null) return;
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _cts = new CancellationTokenSource();
        _ = AcceptLoopAsync(_listener, _cts.Token);
    }

    public void Stop()
    {
        _cts?.Cancel();
        _listener?.Stop();
        _listener = null;
        lock (_open)
        {
            foreach (var c in _open) c.Dispose();
            _open.Clear();
        }
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(ct); }
            catch (Exception) { return; }
            _ = PipeAsync(client, ct);
        }
    }

    private async Task PipeAsync(TcpClient client, CancellationToken ct)
    {
        using var upstream = new TcpClient();
        lock (_open) { _open.Add(client); _open.Add(upstream); }
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, targetPort, ct);
            var a = client.GetStream().CopyToAsync(upstream.GetStream(), ct);
            var b = upstream.GetStream().CopyToAsync(client.GetStream(), ct);
            await Task.WhenAny(a, b);
        }
        catch (Exception) { /* the outage or the end of a connection */ }
        finally
        {
            client.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}
