using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using ActorImages.Protocols;

namespace ActorImages.Cli;

/// <summary>
/// A P2 client (docs/protocols.md, P2) over <see cref="ClientWebSocket"/>: JSON commands as text frames, a file
/// as one binary message in both directions, every object with an <c>"event"</c> key skipped (events arrive at
/// any time between replies). Unlike the legacy client it accepts messages of any size, so it also downloads
/// files over 1 MiB; a download streams to disk. One request at a time; not thread-safe.
/// </summary>
internal sealed class P2Client : IAsyncDisposable
{
    private const int Chunk = 256 * 1024;

    private readonly ClientWebSocket _socket;
    private readonly Endpoint _node;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _cancel;
    private readonly byte[] _buffer = new byte[Chunk];

    private P2Client(ClientWebSocket socket, Endpoint node, TimeSpan timeout, CancellationToken cancel)
    {
        _socket = socket;
        _node = node;
        _timeout = timeout;
        _cancel = cancel;
    }

    /// <summary>Connects to <c>ws://node/</c> and sends <c>AUTH user</c>.</summary>
    /// <exception cref="CliFailure"><see cref="Exit.Connection"/> if the node cannot be reached,
    /// <see cref="Exit.NodeError"/> if AUTH fails.</exception>
    public static async Task<P2Client> ConnectAsync(Endpoint node, string user, TimeSpan timeout, CancellationToken cancel)
    {
        var socket = new ClientWebSocket();
        try
        {
            var limit = timeout < Net.ConnectTimeout ? timeout : Net.ConnectTimeout;
            await Net.WithTimeout(limit, cancel, t => socket.ConnectAsync(new Uri($"ws://{node}/"), t));
        }
        catch (Exception e) when (!cancel.IsCancellationRequested)
        {
            socket.Dispose();
            throw node.Failure(e);
        }
        var client = new P2Client(socket, node, timeout, cancel);
        try
        {
            await client.ExpectAsync("SUCCESS", new P2Request.Auth(user), "AUTH " + user);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary><c>LIST</c>: every file with its uploader, in upload order.</summary>
    public async Task<IReadOnlyList<P2ListedFile>> ListAsync() => (await ExpectAsync("SUCCESS", new P2Request.List(), "LIST")).Files;

    /// <summary>
    /// <c>UPLOAD [filename, "size"]</c> (the size as a string of digits, as the legacy client sends it), then the
    /// file as one binary message in fragments of 256 KiB.
    /// </summary>
    /// <param name="file">The file to send.</param>
    /// <param name="filename">The catalog label.</param>
    /// <param name="sent">Called with the bytes written so far.</param>
    /// <returns>The node's SUCCESS message, e.g. <c>Upload de a.jpg concluído. ID: …</c>.</returns>
    public async Task<string> UploadAsync(string file, string filename, Action<long> sent)
    {
        long size = ImageFiles.Size(file);
        string what = "UPLOAD " + filename;
        await ExpectAsync("READY", new P2Request.Upload(filename, size), what);
        try
        {
            await using var input = File.OpenRead(file);
            long written = 0;
            do
            {
                int n = await input.ReadAsync(_buffer.AsMemory(0, (int)Math.Min(Chunk, size - written)), _cancel);
                if (n == 0 && written < size) throw CliFailure.LocalFile("file shrank while being sent: " + file);
                written += n;
                await Guard(t => _socket.SendAsync(_buffer.AsMemory(0, n), WebSocketMessageType.Binary, written == size, t).AsTask());
                sent(written);
            }
            while (written < size);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliFailure.LocalFile($"cannot read: {file} ({e.Message})", e);
        }
        return (await ExpectReplyAsync("SUCCESS", what)).Message ?? "";
    }

    /// <summary>
    /// <c>DOWNLOAD</c>/<c>VIEW [filename]</c>: <c>SIZE_INFO</c>, the bytes into <paramref name="sink"/>, then
    /// <c>SUCCESS</c>.
    /// </summary>
    /// <param name="view">True for VIEW, false for DOWNLOAD.</param>
    /// <param name="filename">The catalog label.</param>
    /// <param name="sink">Receives the bytes as they arrive.</param>
    /// <param name="started">Called with the announced size once SIZE_INFO arrived.</param>
    /// <param name="received">Called with the bytes received so far.</param>
    /// <returns>The name the node gave (<c>SIZE_INFO.filename</c>) and the byte count.</returns>
    /// <exception cref="CliFailure"><see cref="Exit.NodeError"/> with the node's message,
    /// <see cref="Exit.Integrity"/> if the bytes are not the announced size.</exception>
    public async Task<(string Filename, long Size)> FetchAsync(bool view, string filename, Stream sink,
        Action<long> started, Action<long> received)
    {
        string what = (view ? "VIEW " : "DOWNLOAD ") + filename;
        var info = await ExpectAsync("SIZE_INFO", view ? new P2Request.View(filename) : new P2Request.Download(filename), what);
        long announced = info.Size ?? -1;
        started(announced);
        long size = 0;
        for (bool end = false; !end;)
        {
            var frame = await Guard(t => _socket.ReceiveAsync(_buffer.AsMemory(), t).AsTask());
            if (frame.MessageType != WebSocketMessageType.Binary)
            {
                throw frame.MessageType == WebSocketMessageType.Close ? Lost()
                    : CliFailure.Node($"{_node} {what}: expected the file's bytes, got a text message");
            }
            try
            {
                await sink.WriteAsync(_buffer.AsMemory(0, frame.Count), _cancel);
            }
            catch (IOException e)
            {
                throw CliFailure.LocalFile($"cannot write {filename} ({e.Message})", e);
            }
            size += frame.Count;
            received(size);
            end = frame.EndOfMessage;
        }
        if (size != announced) throw CliFailure.Integrity($"{_node} {what}: announced {announced} bytes, sent {size}");
        await ExpectReplyAsync("SUCCESS", what);
        return (info.Filename ?? filename, size);
    }

    private async Task<P2ServerMessage.Reply> ExpectAsync(string status, P2Request request, string what)
    {
        byte[] text = Encoding.UTF8.GetBytes(request.ToJson());
        await Guard(t => _socket.SendAsync(text.AsMemory(), WebSocketMessageType.Text, true, t).AsTask());
        return await ExpectReplyAsync(status, what);
    }

    private async Task<P2ServerMessage.Reply> ExpectReplyAsync(string status, string what)
    {
        var reply = await NextReplyAsync();
        return reply.Status == status ? reply : throw CliFailure.Node($"{_node} {what}: {reply.Message ?? reply.Status}");
    }

    /// <summary>The next text message that is a reply; events are skipped.</summary>
    private async Task<P2ServerMessage.Reply> NextReplyAsync()
    {
        while (true)
        {
            var text = new ArrayBufferWriter<byte>();
            ValueWebSocketReceiveResult frame;
            do
            {
                frame = await Guard(t => _socket.ReceiveAsync(_buffer.AsMemory(), t).AsTask());
                if (frame.MessageType == WebSocketMessageType.Close) throw Lost();
                text.Write(_buffer.AsSpan(0, frame.Count));
            }
            while (!frame.EndOfMessage);
            if (frame.MessageType == WebSocketMessageType.Binary)
            {
                throw CliFailure.Node($"{_node}: expected a JSON reply, got a binary message of {text.WrittenCount} bytes");
            }
            switch (P2ServerMessage.Parse(Encoding.UTF8.GetString(text.WrittenSpan)))
            {
                case P2ServerMessage.Reply reply: return reply;
                case P2ServerMessage.Unreadable bad: throw CliFailure.Node($"{_node}: reply is not JSON: {bad.Text}");
                default: continue; // an event (docs/protocols.md, P2)
            }
        }
    }

    private CliFailure Lost() =>
        CliFailure.Connection($"connection lost: {_node} (closed by the node{(_socket.CloseStatus is { } code ? ", code " + (int)code : "")})");

    private async Task<T> Guard<T>(Func<CancellationToken, Task<T>> operation)
    {
        try
        {
            return await Net.WithTimeout(_timeout, _cancel, operation);
        }
        catch (Exception e) when (e is WebSocketException or IOException or TimeoutException && !_cancel.IsCancellationRequested)
        {
            throw _node.Failure(e);
        }
    }

    private Task Guard(Func<CancellationToken, Task> operation) => Guard(async t =>
    {
        await operation(t);
        return true;
    });

    /// <summary>Says goodbye (<c>DISCONNECT</c>, as the legacy client) without waiting long for it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                byte[] bye = Encoding.UTF8.GetBytes(new P2Request.Disconnect().ToJson());
                await _socket.SendAsync(bye, WebSocketMessageType.Text, true, limit.Token);
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", limit.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // the connection is going away either way
        }
        finally
        {
            _socket.Dispose();
        }
    }
}
