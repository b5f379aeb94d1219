using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ActorImages.Protocols;
using Xunit;

namespace ActorImages.Cli.Tests;

/// The commands over real sockets against small listeners of the test: P1 into a frame reader, P4 from a TCP
/// source, P3 against a UDP tracker that answers with the real codecs.
public class SocketTests
{
    private static readonly byte[] Rocket = Cli.Image("rocket.jpg");
    private static readonly byte[] Chelsea = Cli.Image("chelsea.png");

    [Fact]
    public async Task SendWritesOneP1FramePerFileAndWaitsForTheClose()
    {
        using var folder = Cli.TempFolder();
        File.Copy(Path.Combine(Cli.Images, "rocket.jpg"), Path.Combine(folder.Path, "a.jpg"));
        Directory.CreateDirectory(Path.Combine(folder.Path, "sub"));
        File.Copy(Path.Combine(Cli.Images, "chelsea.png"), Path.Combine(folder.Path, "sub", "b.png"));
        File.Copy(Path.Combine(Cli.Images, "not-an-image.txt"), Path.Combine(folder.Path, "notes.txt"));
        using var sink = new P1Sink(connections: 2);
        var result = await Cli.RunAsync("send", folder.Path, "--p1-port", sink.Port.ToString());
        Assert.True(result.Code == Exit.Ok, result.ToString());
        await sink.Done;
        Assert.Equal([Rocket, Chelsea], sink.Frames);
        Assert.Equal($"sent 2 images (0.4 MB) to 127.0.0.1:{sink.Port}\n", result.Out.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task AFrameTheNodeResetsIsNotCountedAsSentAndIsANodeError()
    {
        using var folder = Cli.TempFolder();
        File.Copy(Path.Combine(Cli.Images, "rocket.jpg"), Path.Combine(folder.Path, "a.jpg"));
        using var sink = new P1Sink(connections: 1, reset: true);
        var result = await Cli.RunAsync("send", folder.Path, "--p1-port", sink.Port.ToString());
        await sink.Done;
        Assert.Equal([Rocket], sink.Frames);
        Assert.True(result.Code == Exit.NodeError, result.ToString());
        Assert.Contains("reset the connection", result.Err);
        Assert.Contains("nothing was stored", result.Err);
        Assert.DoesNotContain("sent 1 image", result.Out);
    }

    [Fact]
    public async Task ProgressBarsGoToStderrAndLeaveStdoutToTheResult()
    {
        using var folder = Cli.TempFolder();
        string big = Path.Combine(folder.Path, "big.png");
        var bytes = new byte[3 << 20];
        new Random(5001).NextBytes(bytes);
        Chelsea.AsSpan(0, 16).CopyTo(bytes); // starts like a PNG: all that send checks locally
        File.WriteAllBytes(big, bytes);
        using var sink = new P1Sink(connections: 1);
        var result = await Cli.RunAsync("send", big, "--progress", "--p1-port", sink.Port.ToString());
        Assert.True(result.Code == Exit.Ok, result.ToString());
        Assert.Equal($"sent 1 image (3.1 MB) to 127.0.0.1:{sink.Port}\n", result.Out.ReplaceLineEndings("\n"));
        Assert.Contains("send", result.Err);
        await sink.Done;
        Assert.Equal(bytes, Assert.Single(sink.Frames));
    }

    [Fact]
    public async Task GetFromAHolderKeepsOnlyBytesOfTheAskedMd5()
    {
        string md5 = Cli.Md5(Chelsea);
        using var source = new P4Source(asked => asked == md5 ? Chelsea : []);
        using var folder = Cli.TempFolder();
        var result = await Cli.RunAsync("get", md5.ToUpperInvariant(), "--from", source.Endpoint.ToString(), "-o", folder.Path);
        Assert.True(result.Code == Exit.Ok, result.ToString());
        Assert.Equal([md5], source.Requests);
        Assert.Equal([$"{md5}.png"], folder.Files());
        Assert.Equal(Chelsea, File.ReadAllBytes(Path.Combine(folder.Path, $"{md5}.png")));
        Assert.Contains($"({Chelsea.Length} bytes, md5 ok) from {source.Endpoint}", result.Out);

        var again = await Cli.RunAsync("get", md5, "--from", source.Endpoint.ToString(), "-o", folder.Path);
        Assert.Equal(Exit.LocalFile, again.Code); // the file exists; --force replaces it
        Assert.Equal(Exit.Ok, (await Cli.RunAsync("get", md5, "--from", source.Endpoint.ToString(), "-o", folder.Path, "--force")).Code);
    }

    public static TheoryData<string, byte[], int> Misses => new()
    {
        { "closed without data", [], Exit.NodeError },
        { "a seed-003 peer's text", Encoding.ASCII.GetBytes("ERR File not found"), Exit.NodeError },
        { "other bytes", Rocket, Exit.Integrity },
        { "the bytes cut short", Chelsea[..1000], Exit.Integrity },
    };

    [Theory]
    [MemberData(nameof(Misses))]
    public async Task AMissLeavesNothingBehind(string what, byte[] reply, int code)
    {
        using var source = new P4Source(_ => reply);
        using var folder = Cli.TempFolder();
        var result = await Cli.RunAsync("get", Cli.Md5(Chelsea), "--from", source.Endpoint.ToString(), "-o", folder.Path);
        Assert.True(result.Code == code, what + ": " + result);
        Assert.Empty(folder.Files()); // no .part file either
    }

    [Fact]
    public async Task PeersPrintsTheFirstLstPageAndAllWalksTheOffsets()
    {
        var items = Enumerable.Range(0, 200).Select(i => new LstItem(i.ToString("x32"), $"foto {i}.jpg", [$"10.0.0.{i % 250}:4000"])).ToList();
        var listing = new P3Listing(items);
        using var tracker = new FakeTracker(request => request is P3Request.Lst lst
            ? listing.Page(lst.Offset ?? 0).Datagram.ToArray() : P3Reply.InvalidFormat());
        string port = tracker.Port.ToString();

        var first = await Cli.RunAsync("peers", "--p3-port", port);
        Assert.True(first.Code == Exit.Ok, first.ToString());
        string[] lines = first.Out.ReplaceLineEndings("\n").TrimEnd().Split('\n');
        Assert.Equal(["MD5", "NAME", "HOLDERS"], lines[0].Split(" ", StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(listing.First.ItemCount, lines.Length - 1);
        Assert.StartsWith($"{items[0].Md5}  foto 0.jpg", lines[1]);

        var all = await Cli.RunAsync("peers", "--p3-port", port, "--all", "--json");
        Assert.True(all.Code == Exit.Ok, all.ToString());
        var json = JsonDocument.Parse(all.Out).RootElement;
        Assert.Equal(200, json.GetArrayLength());
        Assert.Equal("foto 199.jpg", json[199].GetProperty("name").GetString());
        Assert.Equal("10.0.0.199:4000", json[199].GetProperty("holders")[0].GetString());
        Assert.Contains(tracker.Requests, r => r is P3Request.Lst { Offset: > 0 });
        Assert.DoesNotContain(tracker.Requests, r => r is P3Request.Invalid);
    }

    [Fact]
    public async Task PeersOfAnEmptyTrackerIsAnEmptyTableAndAnErrIsExitCode1()
    {
        using var empty = new FakeTracker(_ => P3Reply.NoImages());
        var none = await Cli.RunAsync("peers", "--p3-port", empty.Port.ToString());
        Assert.Equal(Exit.Ok, none.Code);
        Assert.Contains("no images", none.Err);

        using var broken = new FakeTracker(_ => P3Reply.Unavailable());
        var error = await Cli.RunAsync("peers", "--p3-port", broken.Port.ToString());
        Assert.Equal(Exit.NodeError, error.Code);
        Assert.Contains("ERR TRACKER_UNAVAILABLE", error.Err);
    }

    [Fact]
    public async Task GetAsksTheFirstHolderTheTrackerListsAndSavesUnderTheListedName()
    {
        string md5 = Cli.Md5(Rocket);
        using var source = new P4Source(asked => asked == md5 ? Rocket : []);
        var listing = new P3Listing([new LstItem(md5, "../launch.jpg", [source.Endpoint.ToString(), "127.0.0.1:1"])]);
        using var tracker = new FakeTracker(request => request is P3Request.Lst { Offset: null }
            ? listing.First.Datagram.ToArray() : P3Reply.InvalidFormat()); // a seed tracker: no LST <offset>
        using var folder = Cli.TempFolder();
        var result = await Cli.RunAsync("get", md5, "--p3-port", tracker.Port.ToString(), "-o", folder.Path);
        Assert.True(result.Code == Exit.Ok, result.ToString());
        Assert.Equal(["launch.jpg"], folder.Files()); // a listed name never leads outside the folder

        var unknown = await Cli.RunAsync("get", Cli.Md5(Chelsea), "--p3-port", tracker.Port.ToString(), "-o", folder.Path);
        Assert.Equal(Exit.NodeError, unknown.Code);
        Assert.Contains("no holder of", unknown.Err);
    }

    [Fact]
    public async Task PeersAllStopsAtATrackerThatIgnoresTheOffset()
    {
        var listing = new P3Listing([new LstItem(Cli.Md5(Rocket), "a.jpg", ["127.0.0.1:4000"])]);
        using var tracker = new FakeTracker(_ => listing.First.Datagram.ToArray());
        var result = await Cli.RunAsync("peers", "--all", "--json", "--p3-port", tracker.Port.ToString());
        Assert.True(result.Code == Exit.Ok, result.ToString());
        Assert.Equal(1, JsonDocument.Parse(result.Out).RootElement.GetArrayLength());
        Assert.Equal(2, tracker.Requests.Count);
    }

    [Fact]
    public async Task RegisterSendsRegServesGetAndSendsEndWhenStopped()
    {
        using var folder = Cli.TempFolder();
        File.Copy(Path.Combine(Cli.Images, "chelsea.png"), Path.Combine(folder.Path, "gato;1.png"));
        File.Copy(Path.Combine(Cli.Images, "chelsea.png"), Path.Combine(folder.Path, "copy.png")); // same md5: once
        File.Copy(Path.Combine(Cli.Images, "rocket.jpg"), Path.Combine(folder.Path, "rocket.jpg"));
        using var tracker = new FakeTracker(request => request switch
        {
            P3Request.Reg reg => P3Reply.Registered(reg.Images.Count),
            P3Request.End => P3Reply.Finished(),
            _ => P3Reply.InvalidFormat(),
        });
        using var stop = new CancellationTokenSource();
        var running = Cli.RunAsync(stop.Token, "register", folder.Path, "--p3-port", tracker.Port.ToString(), "--password", "p'w;\"x", "--bind", "127.0.0.1");

        var reg = await Eventually(() => tracker.Requests.OfType<P3Request.Reg>().FirstOrDefault());
        Assert.Equal("p'w;\"x", reg.Password);
        Assert.Equal([new P3Image(Cli.Md5(Chelsea), "copy.png"), new P3Image(Cli.Md5(Rocket), "rocket.jpg")], reg.Images);

        var served = new MemoryStream();
        var received = await new P4Client(TimeSpan.FromSeconds(10)).GetAsync(new Endpoint("127.0.0.1", reg.Port), Cli.Md5(Rocket), served, _ => { }, default);
        Assert.Equal(Cli.Md5(Rocket), received.Md5);
        var unknown = await new P4Client(TimeSpan.FromSeconds(10)).GetAsync(new Endpoint("127.0.0.1", reg.Port), new string('0', 32), Stream.Null, _ => { }, default);
        Assert.Equal(0, unknown.Size);

        await stop.CancelAsync();
        var result = await running;
        Assert.True(result.Code == Exit.Ok, result.ToString());
        var end = Assert.Single(tracker.Requests.OfType<P3Request.End>());
        Assert.Equal((reg.Password, reg.Port), (end.Password, end.Port));
        Assert.Contains("OK 2_REGISTERED_IMAGES: 2 images of", result.Out);
        Assert.Contains("OK CLIENT_FINISHED", result.Out);
        await Assert.ThrowsAsync<SocketException>(async () =>
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync("127.0.0.1", reg.Port);
        });
    }

    [Fact]
    public async Task ThePeerServerServesAtMostItsLimitOfConnectionsAndClosesTheNextAtOnce()
    {
        var rocket = Path.Combine(Cli.Images, "rocket.jpg");
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var server = PeerServer.Start(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            new Dictionary<string, string> { [Cli.Md5(Rocket)] = rocket }, lines.Enqueue);
        var held = new List<Socket>();
        try
        {
            // Idle connections hold their slots until PeerServer.RequestWait (2 s) closes them.
            for (var i = 0; i < PeerServer.MaxConnections; i++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                held.Add(socket);
                await socket.ConnectAsync("127.0.0.1", server.Port);
            }
            await Task.Delay(300); // the server accepts them meanwhile, well within their 2 s
            Assert.Empty(lines); // nothing refused so far
            using var over = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await over.ConnectAsync("127.0.0.1", server.Port);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Assert.Equal(0, await over.ReceiveAsync(new byte[16], SocketFlags.None, timeout.Token));
            Assert.True(clock.Elapsed < PeerServer.RequestWait, $"the connection over the limit closed after {clock.Elapsed}");
            Assert.Single(lines, line => line.StartsWith("peer port: refused ", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var socket in held) socket.Dispose();
        }
        // The slots free as the held connections end (their handlers see the close): a GET is served again.
        var served = await Eventually(async () =>
        {
            var bytes = new MemoryStream();
            await new P4Client(TimeSpan.FromSeconds(10)).GetAsync(new Endpoint("127.0.0.1", server.Port), Cli.Md5(Rocket), bytes, _ => { }, default);
            return bytes.Length > 0 ? bytes.ToArray() : null;
        });
        Assert.Equal(File.ReadAllBytes(rocket), served);
        // One line for the run of refusals, one when a connection is served again.
        Assert.Single(lines, line => line.StartsWith("peer port: refused ", StringComparison.Ordinal));
        Assert.Single(lines, line => line.StartsWith("peer port: accepting again after ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APeerThatStopsReadingIsClosedAfterTheSendDeadlineAndItsSlotFreed()
    {
        // 16 MiB: more than the loopback sockets buffer, so the send blocks on a client that reads nothing.
        using var folder = new TempFolder();
        var big = new byte[16 * 1024 * 1024];
        new Random(7).NextBytes(big);
        var bigPath = Path.Combine(folder.Path, "big.jpg");
        await File.WriteAllBytesAsync(bigPath, big);
        var rocket = Path.Combine(Cli.Images, "rocket.jpg");
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var server = PeerServer.Start(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            new Dictionary<string, string> { [Cli.Md5(big)] = bigPath, [Cli.Md5(Rocket)] = rocket }, lines.Enqueue,
            sendWait: TimeSpan.FromSeconds(1));
        var deadline = server.SendDeadline(big.Length); // 1 s + 2 s

        using var stalled = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await stalled.ConnectAsync("127.0.0.1", server.Port);
        await stalled.SendAsync(System.Text.Encoding.ASCII.GetBytes("GET " + Cli.Md5(big)), SocketFlags.None);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var closedLine = await Eventually(() => lines.FirstOrDefault(l => l.Contains("not taken within", StringComparison.Ordinal)));
        Assert.InRange(clock.Elapsed, deadline - TimeSpan.FromSeconds(0.5), deadline + TimeSpan.FromSeconds(5));
        Assert.Contains("big.jpg (16777216 bytes) not taken within 3 s; closing", closedLine);

        // What the stalled client then reads ends short of the file: the server closed it.
        long received = 0;
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            int n;
            while ((n = await stalled.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0) received += n;
        }
        catch (SocketException)
        {
        }
        Assert.InRange(received, 1, big.Length - 1);

        var served = new MemoryStream();
        await new P4Client(TimeSpan.FromSeconds(10)).GetAsync(new Endpoint("127.0.0.1", server.Port), Cli.Md5(Rocket), served, _ => { }, default);
        Assert.Equal(File.ReadAllBytes(rocket), served.ToArray());
    }

    [Fact]
    public async Task ATrackerThatNeverAnswersTimesOutAfterTheRetries()
    {
        using var silent = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        int port = ((System.Net.IPEndPoint)silent.Client.LocalEndPoint!).Port;
        var client = new P3Client(new Endpoint("127.0.0.1", port), waits: [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100)]);
        var failure = await Assert.ThrowsAsync<CliFailure>(() => client.ListAsync(0, default));
        Assert.Equal(Exit.Connection, failure.ExitCode);
        Assert.Contains("timed out", failure.Message);
    }

    private static async Task<T> Eventually<T>(Func<Task<T?>> probe) where T : class
    {
        for (int i = 0; i < 200; i++)
        {
            if (await probe() is { } value) return value;
            await Task.Delay(50);
        }
        throw new TimeoutException("condition not met in 10 s");
    }

    private static async Task<T> Eventually<T>(Func<T?> probe) where T : class
    {
        for (int i = 0; i < 200; i++)
        {
            if (probe() is { } value) return value;
            await Task.Delay(50);
        }
        throw new TimeoutException("condition not met in 10 s");
    }
}
