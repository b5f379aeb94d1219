using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ActorImages.Testing;

/// <summary>One frame from the node (RFC 6455 §5.2; a server's frames are not masked).</summary>
/// <param name="Fin">The FIN bit: the last frame of its message.</param>
/// <param name="Rsv1">The RSV1 bit: under permessage-deflate, set on the first frame of a compressed message (RFC 7692
/// §6).</param>
/// <param name="Opcode">0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong.</param>
/// <param name="Payload">The payload as sent.</param>
public sealed record RawWebSocketFrame(bool Fin, bool Rsv1, int Opcode, byte[] Payload);

/// <summary>One message from the node: its data frames joined.</summary>
/// <param name="Opcode">1 text or 2 binary.</param>
/// <param name="Compressed">RSV1 of its first frame: whether the node deflated it.</param>
/// <param name="Frames">How many frames carried it.</param>
/// <param name="Payload">The message's bytes, inflated when it was compressed.</param>
public sealed record RawWebSocketMessage(int Opcode, bool Compressed, int Frames, byte[] Payload)
{
    /// <summary>The payload as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Payload);
}

/// <summary>
/// A WebSocket client on a plain TCP socket, for tests that must see what WebSocket libraries hide — the node's
/// handshake reply and each frame's bits, such as RSV1, which tells a frame compressed under permessage-deflate — or
/// send what no library sends (an upgrade cut short, a frame that never ends; <c>Abuse</c>). It reads and writes RFC 6455
/// frames just far enough for that: client frames masked with a zero key (so their payload goes as it is), server frames
/// read whole, compressed messages inflated with <see cref="DeflateStream"/>, which needs each one on its own: offer
/// <c>server_no_context_takeover</c> when reading compressed messages. Every wait has <see cref="Timeout"/>.
/// </summary>
public sealed class RawWebSocket : IAsyncDisposable
{
    /// <summary>The longest wait for a connect, the handshake or one frame (10 s).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private RawWebSocket(Socket socket, string handshake)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        Handshake = handshake;
    }

    /// <summary>The node's reply to the upgrade request: its status line and headers.</summary>
    public string Handshake { get; }

    /// <summary>The bytes of an upgrade request (RFC 6455 §4.1) with a fixed key.</summary>
    /// <param name="host">The node's address.</param>
    /// <param name="port">Its port (P2: 8765).</param>
    /// <param name="extensions">The <c>Sec-WebSocket-Extensions</c> offer, or null for none.</param>
    /// <returns>The request, ending with the empty line.</returns>
    public static byte[] UpgradeRequest(string host, int port, string? extensions = null) => Encoding.ASCII.GetBytes(
        $"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        (extensions is null ? "" : $"Sec-WebSocket-Extensions: {extensions}\r\n") +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");

    /// <summary>A client frame's header (RFC 6455 §5.2): FIN and opcode, the mask bit, the length and a zero masking key
    /// (so the payload that follows goes as it is).</summary>
    /// <param name="finAndOpcode">For example 0x81 (FIN, text) or 0x82 (FIN, binary).</param>
    /// <param name="length">The payload's length in bytes.</param>
    /// <returns>2 to 14 bytes.</returns>
    public static byte[] ClientFrameHeader(byte finAndOpcode, long length) => length switch
    {
        < 126 => [finAndOpcode, (byte)(0x80 | length), 0, 0, 0, 0],
        <= ushort.MaxValue => [finAndOpcode, 0x80 | 126, (byte)(length >> 8), (byte)length, 0, 0, 0, 0],
        _ => [finAndOpcode, 0x80 | 127, .. BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness((ulong)length)), 0, 0, 0, 0],
    };

    /// <summary>Connects, sends the upgrade request and reads the reply's head (byte by byte, so nothing after it is
    /// consumed).</summary>
    /// <param name="host">The node's address.</param>
    /// <param name="port">Its port.</param>
    /// <param name="extensions">The extensions offered, or null.</param>
    /// <returns>The connection; <see cref="Handshake"/> holds the reply, whatever its status.</returns>
    /// <exception cref="IOException">The node closed before the end of the reply's head, or it exceeded 8 KiB.</exception>
    /// <exception cref="OperationCanceledException">No reply within <see cref="Timeout"/>.</exception>
    public static async Task<RawWebSocket> ConnectAsync(string host, int port, string? extensions = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var timeout = new CancellationTokenSource(Timeout);
            await socket.ConnectAsync(IPAddress.Parse(host), port, timeout.Token);
            await socket.SendAsync(UpgradeRequest(host, port, extensions), timeout.Token);
            return new RawWebSocket(socket, await ReadHandshakeAsync(socket, timeout.Token));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Reads the head of the node's reply to an upgrade request (status line and headers, up to the empty
    /// line) byte by byte, so that nothing after it is consumed.</summary>
    /// <param name="socket">A connection that sent an upgrade request.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>The head, whatever its status.</returns>
    /// <exception cref="IOException">The node closed before the end of the head, or it exceeded 8 KiB.</exception>
    public static async Task<string> ReadHandshakeAsync(Socket socket, CancellationToken ct)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await socket.ReceiveAsync(one, ct) == 0 || head.Length > 8192)
                throw new IOException($"no complete handshake reply: '{head}'");
            head.Append((char)one[0]);
        }
        return head.ToString();
    }

    /// <summary>Sends one uncompressed text message in one frame.</summary>
    /// <param name="text">The text.</param>
    /// <returns>A task that completes once it is written.</returns>
    public async Task SendTextAsync(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        using var timeout = new CancellationTokenSource(Timeout);
        await _stream.WriteAsync(ClientFrameHeader(0x81, payload.Length).Concat(payload).ToArray(), timeout.Token);
    }

    /// <summary>Reads the next frame, whatever it is.</summary>
    /// <returns>The frame.</returns>
    /// <exception cref="EndOfStreamException">The node closed the connection mid-frame or before one.</exception>
    /// <exception cref="OperationCanceledException">No whole frame within <see cref="Timeout"/>.</exception>
    public async Task<RawWebSocketFrame> ReadFrameAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var head = new byte[2];
        await _stream.ReadExactlyAsync(head, timeout.Token);
        long length = head[1] & 0x7F;
        if (length >= 126)
        {
            var extended = new byte[length == 126 ? 2 : 8];
            await _stream.ReadExactlyAsync(extended, timeout.Token);
            length = extended.Length == 2 ? BinaryPrimitives.ReadUInt16BigEndian(extended) : (long)BinaryPrimitives.ReadUInt64BigEndian(extended);
        }
        if ((head[1] & 0x80) != 0) throw new InvalidDataException("the node masked a frame (RFC 6455 §5.1 forbids it)");
        var payload = new byte[length];
        await _stream.ReadExactlyAsync(payload, timeout.Token);
        return new RawWebSocketFrame((head[0] & 0x80) != 0, (head[0] & 0x40) != 0, head[0] & 0x0F, payload);
    }

    /// <summary>Reads the next text or binary message, skipping control frames (a ping is not answered: the tests
    /// that use this are far shorter than any keep-alive).</summary>
    /// <returns>The message, inflated when compressed.</returns>
    /// <exception cref="EndOfStreamException">The node closed the connection first.</exception>
    /// <exception cref="InvalidDataException">A close frame came, or a message did not start with a text or binary
    /// frame.</exception>
    /// <exception cref="OperationCanceledException">A frame did not come within <see cref="Timeout"/>.</exception>
    public async Task<RawWebSocketMessage> ReadMessageAsync()
    {
        RawWebSocketFrame? first = null;
        var frames = 0;
        using var payload = new MemoryStream();
        while (true)
        {
            var frame = await ReadFrameAsync();
            if (frame.Opcode == 8) throw new InvalidDataException("the node closed the WebSocket");
            if (frame.Opcode >= 8) continue;
            if (first is null && frame.Opcode is not (1 or 2))
                throw new InvalidDataException($"a message began with opcode {frame.Opcode}");
            first ??= frame;
            frames++;
            payload.Write(frame.Payload);
            if (frame.Fin) break;
        }
        if (!first.Rsv1) return new RawWebSocketMessage(first.Opcode, false, frames, payload.ToArray());
        // RFC 7692 §7.2.2: the sender removed the 00 00 FF FF that ends a sync flush; put it back to inflate.
        payload.Write([0, 0, 0xFF, 0xFF]);
        payload.Position = 0;
        await using var inflate = new DeflateStream(payload, CompressionMode.Decompress);
        using var inflated = new MemoryStream();
        await inflate.CopyToAsync(inflated);
        return new RawWebSocketMessage(first.Opcode, true, frames, inflated.ToArray());
    }

    /// <summary>Reads and drops whatever the node still sends until it closes the TCP connection (an orderly end or a
    /// reset), without ever answering: a client that does not take part in the closing handshake.</summary>
    /// <param name="limit">The longest wait.</param>
    /// <returns>True when the node closed the connection within <paramref name="limit"/>.</returns>
    public async Task<bool> ClosedByNodeAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        var buffer = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
            return true;
        }
        catch (IOException)
        {
            return true; // reset
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
