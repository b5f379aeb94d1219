using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using ActorImages.Node.Config;
using ActorImages.Node.Transfer;
using ActorImages.Protocols;

namespace ActorImages.Node.Gateways;

/// <summary>
/// P4 (docs/protocols.md, P4): <c>GET &lt;md5&gt;</c> from legacy peers. Reads the request (no terminator, possibly
/// split over segments) until it is whole or <c>p4.request-timeout</c> passes, asks <see cref="ImageReader"/> for the
/// bytes — local or from a holder — and streams them, then closes. An unknown md5 or a bad request closes without data;
/// a copy found corrupt while it streams (see <see cref="ImageReader"/>) resets the connection before its last chunk.
/// </summary>
public sealed class PeerGetGateway : TcpListenerService
{
    /// <summary>Bytes read and sent at a time.</summary>
    private const int ChunkBytes = 64 * 1024;

    private readonly NodeSettings _settings;
    private readonly ImageReader _reader;
    private readonly ILogger<PeerGetGateway> _log;

    /// <summary>Creates the gateway.</summary>
    /// <param name="settings">Node settings.</param>
    /// <param name="reader">The read entry point.</param>
    /// <param name="log">Logger.</param>
    public PeerGetGateway(NodeSettings settings, ImageReader reader, ILogger<PeerGetGateway> log) : base(log, "p4")
    {
        _settings = settings;
        _reader = reader;
        _log = log;
    }

    /// <inheritdoc />
    protected override IPEndPoint Endpoint => new(IPAddress.Parse(_settings.Host), _settings.P4Port);

    /// <inheritdoc />
    protected override int MaxConnections => _settings.P4MaxConnections;

    /// <inheritdoc />
    protected override async Task HandleAsync(Socket socket, CancellationToken ct)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var pipe = PipeReader.Create(stream);
        P4Request request;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(_settings.P4RequestTimeout);
            request = await ReadRequestAsync(pipe, timeout.Token);
        }
        if (request is not P4Request.Get get)
        {
            _log.LogInformation("P4 {Peer}: no valid GET within {Timeout}; closing", AcceptLoop.Peer(socket), _settings.P4RequestTimeout);
            return;
        }
        OpenedImage? image;
        try
        {
            image = await _reader.OpenByMd5Async(get.Md5, ct);
        }
        catch (ImageUnavailableException e)
        {
            _log.LogWarning("P4 {Peer}: GET {Md5}: {Error}; closing without data", AcceptLoop.Peer(socket), get.Md5, e.Message);
            return;
        }
        await using var opened = image;
        if (image is null)
        {
            _log.LogInformation("P4 {Peer}: GET {Md5}: unknown; closing without data", AcceptLoop.Peer(socket), get.Md5);
            return;
        }
        // Slow readers are bounded by the deadline: the whole image at the least rate, plus the base timeout.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_settings.ReplicationDeadline(image.Entry.Size));
        var buffer = new byte[ChunkBytes];
        long sent = 0;
        try
        {
            while (true)
            {
                int n;
                try
                {
                    n = await image.Content.ReadAsync(buffer, deadline.Token);
                }
                catch (IOException e)
                {
                    // P4 has no length and no error reply: the only way to say "these bytes are not the image" is to
                    // end the connection with a reset before the last chunk (held back until the SHA-256 matched), so
                    // the client never receives the whole image and sees the transfer fail.
                    _log.LogWarning("P4 {Peer}: GET {Md5}: reading the image failed after {Sent} of {Size} bytes ({Error}); resetting the connection",
                        AcceptLoop.Peer(socket), get.Md5, sent, image.Entry.Size, e.Message);
                    socket.LingerState = new LingerOption(true, 0);
                    return;
                }
                if (n == 0) break;
                await stream.WriteAsync(buffer.AsMemory(0, n), deadline.Token);
                sent += n;
            }
        }
        catch (OperationCanceledException)
        {
            // The deadline passed (a reader slower than the least rate) or the node is stopping: a reset, never an
            // orderly close, since a legacy peer reads to the end of the connection and would keep a cut file as whole
            // (docs/protocols.md, P4).
            _log.LogWarning("P4 {Peer}: GET {Md5}: not sent within {Deadline} ({Sent} of {Size} bytes); resetting the connection",
                AcceptLoop.Peer(socket), get.Md5, _settings.ReplicationDeadline(image.Entry.Size), sent, image.Entry.Size);
            socket.LingerState = new LingerOption(true, 0);
            return;
        }
        socket.Shutdown(SocketShutdown.Both);
    }

    private static async Task<P4Request> ReadRequestAsync(PipeReader pipe, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var read = await pipe.ReadAsync(ct);
                var request = P4Request.Parse(read.Buffer);
                pipe.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                if (request is not P4Request.NeedMore || read.IsCompleted) return request;
            }
        }
        catch (OperationCanceledException)
        {
            return new P4Request.Invalid();
        }
    }
}
