using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using ActorImages.Protocols;
using ActorImages.Testing;

namespace ActorImages.Faults.Tests;

/// <summary>Where the abuse goes: the node attacked, every node of its cluster, and the loopback addresses the
/// abusive and the normal clients send from (a node knows a P3 source by its address).</summary>
/// <param name="Host">The node whose listeners are attacked and whose normal clients must be served.</param>
/// <param name="Hosts">Every node of the cluster: all must stay up, and each must list and serve every image
/// acknowledged during the abuse.</param>
/// <param name="SlowFrom">The address the slow TCP connections come from.</param>
/// <param name="FloodFrom">The address the P3 flood comes from.</param>
/// <param name="NormalFrom">The address a normal P3 client asks from while the flood runs.</param>
/// <param name="ClusterCertificate">The cluster certificate with its key, when the nodes have one: the replica channel
/// (port 25521) is then attacked too, and a member presenting it must still copy through it. Null when remoting is
/// plain TCP (<c>ACTORIMAGES_REMOTE_TLS=off</c>: no replica channel).</param>
public sealed record AbuseTarget(string Host, IReadOnlyList<string> Hosts, string SlowFrom, string FloodFrom, string NormalFrom,
    X509Certificate2? ClusterCertificate);

/// <summary>The limits the node documents (README "Limits and security"), as the abuse checks them: every slow
/// connection must be closed by the node within its listener's bound plus <see cref="Slack"/>, counted from when it
/// was opened, and the P3 replies to one source must stay within the token bucket.</summary>
/// <param name="P1">P1: <c>p1.idle-timeout</c> (a frame then has to keep <c>p1.min-rate</c>).</param>
/// <param name="P2">P2: the largest of Kestrel's keep-alive and request-headers timeouts (before and during the upgrade
/// request) and <c>p2.idle-timeout</c> (after it; a frame then has to keep <c>p2.min-rate</c>).</param>
/// <param name="P4">P4: <c>p4.request-timeout</c>.</param>
/// <param name="Http">HTTP: the larger of Kestrel's keep-alive and request-headers timeouts (a body then has to keep its
/// least rate after its grace).</param>
/// <param name="Replica">The replica channel: its TLS handshake timeout (<c>ReplicaChannel.HandshakeTimeout</c>), which
/// a caller without the cluster certificate never gets past.</param>
/// <param name="P3RepliesPerSecond"><c>p3.replies-per-second</c>, also the bucket's size.</param>
/// <param name="Slack">Added to every bound: a loaded 2-core machine closes 1,000 connections late.</param>
public sealed record AbuseLimits(TimeSpan P1, TimeSpan P2, TimeSpan P4, TimeSpan Http, TimeSpan Replica, int P3RepliesPerSecond,
    TimeSpan Slack)
{
    /// <summary>The node's defaults (<c>reference.conf</c>, <c>NodeHost.cs</c>, <c>ReplicaChannel.cs</c>): P1 30 s, P2
    /// 120 s (idle), P4 2 s, HTTP 30 s, the replica channel's handshake 10 s, 200 replies/s, with 30 s of slack.</summary>
    public static AbuseLimits Defaults { get; } = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(2),
        TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), 200, TimeSpan.FromSeconds(30));
}

/// <summary>What one listener's slow connections came to.</summary>
/// <param name="Listener">P1, P2, P4, HTTP or REPLICA.</param>
/// <param name="Opened">Slow connections opened and held at once.</param>
/// <param name="Closed">Closed by the node within its bound.</param>
/// <param name="Slowest">The longest a slow connection stayed open before the node closed it.</param>
/// <param name="Bound">The bound it was held to (limit plus slack).</param>
public sealed record ListenerFigures(string Listener, int Opened, int Closed, TimeSpan Slowest, TimeSpan Bound);

/// <summary>The outcome of <see cref="Abuse.RunAsync"/>.</summary>
public sealed class AbuseReport
{
    /// <summary>Abusive probes sent: slow connections opened plus flood datagrams.</summary>
    public int Probes { get; internal set; }

    /// <summary>Per TCP listener.</summary>
    public List<ListenerFigures> Listeners { get; } = [];

    /// <summary>Flood datagrams sent from one source.</summary>
    public int FloodSent { get; internal set; }

    /// <summary>Replies the flood's source got.</summary>
    public int FloodReplies { get; internal set; }

    /// <summary>Most replies the token bucket allows over the flood's duration.</summary>
    public int FloodReplyBound { get; internal set; }

