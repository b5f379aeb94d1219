using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using ActorImages.Protocols;

namespace ActorImages.Bench;

/// <summary>
/// A P2 client as the seed-001 client behaves (docs/protocols.md, P2): it offers permessage-deflate (so, negotiated,
/// it deflates what it sends, as the <c>websockets</c> library does), sends the UPLOAD size as a string of digits and
/// a file as one binary message, and takes every JSON object without <c>"event"</c> for the reply. Downloads are
/// hashed as they arrive, never kept.
/// </summary>
internal sealed class BenchP2Client : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly byte[] _buffer = new byte[256 * 1024];

    private BenchP2Client(ClientWebSocket socket) => _socket = socket;

    /// <summary>Whether the node accepted permessage-deflate.</summary>
    public bool Deflate { get; private set; }

    /// <summary>Connects to <c>ws://host:8765/</c> offering permessage-deflate, and AUTHs as <paramref name="user"/>.</summary>
    public static async Task<BenchP2Client> ConnectAsync(string host, string user, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        socket.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        socket.Options.CollectHttpResponseDetails = true;
        await socket.ConnectAsync(new Uri($"ws://{host}:8765/"), ct);
        var client = new BenchP2Client(socket)
        {
            Deflate = socket.HttpResponseHeaders?.Any(h => h.Key.Equals("Sec-WebSocket-Extensions", StringComparison.OrdinalIgnoreCase)
                && h.Value.Any(v => v.Contains("permessage-deflate", StringComparison.OrdinalIgnoreCase))) ?? false,
        };
        await client.ExpectAsync(new P2Request.Auth(user), "SUCCESS", ct);
        return client;
    }

    /// <summary>UPLOAD [filename, "size"], the bytes, the SUCCESS reply.</summary>
    public async Task UploadAsync(string filename, byte[] bytes, CancellationToken ct)
    {
        await ExpectAsync(new P2Request.Upload(filename, bytes.Length), "READY", ct);
        await _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, ct);
        await ReplyAsync("SUCCESS", ct);
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
    public ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        return ValueTask.CompletedTask;
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
    public static async Task<Result> RunAsync(int nodes, int clients, double seconds, byte[] padded, int pngLength, string label)
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
                    byte[] image = BenchImages.PngWithTrailer(padded, pngLength, name);
                    string md5 = BenchImages.Md5(image);
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    try
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        await client.UploadAsync(name, image, timeout.Token);
                        up.Since(t0);
                        Interlocked.Increment(ref uploads);
                        Interlocked.Add(ref upBytes, image.Length);
                        long t1 = Stopwatch.GetTimestamp();
                        var (size, got) = await client.DownloadAsync(name, timeout.Token);
                        if (got != md5) throw new InvalidDataException($"DOWNLOAD {name}: md5 {got}, uploaded {md5}");
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
