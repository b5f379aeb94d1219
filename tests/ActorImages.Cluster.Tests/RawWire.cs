using System.Net;
using System.Net.Sockets;
using System.Text;
using ActorImages.Protocols;

namespace ActorImages.Cluster.Tests;

/// <summary>
/// Legacy-style socket clients that send arbitrary bytes (bad input included) and report exactly what came back:
/// the seed-000 camera's P1 connection, the peers' P3 datagrams (1,024-byte reads, 4,096 for <c>LST</c>) and P4
/// <c>GET</c> to any host and port (docs/protocols.md).
/// </summary>
public static class RawWire
{
    /// <summary>How a P1 connection ended.</summary>
    /// <param name="BytesFromNode">What the node wrote (always 0 for a correct node: P1 has no reply).</param>
    /// <param name="Elapsed">From connect to the node's close.</param>
    /// <param name="Reset">Whether the node ended it with a reset (a frame it could not store) rather than an orderly
    /// close.</param>
    public sealed record P1Outcome(int BytesFromNode, TimeSpan Elapsed, bool Reset = false);

    /// <summary>One connection carrying one frame per image, half-closed; returns once the node closed it.</summary>
    /// <param name="host">The node.</param>
    /// <param name="images">The images, one frame each.</param>
    /// <returns>How the connection ended.</returns>
    public static Task<P1Outcome> SendP1Async(string host, params byte[][] images) =>
        SendP1RawAsync(host, [.. images.SelectMany(i => P1Frame.Header((uint)i.Length).Concat(i))], halfClose: true);

    /// <summary>Writes <paramref name="raw"/> to the node's P1 port, optionally half-closes, and reads until the node
    /// closes (a reset counts as a close), at most <paramref name="limit"/> (default 60 s).</summary>
    /// <param name="host">The node.</param>
    /// <param name="raw">The bytes.</param>
    /// <param name="halfClose">Whether to shut down the sending side after them.</param>
    /// <param name="limit">The longest wait for the node's close.</param>
    /// <returns>How the connection ended.</returns>
    /// <exception cref="OperationCanceledException">The node did not close within <paramref name="limit"/>.</exception>
    public static async Task<P1Outcome> SendP1RawAsync(string host, byte[] raw, bool halfClose, TimeSpan? limit = null)
    {
        var started = DateTime.UtcNow;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Parse(host), 5001);
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(60));
        var total = 0;
        var reset = false;
        try
        {
            if (raw.Length > 0) await socket.SendAsync(raw, SocketFlags.None, timeout.Token);
            if (halfClose) socket.Shutdown(SocketShutdown.Send);
            var buffer = new byte[4096];
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0) total += n;
        }
        catch (SocketException e)
        {
            // a reset is a close too
            reset = e.SocketErrorCode == SocketError.ConnectionReset;
        }
        return new P1Outcome(total, DateTime.UtcNow - started, reset);
    }

    /// <summary>One P3 request from a fresh socket bound to <paramref name="from"/>, one reply read with a buffer of
    /// <paramref name="bufferSize"/> bytes, as the seed-002 client reads it.</summary>
    /// <param name="host">The node.</param>
    /// <param name="from">The local address to send from.</param>
    /// <param name="datagram">The request bytes.</param>
    /// <param name="bufferSize">The read buffer (1,024, or 4,096 for <c>LST</c>).</param>
    /// <param name="wait">How long to wait for the reply.</param>
    /// <returns>The reply text, or null when none came in time.</returns>
    public static async Task<string?> AskP3Async(string host, string from, byte[] datagram, int bufferSize, TimeSpan wait)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        await socket.SendToAsync(datagram, SocketFlags.None, new IPEndPoint(IPAddress.Parse(host), 13377));
        var buffer = new byte[bufferSize];
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            return Encoding.UTF8.GetString(buffer, 0, received.ReceivedBytes);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>One P3 text request as a legacy peer sends it (1,024-byte read, 4,096 for <c>LST</c>); fails when no
    /// reply comes within 15 s.</summary>
    /// <param name="host">The node.</param>
    /// <param name="from">The local address to send from.</param>
    /// <param name="request">The request, no terminator.</param>
    /// <returns>The reply text.</returns>
    /// <exception cref="TimeoutException">No reply within 15 s.</exception>
    public static async Task<string> AskP3Async(string host, string from, string request) =>
        await AskP3Async(host, from, Encoding.UTF8.GetBytes(request), request.StartsWith("LST") ? 4096 : 1024,
            TimeSpan.FromSeconds(15)) ?? throw new TimeoutException($"no reply to P3 '{request}' from {host} in 15 s");

    /// <summary>P4: <c>GET &lt;md5&gt;</c> to any host and port (a node or a legacy peer), read to EOF.</summary>
    /// <param name="host">The host.</param>
    /// <param name="port">Its P4 port.</param>
    /// <param name="md5">The image.</param>
    /// <returns>Everything sent before the close.</returns>
    public static Task<byte[]> GetP4Async(string host, int port, string md5) =>
        GetP4RawAsync(host, port, Encoding.ASCII.GetBytes("GET " + md5));

    /// <summary>P4 with arbitrary request bytes, read to EOF (a reset ends the read too), at most 30 s.</summary>
    /// <param name="host">The host.</param>
    /// <param name="port">Its P4 port.</param>
    /// <param name="request">The request bytes.</param>
    /// <returns>Everything sent before the close.</returns>
    public static async Task<byte[]> GetP4RawAsync(string host, int port, byte[] request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Parse(host), port);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new MemoryStream();
        try
        {
            await socket.SendAsync(request, SocketFlags.None, timeout.Token);
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0) received.Write(buffer, 0, n);
        }
        catch (SocketException)
        {
            // a reset is a close too
        }
        return received.ToArray();
    }
}