    /// <summary>Normal client operations (each protocol's, during and after the abuse) that succeeded.</summary>
    public int Served { get; internal set; }

    /// <summary>Images acknowledged to the normal clients during and after the abuse.</summary>
    public int Acknowledged { get; internal set; }

    /// <summary>Acknowledged images that some node does not list or does not serve byte-identical.</summary>
    public int Lost { get; internal set; }

    /// <summary>What went wrong; empty when the node passed.</summary>
    public List<string> Failures { get; } = [];

    /// <summary>Whether every check passed.</summary>
    public bool Passed => Failures.Count == 0;

    /// <summary>The line <c>bin/faults</c> prints (issue 9, "Done means").</summary>
    public string Line => Passed
        ? string.Create(CultureInfo.InvariantCulture, $"abuse: {Probes} probes, node(s) up, legacy clients served, nothing lost")
        : string.Create(CultureInfo.InvariantCulture, $"abuse: {Probes} probes, FAILED: {string.Join("; ", Failures)}");

    /// <summary>Every figure, for a test's output.</summary>
    /// <returns>Several lines.</returns>
    public string Details() => string.Join('\n', Listeners.Select(l => string.Create(CultureInfo.InvariantCulture,
            $"{l.Listener}: {l.Opened} slow connections held, {l.Closed} closed by the node, slowest after {l.Slowest.TotalSeconds:0.0} s (bound {l.Bound.TotalSeconds:0} s)"))
        .Append(string.Create(CultureInfo.InvariantCulture, $"P3: {FloodSent} datagrams from one source, {FloodReplies} replies (bound {FloodReplyBound})"))
        .Append(string.Create(CultureInfo.InvariantCulture, $"normal clients: {Served} operations served, {Acknowledged} images acknowledged, {Lost} lost"))
        .Append(Line));
}

/// <summary>
/// Slow-loris abuse of every listener of one node over real sockets, shared by <c>AbuseTest</c> and <c>bin/faults</c>
/// (issue 9, "Idle and slow peers"). On each TCP listener (P1 5001, P2 8765, P4 13378, HTTP 8080, and the replica
/// channel 25521 when the nodes have a cluster certificate) it opens <c>perListener</c> connections at once that open
/// and stall, stall inside a request, header, frame or TLS ClientHello, or trickle one byte every two seconds; while
/// all of them are held, a normal client of each listener must be served (P1 send, P2 AUTH/LIST/UPLOAD, P4 GET, HTTP
/// list and upload, a member's copy PUT/GET/DELETE on the replica channel), and a normal P3 client must get answers
/// while one source floods the tracker with <c>LST</c> (its replies stay within the token bucket). Then every slow
/// connection must have been closed by the node within its listener's documented bound, the normal clients are served
/// again, every node is up, and every image acknowledged meanwhile is listed and byte-identical on every node.
/// Bounded in count (the connections, the datagrams) and in time (every wait has a deadline).
/// </summary>
public static class Abuse
{
    private const int FloodDatagrams = 3000;
    private static readonly TimeSpan TrickleEvery = TimeSpan.FromSeconds(2);
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Runs the abuse and the checks.</summary>
    /// <param name="target">The node and addresses.</param>
    /// <param name="limits">The bounds to hold the node to.</param>
    /// <param name="perListener">Slow connections per TCP listener (1,000 in the test and in <c>bin/faults</c>).</param>
    /// <param name="log">Progress lines.</param>
    /// <returns>The report; <see cref="AbuseReport.Passed"/> tells the verdict.</returns>
    public static async Task<AbuseReport> RunAsync(AbuseTarget target, AbuseLimits limits, int perListener, Action<string> log)
    {
        var report = new AbuseReport();
        var listeners = Kinds(target).Count();
        var needed = listeners * perListener + 1024;
        var fds = OpenFileLimit();
        if (fds < needed)
        {
            // .NET raises the soft limit to the hard one at start; a lower hard limit is the machine's (ulimit -Hn).
            report.Failures.Add($"the open-file limit is {fds}, {needed} needed: raise it (ulimit -n {needed})");
            return report;
        }
        var acknowledged = new ConcurrentDictionary<string, byte[]>();
        var run = Random.Shared.Next(1, 1_000_000);
        using var stop = new CancellationTokenSource();
        var slow = new List<SlowConnection>();
        try
        {
            var opened = Stopwatch.StartNew();
            foreach (var (listener, kinds) in Kinds(target))
            {
                var connections = await OpenAllAsync(target, listener, kinds, perListener, stop.Token);
                slow.AddRange(connections);
                if (connections.Count < perListener)
                    report.Failures.Add($"{listener}: only {connections.Count} of {perListener} slow connections opened");
            }
            report.Probes = slow.Count;
            log(string.Create(CultureInfo.InvariantCulture, $"abuse: {slow.Count} slow connections opened in {opened.Elapsed.TotalSeconds:0.0} s"));

            // While they are held: the normal clients of every listener, and P3 under a flood.
            var flood = FloodAsync(target, limits, report);
            await ServeNormalClientsAsync(target, run, "during", acknowledged, report, log);
            await flood;
            report.Probes += report.FloodSent;
            var stillOpen = slow.Count(s => s.ClosedAfter is null);
            log($"abuse: normal clients done while {stillOpen} slow connections were still open");

            // Every slow connection closed by the node within its bound.
            var bounds = Bounds(limits);
            var deadline = slow.Select(s => s.Opened + bounds[s.Listener]).DefaultIfEmpty(DateTime.UtcNow).Max();
            while (DateTime.UtcNow < deadline && slow.Any(s => s.ClosedAfter is null)) await Task.Delay(500);
            foreach (var group in slow.GroupBy(s => s.Listener))
            {
                var closed = group.Where(s => s.ClosedAfter is { } after && after <= bounds[group.Key]).ToList();
                report.Listeners.Add(new ListenerFigures(group.Key, group.Count(), closed.Count,
                    group.Max(s => s.ClosedAfter ?? DateTime.UtcNow - s.Opened), bounds[group.Key]));
                foreach (var held in group.Except(closed).GroupBy(s => s.Kind))
                    report.Failures.Add($"{group.Key}: {held.Count()} '{held.Key}' connections not closed by the node within {bounds[group.Key].TotalSeconds:0} s");
            }
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var s in slow) s.Dispose();
        }

