using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ActorImages.Protocols;
using ActorImages.Testing;

namespace ActorImages.Bench;

/// <summary>
/// A P2 client as the seed-001 client behaves (docs/protocols.md, P2): it offers permessage-deflate as the
/// <c>websockets</c> library does (<c>permessage-deflate; client_max_window_bits</c>) and, once the node accepts,
/// sends every upload as a compressed message; it sends the UPLOAD size as a string of digits and a file as one binary
/// message, and takes every JSON object without <c>"event"</c> for the reply. Downloads are hashed as they arrive,
/// never kept. The handshake and the upload's frame are written on the socket itself (<see cref="RawWebSocket"/>'s
/// request and frame header), so that an upload deflated before the window (<see cref="P2Uploads"/>) goes out as it
/// is; everything else is .NET's client <see cref="WebSocket"/> over the same stream. Each message of ours is
/// deflated on its own (no client context takeover, which a client may always choose, RFC 7692 §7.1.1.1), so the
/// library's messages and ours do not share a window.
/// </summary>
internal sealed class BenchP2Client : IAsyncDisposable
{
    /// <summary>The offer the seed-001 client's library makes (websockets 10.4 with its defaults).</summary>
    private const string Offer = "permessage-deflate; client_max_window_bits";

    private readonly WebSocket _socket;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[256 * 1024];
    private byte[] _frame = [];

    private BenchP2Client(WebSocket socket, NetworkStream stream, bool deflate)
    {
        _socket = socket;
        _stream = stream;
        Deflate = deflate;
    }

    /// <summary>Whether the node accepted permessage-deflate.</summary>
    public bool Deflate { get; }

    /// <summary>Connects to <c>ws://host:8765/</c> offering permessage-deflate, and AUTHs as <paramref name="user"/>.</summary>
    /// <exception cref="WebSocketException">The node did not switch protocols, or asked for a window under 15 bits
    /// (the bench deflates with 15).</exception>
    public static async Task<BenchP2Client> ConnectAsync(string host, string user, CancellationToken ct)
    {
        var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(IPAddress.Parse(host), 8765, ct);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
        var stream = new NetworkStream(tcp, ownsSocket: true);
        try
        {
            await stream.WriteAsync(RawWebSocket.UpgradeRequest(host, 8765, Offer), ct);
            string head = await RawWebSocket.ReadHandshakeAsync(tcp, ct);
            if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
                throw new WebSocketException("the node did not switch protocols: " + head.Split("\r\n")[0]);
            var deflate = Negotiated(head);
            var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
            {
                IsServer = false,
                KeepAliveInterval = TimeSpan.Zero, // no ping of the library's between our frame's writes
                DangerousDeflateOptions = deflate,
            });
            var client = new BenchP2Client(socket, stream, deflate is not null);
            await client.ExpectAsync(new P2Request.Auth(user), "SUCCESS", ct);
            return client;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>The deflate options the node's reply settles on (RFC 7692 §7.1), or null when it declined.</summary>
    private static WebSocketDeflateOptions? Negotiated(string head)
    {
        string? extensions = head.Split("\r\n").FirstOrDefault(line =>
            line.StartsWith("Sec-WebSocket-Extensions:", StringComparison.OrdinalIgnoreCase));
        if (extensions is null || !extensions.Contains("permessage-deflate", StringComparison.OrdinalIgnoreCase)) return null;
        var options = new WebSocketDeflateOptions { ClientContextTakeover = false };
        foreach (string parameter in extensions[(extensions.IndexOf(':') + 1)..].Split(';').Select(p => p.Trim()))
        {
            string[] pair = parameter.Split('=', 2);
            int Bits() => int.Parse(pair[1].Trim('"'), System.Globalization.CultureInfo.InvariantCulture);
            switch (pair[0])
            {
                case "server_no_context_takeover": options.ServerContextTakeover = false; break;
                case "server_max_window_bits" when pair.Length == 2: options.ServerMaxWindowBits = Bits(); break;
                case "client_max_window_bits" when pair.Length == 2:
                    options.ClientMaxWindowBits = Bits() == 15 ? 15
                        : throw new WebSocketException($"the node asked for a {Bits()}-bit window; the bench deflates with 15");
                    break;
            }
        }
        return options;
    }

    /// <summary>UPLOAD [filename, "size"], the file as one binary message (deflated when the node accepted
    /// permessage-deflate), the SUCCESS reply.</summary>
    public async Task UploadAsync(string filename, P2Upload upload, CancellationToken ct)
    {
        await ExpectAsync(new P2Request.Upload(filename, upload.Size), "READY", ct);
        var pieces = Deflate ? upload.Deflated : upload.Plain;
        int length = P2Upload.Length(pieces);
        // RFC 6455 §5.2: FIN, RSV1 when compressed (RFC 7692 §6), binary; the header ends with the masking key, a
        // random one as a real client's (so that the node unmasks what it would from one)
        byte[] header = RawWebSocket.ClientFrameHeader((byte)(Deflate ? 0xC2 : 0x82), length);
        uint key = (uint)Random.Shared.NextInt64(1, 1L << 32);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(header.Length - 4), key);
        if (_frame.Length < header.Length + length) _frame = new byte[header.Length + length];
        header.CopyTo(_frame, 0);
        int at = header.Length;
        foreach (var piece in pieces)
        {
            piece.Span.CopyTo(_frame.AsSpan(at));
            at += piece.Length;
        }
        Mask(_frame.AsSpan(header.Length, length), key);
        await _stream.WriteAsync(_frame.AsMemory(0, at), ct);
        await ReplyAsync("SUCCESS", ct);
    }

