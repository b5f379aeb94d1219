using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using ActorImages.Messages;
using ActorImages.Node.Config;
using ActorImages.Node.Ingest;
using ActorImages.Protocols;

namespace ActorImages.Node.Gateways;

/// <summary>
/// P1 (docs/protocols.md, P1): length-prefixed image frames over TCP from camera clients. It only translates: each
/// frame's bytes go to <see cref="Ingestion"/>, and the socket is closed once the client has closed its side and every
/// frame has been handled — P1 has no reply, so that close is the acknowledgement. Bad input is logged with the peer
/// and nothing is stored; a bad length closes at once without allocating it.
/// </summary>
public sealed class TcpIngestGateway : TcpListenerService
{
    private readonly NodeSettings _settings;
    private readonly Ingestion _ingestion;
    private readonly ILogger<TcpIngestGateway> _log;
    private readonly NodeMetrics _metrics;

    /// <summary>Creates the gateway.</summary>
    /// <param name="settings">Node settings (port, limits, timeouts).</param>
    /// <param name="ingestion">The upload entry point.</param>
    /// <param name="metrics">Upload counters.</param>
    /// <param name="log">Logger.</param>
    public TcpIngestGateway(NodeSettings settings, Ingestion ingestion, NodeMetrics metrics, ILogger<TcpIngestGateway> log) : base(log, "p1")
    {
        _settings = settings;
        _ingestion = ingestion;
        _metrics = metrics;
        _log = log;
    }

    /// <inheritdoc />
    protected override IPEndPoint Endpoint => new(IPAddress.Parse(_settings.Host), _settings.P1Port);

    /// <inheritdoc />
    protected override int MaxConnections => _settings.P1MaxConnections;

