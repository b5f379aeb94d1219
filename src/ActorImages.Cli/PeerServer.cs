using System.Buffers;
using System.Net;
using System.Net.Sockets;
using ActorImages.Protocols;

namespace ActorImages.Cli;

/// <summary>
/// The P4 side of <c>register</c> (docs/protocols.md, P4), as a legacy peer serves its folder: on each connection
/// read <c>GET &lt;md5&gt;</c> (no terminator, possibly in several segments, within
/// <see cref="RequestWait"/>), send the file's bytes and close; for an unknown md5 or junk close without data, as
/// cluster nodes do. At most <see cref="MaxConnections"/> at a time, each bounded in time: the request within
/// <see cref="RequestWait"/>, the file within <see cref="SendDeadline"/> (as a node's P4 bounds slow readers), so a
/// client that stops reading cannot hold a slot for long.
/// </summary>
internal sealed class PeerServer : IAsyncDisposable
{
    /// <summary>How long a client has to send its whole <c>GET &lt;md5&gt;</c>: 2 s, as a node's <c>p4.request-timeout</c>.</summary>
    public static readonly TimeSpan RequestWait = TimeSpan.FromSeconds(2);

    /// <summary>The least rate a client must take a file at, once <see cref="SendWait"/> has passed: 8 MiB/s, as a
    /// node's <c>replication-min-throughput</c>.</summary>
    public const long SendMinThroughput = 8L * 1024 * 1024;

    /// <summary>Most connections served at a time, 64 (the listen backlog's size); more are closed at once
    /// (<see cref="AcceptLoop"/>).</summary>
    public const int MaxConnections = 64;

    private readonly Socket _listener;
    private readonly IReadOnlyDictionary<string, string> _files;
    private readonly Action<string> _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private PeerServer(Socket listener, IReadOnlyDictionary<string, string> files, Action<string> log, TimeSpan sendWait)
    {
        _listener = listener;
        _files = files;
        _log = log;
        SendWait = sendWait;
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The time a client has to take a file, beyond a second per <see cref="SendMinThroughput"/> bytes
    /// (<see cref="SendDeadline"/>): 5 s by default, as a node's <c>replication-timeout</c>.</summary>
    public TimeSpan SendWait { get; }

    /// <summary>The time a client has to take a file of <paramref name="bytes"/> bytes: <see cref="SendWait"/> plus a
    /// second per <see cref="SendMinThroughput"/> bytes; then the connection is closed.</summary>
    /// <param name="bytes">The file's size in bytes.</param>
    /// <returns>The deadline.</returns>
    public TimeSpan SendDeadline(long bytes) => SendWait + TimeSpan.FromSeconds((double)bytes / SendMinThroughput);

    /// <summary>The port listened on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    /// <summary>Listens on <paramref name="address"/> (port 0: a free port) and serves until disposed.</summary>
    /// <param name="address">Where to listen.</param>
    /// <param name="files">Lowercase md5 to file path.</param>
    /// <param name="log">Receives one line per request served or refused.</param>
    /// <param name="sendWait"><see cref="SendWait"/>; default 5 s.</param>
    /// <exception cref="CliFailure"><see cref="Exit.Connection"/> if the address cannot be bound.</exception>
    public static PeerServer Start(IPEndPoint address, IReadOnlyDictionary<string, string> files, Action<string> log,
        TimeSpan? sendWait = null)
    {
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(address);
            listener.Listen(MaxConnections);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw CliFailure.Connection($"cannot listen on {address} ({e.Message})", e);
        }
        return new PeerServer(listener, files, log, sendWait ?? TimeSpan.FromSeconds(5));
    }

    private Task AcceptAsync() => AcceptLoop.RunAsync(_listener, MaxConnections, ServeAsync, (kind, text) => _log(kind switch
    {
        AcceptLoop.Event.Refused => $"peer port: refused {text}: {MaxConnections} connections open; refusing more until one closes",
        AcceptLoop.Event.Admitted => $"peer port: accepting again after {text} refused connections",
        AcceptLoop.Event.Failing => $"peer port: accept failed: {text}; accepting again every {AcceptLoop.Pause.TotalMilliseconds} ms",
        _ => $"peer port: accepting again after {text} failed accepts",
    }), _stop.Token);

    /// <summary>Serves one connection; <see cref="AcceptLoop"/> closes the socket afterwards.</summary>
    private async Task ServeAsync(Socket socket)
    {
        string client = AcceptLoop.Peer(socket);
        try
        {
            string? md5 = await ReadRequestAsync(socket);
            if (md5 is null || !_files.TryGetValue(md5, out string? file))
            {
                _log($"GET from {client}: {(md5 is null ? "not a GET <md5> request" : "unknown md5 " + md5)}");
                return;
            }
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            await using var input = File.OpenRead(file);
            var deadline = SendDeadline(input.Length);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            limit.CancelAfter(deadline);
            try
            {
                await input.CopyToAsync(stream, limit.Token);
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                _log($"GET from {client}: {Path.GetFileName(file)} ({input.Length} bytes) not taken within " +
                     $"{deadline.TotalSeconds:0.#} s; closing");
                return;
            }
            _log($"served {Path.GetFileName(file)} ({input.Length} bytes) to {client}");
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or UnauthorizedAccessException)
        {
            _log($"GET from {client} failed: {e.Message}");
        }
    }

    /// <summary>The lowercase md5 of a whole <c>GET &lt;md5&gt;</c>, or null for anything else or too slow.</summary>
    private async Task<string?> ReadRequestAsync(Socket socket)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        limit.CancelAfter(RequestWait);
        var received = new byte[P4Request.RequestBytes];
        int have = 0;
        try
        {
            while (true)
            {
                switch (P4Request.Parse(new ReadOnlySequence<byte>(received, 0, have)))
                {
                    case P4Request.Get get: return get.Md5;
                    case P4Request.Invalid: return null;
                }
                int n = await socket.ReceiveAsync(received.AsMemory(have), SocketFlags.None, limit.Token);
                if (n == 0) return null;
                have += n;
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Stops listening; connections in progress are cancelled.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        _stop.Dispose();
    }
}
