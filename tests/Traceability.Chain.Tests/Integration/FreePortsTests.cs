using System.Net;
using System.Net.Sockets;
using Traceability.Testing;

namespace Traceability.Chain.Tests.Integration;

/// <summary>
/// A port found free can be taken before the node binds it: the start is then retried on another port, and a node is
/// never taken for ready because some other process answers on its port.
/// </summary>
public class FreePortsTests
{
    [Fact]
    public async Task ANodeWhosePortWasTakenFailsAsPortInUseAndTheStartMovesToAnotherPort()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var takenPort = ((IPEndPoint)taken.LocalEndpoint).Port;

        var refused = () => HardhatNode.StartAsync(takenPort);
        (await refused.Should().ThrowAsync<PortInUseException>()).Which.Port.Should().Be(takenPort);

        var offered = new Queue<int>([takenPort, FreePorts.Next()]);
        await using var node = await FreePorts.StartAsync(p => HardhatNode.StartAsync(p), offered.Dequeue);
        node.Port.Should().NotBe(takenPort);
        offered.Should().BeEmpty("the second port was used");
        node.Output.Should().Contain($"JSON-RPC server at http://127.0.0.1:{node.Port}/");
    }

    [Theory]
    [InlineData("Error: listen EADDRINUSE: address already in use 127.0.0.1:8545", true)]
    [InlineData("System.IO.IOException: Failed to bind to address http://127.0.0.1:5080: address already in use.", true)]
    [InlineData("Error HH8: There's one or more errors in your config file", false)]
    public void RecognisesTheBindFailuresOfNodeAndKestrel(string output, bool inUse) =>
        FreePorts.SaysAddressInUse(output).Should().Be(inUse);
}
