using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Config;
using ActorImages.Node.Tracker;
using ActorImages.Protocols;
using Akka.Actor;
using Akka.Hosting;
using static ActorImages.Node.Tracker.TrackerProtocol;

namespace ActorImages.Node.Gateways;

/// <summary>
/// P3 (docs/protocols.md, P3): the IDP2PI tracker over UDP. Each datagram is parsed once; a plain <c>LST</c> is
/// answered from this node's <see cref="LstView"/> without any actor round trip, <c>REG</c>/<c>UPD</c>/<c>END</c> go to
/// the tracker singleton through its proxy, and the committed change is applied to the local view before the reply
/// leaves (read-your-writes). A datagram that is itself a reply is never answered, and replies per source address are
/// rate-limited (token bucket), so the node cannot be made to amplify or loop traffic.
/// </summary>
public sealed class UdpTrackerGateway : BackgroundService
{
    private const int MaxInFlight = 1024;
    private readonly NodeSettings _settings;
    private readonly LstView _view;
    private readonly CatalogStore _catalog;
    private readonly IRequiredActor<TrackerActor> _tracker;
    private readonly NodeMetrics _metrics;
    private readonly ILogger<UdpTrackerGateway> _log;
    private readonly PartitionedRateLimiter<uint> _limiter;
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight);
    private readonly TaskCompletionSource _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates the gateway.</summary>
    /// <param name="settings">Node settings.</param>
    /// <param name="view">This node's LST view.</param>
    /// <param name="catalog">The catalog, for <c>LST &lt;offset&gt;</c> past the view's head.</param>
    /// <param name="tracker">The tracker singleton's proxy.</param>
    /// <param name="metrics">Request counters.</param>
    /// <param name="log">Logger.</param>
    public UdpTrackerGateway(NodeSettings settings, LstView view, CatalogStore catalog, IRequiredActor<TrackerActor> tracker,
        NodeMetrics metrics, ILogger<UdpTrackerGateway> log)
    {
        _settings = settings;
        _view = view;
        _catalog = catalog;
        _tracker = tracker;
        _metrics = metrics;
        _log = log;
        var rate = Math.Max(1, settings.P3RepliesPerSecond);
        _limiter = PartitionedRateLimiter.Create<uint, uint>(ip => RateLimitPartition.GetTokenBucketLimiter(ip,
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = rate, TokensPerPeriod = rate, ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0, AutoReplenishment = true,
            }));
    }

    /// <summary>Completes once the socket is bound (for <c>/ready</c>).</summary>
    public Task Bound => _bound.Task;

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Parse(_settings.Host), _settings.P3Port));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            _bound.TrySetException(e);
            _log.LogCritical("cannot bind UDP {Host}:{Port}: {Error}", _settings.Host, _settings.P3Port, e.Message);
            throw;
        }
        socket.ReceiveBufferSize = 4 * 1024 * 1024;
        _bound.TrySetResult();
        _log.LogInformation("P3 tracker listening on udp {Host}:{Port}", _settings.Host, _settings.P3Port);
        // One dedicated thread blocks in recvfrom and answers a plain LST in place, as a minimal responder would: no
        // thread-pool hop, no allocation per datagram (the source address is reused; the reply is the view's
        // rendered datagram). Only REG/UPD/END and LST <offset> go on to a task. Closing the socket ends the loop.
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var closing = stoppingToken.Register(socket.Dispose);
        var thread = new Thread(() =>
        {
            try
            {
                ReceiveLoop(socket, stoppingToken);
            }
            finally
            {
                closing.Dispose();
                socket.Dispose();
                stopped.TrySetResult();
            }
        })
        { IsBackground = true, Name = "p3-udp" };
        thread.Start();
        return stopped.Task;
    }

    private void ReceiveLoop(Socket socket, CancellationToken stoppingToken)
    {
        var buffer = new byte[65536];
        var source = new SocketAddress(AddressFamily.InterNetwork);
        while (!stoppingToken.IsCancellationRequested)
        {
            int length;
            try
            {
                length = socket.ReceiveFrom(buffer, SocketFlags.None, source);
            }
            catch (SocketException e) when (!stoppingToken.IsCancellationRequested)
            {
                _log.LogDebug("P3 receive: {Error}", e.Message);
                continue;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                break;
            }
            long received = Stopwatch.GetTimestamp();
            var datagram = buffer.AsSpan(0, length);
            if (P3Request.IsReply(datagram))
            {
                _metrics.Tracker("dropped");
                continue;
            }
            using var lease = _limiter.AttemptAcquire(Ipv4(source));
            if (!lease.IsAcquired)
            {
                _metrics.Tracker("dropped");
                continue;
            }
            // A plain LST as the legacy clients send it is recognised without parsing; any other spelling is parsed.
            var request = datagram.SequenceEqual("LST"u8) ? null : P3Request.Parse(datagram);
            if (request is null or P3Request.Lst { Offset: null })
            {
                _metrics.Tracker("LST");
                Send(socket, _view.First(), source);
                _metrics.Read("P3 LST", received);
                continue;
            }
            if (!_inFlight.Wait(0))
            {
                _metrics.Tracker("dropped");
                continue;
            }
            var from = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(source);
            _ = AnswerAsync(socket, request, from, received, stoppingToken);
        }
    }

    /// <summary>The IPv4 address of a <c>sockaddr_in</c>: bytes 4–7 on every platform.</summary>
    private static uint Ipv4(SocketAddress address) =>
        (uint)(address[4] << 24 | address[5] << 16 | address[6] << 8 | address[7]);

    private async Task AnswerAsync(Socket socket, P3Request request, IPEndPoint from, long received, CancellationToken ct)
    {
        try
        {
            var reply = await ReplyAsync(request, from.Address.ToString(), ct);
            Send(socket, reply, from.Serialize());
            switch (request)
            {
                case P3Request.Lst:
                    _metrics.Read("P3 LST offset", received);
                    break;
                case P3Request.Reg or P3Request.Upd or P3Request.End:
                    _metrics.TrackerWrite(request.GetType().Name.ToUpperInvariant(), received);
                    break;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _log.LogWarning("P3 {Peer}: {Request} failed: {Error}", from, request, e.Message);
            Send(socket, P3Reply.Unavailable(), from.Serialize());
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task<ReadOnlyMemory<byte>> ReplyAsync(P3Request request, string ip, CancellationToken ct)
    {
        switch (request)
        {
            case P3Request.Lst { Offset: { } offset }:
                _metrics.Tracker("LST");
                return await _view.PageAsync(offset, _catalog, ct);
            case P3Request.Reg r when r.Images.Count <= _settings.P3MaxItemsPerRegistration:
                _metrics.Tracker("REG");
                return await AskAsync(new Register(ip, r.Port, r.Password, Images(r.Images)), ct);
            case P3Request.Upd u when u.Images.Count <= _settings.P3MaxItemsPerRegistration:
                _metrics.Tracker("UPD");
                return await AskAsync(new Update(ip, u.Port, u.Password, Images(u.Images)), ct);
            case P3Request.End e:
                _metrics.Tracker("END");
                return await AskAsync(new End(ip, e.Port, e.Password), ct);
            default:
                _metrics.Tracker("invalid");
                return P3Reply.InvalidFormat();
        }
    }

    private async Task<byte[]> AskAsync(ICommand command, CancellationToken ct)
    {
        var tracker = await _tracker.GetAsync(ct);
        var reply = await tracker.Ask<Reply>(command, _settings.AskTimeout, ct);
        if (reply.Change is { } change) _view.Apply(change);
        return reply.Outcome switch
        {
            Outcome.Registered => P3Reply.Registered(reply.Count),
            Outcome.Updated => P3Reply.Updated(reply.Count),
            Outcome.Finished => P3Reply.Finished(),
            Outcome.WrongPassword => P3Reply.WrongPassword(),
            Outcome.TooManyIdentities => System.Text.Encoding.ASCII.GetBytes("ERR TOO_MANY_IDENTITIES"),
            _ => P3Reply.Unavailable(),
        };
    }

    private static IReadOnlyList<PeerImage> Images(IReadOnlyList<P3Image> images) =>
        images.Select(i => new PeerImage(i.Md5, i.Name)).ToList();

    private void Send(Socket socket, ReadOnlyMemory<byte> datagram, SocketAddress to)
    {
        try
        {
            socket.SendTo(datagram.Span, SocketFlags.None, to);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _log.LogDebug("P3 send to {Peer}: {Error}", to, e.Message);
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _limiter.Dispose();
        _inFlight.Dispose();
        base.Dispose();
    }
}
