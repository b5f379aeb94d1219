using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ActorImages.Bench;

/// <summary>
/// P3 tracker clients over UDP (docs/protocols.md, P3), the same against the reference responder and the nodes:
/// each client keeps one request outstanding on a thread of its own (<see cref="ClientThreads"/>; the legacy clients
/// wait for each reply too), 90 % <c>LST</c>, 5 % <c>REG</c>, 5 % <c>UPD</c> of its own bench peer. A reply lost for
/// 1 s counts as a timeout and the client goes on from a fresh socket, so a late reply is never taken for the next one.
/// </summary>
internal static class P3Load
{
    /// <summary>The bench peers' password (punctuation, as the seed-003 client's passwords have).</summary>
    public const string Password = "bench;pw";

    /// <summary>Bench peer c registers P4 port <c>FirstPort + c</c>.</summary>
    public const int FirstPort = 47_000;

    /// <summary>What one window measured.</summary>
    /// <param name="Seconds">The window's length.</param>
    /// <param name="Requests">Replies received.</param>
    /// <param name="Errors">Replies starting with <c>ERR</c>, or a write answered other than <c>OK</c> (nodes only).</param>
    /// <param name="Timeouts">Requests without a reply within 1 s.</param>
    /// <param name="All">Every reply's latency.</param>
    /// <param name="Lst">LST replies' latencies.</param>
    /// <param name="Writes">REG/UPD replies' latencies.</param>
    public sealed record Result(double Seconds, long Requests, long Errors, long Timeouts, Latencies All, Latencies Lst, Latencies Writes)
    {
        /// <summary>Replies per second.</summary>
        public double PerSecond => Requests / Seconds;

        /// <summary>The windows of <paramref name="rounds"/> as one: their seconds, replies, errors, timeouts and
        /// latencies added up.</summary>
        public static Result Merge(IReadOnlyCollection<Result> rounds) => new(rounds.Sum(r => r.Seconds),
            rounds.Sum(r => r.Requests), rounds.Sum(r => r.Errors), rounds.Sum(r => r.Timeouts),
            Latencies.Merge(rounds.Select(r => r.All)), Latencies.Merge(rounds.Select(r => r.Lst)),
            Latencies.Merge(rounds.Select(r => r.Writes)));
    }

    /// <summary>Runs <paramref name="clients"/> clients for <paramref name="seconds"/>, client c on <paramref name="targets"/>[c % count].</summary>
    /// <param name="targets">The trackers (or the responder).</param>
    /// <param name="clients">Clients, one request outstanding each.</param>
    /// <param name="seconds">The window.</param>
    /// <param name="writeShare">Share of REG + UPD (half each).</param>
    /// <param name="runId">Names the bench peers' images.</param>
    /// <param name="checkReplies">Count ERR replies and non-OK write replies as errors (not for the responder).</param>
    public static async Task<Result> RunAsync(IReadOnlyList<IPEndPoint> targets, int clients, double seconds, double writeShare,
        string runId, bool checkReplies)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var started = Stopwatch.StartNew();
        var results = await ClientThreads.RunAsync(clients, "p3-client", c =>
            Client(c, targets[c % targets.Count], deadline, writeShare, runId, checkReplies));
        return new Result(started.Elapsed.TotalSeconds, results.Sum(r => r.Requests), results.Sum(r => r.Errors),
            results.Sum(r => r.Timeouts), Latencies.Merge(results.Select(r => r.All)), Latencies.Merge(results.Select(r => r.Lst)),
            Latencies.Merge(results.Select(r => r.Writes)));
    }

    private sealed class ClientTally
    {
        public long Requests;
        public long Errors;
        public long Timeouts;
        public readonly Latencies All = new();
        public readonly Latencies Lst = new();
        public readonly Latencies Writes = new();
    }

    private static ClientTally Client(int c, IPEndPoint target, long deadline, double writeShare, string runId, bool check)
    {
        var tally = new ClientTally();
        var random = new Random(c * 7919 + 1);
        byte[] lst = "LST"u8.ToArray(), reg = Encoding.UTF8.GetBytes(Reg(c, runId)), upd = Encoding.UTF8.GetBytes("UPD" + Reg(c, runId)[3..]);
        var buffer = new byte[65536];
        var socket = Open(target);
        try
        {
            while (Stopwatch.GetTimestamp() < deadline)
            {
                double r = random.NextDouble();
                char kind = r >= writeShare ? 'L' : r < writeShare / 2 ? 'R' : 'U';
                byte[] request = kind == 'L' ? lst : kind == 'R' ? reg : upd;
                long t0 = Stopwatch.GetTimestamp();
                int n;
                try
                {
                    socket.Send(request);
                    n = socket.Receive(buffer);
                }
                catch (SocketException e)
                {
                    tally.Timeouts++;
                    socket.Dispose();
                    socket = Open(target);
                    if (e.SocketErrorCode != SocketError.TimedOut) Thread.Sleep(50); // ICMP port unreachable: the tracker is not there
                    continue;
                }
                tally.Requests++;
                tally.All.Since(t0);
                (kind == 'L' ? tally.Lst : tally.Writes).Since(t0);
                if (check && (buffer.AsSpan(0, n).StartsWith("ERR"u8) || kind != 'L' && !buffer.AsSpan(0, n).StartsWith("OK "u8)))
                {
                    tally.Errors++;
                }
            }
        }
        finally
        {
            socket.Dispose();
        }
        return tally;
    }

    private static Socket Open(IPEndPoint target)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Connect(target);
        socket.ReceiveTimeout = 1000; // ms: a reply lost for 1 s is a timeout (the blocking clients of RunAsync)
        return socket;
    }

    /// <summary>The REG of bench peer <paramref name="c"/>: two made-up images, quoted as the seed-003 client quotes them.</summary>
    public static string Reg(int c, string runId)
    {
        string a = BenchImages.Md5(Encoding.ASCII.GetBytes($"{runId} peer {c} a"));
        string b = BenchImages.Md5(Encoding.ASCII.GetBytes($"{runId} peer {c} b"));
        return $"REG {Password} {FirstPort + c} '{a},bench-{c}-a.jpg';'{b},bench-{c}-b.jpg'";
    }

    /// <summary>One request and its reply (for the REG before and the END after a window); null after 5 tries of 2 s.</summary>
    public static async Task<string?> AskAsync(IPEndPoint target, string text)
    {
        var buffer = new byte[65536];
        for (int attempt = 0; attempt < 5; attempt++)
        {
            using var socket = Open(target);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None, timeout.Token);
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                return Encoding.UTF8.GetString(buffer, 0, n);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                // again, from a fresh port
            }
        }
        return null;
    }
}
