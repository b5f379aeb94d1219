using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using ActorImages.Protocols;

namespace ActorImages.Cluster.Tests;

/// <summary>Minimal legacy-style clients over real sockets, as the seeds' clients use the wire (docs/protocols.md).</summary>
public static class LegacyWire
{
    /// <summary>P1: one connection, length, bytes, half-close; returns once the node has closed its side.</summary>
    /// <param name="host">The node.</param>
    /// <param name="image">The bytes.</param>
    /// <returns>A task that completes when the node closed the connection.</returns>
    public static async Task SendP1Async(string host, byte[] image)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Parse(host), 5001);
        await socket.SendAsync(P1Frame.Header((uint)image.Length));
        await socket.SendAsync(image);
        socket.Shutdown(SocketShutdown.Send);
        var buffer = new byte[16];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0) { }
    }

    /// <summary>P3: one request from a fresh socket, one reply datagram.</summary>
    /// <param name="host">The node.</param>
    /// <param name="request">The request text, no terminator.</param>
    /// <param name="from">The local address to send from (the tracker knows a peer by it), or null.</param>
    /// <returns>The reply text.</returns>
    public static async Task<string> AskP3Async(string host, string request, string? from = null)
    {
        using var udp = new UdpClient(new IPEndPoint(from is null ? IPAddress.Any : IPAddress.Parse(from), 0));
        await udp.SendAsync(Encoding.UTF8.GetBytes(request), new IPEndPoint(IPAddress.Parse(host), 13377));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var reply = await udp.ReceiveAsync(timeout.Token);
        return Encoding.UTF8.GetString(reply.Buffer);
    }

    /// <summary>P4: <c>GET &lt;md5&gt;</c>, read to EOF.</summary>
    /// <param name="host">The node.</param>
    /// <param name="md5">The image.</param>
    /// <returns>Everything the node sent before closing.</returns>
    public static async Task<byte[]> GetP4Async(string host, string md5)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Parse(host), 13378);
        var stream = client.GetStream();
        await stream.WriteAsync(P4Request.Render(md5));
        var received = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await stream.CopyToAsync(received, timeout.Token);
        return received.ToArray();
    }

    /// <summary>A P2 session: the seed-001 client's way of waiting for the next reply (skipping events).</summary>
    public sealed class P2 : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();

        private P2() => _socket.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();

        /// <summary>Connects to <c>ws://host:8765/</c>.</summary>
        /// <param name="host">The node.</param>
        /// <returns>The session.</returns>
        public static async Task<P2> ConnectAsync(string host)
        {
            var p2 = new P2();
            await p2._socket.ConnectAsync(new Uri($"ws://{host}:8765/"), CancellationToken.None);
            return p2;
        }

        /// <summary>Sends one command.</summary>
        /// <param name="cmd">The command.</param>
        /// <param name="args">Its arguments.</param>
        /// <returns>A task.</returns>
        public Task SendAsync(string cmd, params object[] args) => _socket.SendAsync(
            Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { cmd, args })), WebSocketMessageType.Text, true, CancellationToken.None);

        /// <summary>Sends one raw text frame (a command that may not be JSON at all).</summary>
        /// <param name="text">The frame's text.</param>
        /// <returns>A task.</returns>
        public Task SendTextAsync(string text) => _socket.SendAsync(
            Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

        /// <summary>Whether the node closes the connection within <paramref name="within"/>, reading (and dropping)
        /// whatever arrives before the close.</summary>
        /// <param name="within">How long to wait.</param>
        /// <returns>True once a close frame arrived or the connection ended; false when it is still open.</returns>
        public async Task<bool> ClosedByServerAsync(TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var r = await _socket.ReceiveAsync(buffer, timeout.Token);
                    if (r.MessageType == WebSocketMessageType.Close) return true;
                }
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            catch (WebSocketException)
            {
                return true;
            }
        }

        /// <summary>Sends one binary message.</summary>
        /// <param name="bytes">The bytes.</param>
        /// <returns>A task.</returns>
        public Task SendBinaryAsync(byte[] bytes) => _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);

        /// <summary>The next message: text as JSON, binary as bytes.</summary>
        /// <returns>The JSON (null for binary) and the bytes.</returns>
        public async Task<(JsonElement? Json, byte[] Bytes)> ReceiveAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var buffer = new byte[64 * 1024];
            var all = new MemoryStream();
            WebSocketReceiveResult r;
            do
            {
                r = await _socket.ReceiveAsync(buffer, timeout.Token);
                all.Write(buffer, 0, r.Count);
            } while (!r.EndOfMessage);
            return r.MessageType == WebSocketMessageType.Text
                ? (JsonDocument.Parse(all.ToArray()).RootElement.Clone(), all.ToArray()) : (null, all.ToArray());
        }

        /// <summary>The next reply, skipping events (objects with an <c>event</c> key), as the seed client does.</summary>
        /// <returns>The reply.</returns>
        public async Task<JsonElement> ReplyAsync()
        {
            while (true)
            {
                var (json, _) = await ReceiveAsync();
                if (json is { } j && !j.TryGetProperty("event", out _)) return j;
            }
        }

        /// <inheritdoc />
        public async ValueTask DisposeAsync()
        {
            try
            {
                if (_socket.State == WebSocketState.Open)
                    await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }
            _socket.Dispose();
        }
    }
}
