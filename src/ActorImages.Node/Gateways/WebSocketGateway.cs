using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Catalog;
using ActorImages.Node.Config;
using ActorImages.Node.Ingest;
using ActorImages.Node.Transfer;
using ActorImages.Protocols;

namespace ActorImages.Node.Gateways;

/// <summary>
/// P2 (docs/protocols.md, P2): one seed-001 WebSocket connection. Frames are taken one at a time, as the legacy client
/// works: a text frame is parsed with <see cref="P2Request"/> and answered with <see cref="P2Reply"/>; the binary frame
/// after <c>UPLOAD</c> streams into <see cref="Ingestion"/>; <c>DOWNLOAD</c>/<c>VIEW</c> open the image through
/// <see cref="ImageReader"/> before <c>SIZE_INFO</c> goes out (a copy found corrupt while it streams ends the
/// binary message short and answers <c>ERROR</c> instead of <c>SUCCESS</c>). Every image stored anywhere in the cluster reaches the
/// client as a <c>NEW_UPLOAD</c> event. Image bytes are sent uncompressed even under permessage-deflate: JPEG and PNG
/// do not shrink, and compressing them costs CPU for nothing.
/// </summary>
public sealed class WebSocketGateway
{
    private readonly NodeSettings _settings;
    private readonly Ingestion _ingestion;
    private readonly ImageReader _reader;
    private readonly CatalogStore _catalog;
    private readonly UploadList _uploads;
    private readonly ImageFeed _feed;
    private readonly NodeMetrics _metrics;
    private readonly ILogger<WebSocketGateway> _log;

    /// <summary>Creates the gateway.</summary>
    /// <param name="settings">Node settings.</param>
    /// <param name="ingestion">The upload entry point.</param>
    /// <param name="reader">The read entry point.</param>
    /// <param name="catalog">The catalog, for the AUTH history.</param>
    /// <param name="uploads">The LIST reply, kept in memory.</param>
    /// <param name="feed">Committed entries, for NEW_UPLOAD events.</param>
    /// <param name="metrics">Upload counters.</param>
    /// <param name="log">Logger.</param>
    public WebSocketGateway(NodeSettings settings, Ingestion ingestion, ImageReader reader, CatalogStore catalog,
        UploadList uploads, ImageFeed feed, NodeMetrics metrics, ILogger<WebSocketGateway> log)
    {
        _settings = settings;
        _ingestion = ingestion;
        _reader = reader;
        _catalog = catalog;
        _uploads = uploads;
        _feed = feed;
        _metrics = metrics;
        _log = log;
    }

