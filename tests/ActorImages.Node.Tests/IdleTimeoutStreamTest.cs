using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ActorImages.Node.Gateways;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>
/// The wait budget of <see cref="IdleTimeoutStream"/> over a real loopback connection: how a read through a node bounds
/// a holder that keeps sending, but slowly (src/ActorImages.Node/Transfer/ImageReader.cs; README "Failure and
/// recovery", "A holder hangs"). A holder stopped outright is FrozenHolderTest (Faults).
/// </summary>
public sealed class IdleTimeoutStreamTest
{
    [Fact]
    public async Task ASenderThatTricklesUnderTheIdleBoundIsCutOffOnceTheReadsHaveWaitedTheBudget()
    {
        // 1 KiB every 100 ms: never silent for the 5 s idle bound (a bound of 1 s tripped when a loaded machine held the
        // sender back for a second: the read was cut off by the idle bound, not by the budget), 10 KiB/s in all.
        await using var peer = await Peer.StartAsync(async socket =>
        {
            for (var i = 0; i < 100; i++)
            {
                await socket.SendAsync(new byte[1024]);
                await Task.Delay(100);
            }
        });
        var stream = new IdleTimeoutStream(peer.Client, TimeSpan.FromSeconds(5), waitBudget: TimeSpan.FromSeconds(1.5),
            timedOut: () => new IOException("too slow"));
        var clock = Stopwatch.StartNew();
        long received = 0;
        var e = await Assert.ThrowsAsync<IOException>(async () =>
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0) received += read;
        });
        Assert.Equal("too slow", e.Message);
        // Cut off once the reads have waited 1.5 s, with about 15 of the 100 KiB (fewer when the sender was held back):
        // the idle bound alone would have read all 100 (10 s).
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.45, 5);
        Assert.InRange(received, 1024, 50 * 1024);
    }

    [Fact]
    public async Task TheReadersOwnPausesDoNotCountAgainstTheBudget()
    {
        // The sender writes 10 KiB at once; the reader takes 1 KiB every 200 ms (a slow client), 2 s in all, four
        // times the 0.5 s budget: its reads find the bytes waiting, so they hardly wait.
        await using var peer = await Peer.StartAsync(async socket =>
        {
            await socket.SendAsync(new byte[10 * 1024]);
            socket.Shutdown(SocketShutdown.Send);
        });
        var stream = new IdleTimeoutStream(peer.Client, TimeSpan.FromSeconds(1), waitBudget: TimeSpan.FromSeconds(0.5),
            timedOut: () => new IOException("too slow"));
        var clock = Stopwatch.StartNew();
        long received = 0;
        var buffer = new byte[1024];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            received += read;
            await Task.Delay(200);
        }
        Assert.Equal(10 * 1024, received);
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1.5), $"{clock.Elapsed}");
    }

    /// <summary>A loopback connection whose far end runs <c>send</c>; <see cref="Client"/> is the near end.</summary>
    private sealed class Peer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Socket _server;
        private readonly Task _sending;

        private Peer(TcpListener listener, Socket server, NetworkStream client, Task sending)
        {
            _listener = listener;
            _server = server;
            Client = client;
            _sending = sending;
        }

        public NetworkStream Client { get; }

        public static async Task<Peer> StartAsync(Func<Socket, Task> send)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
            var server = await listener.AcceptSocketAsync();
            return new Peer(listener, server, client.GetStream(), Task.Run(() => send(server)));
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            _server.Dispose();
            _listener.Stop();
            try
            {
                await _sending;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // the near end is gone: the sender's next write fails
            }
        }
    }
}
