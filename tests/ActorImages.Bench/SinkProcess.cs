using System.Net;

namespace ActorImages.Bench;

/// <summary>
/// The reference sink as bin/bench drives it: one <c>sink-p1</c> child process (<see cref="ReferenceSink"/>) writing
/// into a folder of its own, measured in one or more windows while it runs. The folder is its own because each sink
/// process numbers its files from 1; the files stay until the run ends (bin/bench's <c>RemoveSinkFiles</c>).
/// </summary>
internal sealed class SinkProcess : IAsyncDisposable
{
    private readonly ChildServer _server;
    private readonly string _folder;
    private readonly IPEndPoint[] _targets;

    private SinkProcess(ChildServer server, string folder, IPEndPoint at)
    {
        _server = server;
        _folder = folder;
        _targets = [at];
    }

    /// <summary>What one window stored.</summary>
    /// <param name="Load">The clients' side: seconds, acknowledged images, latencies.</param>
    /// <param name="Stored">Files the sink added in the window.</param>
    /// <param name="Bytes">Their size, bytes.</param>
    public sealed record Window(P1Load.Result Load, int Stored, long Bytes)
    {
        /// <summary>Images per second both acknowledged and stored.</summary>
        public double PerSecond => Math.Min(Stored, Load.Acknowledged.Count) / Load.Seconds;

        /// <summary>Bytes stored per second.</summary>
        public double BytesPerSecond => Bytes / Load.Seconds;
    }

    /// <summary>Starts the sink on <paramref name="at"/>, writing into <paramref name="folder"/> (created).</summary>
    /// <exception cref="InvalidOperationException">It did not start within 30 s.</exception>
    public static async Task<SinkProcess> StartAsync(IPEndPoint at, string folder) =>
        new(await ChildServer.StartAsync("sink-p1", at.Address.ToString(), at.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), folder),
            folder, at);

    /// <summary>Runs <paramref name="clients"/> cameras against the sink for <paramref name="seconds"/> and counts the
    /// files it added.</summary>
    public async Task<Window> RunAsync(int clients, double seconds, IReadOnlyList<byte[]> bases, string label)
    {
        var before = Directory.GetFiles(_folder, "*.jpg").ToHashSet();
        var load = await P1Load.RunAsync(_targets, clients, seconds, bases, label);
        var added = Directory.GetFiles(_folder, "*.jpg").Where(f => !before.Contains(f)).ToList();
        return new Window(load, added.Count, added.Sum(f => new FileInfo(f).Length));
    }

    /// <summary>The windows of <paramref name="rounds"/> as one (their seconds, files and bytes added up).</summary>
    public static Window Merge(IReadOnlyCollection<Window> rounds) =>
        new(P1Load.Result.Merge(rounds.Select(r => r.Load).ToList()), rounds.Sum(r => r.Stored), rounds.Sum(r => r.Bytes));

    /// <summary>The sink's process id.</summary>
    public int Pid => _server.Pid;

    /// <summary>Kills the sink.</summary>
    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
