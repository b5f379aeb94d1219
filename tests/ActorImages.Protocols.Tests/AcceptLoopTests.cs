using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace ActorImages.Protocols.Tests;

/// <summary><see cref="AcceptLoop"/> over real loopback sockets. Its pause after a failed accept was measured by hand
/// against a node out of descriptors (README, "Limits and security").</summary>
public sealed class AcceptLoopTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ConnectionsOverTheLimitAreClosedAtOnceReportedOncePerRunCountedAndASlotFreesWhenItsConnectionEnds()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        // Each served connection's client-side endpoint and the handle that ends its handler.
        var served = new ConcurrentDictionary<string, TaskCompletionSource>();
        var events = new ConcurrentQueue<(AcceptLoop.Event Kind, string Text)>();
        using var stop = new CancellationTokenSource();
        var tally = new AcceptLoop.Tally();
        var loop = AcceptLoop.RunAsync(listener, 2, socket =>
        {
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            served[socket.RemoteEndPoint!.ToString()!] = release;
            return release.Task;
        }, (kind, text) => events.Enqueue((kind, text)), stop.Token, tally);

        using var first = await ConnectAsync(endpoint);
        using var second = await ConnectAsync(endpoint);
        await UntilAsync(() => served.Count == 2);

        // Two over the limit, both closed at once; the run of refusals is reported once, naming the first.
        using var third = await ConnectAsync(endpoint);
        Assert.Equal(0, await ReceiveOrResetAsync(third));
        using var fifth = await ConnectAsync(endpoint);
        Assert.Equal(0, await ReceiveOrResetAsync(fifth));
        Assert.Equal(2, served.Count);
        Assert.Equal((AcceptLoop.Event.Refused, third.LocalEndPoint!.ToString()!), Assert.Single(events));
        Assert.Equal((2, 2L), (tally.Open, tally.Refused));

        // The first connection's handler returns: the loop closes that socket and its slot takes the next connection,
        // reported with the count of the refused ones.
        served[first.LocalEndPoint!.ToString()!].SetResult();
        Assert.Equal(0, await ReceiveOrResetAsync(first));
        using var fourth = await ConnectAsync(endpoint);
        await UntilAsync(() => served.Count == 3);
        Assert.Equal([(AcceptLoop.Event.Refused, third.LocalEndPoint!.ToString()!), (AcceptLoop.Event.Admitted, "2")], events.ToArray());
        Assert.Equal((2, 2L), (tally.Open, tally.Refused));

        await stop.CancelAsync();
        await loop.WaitAsync(Wait);
        foreach (var release in served.Values) release.TrySetResult();
        await UntilAsync(() => tally.Open == 0);
    }

    [Fact]
    public async Task AClosedListenerEndsTheLoop()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var events = new ConcurrentQueue<AcceptLoop.Event>();
        var loop = AcceptLoop.RunAsync(listener, 1, _ => Task.CompletedTask, (kind, _) => events.Enqueue(kind),
            CancellationToken.None);
        listener.Dispose();
        await loop.WaitAsync(Wait);
        Assert.Empty(events);
    }

    private static async Task<Socket> ConnectAsync(IPEndPoint endpoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint);
        return socket;
    }

    /// <summary>Bytes of the first read: 0 when the server closed the connection (a reset counts as 0 too).</summary>
    private static async Task<int> ReceiveOrResetAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(Wait);
        try
        {
            return await socket.ReceiveAsync(new byte[16], SocketFlags.None, timeout.Token);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return 0;
        }
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "not within 10 s");
            await Task.Delay(20);
        }
    }
}