    /// <summary>XORs <paramref name="payload"/> with the masking key (RFC 6455 §5.3): byte i with key byte i mod 4, the
    /// key's bytes in wire order being <paramref name="key"/>'s little-endian bytes.</summary>
    private static void Mask(Span<byte> payload, uint key)
    {
        ulong pattern = key | ((ulong)key << 32);
        var words = MemoryMarshal.Cast<byte, ulong>(payload);
        for (int i = 0; i < words.Length; i++) words[i] ^= pattern;
        for (int i = words.Length * 8; i < payload.Length; i++) payload[i] ^= (byte)(key >> (8 * (i % 4)));
    }

    /// <summary>DOWNLOAD [filename]: SIZE_INFO, the bytes (hashed), SUCCESS; returns their size and md5.</summary>
    public async Task<(long Size, string Md5)> DownloadAsync(string filename, CancellationToken ct)
    {
        var info = await ExpectAsync(new P2Request.Download(filename), "SIZE_INFO", ct);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        long size = 0;
        while (true)
        {
            var frame = await _socket.ReceiveAsync(_buffer.AsMemory(), ct);
            if (frame.MessageType == WebSocketMessageType.Close) throw new WebSocketException("closed by the node: " + _socket.CloseStatus);
            if (frame.MessageType == WebSocketMessageType.Text)
            {
                // an event between SIZE_INFO and the bytes: skip the whole message
                while (!frame.EndOfMessage) frame = await _socket.ReceiveAsync(_buffer.AsMemory(), ct);
                continue;
            }
            md5.AppendData(_buffer, 0, frame.Count);
            size += frame.Count;
            if (frame.EndOfMessage) break;
        }
        await ReplyAsync("SUCCESS", ct);
        if (size != info.Size) throw new InvalidDataException($"DOWNLOAD {filename}: {size} bytes, SIZE_INFO said {info.Size}");
        return (size, Convert.ToHexStringLower(md5.GetHashAndReset()));
    }

    /// <summary>LIST: the number of files listed and the reply's size in bytes.</summary>
    public async Task<(int Files, int Bytes)> ListAsync(CancellationToken ct)
    {
        await SendAsync(new P2Request.List(), ct);
        var (reply, bytes) = await NextReplyAsync(ct);
        if (reply.Status != "SUCCESS") throw new InvalidDataException("LIST: " + (reply.Message ?? reply.Status));
        return (reply.Files.Count, bytes);
    }

    /// <summary>Sends a command and returns its reply, which must have <paramref name="status"/>.</summary>
    public async Task<P2ServerMessage.Reply> ExpectAsync(P2Request request, string status, CancellationToken ct)
    {
        await SendAsync(request, ct);
        return await ReplyAsync(status, ct);
    }

