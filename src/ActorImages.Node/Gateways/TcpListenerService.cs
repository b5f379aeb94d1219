using System.Net;
using System.Net.Sockets;
using ActorImages.Protocols;

namespace ActorImages.Node.Gateways;

/// <summary>
/// A bounded TCP listener: accepts on one address and port, runs <see cref="HandleAsync"/> per connection, and
/// closes at once any connection over <see cref="MaxConnections"/> (every listener is bounded in count; the handlers
/// bound size and time), through <see cref="AcceptLoop"/> (which also pauses after an accept that failed for want of
/// descriptors). Shared by the P1 and P4 gateways.
/// </summary>
public abstract class TcpListenerService : BackgroundService
{
    private readonly ILogger _log;
    private readonly AcceptLoop.Tally _tally = new();
    private readonly TaskCompletionSource _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates the listener.</summary>
    /// <param name="log">Logger of the concrete gateway.</param>
    /// <param name="listener">The listener's name on <c>/metrics</c> (its open and refused connections): p1 or p4.</param>
    protected TcpListenerService(ILogger log, string listener)
    {
        _log = log;
        NodeMetrics.Connections(listener, () => _tally.Open, () => _tally.Refused);
    }

    /// <summary>The address to bind.</summary>
    protected abstract IPEndPoint Endpoint { get; }

    /// <summary>Most concurrent connections.</summary>
    protected abstract int MaxConnections { get; }

    /// <summary>Completes once the socket is bound (for <c>/ready</c>).</summary>
    public Task Bound => _bound.Task;

    /// <summary>Serves one connection; the socket is closed by the caller afterwards.</summary>
    /// <param name="socket">The accepted socket.</param>
    /// <param name="ct">Cancelled when the node stops.</param>
    /// <returns>A task that completes when the connection is done.</returns>
    protected abstract Task HandleAsync(Socket socket, CancellationToken ct);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var listener = new Socket(Endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try
        {
            listener.Bind(Endpoint);
            listener.Listen(512);
        }
        catch (SocketException e)
        {
            _bound.TrySetException(e);
            _log.LogCritical("cannot listen on {Endpoint}: {Error}", Endpoint, e.Message);
            throw;
        }
        _bound.TrySetResult();
        _log.LogInformation("listening on {Endpoint}", Endpoint);
        await AcceptLoop.RunAsync(listener, MaxConnections, socket => ServeAsync(socket, stoppingToken), Report, stoppingToken, _tally);
    }

    private void Report(AcceptLoop.Event kind, string text)
    {
        switch (kind)
        {
            case AcceptLoop.Event.Refused:
                _log.LogWarning("refused {Peer}: {Max} connections open; refusing more until one closes", text, MaxConnections);
                break;
            case AcceptLoop.Event.Admitted:
                _log.LogWarning("accepting again after {Refused} refused connections", text);
                break;
            case AcceptLoop.Event.Failing:
                _log.LogWarning("accept failed: {Error}; accepting again every {Pause} ms until it succeeds", text,
                    AcceptLoop.Pause.TotalMilliseconds);
                break;
            case AcceptLoop.Event.Recovered:
                _log.LogWarning("accepting again after {Failed} failed accepts", text);
                break;
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken ct)
    {
        try
        {
            socket.NoDelay = true;
            await HandleAsync(socket, ct);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
            _log.LogDebug("connection from {Peer} ended: {Error}", AcceptLoop.Peer(socket), e.Message);
        }
        catch (Exception e)
        {
            _log.LogError(e, "connection from {Peer} failed", AcceptLoop.Peer(socket));
        }
    }
}
