using System.Buffers;
using System.Net;
using System.Net.Sockets;
using ActorImages.Protocols;

namespace ActorImages.Cli.Tests;

/// Runs the CLI in this process and captures what it prints; real photographs from testdata/images.
internal static class Cli
{
    public sealed record Result(int Code, string Out, string Err)
    {
        public override string ToString() => $"exit {Code}\n--- stdout\n{Out}--- stderr\n{Err}";
    }

    public static async Task<Result> RunAsync(params string[] args) => await RunAsync(CancellationToken.None, args);

    public static async Task<Result> RunAsync(CancellationToken cancel, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await CliApp.RunAsync(args, stdout, stderr, cancel: cancel);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    public static string Images { get; } = FindImages();

    public static byte[] Image(string name) => File.ReadAllBytes(Path.Combine(Images, name));

    public static string Md5(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(bytes));

    /// A fresh empty folder, removed with the test's TempFolder.
    public static TempFolder TempFolder() => new();

    private static string FindImages()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "testdata", "images");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("testdata/images");
    }
}

internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("actorimages-cli-test-").FullName;

    public string[] Files() => Directory.GetFiles(Path, "*", SearchOption.AllDirectories).Select(System.IO.Path.GetFileName).ToArray()!;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// A TCP listener on 127.0.0.1 that reads P1 frames until each client closes, then closes too.
internal sealed class P1Sink : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _serving;

    /// <param name="connections">How many connections to serve, one after the other.</param>
    /// <param name="reset">End each connection with a reset after reading it, as a node that could not store the frame.</param>
    public P1Sink(int connections, bool reset = false)
    {
        _listener.Start();
        _serving = Task.Run(async () =>
        {
            for (int i = 0; i < connections; i++)
            {
                using var client = await _listener.AcceptTcpClientAsync();
                var received = new MemoryStream();
                await client.GetStream().CopyToAsync(received);
                if (reset)
                {
                    // Closed here, not by disposing the client, whose stream shuts the socket down (FIN) first.
                    client.Client.LingerState = new LingerOption(true, 0);
                    client.Client.Close();
                }
                var buffer = new ReadOnlySequence<byte>(received.ToArray());
                while (P1Frame.TryReadHeader(ref buffer, out uint length) && buffer.Length >= length)
                {
                    Frames.Add(buffer.Slice(0, length).ToArray());
                    buffer = buffer.Slice(length);
                }
            }
        });
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public List<byte[]> Frames { get; } = [];

    public Task Done => _serving;

    public void Dispose() => _listener.Stop();
}

/// A TCP listener on 127.0.0.1 that answers P4 GET requests with what `answer` gives, then closes.
internal sealed class P4Source : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public P4Source(Func<string, byte[]> answer)
    {
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
                using (client)
                {
                    var stream = client.GetStream();
                    var received = new byte[P4Request.RequestBytes];
                    int have = 0;
                    P4Request request;
                    while ((request = P4Request.Parse(new ReadOnlySequence<byte>(received, 0, have))) is P4Request.NeedMore)
                    {
                        int n = await stream.ReadAsync(received.AsMemory(have));
                        if (n == 0) break;
                        have += n;
                    }
                    if (request is P4Request.Get get)
                    {
                        Requests.Add(get.Md5);
                        await stream.WriteAsync(answer(get.Md5));
                    }
                }
            }
        });
    }

    public Endpoint Endpoint => new("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);

    public List<string> Requests { get; } = [];

    public void Dispose() => _listener.Stop();
}

/// A UDP tracker on 127.0.0.1: parses each request with P3Request and sends what `answer` gives.
internal sealed class FakeTracker : IDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));

    public FakeTracker(Func<P3Request, byte[]> answer)
    {
        _ = Task.Run(async () =>
        {
            while (true)
            {
                UdpReceiveResult datagram;
                try
                {
                    datagram = await _udp.ReceiveAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
                var request = P3Request.Parse(datagram.Buffer);
                lock (Requests) Requests.Add(request);
                await _udp.SendAsync(answer(request), datagram.RemoteEndPoint);
            }
        });
    }

    public int Port => ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;

    public List<P3Request> Requests { get; } = [];

    public void Dispose() => _udp.Dispose();
}