    private Task SendAsync(P2Request request, CancellationToken ct) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(request.ToJson()).AsMemory(), WebSocketMessageType.Text, true, ct).AsTask();

    private async Task<P2ServerMessage.Reply> ReplyAsync(string status, CancellationToken ct)
    {
        var (reply, _) = await NextReplyAsync(ct);
        return reply.Status == status ? reply : throw new InvalidDataException($"expected {status}, got {reply.Status}: {reply.Message}");
    }

    private async Task<(P2ServerMessage.Reply, int)> NextReplyAsync(CancellationToken ct)
    {
        var text = new ArrayBufferWriter<byte>();
        while (true)
        {
            text.Clear();
            ValueWebSocketReceiveResult frame;
            do
            {
                frame = await _socket.ReceiveAsync(_buffer.AsMemory(), ct);
                if (frame.MessageType == WebSocketMessageType.Close) throw new WebSocketException("closed by the node: " + _socket.CloseStatus);
                text.Write(_buffer.AsSpan(0, frame.Count));
            }
            while (!frame.EndOfMessage);
            if (frame.MessageType == WebSocketMessageType.Binary) throw new InvalidDataException("a binary message where a reply was due");
            switch (P2ServerMessage.Parse(Encoding.UTF8.GetString(text.WrittenSpan)))
            {
                case P2ServerMessage.Reply reply: return (reply, text.WrittenCount);
                case P2ServerMessage.Unreadable bad: throw new InvalidDataException("reply is not JSON: " + bad.Text);
                default: continue; // NEW_UPLOAD and HISTORY events
            }
        }
    }

    /// <summary>Closes the connection without the DISCONNECT exchange.</summary>
    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        await _stream.DisposeAsync();
    }
}

/// <summary>
/// P2 load: clients spread over the nodes, each in a loop uploading a distinct ~900 KB PNG and downloading it again
/// by name on the same connection. Only SUCCESS uploads and downloads whose md5 is the uploaded one count; the
/// figure is the bytes moved both ways per second (MB = 10^6 bytes).
/// </summary>
internal static class P2Load
{
    /// <summary>What one window measured.</summary>
    /// <param name="Seconds">The window's length.</param>
    /// <param name="Uploads">SUCCESS uploads.</param>
    /// <param name="Downloads">Downloads with the right md5.</param>
    /// <param name="Failed">Uploads or downloads that failed.</param>
    /// <param name="UpBytes">Bytes of counted uploads.</param>
    /// <param name="DownBytes">Bytes of counted downloads.</param>
    /// <param name="Up">Upload latency (UPLOAD to SUCCESS).</param>
    /// <param name="Down">Download latency (DOWNLOAD to SUCCESS).</param>
    /// <param name="Deflate">Whether the nodes accepted permessage-deflate.</param>
    /// <param name="FirstError">The first failure's text, or "".</param>
    public sealed record Result(double Seconds, int Uploads, int Downloads, int Failed, long UpBytes, long DownBytes,
        Latencies Up, Latencies Down, bool Deflate, string FirstError)
    {
        /// <summary>Both directions, MB/s.</summary>
        public double MegabytesPerSecond => (UpBytes + DownBytes) / 1e6 / Seconds;
    }

    /// <summary>Runs <paramref name="clients"/> clients for <paramref name="seconds"/>, client c on node c % nodes + 1.</summary>
    public static async Task<Result> RunAsync(int nodes, int clients, double seconds, P2Uploads images, string label)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var started = Stopwatch.StartNew();
        int uploads = 0, downloads = 0, failed = 0;
        long upBytes = 0, downBytes = 0;
        bool deflate = false;
        string firstError = "";
        void Fail(string error)
        {
            if (Interlocked.Increment(ref failed) == 1) firstError = error;
        }
        var latencies = await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var up = new Latencies();
            var down = new Latencies();
            try
            {
                using var connect = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await using var client = await BenchP2Client.ConnectAsync(LocalCluster.Host(c % nodes + 1), "bench-" + c, connect.Token);
                deflate |= client.Deflate;
                for (int n = 0; Stopwatch.GetTimestamp() < deadline; n++)
                {
                    string name = $"bench-{label}-{c}-{n}.png";
                    var image = images.For(name);
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    try
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        await client.UploadAsync(name, image, timeout.Token);
                        up.Since(t0);
                        Interlocked.Increment(ref uploads);
                        Interlocked.Add(ref upBytes, image.Size);
                        long t1 = Stopwatch.GetTimestamp();
                        var (size, got) = await client.DownloadAsync(name, timeout.Token);
                        if (got != image.Md5) throw new InvalidDataException($"DOWNLOAD {name}: md5 {got}, uploaded {image.Md5}");
                        down.Since(t1);
                        Interlocked.Increment(ref downloads);
                        Interlocked.Add(ref downBytes, size);
                    }
                    catch (InvalidDataException e)
                    {
                        Fail(e.Message); // the node's refusal: the connection stays usable
                    }
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or InvalidDataException or IOException)
            {
                Fail($"client {c}: {e.Message}");
            }
            return (up, down);
        })));
        return new Result(started.Elapsed.TotalSeconds, uploads, downloads, failed, upBytes, downBytes,
            Latencies.Merge(latencies.Select(l => l.up)), Latencies.Merge(latencies.Select(l => l.down)), deflate, firstError);
    }
}
