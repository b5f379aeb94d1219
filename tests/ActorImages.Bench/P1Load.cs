using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ActorImages.Bench;

/// <summary>
/// P1 camera clients (docs/protocols.md, P1), the same against the reference sink and the nodes: each client sends
/// one ~100 KB JPEG per connection — the 4-byte length, the bytes, a half-close — and waits for the server's close,
/// which is the only acknowledgement P1 has. Each image is a camera photo with a <c>COM</c> segment naming it.
/// </summary>
internal static class P1Load
{
    /// <summary>One image sent: its window's label, its client and number (<see cref="Image"/> rebuilds it from them
    /// after the window).</summary>
    public readonly record struct Sent(string Label, int Client, int N);

    /// <summary>What one window measured.</summary>
    /// <param name="Seconds">The window's length.</param>
    /// <param name="Acknowledged">Images whose connection the server closed cleanly.</param>
    /// <param name="Failed">Connections that failed or timed out.</param>
    /// <param name="Latency">From connect to the server's close.</param>
    /// <param name="FirstError">The first failure's text, or "".</param>
    public sealed record Result(double Seconds, IReadOnlyList<Sent> Acknowledged, int Failed, Latencies Latency, string FirstError)
    {
        /// <summary>Images acknowledged per second.</summary>
        public double PerSecond => Acknowledged.Count / Seconds;

        /// <summary>The windows of <paramref name="rounds"/> as one: their seconds, images, failures and latencies
        /// added up, the first error kept.</summary>
        public static Result Merge(IReadOnlyCollection<Result> rounds) => new(rounds.Sum(r => r.Seconds),
            rounds.SelectMany(r => r.Acknowledged).ToList(), rounds.Sum(r => r.Failed), Latencies.Merge(rounds.Select(r => r.Latency)),
            rounds.Select(r => r.FirstError).FirstOrDefault(e => e.Length > 0) ?? "");
    }

    /// <summary>
    /// Runs <paramref name="clients"/> cameras for <paramref name="seconds"/>, client c sending to
    /// <paramref name="targets"/>[c % count].
    /// </summary>
    public static async Task<Result> RunAsync(IReadOnlyList<IPEndPoint> targets, int clients, double seconds,
        IReadOnlyList<byte[]> bases, string label)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var started = Stopwatch.StartNew();
        int failed = 0;
        string firstError = "";
        var perClient = await ClientThreads.RunAsync(clients, "p1-camera", c =>
        {
            var acknowledged = new List<Sent>();
            var latency = new Latencies();
            for (int n = 0; Stopwatch.GetTimestamp() < deadline; n++)
            {
                byte[] image = Image(bases, new Sent(label, c, n));
                long t0 = Stopwatch.GetTimestamp();
                try
                {
                    Send(targets[c % targets.Count], image);
                    latency.Since(t0);
                    acknowledged.Add(new Sent(label, c, n));
                }
                catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
                {
                    if (Interlocked.Increment(ref failed) == 1) firstError = e.Message;
                    Thread.Sleep(50); // a refused connection must not spin
                }
            }
            return (acknowledged, latency);
        });
        return new Result(started.Elapsed.TotalSeconds, perClient.SelectMany(p => p.acknowledged).ToList(), failed,
            Latencies.Merge(perClient.Select(p => p.latency)), firstError);
    }

    /// <summary>The image of <paramref name="sent"/>: its client's n-th in its window.</summary>
    public static byte[] Image(IReadOnlyList<byte[]> bases, Sent sent) =>
        BenchImages.JpegWithComment(bases[(sent.Client + sent.N) % bases.Count],
            $"actorimages-bench {sent.Label} camera {sent.Client} image {sent.N}");

    /// <summary>One P1 frame on its own connection, blocking; returns once the server closed it. Each send and the wait
    /// for the close time out after 30 s (<see cref="SocketException"/>); the connect is the kernel's, immediate on
    /// loopback.</summary>
    public static void Send(IPEndPoint target, byte[] image)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, SendTimeout = 30_000, ReceiveTimeout = 30_000 };
        socket.Connect(target);
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)image.Length);
        socket.Send(header);
        socket.Send(image); // a blocking send returns once every byte is queued
        socket.Shutdown(SocketShutdown.Send);
        var one = new byte[1];
        if (socket.Receive(one) != 0)
        {
            throw new InvalidDataException("the server wrote to a P1 connection");
        }
    }
}