        await ServeNormalClientsAsync(target, run, "after", acknowledged, report, log);
        foreach (var host in target.Hosts)
        {
            if (await Wire.GetAsync(host, "/ready") is null) report.Failures.Add($"node {host} is not ready after the abuse");
        }
        report.Acknowledged = acknowledged.Count;
        report.Lost = await LostAsync(target.Hosts, acknowledged);
        if (report.Lost > 0) report.Failures.Add($"{report.Lost} acknowledged images not listed or not byte-identical on every node");
        return report;
    }

    /// <summary>The open-file limit of this process (<c>/proc/self/limits</c>), or <see cref="int.MaxValue"/> when
    /// unknown.</summary>
    private static int OpenFileLimit()
    {
        try
        {
            var line = File.ReadAllLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            var soft = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
            return soft is null || soft == "unlimited" ? int.MaxValue : int.Parse(soft, CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return int.MaxValue;
        }
    }

    private static Dictionary<string, TimeSpan> Bounds(AbuseLimits l) => new()
    {
        ["P1"] = l.P1 + l.Slack, ["P2"] = l.P2 + l.Slack, ["P4"] = l.P4 + l.Slack, ["HTTP"] = l.Http + l.Slack,
        ["REPLICA"] = l.Replica + l.Slack,
    };

    /// <summary>One way of being slow: what is sent at once, whether a WebSocket upgrade is completed first, what is
    /// sent after it, and what is trickled afterwards, one byte every <see cref="TrickleEvery"/> (cycling).</summary>
    private sealed record SlowKind(string Name, int Port, byte[] Opening, bool Upgrade = false, byte[]? AfterUpgrade = null, byte[]? Trickle = null);

    private static IEnumerable<(string Listener, SlowKind[] Kinds)> Kinds(AbuseTarget target)
    {
        var host = target.Host;
        // A frame that starts as a real image (so the node stores it to a temp file) and never ends.
        var png = Images.Png(7);
        var start = png.AsSpan(0, 64).ToArray();
        var zeros = new byte[64];
        byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
        var upgrade = RawWebSocket.UpgradeRequest(host, 8765);
        var upload = Ascii("""{"cmd":"UPLOAD","args":["slow.png","4000000"]}""");
        yield return ("P1", [
            new("silent", 5001, []),
            new("header stalled", 5001, [0, 0]),
            new("frame trickled", 5001, [.. P1Frame.Header(4_000_000), .. start], Trickle: zeros),
        ]);
        yield return ("P2", [
            new("silent", 8765, []),
            new("upgrade request stalled", 8765, upgrade[..^20]),
            new("upgrade request trickled", 8765, Ascii("GET / HTTP/1.1\r\nX-Slow: "), Trickle: Ascii("abcdefgh")),
            new("upgraded, silent", 8765, upgrade, Upgrade: true),
            new("upgraded, text frame stalled", 8765, upgrade, Upgrade: true, AfterUpgrade: [.. RawWebSocket.ClientFrameHeader(0x81, 100), .. Ascii("{\"cmd\":")]),
            new("upgraded, upload trickled", 8765, upgrade, Upgrade: true,
                AfterUpgrade: [.. RawWebSocket.ClientFrameHeader(0x81, upload.Length), .. upload, .. RawWebSocket.ClientFrameHeader(0x82, 4_000_000), .. start], Trickle: zeros),
        ]);
        yield return ("P4", [
            new("silent", 13378, []),
            new("request stalled", 13378, Ascii("GET 0123abcd")),
            new("request trickled", 13378, Ascii("GET "), Trickle: Ascii("0123456789abcdef")),
        ]);
        yield return ("HTTP", [
            new("silent", 8080, []),
            new("headers stalled", 8080, Ascii($"GET /api/images HTTP/1.1\r\nHost: {host}\r\n")),
            new("headers trickled", 8080, Ascii("GET /api/images HTTP/1.1\r\nX-Slow: "), Trickle: Ascii("abcdefgh")),
            new("body trickled", 8080, [.. Ascii($"POST /api/images?filename=slow.png HTTP/1.1\r\nHost: {host}\r\nContent-Length: 4000000\r\n\r\n"), .. start],
                Trickle: zeros),
        ]);
        if (target.ClusterCertificate is null) yield break;
        // A TLS record header announcing a 512-byte handshake message, and the first byte of a ClientHello (RFC 8446,
        // §5.1 and §4): the node waits for the rest, at most until its handshake timeout.
        byte[] clientHello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01];
        yield return ("REPLICA", [
            new("silent", ReplicaChannelClient.Port, []),
            new("ClientHello stalled", ReplicaChannelClient.Port, clientHello),
            new("ClientHello trickled", ReplicaChannelClient.Port, clientHello, Trickle: zeros),
        ]);
    }

    private static async Task<List<SlowConnection>> OpenAllAsync(AbuseTarget target, string listener, SlowKind[] kinds, int count, CancellationToken stop)
    {
        using var gate = new SemaphoreSlim(64);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync(stop);
            try
            {
                // A connect that fails on a loaded machine is tried again, as any client would; three times at most.
                for (var attempt = 1; ; attempt++)
                {
                    var connection = await SlowConnection.OpenAsync(target, listener, kinds[i % kinds.Length], stop);
                    if (connection is not null || attempt == 3) return connection;
                }
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        return (await Task.WhenAll(tasks)).OfType<SlowConnection>().ToList();
    }

    /// <summary>One slow connection: opened, held as its kind says, watched until the node closes it.</summary>
    private sealed class SlowConnection : IDisposable
    {
        private readonly Socket _socket;
        private readonly CancellationTokenSource _done;
        private long _closedTicks = -1;

        private SlowConnection(Socket socket, string listener, string kind, CancellationToken stop)
        {
            _socket = socket;
            Listener = listener;
            Kind = kind;
            _done = CancellationTokenSource.CreateLinkedTokenSource(stop);
        }

        public string Listener { get; }

        public string Kind { get; }

        public DateTime Opened { get; } = DateTime.UtcNow;

        /// <summary>How long after <see cref="Opened"/> the node closed it; null while open.</summary>
        public TimeSpan? ClosedAfter => Interlocked.Read(ref _closedTicks) is var t and >= 0 ? TimeSpan.FromTicks(t) : null;

        public static async Task<SlowConnection?> OpenAsync(AbuseTarget target, string listener, SlowKind kind, CancellationToken stop)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(target.SlowFrom), 0));
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                timeout.CancelAfter(TimeSpan.FromSeconds(20));
                await socket.ConnectAsync(IPAddress.Parse(target.Host), kind.Port, timeout.Token);
                var connection = new SlowConnection(socket, listener, kind.Name, stop);
                if (kind.Opening.Length > 0) await socket.SendAsync(kind.Opening, timeout.Token);
                if (kind.Upgrade && !(await RawWebSocket.ReadHandshakeAsync(socket, timeout.Token)).StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
                    throw new IOException("no 101 Switching Protocols");
                if (kind.AfterUpgrade is { } after) await socket.SendAsync(after, timeout.Token);
                _ = connection.WatchAsync(kind.Trickle);
                return connection;
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                socket.Dispose();
                return null;
            }
        }

        private async Task WatchAsync(byte[]? trickle)
        {
            var trickling = trickle is null ? Task.CompletedTask : TrickleAsync(trickle);
            var buffer = new byte[4096];
            try
            {
                while (await _socket.ReceiveAsync(buffer, _done.Token) > 0)
                {
                    // What the node says (a READY, a ping, a 408) does not matter: only its close does.
                }
                Closed();
            }
            catch (SocketException)
            {
                Closed(); // reset by the node
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                // stopped by the abuse itself
            }
            await _done.CancelAsync();
            await trickling;
        }

        private async Task TrickleAsync(byte[] bytes)
        {
            try
            {
                for (var i = 0; ; i = (i + 1) % bytes.Length)
                {
                    await Task.Delay(TrickleEvery, _done.Token);
                    await _socket.SendAsync(bytes.AsMemory(i, 1), _done.Token);
                }
            }
            catch (SocketException)
            {
                Closed();
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
            }
        }

        private void Closed() => Interlocked.CompareExchange(ref _closedTicks, (DateTime.UtcNow - Opened).Ticks, -1);

        public void Dispose()
        {
            _done.Cancel();
            _socket.Dispose();
            _done.Dispose();
        }
    }

    /// <summary>One normal client per protocol against the attacked node; each failure is named in the report.</summary>
    private static async Task ServeNormalClientsAsync(AbuseTarget target, int run, string phase,
        ConcurrentDictionary<string, byte[]> acknowledged, AbuseReport report, Action<string> log)
    {
        var host = target.Host;
        var seed = run * 10 + (phase == "during" ? 0 : 5);
        async Task Check(string what, Func<Task<bool>> operation)
        {
            var watch = Stopwatch.StartNew();
            bool ok;
            string error = "";
            try
            {
                ok = await operation();
            }
            catch (Exception e)
            {
                ok = false;
                error = ": " + e.Message;
            }
            if (ok) report.Served++;
            else report.Failures.Add($"{phase} the abuse, {what} failed{error}");
            log(string.Create(CultureInfo.InvariantCulture, $"abuse: {phase}: {what}: {(ok ? "ok" : "FAILED" + error)} in {watch.Elapsed.TotalSeconds:0.0} s"));
        }

        // First, while a flood runs (during the abuse): UDP may drop a datagram: a normal client asks again, three times at most.
        await Check($"P3 LST from {target.NormalFrom}", async () =>
        {
            for (var attempt = 0; attempt < 3; attempt++)
            {
                if (await Wire.TryP3Async(host, "LST", target.NormalFrom, TimeSpan.FromSeconds(3)) != "") return true;
            }
            return false;
        });

        var p1Image = Images.Png(seed);
        await Check("P1 send", async () =>
        {
            await Wire.SendP1Async(host, p1Image);
            // P1 has no reply: the node's close is the acknowledgement, and the catalog shows the image.
            var stored = await Wire.GetAsync(host, $"/api/images/{Images.Md5(p1Image)}") is not null;
            if (stored) acknowledged[Images.Md5(p1Image)] = p1Image;
            return stored;
        });
        await Check("P2 AUTH, LIST, UPLOAD", async () =>
        {
            await using var p2 = await Wire.P2.ConnectAsync(host);
            if ((await p2.CommandAsync("AUTH", "abuse")).GetProperty("status").GetString() != "SUCCESS") return false;
            if ((await p2.CommandAsync("LIST")).GetProperty("status").GetString() != "SUCCESS") return false;
            var image = Images.Png(seed + 1);
            if ((await p2.UploadAsync($"abuse-{seed}.png", image)).GetProperty("status").GetString() != "SUCCESS") return false;
            acknowledged[Images.Md5(image)] = image;
            return true;
        });
        await Check("P4 GET", async () => !acknowledged.IsEmpty && await Task.WhenAll(acknowledged.Take(2)
            .Select(async a => (await Wire.GetP4Async(host, a.Key)).AsSpan().SequenceEqual(a.Value))) is var got && got.All(g => g));
        await Check("HTTP GET /api/images", async () =>
            await Wire.GetAsync(host, "/api/images?limit=5") is { } body && JsonDocument.Parse(body).RootElement.TryGetProperty("images", out _));
        await Check("HTTP upload", async () =>
        {
            var image = Images.Png(seed + 2);
            using var response = await Http.PostAsync($"http://{host}:8080/api/images?filename=abuse-{seed}-http.png&uploader=abuse",
                new ByteArrayContent(image));
            if (response.StatusCode != HttpStatusCode.Created) return false;
            acknowledged[Images.Md5(image)] = image;
            return true;
        });
        if (target.ClusterCertificate is { } certificate)
        {
            // What another node does with a copy of an image: push it, fetch it, delete it (not a catalog entry, so
            // nothing for the losses check).
            await Check("replica channel PUT, GET, DELETE as a member", async () =>
            {
                using var member = ReplicaChannelClient.Create(certificate, certificate, TimeSpan.FromSeconds(30));
                var image = Images.Png(seed + 3);
                var failure = await ReplicaChannelClient.RoundTripAsync(member, host, $"abuse-replica-test/{seed}-{phase}.png", image);
                return failure is null ? true : throw new IOException(failure);
            });
        }
    }

    /// <summary>P3: <see cref="FloodDatagrams"/> <c>LST</c> from one source, about 1,000 a second (five times the
    /// default bucket), counting the replies; a normal source is asked meanwhile by <see cref="ServeNormalClientsAsync"/>.</summary>
    private static async Task FloodAsync(AbuseTarget target, AbuseLimits limits, AbuseReport report)
    {
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.ReceiveBufferSize = 8 * 1024 * 1024;
        udp.Bind(new IPEndPoint(IPAddress.Parse(target.FloodFrom), 0));
        var node = new IPEndPoint(IPAddress.Parse(target.Host), 13377);
        var replies = 0;
        using var stopReceiving = new CancellationTokenSource();
        var receiving = Task.Run(async () =>
        {
            var buffer = new byte[65536];
            try
            {
                while (true)
                {
                    await udp.ReceiveAsync(buffer, stopReceiving.Token);
                    Interlocked.Increment(ref replies);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
            }
        });
        var lst = "LST"u8.ToArray();
        var watch = Stopwatch.StartNew();
        for (var sent = 0; sent < FloodDatagrams; sent++)
        {
            await udp.SendToAsync(lst, node);
            report.FloodSent++;
            if (sent % 100 == 99) await Task.Delay(100);
        }
        var sending = watch.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await stopReceiving.CancelAsync();
        await receiving;
        report.FloodReplies = replies;
        // The bucket holds replies-per-second tokens and refills as many every second: over the flood and the
        // replies still in flight after it (one second more, rounded up), no more can come.
        report.FloodReplyBound = limits.P3RepliesPerSecond * (2 + (int)Math.Ceiling(sending.TotalSeconds));
        if (replies > report.FloodReplyBound)
            report.Failures.Add($"P3: {replies} replies to one source of {report.FloodSent} datagrams, over the bucket's {report.FloodReplyBound}");
        if (replies == 0) report.Failures.Add("P3: the flooding source got no reply at all (the limit is a rate, not a ban)");
    }

    /// <summary>Counts the acknowledged images that some node does not list or does not serve byte-identical.</summary>
    private static async Task<int> LostAsync(IReadOnlyList<string> hosts, ConcurrentDictionary<string, byte[]> acknowledged)
    {
        var lost = new HashSet<string>();
        foreach (var host in hosts)
        {
            List<string>? listed = null;
            try
            {
                await Poll.UntilAsync(TimeSpan.FromSeconds(30), $"{host} listing every acknowledged image", async () =>
                    (listed = await Wire.ListedAsync(host)) is { } l && l.ToHashSet().IsSupersetOf(acknowledged.Keys));
            }
            catch (TimeoutException)
            {
            }
            foreach (var (md5, bytes) in acknowledged)
            {
                if (listed?.Contains(md5) != true) lost.Add(md5);
                else
                {
                    try
                    {
                        var (status, body) = await Wire.GetBytesAsync(host, $"/api/images/{md5}/content");
                        if (status != 200 || !body.AsSpan().SequenceEqual(bytes)) lost.Add(md5);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        lost.Add(md5);
                    }
                }
            }
        }
        return lost.Count;
    }
}