    /// <summary>Serves one WebSocket request until the client goes or says <c>DISCONNECT</c>.</summary>
    /// <param name="context">The HTTP context of the upgrade request.</param>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            DangerousEnableCompression = true, // the seed-001 client offers permessage-deflate
        });
        var connection = new Connection(this, socket, context.Connection.RemoteIpAddress?.ToString() ?? "?");
        await connection.RunAsync(context.RequestAborted);
    }

    /// <summary>The longest the node waits for a client's close frame after sending its own: 5 s.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Text messages longer than this (bytes) are sent uncompressed (see SendUnlockedAsync).</summary>
    private const int UncompressedTextBytes = 64 * 1024;

    private sealed class Connection(WebSocketGateway gateway, WebSocket socket, string peer)
    {
        private readonly SemaphoreSlim _sendLock = new(1, 1);
        private string _username = "anon";
        private P2Request.Upload? _announced;

        public async Task RunAsync(CancellationToken ct)
        {
            using var subscription = gateway._feed.Subscribe();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var events = ForwardEventsAsync(subscription, stop.Token);
            try
            {
                while (socket.State == WebSocketState.Open && await HandleNextAsync(stop.Token)) { }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                gateway._log.LogDebug("P2 {Peer}: connection ended: {Error}", peer, e.Message);
            }
            finally
            {
                stop.Cancel();
                await events;
            }
        }

        /// <returns>False when the connection is to be closed.</returns>
        private async Task<bool> HandleNextAsync(CancellationToken ct)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            idle.CancelAfter(gateway._settings.P2IdleTimeout);
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                var first = await socket.ReceiveAsync(buffer.AsMemory(), idle.Token);
                if (first.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return false;
                }
                if (first.MessageType == WebSocketMessageType.Binary)
                    return await HandleBinaryAsync(buffer.AsMemory(0, first.Count), first.EndOfMessage, ct);
                var text = await ReadTextAsync(buffer, first, ct);
                if (text is null) return false;
                try
                {
                    return await HandleRequestAsync(P2Request.Parse(text), ct);
                }
                catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
                {
                    // The catalog is away: the client gets an error reply and keeps its connection.
                    gateway._log.LogWarning("P2 {Peer}: catalog unavailable: {Error}", peer, e.Message);
                    await SendTextAsync(P2Reply.Error(P2Reply.FileUnavailable), ct);
                    return true;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private async Task<string?> ReadTextAsync(byte[] buffer, ValueWebSocketReceiveResult first, CancellationToken ct)
        {
            var text = new MemoryStream();
            text.Write(buffer, 0, first.Count);
            var end = first.EndOfMessage;
            // A command is whole within idle-timeout of its first bytes: a frame cut off (or trickled) mid-way cannot
            // hold the connection (README "Limits and security").
            using var whole = CancellationTokenSource.CreateLinkedTokenSource(ct);
            whole.CancelAfter(gateway._settings.P2IdleTimeout);
            while (!end)
            {
                var next = await socket.ReceiveAsync(buffer.AsMemory(), whole.Token);
                text.Write(buffer, 0, next.Count);
                end = next.EndOfMessage;
                if (text.Length > gateway._settings.P2MaxTextFrame)
                {
                    // A command is small; a huge text frame is abuse, not a request (README "Limits and security").
                    gateway._log.LogWarning("P2 {Peer}: text frame over {Max} bytes; closing with 1009", peer, gateway._settings.P2MaxTextFrame);
                    await CloseAsync(WebSocketCloseStatus.MessageTooBig, "command frame too large");
                    return null;
                }
            }
            try
            {
                return new UTF8Encoding(false, true).GetString(text.GetBuffer(), 0, (int)text.Length);
            }
            catch (DecoderFallbackException)
            {
                return "\u0000"; // not JSON: answered as such
            }
        }

        private async Task<bool> HandleRequestAsync(P2Request request, CancellationToken ct)
        {
            switch (request)
            {
                case P2Request.Auth auth:
                    _username = auth.User;
                    await SendTextAsync(P2Reply.Authenticated(_username), ct);
                    IReadOnlyList<CatalogEntry> latest;
                    try
                    {
                        latest = await gateway._catalog.NewestAsync(gateway._settings.P2HistorySize, null, ct);
                    }
                    catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
                    {
                        // AUTH has had its one reply: a second (an ERROR) would answer the client's next command and
                        // put every later reply one behind (docs/protocols.md, P2). HISTORY, an event, is skipped.
                        gateway._log.LogWarning("P2 {Peer}: no HISTORY after AUTH, the catalog is unavailable: {Error}", peer, e.Message);
                        return true;
                    }
                    if (latest.Count > 0)
                        await SendTextAsync(P2Reply.History(latest.Reverse().Select(e => P2Reply.NewUploadMessage(e.Filename, e.Uploader))), ct);
                    return true;
                case P2Request.List:
                {
                    // The newest entries that fit the seed-001 client's 1 MiB message limit, in upload order, from memory.
                    long started = Stopwatch.GetTimestamp();
                    await SendTextAsync(await gateway._uploads.ReplyAsync(ct), ct);
                    gateway._metrics.Read("P2 LIST", started);
                    return true;
                }
                case P2Request.Upload upload:
                    _announced = upload;
                    await SendTextAsync(P2Reply.Ready(), ct);
                    return true;
                case P2Request.Download or P2Request.View:
                {
                    long started = Stopwatch.GetTimestamp();
                    var (name, mode) = request is P2Request.Download d ? (d.Filename, P2TransferMode.Download)
                        : (((P2Request.View)request).Filename, P2TransferMode.View);
                    await SendImageAsync(name, mode, ct);
                    gateway._metrics.Read(mode == P2TransferMode.Download ? "P2 DOWNLOAD" : "P2 VIEW", started);
                    return true;
                }
                case P2Request.Disconnect:
                    await SendTextAsync(P2Reply.Bye(_username), ct);
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, null);
                    return false;
                case P2Request.Invalid invalid:
                    await SendTextAsync(P2Reply.Error(invalid.ErrorMessage), ct);
                    return true;
                default:
                    await SendTextAsync(P2Reply.Error(P2Reply.UnknownCommand), ct);
                    return true;
            }
        }

        private async Task SendImageAsync(string filename, P2TransferMode mode, CancellationToken ct)
        {
            OpenedImage? image;
            try
            {
                image = await gateway._reader.OpenByNameAsync(filename, ct);
            }
            catch (ImageUnavailableException e)
            {
                gateway._log.LogWarning("P2 {Peer}: {Name} not available: {Error}", peer, filename, e.Message);
                await SendTextAsync(P2Reply.Error(P2Reply.FileUnavailable), ct);
                return;
            }
            if (image is null)
            {
                await SendTextAsync(P2Reply.Error(P2Reply.FileNotFound), ct);
                return;
            }
            await using (image)
            {
                await _sendLock.WaitAsync(ct);
                try
                {
                    await SendUnlockedAsync(P2Reply.SizeInfo(image.Entry.Size, filename, mode), ct);
                    var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
                    IOException? failure = null;
                    long sent = 0;
                    try
                    {
                        while (sent < image.Entry.Size)
                        {
                            int n;
                            try
                            {
                                n = await image.Content.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, image.Entry.Size - sent)), ct);
                                if (n == 0) throw new IOException($"the copy ended after {sent} bytes");
                            }
                            catch (IOException e)
                            {
                                failure = e;
                                break;
                            }
                            sent += n;
                            // Never deflated, whatever was negotiated (docs/protocols.md, P2, "Compression").
                            await socket.SendAsync(chunk.AsMemory(0, n), WebSocketMessageType.Binary,
                                (sent == image.Entry.Size ? WebSocketMessageFlags.EndOfMessage : WebSocketMessageFlags.None)
                                | WebSocketMessageFlags.DisableCompression, ct);
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(chunk);
                    }
                    if (failure is not null)
                    {
                        // Only an image over 1 MiB streams unchecked (ImageReader), so only a client that takes such
                        // messages (not the legacy one) gets here: the binary message ends short of SIZE_INFO's size
                        // (its last chunk, held back until the SHA-256 matched, is never sent) and the reply is ERROR,
                        // never SUCCESS.
                        gateway._log.LogWarning("P2 {Peer}: sending {Name} failed after {Sent} of {Size} bytes: {Error}",
                            peer, filename, sent, image.Entry.Size, failure.Message);
                        await socket.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Binary,
                            WebSocketMessageFlags.EndOfMessage | WebSocketMessageFlags.DisableCompression, ct);
                        await SendUnlockedAsync(P2Reply.Error(P2Reply.FileUnavailable), ct);
                        return;
                    }
                    await SendUnlockedAsync(P2Reply.Transferred(filename), ct);
                }
                finally
                {
                    _sendLock.Release();
                }
            }
        }

        private async Task<bool> HandleBinaryAsync(ReadOnlyMemory<byte> first, bool end, CancellationToken ct)
        {
            var upload = _announced;
            _announced = null;
            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19));
            var pump = PumpAsync(first, end, pipe.Writer, ct);
            if (upload is null)
            {
                // docs/protocols.md, P2: a binary frame outside an upload is ignored (and logged).
                gateway._log.LogInformation("P2 {Peer}: binary frame outside an upload ignored", peer);
                await pipe.Reader.CompleteAsync();
                await pump;
                return true;
            }
            var started = DateTime.UtcNow;
            var result = await gateway._ingestion.IngestAsync(pipe.Reader, upload.Size, toEnd: true,
                new UploadInfo(upload.Filename, _username, SourceProtocol.P2WebSocket), ct);
            await pipe.Reader.CompleteAsync();
            await pump;
            if (result.Entry is { } entry)
            {
                gateway._metrics.Stored("p2", DateTime.UtcNow - started);
                await SendTextAsync(P2Reply.Uploaded(upload.Filename, entry.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), ct);
            }
            else
            {
                gateway._metrics.Upload("p2", result.Failure.ToString()!.ToLowerInvariant());
                gateway._log.LogWarning("P2 {Peer}: upload of {Name} refused: {Reason}", peer, upload.Filename, result.Reason);
                await SendTextAsync(P2Reply.UploadFailed(result.Reason), ct);
            }
            return true;
        }

        /// <summary>Copies the rest of one binary message into the pipe; once the reader has completed (refused
        /// early), the rest of the message is still received and dropped so the next frame is in step. The message
        /// must keep <c>p2.min-rate</c> after a grace of <c>p2.idle-timeout</c> (<see cref="RateFloor"/>): an upload
        /// trickled one byte at a time is cut off, not held for the hours its announced size would allow.</summary>
        private async Task PumpAsync(ReadOnlyMemory<byte> first, bool end, PipeWriter writer, CancellationToken ct)
        {
            var readerGone = false;
            var floor = new RateFloor(gateway._settings.P2IdleTimeout, gateway._settings.P2MinRate);
            floor.Add(first.Length);
            try
            {
                readerGone = (await writer.WriteAsync(first, ct)).IsCompleted;
                byte[]? scratch = null;
                while (!end)
                {
                    var wait = floor.Wait(gateway._settings.P2IdleTimeout);
                    if (wait <= TimeSpan.Zero) throw new OperationCanceledException("P2 binary frame slower than min-rate");
                    using var slow = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    slow.CancelAfter(wait);
                    if (readerGone)
                    {
                        scratch ??= new byte[64 * 1024];
                        var dropped = await socket.ReceiveAsync(scratch.AsMemory(), slow.Token);
                        floor.Add(dropped.Count);
                        end = dropped.EndOfMessage;
                        continue;
                    }
                    var next = await socket.ReceiveAsync(writer.GetMemory(64 * 1024), slow.Token);
                    floor.Add(next.Count);
                    end = next.EndOfMessage;
                    writer.Advance(next.Count);
                    readerGone = (await writer.FlushAsync(ct)).IsCompleted;
                }
                await writer.CompleteAsync();
            }
            catch (Exception e)
            {
                await writer.CompleteAsync(e);
            }
        }

        private async Task ForwardEventsAsync(ImageFeed.Subscription subscription, CancellationToken ct)
        {
            try
            {
                await foreach (var entry in subscription.Reader.ReadAllAsync(ct))
                    await SendTextAsync(P2Reply.NewUpload(entry.Filename, entry.Uploader), ct);
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
            {
                // the connection is going
            }
        }

        /// <summary>Sends the node's close frame and waits for the client's (RFC 6455 §5.5.1), at most
        /// <see cref="CloseTimeout"/>: a client that never answers is then cut off (an <see cref="OperationCanceledException"/>
        /// that ends the connection), so that it cannot hold a connection slot for ever.</summary>
        private async Task CloseAsync(WebSocketCloseStatus status, string? reason)
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            await socket.CloseAsync(status, reason, timeout.Token);
        }

        private Task SendTextAsync(string json, CancellationToken ct) => SendTextAsync(Encoding.UTF8.GetBytes(json), ct);

        private Task SendUnlockedAsync(string json, CancellationToken ct) => SendUnlockedAsync(Encoding.UTF8.GetBytes(json), ct);

        private async Task SendTextAsync(byte[] json, CancellationToken ct)
        {
            await _sendLock.WaitAsync(ct);
            try
            {
                await SendUnlockedAsync(json, ct);
            }
            finally
            {
                _sendLock.Release();
            }
        }

        /// <summary>
        /// Sends one text message. Under permessage-deflate a large reply (a LIST of up to 1 MiB) goes uncompressed:
        /// deflating 1 MiB of JSON cost ~60 ms of CPU per LIST at a million entries (docs/benchmarks.md), far more
        /// than sending it on any LAN; frames may be sent uncompressed whatever was negotiated (RFC 7692, 6.1).
        /// </summary>
        private Task SendUnlockedAsync(byte[] json, CancellationToken ct) =>
            socket.SendAsync(json, WebSocketMessageType.Text,
                json.Length > UncompressedTextBytes
                    ? WebSocketMessageFlags.EndOfMessage | WebSocketMessageFlags.DisableCompression
                    : WebSocketMessageFlags.EndOfMessage, ct).AsTask();
    }
}