    /// <inheritdoc />
    protected override async Task HandleAsync(Socket socket, CancellationToken ct)
    {
        var peer = (IPEndPoint)socket.RemoteEndPoint!;
        await using var network = new NetworkStream(socket, ownsSocket: false);
        // No progress for idle-timeout closes the connection inside a frame's bytes too, not only between frames.
        await using var stream = new IdleTimeoutStream(network, _settings.P1IdleTimeout, _settings.P1MinRate);
        // Zero-byte reads: an idle connection holds no buffer until bytes arrive (1,000 idle peers cost no 64 MB).
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, useZeroByteReads: true));
        while (true)
        {
            uint length;
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                idle.CancelAfter(_settings.P1IdleTimeout);
                stream.EndFrame();
                (uint Length, long Buffered)? header;
                try
                {
                    header = await ReadHeaderAsync(reader, idle.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    _log.LogInformation("P1 {Peer}: no frame header within {Idle}; closing", peer, _settings.P1IdleTimeout);
                    return;
                }
                catch (PartialHeaderException e)
                {
                    // docs/protocols.md, P1: EOF inside a header is bad input, logged naming the peer.
                    _log.LogWarning("P1 {Peer}: the connection ended inside a frame header ({Bytes} of 4 bytes); nothing stored", peer, e.Bytes);
                    return;
                }
                if (header is null) break; // clean end: the client closed between frames
                length = header.Value.Length;
                stream.StartFrame(Math.Min(length, header.Value.Buffered));
            }
            if (!P1Frame.IsAcceptableLength(length, _settings.MaxImageBytes, out var reason))
            {
                _log.LogWarning("P1 {Peer}: {Reason}; closing", peer, reason);
                _metrics.Upload("p1", "refused");
                return;
            }
            // A frame must arrive within the idle timeout plus its size at the least rate, and keep that rate all
            // along (the stream's rate floor): one byte every 29 s cannot hold a connection and a temp file for the
            // hours a 64 MiB length would allow (docs/protocols.md, P1; limits in the README).
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(_settings.P1IdleTimeout + TimeSpan.FromSeconds((double)length / _settings.P1MinRate));
            var started = DateTime.UtcNow;
            var frame = new CountingReader(reader);
            IngestResult result;
            try
            {
                result = await _ingestion.IngestAsync(frame, length, toEnd: false,
                    new UploadInfo(null, "tcp:" + peer.Address, SourceProtocol.P1Tcp), deadline.Token);
                // A frame refused from its first bytes (not an image) is left part-read: skip the rest of it, so that
                // the next frame is read from its header and not from this one's bytes.
                if (result.Failure == IngestFailure.Invalid && !await SkipAsync(reader, length - frame.Consumed, deadline.Token))
                {
                    _metrics.Upload("p1", "invalid");
                    _log.LogWarning("P1 {Peer}: nothing stored: {Reason}; the frame was cut short", peer, result.Reason);
                    return;
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                _log.LogWarning("P1 {Peer}: frame of {Length} bytes not received in time (no byte for {Idle} or too slow); closing",
                    peer, length, _settings.P1IdleTimeout);
                _metrics.Upload("p1", "timeout");
                return;
            }
            catch (OperationCanceledException)
            {
                // The node is stopping: a frame it did not store ends with a reset, as one the cluster cannot store
                // (below). The orderly close that would follow otherwise tells a camera that waits for it "stored".
                _log.LogWarning("P1 {Peer}: nothing stored: this node is stopping", peer);
                _metrics.Upload("p1", "unavailable");
                socket.LingerState = new LingerOption(true, 0);
                return;
            }
            catch (IOException e)
            {
                _log.LogWarning("P1 {Peer}: the connection broke inside a frame of {Length} bytes ({Error}); nothing stored",
                    peer, length, e.Message);
                _metrics.Upload("p1", "truncated");
                return;
            }
            if (result.Entry is { } entry)
            {
                _metrics.Stored("p1", DateTime.UtcNow - started);
                _log.LogInformation("P1 {Peer}: stored {Path} ({Size} bytes, md5 {Md5})", peer, entry.Path, entry.Size, entry.Md5);
                continue;
            }
            _metrics.Upload("p1", result.Failure.ToString()!.ToLowerInvariant());
            _log.LogWarning("P1 {Peer}: nothing stored: {Reason}", peer, result.Reason);
            // Truncated and unavailable end the connection; a frame that is no image was read (or skipped) whole, so
            // the next frame is still in step.
            if (result.Failure is IngestFailure.Unavailable or IngestFailure.NoSpace)
            {
                // A whole frame the cluster could not store ends with a reset, not the orderly close of a stored one:
                // P1 has no reply, but a client that waits for the close can tell the two apart (docs/protocols.md,
                // P1 "Bad input").
                socket.LingerState = new LingerOption(true, 0);
                return;
            }
            if (result.Failure != IngestFailure.Invalid) return;
        }
        await reader.CompleteAsync();
        socket.Shutdown(SocketShutdown.Both);
    }

    /// <summary>Reads and drops <paramref name="left"/> bytes.</summary>
    /// <returns>False when the connection ended first.</returns>
    private static async Task<bool> SkipAsync(PipeReader reader, long left, CancellationToken ct)
    {
        while (left > 0)
        {
            var read = await reader.ReadAsync(ct);
            var take = Math.Min(left, read.Buffer.Length);
            reader.AdvanceTo(read.Buffer.GetPosition(take));
            left -= take;
            if (left > 0 && read.IsCompleted) return false;
        }
        return true;
    }

    /// <summary>The connection's reader as one frame's upload sees it: counts the bytes the upload consumed, and
    /// leaves the connection's reader open when the upload completes its side.</summary>
    private sealed class CountingReader(PipeReader inner) : PipeReader
    {
        private ReadOnlySequence<byte> _last;

        public long Consumed { get; private set; }

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var result = await inner.ReadAsync(cancellationToken);
            _last = result.Buffer;
            return result;
        }

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result)) return false;
            _last = result.Buffer;
            return true;
        }

        public override void AdvanceTo(SequencePosition consumed)
        {
            Consumed += _last.Slice(_last.Start, consumed).Length;
            inner.AdvanceTo(consumed);
        }

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            Consumed += _last.Slice(_last.Start, consumed).Length;
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null)
        {
        }
    }

    /// <returns>The frame's length and how many bytes past the header are already read; null at a clean EOF.</returns>
    private static async Task<(uint Length, long Buffered)?> ReadHeaderAsync(PipeReader reader, CancellationToken ct)
    {
        while (true)
        {
            var read = await reader.ReadAsync(ct);
            var buffer = read.Buffer;
            if (P1Frame.TryReadHeader(ref buffer, out var length))
            {
                reader.AdvanceTo(buffer.Start);
                return (length, buffer.Length);
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted) return buffer.IsEmpty ? null : throw new PartialHeaderException(buffer.Length);
        }
    }

    /// <summary>EOF after 1 to 3 bytes of a frame header.</summary>
    private sealed class PartialHeaderException(long bytes) : Exception($"EOF after {bytes} header bytes")
    {
        public long Bytes => bytes;
    }
}
