using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using ActorImages.Catalog;

namespace ActorImages.Bench;

/// <summary>
/// bin/bench (<see cref="Options.Help"/>): the references first, then the scenarios against the local cluster, each
/// printed on its own as it ends, then a summary with one row per figure: the figure, its reference, the ratio, the
/// target with its verdict, and the Java version's figure (README of d4ac5b3, "Benchmarks"). The P1, scale-out and P3
/// windows run in rounds that alternate with rounds of their reference (<see cref="Rounds"/>), and each ratio and
/// verdict is to the reference of those rounds: this machine's disk and cores change speed within minutes (the sink
/// measured 884 and 3,207 images/s in one run), so a reference measured at another minute is not the machine the
/// window ran on. The references measured at the start of the run are printed beside.
/// </summary>
internal sealed class Bench
{
    private const int P1Clients = 8, P3Clients = 32, P2Clients = 4;
    private const double SeedP2MegabytesPerSecond = 34;
    private const long RssTarget = 300_000_000;
    /// <summary>Where the references listen: outside 127.0.0.0/24, the nodes' addresses (node i is 127.0.0.i), since the
    /// sink is measured again while up to five nodes run.</summary>
    private static readonly IPAddress ReferenceHost = IPAddress.Parse("127.0.9.5");
    /// <summary>Where the Python seed servers listen: beside the references, which run in the same rounds.</summary>
    private static readonly IPAddress SeedHost = IPAddress.Parse("127.0.9.6");

    private readonly Options _options;
    private readonly LocalCluster _cluster;
    private readonly BenchImages _images;
    private readonly string _runId = DateTime.UtcNow.Ticks.ToString("x", CultureInfo.InvariantCulture)[^7..];
    private readonly List<Row> _rows = [];
    private string _shape = "";
    /// <summary>The references measured at the start of the run, printed beside the ones measured after each window.</summary>
    private Reference? _sink, _responder;
    /// <summary>The Python seed servers' figures (images/s acknowledged, req/s), measured at the start of the run.</summary>
    private Reference? _seed000, _seed002;

    private Bench(Options options)
    {
        _options = options;
        _cluster = new LocalCluster(options.Root);
        _images = BenchImages.In(options.Root);
    }

    /// <summary>One row of the summary.</summary>
    private sealed record Row(string Scenario, string Figure, string Reference, string Ratio, string Target, bool? Met, string Java);

    /// <summary>A reference's figure and when it was measured.</summary>
    /// <param name="PerSecond">Images (sink) or replies (responder) per second.</param>
    /// <param name="BytesPerSecond">The sink's bytes stored per second (the re-replication reference); 0 for the responder.</param>
    /// <param name="Text">The figure as printed, e.g. <c>2,477/s sink</c>.</param>
    /// <param name="At">When its window ended.</param>
    private sealed record Reference(double PerSecond, double BytesPerSecond, string Text, DateTime At)
    {
        /// <summary>The reference as a figure's line names it: the figure and the time of its window.</summary>
        public string Named => $"{Text} [{Fmt.Clock(At)}]";
    }

    /// <summary>A figure compared with its reference.</summary>
    /// <param name="Ratio">The figure over the reference measured with it (alternating rounds, or right after the
    /// re-replication window): the ratio the verdict is on.</param>
    /// <param name="Text">That ratio with the ratio to the run's first reference beside it, as a figure's line prints them.</param>
    private sealed record Comparison(double Ratio, string Text);

    /// <summary>Compares <paramref name="figure"/> with <paramref name="reference"/> (measured with it) and with the run's
    /// <paramref name="first"/> reference; <paramref name="bytes"/> compares bytes per second.</summary>
    private static Comparison Compare(double figure, Reference reference, Reference? first, bool bytes = false)
    {
        double ratio = figure / (bytes ? reference.BytesPerSecond : reference.PerSecond);
        if (first is null) return new Comparison(ratio, Fmt.X(ratio));
        double toFirst = figure / (bytes ? first.BytesPerSecond : first.PerSecond);
        return new Comparison(ratio, $"{Fmt.X(ratio)} (to the run's first reference, {first.Named}: {Fmt.X(toFirst)})");
    }

    /// <summary>Runs bin/bench with <paramref name="args"/>; 0 when every scenario ran, 2 on an error.</summary>
    public static async Task<int> MainAsync(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(Options.Help);
            return 0;
        }
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("bench: " + e.Message);
            return 2;
        }
        // Nothing deletes what the scenarios store: a full run adds tens of GB of images to run/node-*, and a disk that
        // fills mid-run makes every later window measure refused uploads (seen: 67 GB after a day of runs).
        // `repair` copies the killed node's share to the survivors: about a third of what the nodes hold, with two
        // copies of everything on three nodes (seen: a 230,000-entry catalog filled the last 24 GB). The sink's files
        // are emptied during the run when a window needs their room (EnsureRoomAsync), so they count once here.
        var free = FreeBytes(options.Root);
        var needed = NodeRunBytes(options) + SinkWindowBytes
            + (options.Scenarios.Contains("repair") ? (NodeDataBytes(options.Root) + NodeRunBytes(options)) / 3 : 0);
        if (free < needed)
        {
            Console.Error.WriteLine($"bench: only {free / 1e9:0.0} GB free for run/ (at least {needed / 1e9:0} GB needed: a full run "
                + "stores tens of GB of images, and repair copies a third of what the nodes hold). Free it with: "
                + "bin/cluster down; rm -rf run/postgres run/node-* run/bench-sink");
            return 2;
        }
        var bench = new Bench(options);
        try
        {
            await bench.RunAsync();
            return 0;
        }
        catch (Exception e)
        {
            Console.WriteLine("bench: failed: " + e.Message);
            Console.Error.WriteLine(e);
            return 2;
        }
        finally
        {
            bench.PrintSummary();
        }
    }

    /// <summary>What the scenarios store on the nodes, copies included, bytes: the full run of 2026-12-04 19:53 (the
    /// fastest nodes so far, the default 30 s warm-ups and 10 s windows) left 32 GB in run/node-*/data before its
    /// re-replication, about 10 from p1 (and the copies self-repair made when three nodes came up), 4 from p2 and 18
    /// from scale (its windows and the copies of growing from one node to three and five); each with a fifth more.</summary>
    private static long NodeRunBytes(Options options) =>
        (options.Scenarios.Contains("p1") ? 12_000_000_000 : 0) + (options.Scenarios.Contains("p2") ? 5_000_000_000 : 0)
        + (options.Scenarios.Contains("scale") ? 22_000_000_000 : 0) + RoomMarginBytes;

    /// <summary>Room kept free beyond what a step is expected to write, bytes (PostgreSQL's WAL, logs, a faster run).</summary>
    private const long RoomMarginBytes = 2_000_000_000;

    /// <summary>What one sink window may store, bytes: its files stay until the run ends or a later window needs their
    /// room (its 5 s of warm-up and the default 10 s at 3,978 images/s of ~110 KB, the fastest round seen, are 6.6 GB).</summary>
    private const long SinkWindowBytes = 6_600_000_000;

    /// <summary>What the nodes may store during one P1 or scale-out window, bytes: its 30 s of warm-up and 10 s at
    /// 1,100 images/s of ~110 KB on one node, or the copies self-repair makes when more nodes come up.</summary>
    private const long NodeWindowBytes = 8_000_000_000;

    /// <summary>Free bytes on run/'s file system.</summary>
    private static long FreeBytes(string root) => new DriveInfo(root).AvailableFreeSpace;

    /// <summary>
    /// Makes sure <paramref name="bytes"/> are free before a step that writes them: when they are not, the files of the
    /// earlier sink windows (counted already, never read again) are emptied (<see cref="EmptySinkFiles"/>). The run of
    /// 2026-12-04 19:53 filled the disk in its re-replication window (the nodes' 32 GB, the sink's 28 GB and the
    /// copies), and its last sink then refused every connection: a window measured on a full disk measures nothing.
    /// </summary>
    /// <param name="bytes">What the step may write.</param>
    /// <param name="step">The step, for the lines printed.</param>
    /// <exception cref="InvalidOperationException">Still not free after the sink's files are gone.</exception>
    private async Task EnsureRoomAsync(long bytes, string step)
    {
        var free = FreeBytes(_options.Root);
        if (free >= bytes) return;
        if (Directory.Exists(SinkFolder))
        {
            Console.WriteLine($"  ({free / 1e9:0.0} GB free, {bytes / 1e9:0.0} GB wanted for {step}: emptying the earlier sink "
                + "windows' files, which are counted already; they are deleted when the run ends)");
            var clock = Stopwatch.StartNew();
            var emptied = EmptySinkFiles();
            free = FreeBytes(_options.Root);
            Console.WriteLine($"  ({Fmt.N(emptied)} files emptied in {clock.Elapsed.TotalSeconds:0.0} s, {free / 1e9:0.0} GB free)");
        }
        if (free < bytes)
            throw new InvalidOperationException($"only {free / 1e9:0.0} GB free for {step}, {bytes / 1e9:0.0} GB wanted; free "
                + "room with: bin/cluster down; rm -rf run/postgres run/node-* run/bench-sink");
    }

    /// <summary>Bytes of the files under <c>run/node-*/data</c> (what the local cluster's nodes hold), 0 when none.</summary>
    /// <param name="root">The repository root.</param>
    /// <returns>The total in bytes.</returns>
    private static long NodeDataBytes(string root)
    {
        var run = Path.Combine(root, "run");
        if (!Directory.Exists(run)) return 0;
        return Directory.EnumerateDirectories(run, "node-*")
            .Select(node => Path.Combine(node, "data"))
            .Where(Directory.Exists)
            .SelectMany(data => new DirectoryInfo(data).EnumerateFiles("*", SearchOption.AllDirectories))
            .Sum(file => file.Length);
    }

    private async Task RunAsync()
    {
        var o = _options;
        Console.WriteLine($"bench: run {_runId}, {DateTime.Now:yyyy-MM-dd HH:mm}, {o.Seconds} s per scenario after {o.Warmup} s of warm-up, "
            + $"scenarios {string.Join(',', Options.All.Where(o.Scenarios.Contains))}{(o.Fill > 0 ? $", catalog filled to {Fmt.N(o.Fill)}" : "")}");
        Console.WriteLine($"  machine: {Environment.ProcessorCount} cores shared by the nodes, PostgreSQL, this load generator (and whatever else runs); "
            + "loopback only; cluster output in run/bench-cluster.log");
        Console.WriteLine("  nodes run with p3.replies-per-second = 1,000,000: the guard of 200 replies/s per source address would otherwise be the P3 figure");
        try
        {
            Console.WriteLine();
            if (o.Scenarios.Overlaps(["p1", "p3", "refs", "repair", "scale"])) Console.WriteLine("references (this machine, the same load generator):");
            if (o.Scenarios.Overlaps(["p1", "refs", "repair", "scale"])) _sink = await SinkReferenceAsync(again: false);
            if (o.Scenarios.Contains("p3") || o.Scenarios.Contains("refs")) _responder = await ResponderReferenceAsync();
            if (o.Scenarios.Overlaps(["p1", "p3", "refs", "repair", "scale"])) Console.WriteLine();
            if (o.Scenarios.Overlaps(["p1", "p3", "seeds"])) await SeedsAsync();
            if (!o.Scenarios.Overlaps(["p1", "p3", "p2", "probes", "repair", "scale"])) return;
            if (_cluster.RunningNodes().Count > 0) await _cluster.RunAsync(Env(2), "down");
            if (o.Fill > 0) await FillAsync(o.Scenarios.Contains("p1") ? 1 : 3);
            if (o.Scenarios.Contains("p1"))
            {
                await P1Async(1);
                await P1Async(3);
            }
            if (o.Scenarios.Contains("p3")) await P3Async();
            if (o.Scenarios.Contains("p2")) await P2Async();
            if (o.Scenarios.Contains("probes")) await ProbesAsync();
            if (o.Scenarios.Contains("scale")) await ScaleAsync();
            if (o.Scenarios.Contains("repair")) await RepairAsync(); // last: it leaves node 3 down
        }
        finally
        {
            if (_shape.Length > 0 || _cluster.RunningNodes().Count > 0)
            {
                Console.WriteLine();
                await _cluster.RunAsync(Env(2), "down");
            }
            RemoveSinkFiles();
        }
    }

    // --- the Python seed servers (the issue's floor) ------------------------------------------------------------

    /// <summary>A seed server reconstructed in Python (tests/ActorImages.Bench/seeds/), or null when there is no
    /// <c>python3</c>.</summary>
    private async Task<ChildServer?> StartSeedAsync(string script, params string[] args)
    {
        try
        {
            return await ChildServer.StartCommandAsync("python3",
                [Path.Combine(_options.Root, "tests", "ActorImages.Bench", "seeds", script), .. args]);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Console.WriteLine($"  {script}: not measured ({e.Message}); the floor rows are left out");
            return null;
        }
    }

    /// <summary>
    /// Measures the Python servers the cluster replaces, under the same load generator as the cluster's windows:
    /// seed 000's P1 server with the p1 load (8 cameras) and seed 002's tracker with the p3 mix (32 clients, 32 bench
    /// peers registered first), each after <see cref="ReferenceWarmup"/>, as the run's first figures of theirs; the
    /// one-node P1 and the P3 mix windows measure them again in rounds after their reference's. The issue's floor ("at
    /// the least, the cluster beats them everywhere") is the cluster's figure over theirs (<see cref="Floor"/>). They are
    /// reconstructions from the seeds' READMEs (the seeds ship only their clients): a single process each, no
    /// fsync, state in memory, seed 000's window and its image decoding left out.
    /// </summary>
    private async Task SeedsAsync()
    {
        Console.WriteLine("the Python servers the cluster replaces (reconstructed from the seeds' READMEs, tests/ActorImages.Bench/seeds/):");
        string folder = Path.Combine(SinkFolder, $"{_runId}-seed000");
        IPEndPoint[] p1 = [new(SeedHost, 5001)];
        P1Load.Result? ingest = null;
        Sync(); // as before the sink: neither pays for the other's writeback
        await using (var server = await StartSeedAsync("seed000_server.py", SeedHost.ToString(), "5001", folder))
        {
            if (server is not null)
            {
                if (ReferenceWarmup > 0) await P1Load.RunAsync(p1, P1Clients, ReferenceWarmup, _images.CameraJpegs(), $"{_runId}-seed000-w");
                ingest = await P1Load.RunAsync(p1, P1Clients, _options.Seconds, _images.CameraJpegs(), $"{_runId}-seed000");
            }
        }
        if (ingest is not null)
        {
            int kept = Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count() : 0;
            var at = DateTime.Now;
            Console.WriteLine($"  seed 000's P1 server (Python, a thread per connection, no fsync), {P1Clients} clients: "
                + $"{Fmt.N(ingest.PerSecond)} images/s acknowledged ({ingest.Acknowledged.Count} acknowledged, {ingest.Failed} failed"
                + $"{(ingest.FirstError.Length > 0 ? ", first: " + ingest.FirstError : "")}; {kept} files kept after its warm-up and "
                + $"window: it names a file by its second, so each second's last image overwrites the others), {ingest.Latency.Summary()}   [{Fmt.Clock(at)}]");
            _seed000 = new Reference(ingest.PerSecond, 0, $"{Fmt.N(ingest.PerSecond)}/s seed 000, {kept} kept", at);
        }

        IPEndPoint[] p3 = [new(SeedHost, 13377)];
        Sync(); // seed 000's files
        await using (var tracker = await StartSeedAsync("seed002_tracker.py", SeedHost.ToString(), "13377"))
        {
            if (tracker is null) return;
            int registered = await RegisterBenchPeersAsync(p3);
            if (ReferenceWarmup > 0) await P3Load.RunAsync(p3, P3Clients, ReferenceWarmup, 0.10, _runId, checkReplies: true);
            var r = await P3Load.RunAsync(p3, P3Clients, _options.Seconds, 0.10, _runId, checkReplies: true);
            var at = DateTime.Now;
            Console.WriteLine($"  seed 002's tracker (Python, one thread, state in memory), {P3Clients} clients, 90 % LST / 5 % REG / 5 % UPD "
                + $"({registered} peers registered): {Fmt.N(r.PerSecond)} req/s ({Fmt.N(r.Requests)} replies, {r.Errors} errors, "
                + $"{r.Timeouts} timeouts), {r.All.Summary()} (LST p99 {Fmt.Ms(r.Lst.Millis(99))}, writes p99 {Fmt.Ms(r.Writes.Millis(99))})   [{Fmt.Clock(at)}]");
            _seed002 = new Reference(r.PerSecond, 0, $"{Fmt.N(r.PerSecond)} req/s seed 002", at);
        }
        Console.WriteLine();
    }

    /// <summary>Registers the <see cref="P3Clients"/> bench peers (<see cref="P3Load.Reg"/>), client c on
    /// <paramref name="targets"/>[c % count]; returns how many were answered OK.</summary>
    private async Task<int> RegisterBenchPeersAsync(IReadOnlyList<IPEndPoint> targets)
    {
        int registered = 0;
        for (int c = 0; c < P3Clients; c++)
            if ((await P3Load.AskAsync(targets[c % targets.Count], P3Load.Reg(c, _runId)))?.StartsWith("OK ", StringComparison.Ordinal) == true) registered++;
        return registered;
    }

    /// <summary>
    /// Prints and adds the floor's row for <paramref name="scenario"/>: the cluster's figure over the Python seed
    /// server's in the rounds between the nodes' (each right after a round of the window's reference), with the ratio
    /// to the seed's figure at the start of the run beside; at least 1× is the issue's floor. Nothing when the seed was
    /// not measured (no <c>python3</c>).
    /// </summary>
    /// <param name="scenario">The window's name.</param>
    /// <param name="figure">The window's figure.</param>
    /// <param name="unit">Its unit.</param>
    /// <param name="rounds">The seed's figure per round between the nodes' rounds; empty when not measured.</param>
    /// <param name="first">The seed's figure at the start of the run.</param>
    /// <param name="seedName">e.g. <c>seed 000</c>.</param>
    private void Floor(string scenario, double figure, string unit, IReadOnlyList<double> rounds, Reference? first, string seedName)
    {
        double seed = rounds.Count > 0 ? rounds.Average() : 0;
        if (seed <= 0) return;
        double ratio = figure / seed;
        string name = $"floor: {scenario}";
        string text = $"{Fmt.N(seed)} {unit} {seedName}";
        Console.WriteLine($"{name}: {Fmt.N(figure)} {unit} against {seedName}'s Python server in {rounds.Count} rounds between the nodes', "
            + $"{Rounds.Range(rounds)} {unit}, {text}: {Fmt.X(ratio)}"
            + (first is { PerSecond: > 0 } ? $" (to its figure at the start, {first.Named}: {Fmt.X(figure / first.PerSecond)})" : "")
            + $" | floor >= 1.00x | {(ratio >= 1 ? "MET" : "MISSED")}");
        _rows.Add(new Row(name, $"{Fmt.N(figure)} {unit}", text, Fmt.X(ratio), $">= 1.00x {seedName} (Python)", ratio >= 1, "-"));
    }

    // --- references -------------------------------------------------------------------------------------------

    private string SinkFolder => Path.Combine(_options.Root, "run", "bench-sink");

    /// <summary>When the sink's files were last deleted (run/bench-sink.deleted holds the time).</summary>
    private string SinkDeletedStamp => Path.Combine(_options.Root, "run", "bench-sink.deleted");

    /// <summary>How long after a mass deletion new files are slow to create here: on an ext4 file system without a
    /// journal (this machine's), allocating an inode skips every inode freed in the last 60 s (360 s while its
    /// inode-table block is still unwritten) by reading it — measured with <c>perf</c> at a fifth of a node's CPU
    /// right after the sink's 20,000 files were deleted (docs/benchmarks.md).</summary>
    private static readonly TimeSpan DeletedInodesSkipped = TimeSpan.FromSeconds(70);

    /// <summary>Deletes the sink's files, flushes the file system (so the 60 s rule above applies, not the 360 s one),
    /// and notes the time. Called once the last scenario has run, never between a reference and a scenario.</summary>
    private void RemoveSinkFiles()
    {
        if (!Directory.Exists(SinkFolder)) return;
        Directory.Delete(SinkFolder, recursive: true);
        Sync();
        File.WriteAllText(SinkDeletedStamp, DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Truncates every sink file to 0 bytes and flushes the file system: their blocks are free again, their inodes stay
    /// in use until <see cref="RemoveSinkFiles"/> at the end of the run. A mass deletion mid-run would put the windows
    /// after it on a file system that skips the deleted inodes when it creates files: for 60 s, or 360 s while their
    /// block of the inode table is dirty again, which the window's own new files make it (<see cref="DeletedInodesSkipped"/>).
    /// The full run of 2026-12-05 11:44 deleted 186,000 sink files 70 s before its re-replication window (98.8 MB/s);
    /// runs without a deletion before it measured 103.5–148.1 MB/s (README, "What bounds each miss").
    /// </summary>
    /// <returns>How many files were emptied.</returns>
    private int EmptySinkFiles()
    {
        var emptied = 0;
        foreach (var file in Directory.EnumerateFiles(SinkFolder, "*", SearchOption.AllDirectories))
        {
            using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Write);
            if (RandomAccess.GetLength(handle) == 0) continue;
            RandomAccess.SetLength(handle, 0);
            emptied++;
        }
        Sync();
        return emptied;
    }

    /// <summary>Writes every dirty page of the machine to disk (<c>sync</c>).</summary>
    private static void Sync()
    {
        using var sync = Process.Start("sync")!;
        sync.WaitForExit();
    }

    /// <summary>At the start of a run: deletes the sink files an earlier run left (one that was killed) and waits until
    /// the files deleted last, now or when an earlier run ended, no longer slow down the creation of new ones, so
    /// neither the sink nor a node pays for those deletions. Mid-run the sink's files are emptied instead
    /// (<see cref="EmptySinkFiles"/>).</summary>
    private async Task SettleDeletedFilesAsync()
    {
        RemoveSinkFiles();
        if (!File.Exists(SinkDeletedStamp)) return;
        var since = DateTime.UtcNow - DateTime.Parse(File.ReadAllText(SinkDeletedStamp), CultureInfo.InvariantCulture,
            DateTimeStyles.RoundtripKind);
        if (since >= DeletedInodesSkipped || since < TimeSpan.Zero) return;
        var wait = DeletedInodesSkipped - since;
        Console.WriteLine($"  (waiting {wait.TotalSeconds:0} s: the sink's files were deleted {since.TotalSeconds:0} s ago, and new files "
            + "are slow to create for a minute after that on this file system)");
        await Task.Delay(wait);
    }

    /// <summary>
    /// Warm-up of every sink and of the responder measured during the run, seconds: a few seconds of load compile a
    /// reference server's few hot methods. The sink's is short also because every second of it writes about 350 MB of
    /// fsynced files, and this machine's disk slows about fourfold after some 8 GB of those in a row, for minutes
    /// (<see cref="SlowDiskShare"/>): the 30 s warm-up the first sink once had wrote 10 GB and put the one-node P1
    /// window that follows it on the slow disk.
    /// </summary>
    private int ReferenceWarmup => Math.Min(_options.Warmup, 5);

    /// <summary>
    /// A sink slower than this share of the fastest one measured earlier in the run is taken for the disk's slow state,
    /// and the window's line says so: measured with a loop of 100 KB files, each fsynced, the disk stored 3,500-3,700
    /// files/s for the first 7.4 GB, then 830-890 (docs/benchmarks.md). A slow disk slows the sink more than the nodes,
    /// whose chain also waits for their commit and cores, so it lifts a P1 ratio (0.51-0.58x on one node against 0.28x
    /// at the disk's speed, in the same runs).
    /// </summary>
    private const double SlowDiskShare = 0.5;

    /// <summary>The fastest sink measured so far in the run, images per second.</summary>
    private double _fastestSink;

    /// <summary>Length of one round of a window measured in rounds (<see cref="Rounds"/>): the window over the rounds.</summary>
    private double RoundSeconds => (double)_options.Seconds / _options.Rounds;

    /// <summary>A new sink process in a folder of its own under run/bench-sink, named after <paramref name="label"/>.</summary>
    private Task<SinkProcess> StartSinkAsync(string label) =>
        SinkProcess.StartAsync(new IPEndPoint(ReferenceHost, 5001), Path.Combine(SinkFolder, label));

    /// <summary>Measures the P1 sink, after <see cref="ReferenceWarmup"/>: at the start of the run (after any earlier
    /// run's deleted files have settled), or <paramref name="again"/> right after the re-replication window, the nodes
    /// idle.</summary>
    private async Task<Reference> SinkReferenceAsync(bool again)
    {
        if (!again) await SettleDeletedFilesAsync();
        // What the window before left dirty (a node's file system metadata, PostgreSQL's pages) is written first, as
        // before the first measurement, so the sink does not pay for another's writeback.
        else Sync();
        string label = $"{_runId}-sink{(again ? "-again" : "")}";
        SinkProcess.Window window;
        await using (var sink = await StartSinkAsync(label))
        {
            if (ReferenceWarmup > 0) await sink.RunAsync(P1Clients, ReferenceWarmup, _images.CameraJpegs(), label + "-w");
            window = await sink.RunAsync(P1Clients, _options.Seconds, _images.CameraJpegs(), label);
        }
        return SinkReference(window, again ? "(the sink again, right after the window: " : "P1 durable sink (accept, length, bytes, temp file, fsync, rename), ",
            again ? ")" : "");
    }

    /// <summary>The sink's reference from <paramref name="window"/>, printed as one line between
    /// <paramref name="opening"/> and <paramref name="closing"/>.</summary>
    private Reference SinkReference(SinkProcess.Window window, string opening, string closing)
    {
        var r = window.Load;
        var at = DateTime.Now;
        Console.WriteLine($"  {opening}{P1Clients} clients: {Fmt.N(window.PerSecond)} images/s ({r.Acknowledged.Count} acknowledged, "
            + $"{window.Stored} files, {r.Failed} failed{(r.FirstError.Length > 0 ? ", first: " + r.FirstError : "")}; "
            + $"{Fmt.D1(window.BytesPerSecond / 1e6)} MB/s), {r.Latency.Summary()}   [{Fmt.Clock(at)}]{closing}");
        bool slow = window.PerSecond < SlowDiskShare * _fastestSink;
        if (slow)
            Console.WriteLine($"  (the disk was slow: this sink stored {Fmt.N(window.PerSecond)} images/s, the fastest earlier in the run "
                + $"{Fmt.N(_fastestSink)}; a slow disk slows the sink more than the nodes and lifts a P1 ratio)");
        _fastestSink = Math.Max(_fastestSink, window.PerSecond);
        return new Reference(window.PerSecond, window.BytesPerSecond, $"{Fmt.N(window.PerSecond)}/s sink{(slow ? ", disk slow" : "")}", at);
    }

    /// <summary>Measures the UDP responder at the start of the run, after <see cref="ReferenceWarmup"/>.</summary>
    private async Task<Reference> ResponderReferenceAsync()
    {
        P3Load.Result r;
        await using (await ChildServer.StartAsync("responder-p3", ReferenceHost.ToString(), "13377"))
        {
            IPEndPoint[] targets = [new(ReferenceHost, 13377)];
            if (ReferenceWarmup > 0) await P3Load.RunAsync(targets, P3Clients, ReferenceWarmup, 0.10, _runId, checkReplies: false);
            r = await P3Load.RunAsync(targets, P3Clients, _options.Seconds, 0.10, _runId, checkReplies: false);
        }
        return ResponderReference(r, "UDP responder (one thread, a fixed 4,096-byte LST reply), ", "");
    }

    /// <summary>The responder's reference from <paramref name="r"/>, printed as one line between
    /// <paramref name="opening"/> and <paramref name="closing"/>.</summary>
    private static Reference ResponderReference(P3Load.Result r, string opening, string closing)
    {
        var at = DateTime.Now;
        Console.WriteLine($"  {opening}{P3Clients} clients: {Fmt.N(r.PerSecond)} req/s ({Fmt.N(r.Requests)} replies, {r.Timeouts} timeouts), "
            + $"{r.All.Summary()}   [{Fmt.Clock(at)}]{closing}");
        return new Reference(r.PerSecond, 0, $"{Fmt.N(r.PerSecond)} req/s responder", at);
    }

    /// <summary>How the line of a reference measured in rounds opens, e.g. <c>(the sink in 4 rounds between the nodes',
    /// 2,500 ms each, rounds 1,164-1,349 images/s: </c>.</summary>
    /// <param name="reference">The reference's name.</param>
    /// <param name="perSecond">Its figure in each round.</param>
    /// <param name="unit">The figure's unit.</param>
    private string RoundsOpening(string reference, IEnumerable<double> perSecond, string unit) =>
        $"(the {reference} in {_options.Rounds} rounds between the nodes', {Fmt.N(RoundSeconds * 1000)} ms each, rounds "
        + $"{Rounds.Range(perSecond.ToList())} {unit}: ";

    /// <summary>The nodes' P1 rounds, the sink's rounds between them (its reference) and the ratio of each pair.</summary>
    /// <param name="Nodes">The nodes' rounds as one window.</param>
    /// <param name="Sink">The sink's rounds as one reference.</param>
    /// <param name="Ratios">Each pair's ratio, as <see cref="Rounds.Ratios"/> prints them.</param>
    /// <param name="NodesSpent">What the machine and each process group spent in the nodes' rounds.</param>
    /// <param name="SinkSpent">The same in the sink's rounds, the sink's process as <see cref="CpuSpent.Others"/>.</param>
    /// <param name="SinkImages">Images the sink stored in its rounds.</param>
    /// <param name="SinkSeconds">The sink's rounds' length, s.</param>
    /// <param name="Seed">Seed 000's images per second acknowledged in its rounds (each after a sink round), for the
    /// floor; empty when not asked for or not measured.</param>
    private sealed record P1Rounds(P1Load.Result Nodes, Reference Sink, string Ratios, CpuSpent NodesSpent, CpuSpent SinkSpent,
        long SinkImages, double SinkSeconds, IReadOnlyList<double> Seed)
    {
        /// <summary>The node processes' CPU time (user + system) in their rounds.</summary>
        public TimeSpan NodesCpu => NodesSpent.Nodes;

        /// <summary>
        /// <c>CPU per image, the machine's busy time (by process): the nodes' rounds 1.80 ms (…) on 1.60 busy cores; the
        /// sink's 0.50 ms (…) on 1.30 busy cores; 0.70x the sink (1,750 images/s) on the machine's 2 cores allows at most
        /// 1.14 ms per image</c>: whether the cores bound the window (README "What bounds each miss").
        /// </summary>
        /// <param name="share">The target's share of the sink's rate.</param>
        public string DescribeCpu(double share)
        {
            long images = Nodes.Acknowledged.Count;
            if (images == 0 || SinkImages == 0 || NodesSpent.Busy <= TimeSpan.Zero) return "CPU per image: not measured (no images, or no /proc)";
            double allowed = Environment.ProcessorCount / (share * Sink.PerSecond) * 1e3;
            return "CPU per image, the machine's busy time (by process): the nodes' rounds " + NodesSpent.PerUnit(images, Nodes.Seconds, 1e3, "ms", null)
                + "; the sink's " + SinkSpent.PerUnit(SinkImages, SinkSeconds, 1e3, "ms", "sink")
                + string.Create(CultureInfo.InvariantCulture,
                    $"; {share:0.00}x the sink ({Fmt.N(share * Sink.PerSecond)} images/s) on the machine's {Environment.ProcessorCount} cores allows at most {allowed:0.00} ms per image");
        }
    }

    /// <summary>
    /// The P1 load on <paramref name="targets"/> for the window, in rounds alternating with rounds of a sink started for
    /// it (5 s of warm-up first; <see cref="Rounds"/>), the machine's dirty pages written before each round (<c>sync</c>):
    /// the sink's files and the nodes' are then both fsynced and clean when the other side's round starts. With
    /// <paramref name="seed"/>, each sink round is followed by a round of seed 000's Python server (the floor).
    /// </summary>
    private async Task<P1Rounds> P1RoundsAsync(IPEndPoint[] targets, string label, bool seed = false)
    {
        var bases = _images.CameraJpegs();
        string sinkLabel = label + "-sink";
        await EnsureRoomAsync(SinkWindowBytes + NodeWindowBytes, $"the {label} window");
        CpuSpent nodesSpent = CpuSpent.None, sinkSpent = CpuSpent.None;
        List<P1Load.Result> nodeRounds;
        List<SinkProcess.Window> sinkRounds;
        var seedRounds = new List<double>();
        IPEndPoint[] seedTarget = [new(SeedHost, 5001)];
        await using (var sink = await StartSinkAsync(sinkLabel))
        await using (var seedServer = seed
                         ? await StartSeedAsync("seed000_server.py", SeedHost.ToString(), "5001", Path.Combine(SinkFolder, label + "-seed000"))
                         : null)
        {
            if (ReferenceWarmup > 0) await sink.RunAsync(P1Clients, ReferenceWarmup, bases, sinkLabel + "-w");
            if (seedServer is not null && ReferenceWarmup > 0)
                await P1Load.RunAsync(seedTarget, P1Clients, ReferenceWarmup, bases, label + "-seed000-w");
            (nodeRounds, sinkRounds) = await Rounds.AlternateAsync(_options.Rounds, Sync,
                i => SpendingAsync(() => P1Load.RunAsync(targets, P1Clients, RoundSeconds, bases, $"{label}-r{i}"), spent => nodesSpent += spent),
                async i =>
                {
                    var window = await SpendingAsync(() => sink.RunAsync(P1Clients, RoundSeconds, bases, $"{sinkLabel}-r{i}"),
                        spent => sinkSpent += spent, sink.Pid);
                    if (seedServer is null) return window;
                    Sync();
                    seedRounds.Add((await P1Load.RunAsync(seedTarget, P1Clients, RoundSeconds, bases, $"{label}-seed000-r{i}")).PerSecond);
                    return window;
                });
        }
        var merged = SinkProcess.Merge(sinkRounds);
        var reference = SinkReference(merged, RoundsOpening("sink", sinkRounds.Select(w => w.PerSecond), "images/s"), ")");
        return new P1Rounds(P1Load.Result.Merge(nodeRounds), reference,
            Rounds.Ratios(nodeRounds.Select(r => r.PerSecond), sinkRounds.Select(w => w.PerSecond)), nodesSpent, sinkSpent,
            merged.Stored, merged.Load.Seconds, seedRounds);
    }

    // --- the cluster --------------------------------------------------------------------------------------------

    private static Dictionary<string, string> Env(int replicationFactor) => new()
    {
        ["ACTORIMAGES_REPLICATION_FACTOR"] = replicationFactor.ToString(CultureInfo.InvariantCulture),
        ["ACTORIMAGES_P3_REPLIES_PER_SECOND"] = "1000000",
    };

    private static string ShapeName(int nodes) => $"{nodes} node(s), RF{(nodes == 1 ? 1 : 2)}";

    /// <summary>Nodes 1..<paramref name="nodes"/> with replication factor 1 for one node, else 2; started afresh on a change.</summary>
    private async Task ShapeAsync(int nodes)
    {
        int rf = nodes == 1 ? 1 : 2;
        string wanted = ShapeName(nodes);
        if (wanted == _shape) return;
        if (_cluster.RunningNodes().Count > 0) await _cluster.RunAsync(Env(rf), "down");
        await _cluster.RunAsync(Env(rf), "up", "--nodes", nodes.ToString(CultureInfo.InvariantCulture));
        _shape = wanted;
        await Task.Delay(3000); // the joining nodes' first gossip rounds, before any clock starts
        if (rf > 1) await AwaitRepairAsync(nodes, rf);
    }

    /// <summary>
    /// Waits until every catalog entry has <paramref name="rf"/> copies on the nodes now up, so that self-repair does
    /// not copy images inside the window that follows: the one-node scenario stores with replication factor 1, and
    /// without this wait the survivors of each earlier run copied those images (thousands, a backlog growing run
    /// after run) during the three-node P1, P3 and P2 windows. Gives up when the count has not fallen for a minute
    /// (entries whose only copies are on nodes that are not up cannot be repaired) or after 15 minutes.
    /// </summary>
    private async Task AwaitRepairAsync(int nodes, int rf)
    {
        string[] hosts = Enumerable.Range(1, nodes).Select(LocalCluster.Host).ToArray();
        await using var database = await CatalogDatabase.OpenAsync(await PostgresUrlAsync());
        async Task<long> BelowAsync()
        {
            await using var command = database.DataSource.CreateCommand("""
                SELECT count(*) FROM images i
                WHERE (SELECT count(*) FROM replicas r WHERE r.image_id = i.id AND r.host = ANY($1)) < $2
                """);
            command.Parameters.AddWithValue(hosts);
            command.Parameters.AddWithValue((long)rf);
            return (long)(await command.ExecuteScalarAsync())!;
        }
        long below = await BelowAsync(), best = below;
        if (below == 0) return;
        Console.WriteLine($"  (self-repair: {Fmt.N(below)} entries below {rf} copies on the nodes up; waiting for it before the window)");
        var clock = Stopwatch.StartNew();
        var sinceProgress = Stopwatch.StartNew();
        while (below > 0 && clock.Elapsed < TimeSpan.FromMinutes(15) && sinceProgress.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(5000);
            below = await BelowAsync();
            if (below < best) (best, sinceProgress) = (below, Stopwatch.StartNew());
        }
        Console.WriteLine(below == 0
            ? $"  (self-repair done in {clock.Elapsed.TotalSeconds:0} s)"
            : $"  (self-repair: still {Fmt.N(below)} entries below {rf} copies after {clock.Elapsed.TotalSeconds:0} s; going on)");
    }

    private async Task FillAsync(int nodes)
    {
        await ShapeAsync(nodes); // PostgreSQL up, schema migrated
        string url = await PostgresUrlAsync();
        await using var database = await CatalogDatabase.OpenAsync(url);
        long have = await database.Catalog.CountAsync();
        if (have >= _options.Fill)
        {
            Console.WriteLine($"catalog: {Fmt.N(have)} entries already, no fill");
            return;
        }
        var clock = Stopwatch.StartNew();
        await database.Catalog.FillSyntheticAsync(_options.Fill - have, holders: null, factor: 2);
        Console.WriteLine($"catalog: filled {Fmt.N(_options.Fill - have)} synthetic entries (held by 127.0.0.1-3, 2 each; no files) in "
            + $"{clock.Elapsed.TotalSeconds:0} s: {Fmt.N(await database.Catalog.CountAsync())} entries");
        // Started again so that every cache a node builds at start sees the filled catalog.
        await _cluster.RunAsync(Env(nodes == 1 ? 1 : 2), "down");
        _shape = "";
        await ShapeAsync(nodes);
    }

    private async Task<string> PostgresUrlAsync()
    {
        var info = new ProcessStartInfo(Path.Combine(_options.Root, "bin", "postgres")) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("url");
        info.ArgumentList.Add(Path.Combine(_options.Root, "run", "postgres"));
        using var process = Process.Start(info)!;
        string url = (await process.StandardOutput.ReadToEndAsync()).Trim();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 && url.Length > 0 ? url : throw new InvalidOperationException("bin/postgres url run/postgres gave no URL");
    }

    private async Task P1Async(int nodes)
    {
        await ShapeAsync(nodes);
        var bases = _images.CameraJpegs();
        var targets = Enumerable.Range(1, nodes).Select(i => new IPEndPoint(IPAddress.Parse(LocalCluster.Host(i)), 5001)).ToArray();
        long catalog = await LocalCluster.CatalogSizeAsync();
        if (_options.Warmup > 0)
        {
            var w = await P1Load.RunAsync(targets, P1Clients, _options.Warmup, bases, $"{_runId}-p1-{nodes}-w");
            Console.WriteLine($"  (warm-up: {Fmt.N(w.Acknowledged.Count / w.Seconds)} images/s acknowledged)");
        }
        P1Rounds rounds;
        var stepsBefore = await IngestSteps.ReadAsync(nodes);
        var sampler = new RssSampler(_cluster);
        try
        {
            rounds = await P1RoundsAsync(targets, $"{_runId}-p1-{nodes}", seed: nodes == 1);
        }
        finally
        {
            await sampler.DisposeAsync();
        }
        var rss = sampler.Peaks;
        var r = rounds.Nodes;
        Console.WriteLine("  " + IngestSteps.Describe(stepsBefore, await IngestSteps.ReadAsync(nodes)));
        var md5s = r.Acknowledged.Select(s => BenchImages.Md5(P1Load.Image(bases, s))).ToList();
        int listed = await CountListedAsync(md5s);
        double rate = listed / r.Seconds;
        string name = nodes == 1 ? "P1 ingest, 1 node RF1" : "P1 ingest, 3 nodes RF2";
        double share = nodes == 1 ? 0.70 : 0.35;
        var sink = rounds.Sink;
        var compared = Compare(rate, sink, _sink);
        double ratio = compared.Ratio;
        Console.WriteLine($"{name}: {Fmt.N(rate)} images/s stored ({listed} of {r.Acknowledged.Count} acknowledged listed by md5, {r.Failed} failed"
            + $"{(r.FirstError.Length > 0 ? ", first: " + r.FirstError : "")}; catalog {Fmt.N(catalog)} before), {r.Latency.Summary()} "
            + $"| reference {sink.Named} | {compared.Text}; rounds {rounds.Ratios} | target >= {share:0.00}x | Java {(nodes == 1 ? "181/s" : "15/s")}");
        _rows.Add(new Row(name, $"{Fmt.N(rate)} images/s", sink.Text, Fmt.X(ratio), $">= {share:0.00}x sink ({Fmt.N(share * sink.PerSecond)}/s)",
            sink.PerSecond > 0 ? ratio >= share : null, nodes == 1 ? "181/s" : "15/s"));
        Console.WriteLine("  " + rounds.DescribeCpu(share));
        Rss(name, rss);
        if (nodes == 1) Floor(name, rate, "images/s", rounds.Seed, _seed000, "seed 000");
    }

    /// <summary>How many of <paramref name="md5s"/> node 1's catalog lists; waits up to 20 s for the last ones.</summary>
    private static async Task<int> CountListedAsync(IReadOnlyList<string> md5s)
    {
        var missing = new HashSet<string>(md5s);
        var until = Stopwatch.StartNew();
        while (missing.Count > 0 && until.Elapsed < TimeSpan.FromSeconds(20))
        {
            var found = new System.Collections.Concurrent.ConcurrentBag<string>();
            await Parallel.ForEachAsync(missing.ToList(), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (md5, ct) =>
            {
                try
                {
                    if ((await LocalCluster.GetAsync(1, "/api/images/" + md5, ct)).Status == 200) found.Add(md5);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // asked again in the next round
                }
            });
            missing.ExceptWith(found);
            if (missing.Count > 0) await Task.Delay(1000);
        }
        return md5s.Distinct().Count() - missing.Count;
    }

    private async Task P3Async()
    {
        await ShapeAsync(3);
        var targets = Enumerable.Range(1, 3).Select(i => new IPEndPoint(IPAddress.Parse(LocalCluster.Host(i)), 13377)).ToArray();
        long catalog = await LocalCluster.CatalogSizeAsync();
        int registered = await RegisterBenchPeersAsync(targets);
        if (_options.Warmup > 0)
        {
            var w = await P3Load.RunAsync(targets, P3Clients, _options.Warmup, 0.10, _runId, checkReplies: true);
            Console.WriteLine($"  (warm-up: {Fmt.N(w.PerSecond)} req/s)");
        }
        // Rounds of the mix, then of the read path alone (every request an LST, answered from each node's view: beside
        // the target's mix, it tells the cost of the reads from that of the writes, each a durable commit through the
        // singleton), then of the responder (Rounds).
        List<(P3Load.Result Mix, P3Load.Result Reads)> nodeRounds;
        List<P3Load.Result> responderRounds;
        // Seed 002's tracker after each responder round, with the same bench peers registered (the floor).
        var seedRounds = new List<double>();
        IPEndPoint[] seedTarget = [new(SeedHost, 13377)];
        var sampler = new RssSampler(_cluster);
        var trackerBefore = await TrackerSteps.ReadAsync(3);
        // What the machine and each process group spent in each kind of round (P3Budget).
        CpuSpent mixCpu = CpuSpent.None, readsCpu = CpuSpent.None, responderCpu = CpuSpent.None;
        try
        {
            await using var server = await ChildServer.StartAsync("responder-p3", ReferenceHost.ToString(), "13377");
            await using var seed = await StartSeedAsync("seed002_tracker.py", SeedHost.ToString(), "13377");
            IPEndPoint[] reference = [new(ReferenceHost, 13377)];
            if (ReferenceWarmup > 0) await P3Load.RunAsync(reference, P3Clients, ReferenceWarmup, 0.10, _runId, checkReplies: false);
            if (seed is not null)
            {
                await RegisterBenchPeersAsync(seedTarget);
                if (ReferenceWarmup > 0) await P3Load.RunAsync(seedTarget, P3Clients, ReferenceWarmup, 0.10, _runId, checkReplies: true);
            }
            (nodeRounds, responderRounds) = await Rounds.AlternateAsync(_options.Rounds, null,
                async _ => (await SpendingAsync(() => P3Load.RunAsync(targets, P3Clients, RoundSeconds, 0.10, _runId, checkReplies: true),
                        spent => mixCpu += spent),
                    await SpendingAsync(() => P3Load.RunAsync(targets, P3Clients, RoundSeconds, 0, _runId, checkReplies: true),
                        spent => readsCpu += spent)),
                async _ =>
                {
                    var round = await SpendingAsync(() => P3Load.RunAsync(reference, P3Clients, RoundSeconds, 0.10, _runId, checkReplies: false),
                        spent => responderCpu += spent, server.Pid);
                    if (seed is not null)
                        seedRounds.Add((await P3Load.RunAsync(seedTarget, P3Clients, RoundSeconds, 0.10, _runId, checkReplies: true)).PerSecond);
                    return round;
                });
        }
        finally
        {
            await sampler.DisposeAsync();
        }
        var trackerAfter = await TrackerSteps.ReadAsync(3);
        var rss = sampler.Peaks;
        var r = P3Load.Result.Merge(nodeRounds.Select(n => n.Mix).ToList());
        var reads = P3Load.Result.Merge(nodeRounds.Select(n => n.Reads).ToList());
        for (int c = 0; c < P3Clients; c++) await P3Load.AskAsync(targets[c % 3], $"END {P3Load.Password} {P3Load.FirstPort + c}");
        var responder = ResponderReference(P3Load.Result.Merge(responderRounds),
            RoundsOpening("responder", responderRounds.Select(x => x.PerSecond), "req/s"), ")");
        const string name = "P3 tracker, 90 % LST";
        var compared = Compare(r.PerSecond, responder, _responder);
        double ratio = compared.Ratio;
        double p99 = r.All.Millis(99);
        Console.WriteLine($"{name} / 5 % REG / 5 % UPD, {P3Clients} clients over 3 nodes ({registered} peers registered, catalog {Fmt.N(catalog)}): "
            + $"{Fmt.N(r.PerSecond)} req/s ({Fmt.N(r.Requests)} replies, {r.Errors} errors, {r.Timeouts} timeouts), {r.All.Summary()} "
            + $"(LST p99 {Fmt.Ms(r.Lst.Millis(99))}, writes p99 {Fmt.Ms(r.Writes.Millis(99))}) | reference {responder.Named} "
            + $"| {compared.Text}; rounds {Rounds.Ratios(nodeRounds.Select(n => n.Mix.PerSecond), responderRounds.Select(x => x.PerSecond))} "
            + "| target >= 0.80x and p99 <= 2 ms | Java 1,862 req/s");
        _rows.Add(new Row(name, $"{Fmt.N(r.PerSecond)} req/s, p99 {Fmt.Ms(p99)}", responder.Text, Fmt.X(ratio), ">= 0.80x responder, p99 <= 2 ms",
            responder.PerSecond > 0 ? ratio >= 0.8 && p99 <= 2 : null, "1,862 req/s"));
        Floor(name, r.PerSecond, "req/s", seedRounds, _seed002, "seed 002");
        Console.WriteLine("  " + TrackerSteps.Describe(trackerBefore, trackerAfter));
        foreach (string line in P3Budget.Describe(r, mixCpu, reads, readsCpu, P3Load.Result.Merge(responderRounds), responderCpu))
            Console.WriteLine("  " + line);
        Rss("P3 tracker", rss);
        const string readsName = "P3 tracker, LST only";
        var readsCompared = Compare(reads.PerSecond, responder, _responder);
        Console.WriteLine($"{readsName}, {P3Clients} clients over 3 nodes: {Fmt.N(reads.PerSecond)} req/s ({Fmt.N(reads.Requests)} replies, "
            + $"{reads.Errors} errors, {reads.Timeouts} timeouts), {reads.All.Summary()} | reference {responder.Named} "
            + $"| {readsCompared.Text}; rounds {Rounds.Ratios(nodeRounds.Select(n => n.Reads.PerSecond), responderRounds.Select(x => x.PerSecond))} "
            + "| no target of its own (the read path of the row above)");
        _rows.Add(new Row(readsName, $"{Fmt.N(reads.PerSecond)} req/s, p99 {Fmt.Ms(reads.All.Millis(99))}", responder.Text, Fmt.X(readsCompared.Ratio),
            "(read path of the row above)", null, "-"));
    }

    /// <summary>
    /// Scale-out on one machine: the P1 load of <see cref="P1Async"/> over 1, 3 and 5 nodes (replication factor 1,
    /// then 2), with the nodes' CPU time per acknowledged image (each node process's user + system time over the
    /// nodes' rounds; PostgreSQL's is not counted). On two shared cores more nodes mean more processes per core, so this
    /// shows how cost grows with nodes, not what one machine per node would give.
    /// </summary>
    private async Task ScaleAsync()
    {
        var bases = _images.CameraJpegs();
        foreach (int nodes in new[] { 1, 3, 5 })
        {
            await ShapeAsync(nodes);
            var targets = Enumerable.Range(1, nodes).Select(i => new IPEndPoint(IPAddress.Parse(LocalCluster.Host(i)), 5001)).ToArray();
            if (_options.Warmup > 0) await P1Load.RunAsync(targets, P1Clients, _options.Warmup, bases, $"{_runId}-scale-{nodes}-w");
            var rounds = await P1RoundsAsync(targets, $"{_runId}-scale-{nodes}");
            var r = rounds.Nodes;
            double cpu = rounds.NodesCpu.TotalMilliseconds;
            double rate = r.PerSecond;
            double perImage = r.Acknowledged.Count == 0 ? double.NaN : cpu / r.Acknowledged.Count;
            var sink = rounds.Sink;
            var compared = Compare(rate, sink, _sink);
            string name = $"Scale-out, P1 over {nodes} node(s), RF{(nodes == 1 ? 1 : 2)}";
            Console.WriteLine($"{name}: {Fmt.N(rate)} images/s acknowledged ({r.Failed} failed), {r.Latency.Summary()}, nodes' CPU "
                + $"{cpu / 1000 / r.Seconds:0.00} cores, {perImage:0.0} ms per image | reference {sink.Named} | {compared.Text}; rounds {rounds.Ratios}");
            _rows.Add(new Row(name, $"{Fmt.N(rate)} images/s, {perImage:0.0} ms CPU/image", sink.Text, Fmt.X(compared.Ratio), "(how cost grows with nodes)", null, "-"));
        }
        // Back to three nodes the way an operator shrinks (bin/cluster scale 3: nodes 5 and 4 leave gracefully and move
        // their copies to the rest). Stopped with the whole cluster instead, images whose two copies are on nodes 4 and
        // 5 stay there, and no later three-node run can repair them (308 of them kept the re-replication scenario from
        // ever seeing every image on both survivors).
        Console.WriteLine("  (scale: nodes 5 and 4 leave gracefully, moving their copies to nodes 1-3)");
        await _cluster.RunAsync(Env(2), "scale", "3");
        _shape = ShapeName(3);
        await AwaitRepairAsync(3, 2);
    }

    /// <summary>Runs <paramref name="window"/> and hands what the machine and each process group spent meanwhile
    /// (<see cref="CpuReading"/>: the running nodes, this generator, the cluster's PostgreSQL, <paramref name="others"/>)
    /// to <paramref name="spent"/>.</summary>
    /// <param name="window">The window, e.g. one round of a load.</param>
    /// <param name="spent">Receives the CPU spent from just before the window to just after it.</param>
    /// <param name="others">Other processes to count apart (a reference server).</param>
    /// <returns>The window's result.</returns>
    private async Task<T> SpendingAsync<T>(Func<Task<T>> window, Action<CpuSpent> spent, params int[] others)
    {
        var before = CpuNow(others);
        var result = await window();
        if (before is not null && CpuNow(others) is { } after) spent(after.Since(before));
        return result;
    }

    /// <summary>The CPU counters now (<see cref="CpuReading.Take"/>), with the running nodes and the cluster's
    /// PostgreSQL; null when a counter file vanished while it was read (a window without both readings counts
    /// nothing).</summary>
    private CpuReading? CpuNow(IEnumerable<int> others)
    {
        try
        {
            return CpuReading.Take(NodePids(), Path.Combine(_options.Root, "run", "postgres", "data", "postmaster.pid"), others);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The process ids of the running nodes.</summary>
    private List<int> NodePids() => _cluster.RunningNodes().Select(_cluster.Pid).OfType<int>().ToList();

    /// <summary>
    /// Re-replication after a node is lost, while serving: three nodes with replication factor 2 hold what the earlier
    /// scenarios stored; node 3 is killed (<c>bin/cluster kill 3</c>) while 8 UDP clients keep asking nodes 1 and 2
    /// for <c>LST</c>; self-repair copies everything node 3 held to the survivors. The figure is the bytes the survivors
    /// gained (<c>/api/stats</c>, per host) from node 3's removal (node 1's <c>/api/cluster</c> no longer lists it) to
    /// the last copied byte, over that time, as a ratio to the sink's MB/s. Not meaningful after <c>--fill</c> (synthetic entries have no files to copy).
    /// </summary>
    private async Task RepairAsync()
    {
        await ShapeAsync(3);
        string[] live = [LocalCluster.Host(1), LocalCluster.Host(2)];
        var start = await StatsAsync();
        if (start is null || start.Value.ByHost.GetValueOrDefault(LocalCluster.Host(3)) == 0)
        {
            Console.WriteLine("re-replication: node 3 holds nothing (run p1 or p2 first); skipped");
            return;
        }
        // Synthetic entries (--fill, now or in an earlier run) list holders but have no files: repair would try, and
        // fail, to copy every one of them, and the figure would mean nothing.
        long listed = start.Value.ByHost[LocalCluster.Host(3)];
        long onDisk = FolderBytes(Path.Combine(_options.Root, "run", "node-3"));
        if (listed > 2 * onDisk)
        {
            Console.WriteLine($"re-replication: the catalog lists {Fmt.N(listed)} bytes on node 3 but its folder holds "
                + $"{Fmt.N(onDisk)}: entries without files (synthetic ones from --fill?); skipped. Start from an empty "
                + "catalog: bin/cluster down; rm -rf run/postgres run/node-*");
            return;
        }
        // The survivors copy what node 3 holds, then the sink measures again.
        await EnsureRoomAsync(listed + SinkWindowBytes + RoomMarginBytes, "re-replication");
        long wanted = 2 * start.Value.Bytes;
        await _cluster.RunAsync(Env(2), "kill", "3");
        _shape = ""; // node 3 stays down: a later scenario starts the cluster again
        var clock = Stopwatch.StartNew();
        // What the survivors hold, for the timeline's sampler (another thread) to read.
        var heldNow = new long[] { live.Sum(h => start.Value.ByHost.GetValueOrDefault(h)) };
        var timeline = new MachineTimeline(Path.Combine(_options.Root, "run"), () => Volatile.Read(ref heldNow[0]),
            NodePids, TimeSpan.FromSeconds(5));
        var targets = live.Select(h => new IPEndPoint(IPAddress.Parse(h), 13377)).ToArray();
        var serving = P3Load.RunAsync(targets, 8, 20, 0, _runId, checkReplies: true);
        // The window starts when node 1 no longer lists node 3 (failure detection, downing and removal are over; self-
        // repair starts then) and ends at the last byte the survivors gained; bytes gained before it (a copy of an
        // earlier scenario still landing) are not counted. Each survivor's bytes and when it last gained some are kept
        // too: the copies of a pair go one way or the other, and a survivor that is done early leaves the other copying
        // alone (docs/benchmarks.md, "Re-replication missed at 20:22").
        TimeSpan? removed = null, first = null, last = null;
        var held = live.ToDictionary(h => h, h => start.Value.ByHost.GetValueOrDefault(h));
        var heldBefore = new Dictionary<string, long>(held);
        var heldAtRemoval = heldBefore;
        var lastGain = live.ToDictionary(h => h, _ => (TimeSpan?)null);
        // When the LST load ended and what the survivors held then: the rate while serving and after it, apart.
        (TimeSpan At, long Held)? served = null;
        while (clock.Elapsed < TimeSpan.FromMinutes(5) && held.Values.Sum() < wanted)
        {
            await Task.Delay(250);
            if (served is null && serving.IsCompleted) served = (clock.Elapsed, held.Values.Sum());
            if (await StatsAsync() is not { } now) continue;
            if (removed is null && !await ListsAsync(1, LocalCluster.Host(3)))
            {
                removed = clock.Elapsed;
                heldAtRemoval = new Dictionary<string, long>(held);
            }
            foreach (var h in live)
            {
                long b = now.ByHost.GetValueOrDefault(h);
                if (b <= held[h]) continue;
                held[h] = b;
                if (removed is null) continue;
                lastGain[h] = last = clock.Elapsed;
                first ??= last;
            }
            Volatile.Write(ref heldNow[0], held.Values.Sum());
        }
        await timeline.DisposeAsync();
        var reads = await serving;
        long liveNow = held.Values.Sum(), liveAtRemoval = heldAtRemoval.Values.Sum();
        long copied = liveNow - liveAtRemoval;
        double seconds = removed is { } f && last is { } l && l > f ? (l - f).TotalSeconds : double.NaN;
        double rate = copied / seconds;
        var sink = await SinkReferenceAsync(again: true);
        var compared = Compare(rate, sink, _sink, bytes: true);
        double ratio = compared.Ratio;
        string done = liveNow >= wanted ? "every image on both survivors" : $"incomplete after 5 min: {Fmt.N(liveNow)} of {Fmt.N(wanted)} bytes";
        const string name = "Re-replication after a node is lost";
        Console.WriteLine($"{name}: {Fmt.D1(copied / 1e6)} MB copied in {seconds:0.0} s from node 3's removal ({removed?.TotalSeconds:0.0} s after the kill; "
            + $"first byte {first?.TotalSeconds:0.0} s, {Fmt.D1((liveAtRemoval - heldBefore.Values.Sum()) / 1e6)} MB before the removal not counted), "
            + $"{Fmt.D1(rate / 1e6)} MB/s, {done}; meanwhile LST on the survivors {Fmt.N(reads.PerSecond)} req/s, {reads.All.Summary()}, "
            + $"{reads.Errors + reads.Timeouts} errors or timeouts | reference {Fmt.D1(sink.BytesPerSecond / 1e6)} MB/s sink [{Fmt.Clock(sink.At)}] "
            + $"| {compared.Text} | target >= 0.30x");
        Console.WriteLine("  (per survivor, received from node 3's removal: " + string.Join("; ", live.Select(h =>
            $"{h} {Fmt.D1((held[h] - heldAtRemoval[h]) / 1e6)} MB, its last byte at {(lastGain[h] is { } g ? $"{g.TotalSeconds:0.0} s" : "none")}"))
            + " after the kill)");
        if (removed is { } r0 && last is { } l0 && served is { } s0 && s0.At > r0 && s0.At < l0)
            Console.WriteLine($"  (while the LST load ran, from the removal to {s0.At.TotalSeconds:0.0} s: {Fmt.D1((s0.Held - liveAtRemoval) / 1e6)} MB, "
                + $"{Fmt.D1((s0.Held - liveAtRemoval) / 1e6 / (s0.At - r0).TotalSeconds)} MB/s; after it: {Fmt.D1((liveNow - s0.Held) / 1e6)} MB in "
                + $"{(l0 - s0.At).TotalSeconds:0.0} s, {Fmt.D1((liveNow - s0.Held) / 1e6 / (l0 - s0.At).TotalSeconds)} MB/s)");
        // Where the window's time went, from the kill on: the survivors' cores and the disk's latency (a copy of a file
        // that is no longer in the page cache waits for a read; docs/benchmarks.md).
        var lines = timeline.Lines("MB/s copied", 1e6);
        if (lines.Count > 0) Console.WriteLine("  (every 5 s from the kill, from /proc:\n    " + string.Join("\n    ", lines) + ")");
        _rows.Add(new Row(name, $"{Fmt.D1(rate / 1e6)} MB/s", $"{Fmt.D1(sink.BytesPerSecond / 1e6)} MB/s sink", Fmt.X(ratio), ">= 0.30x sink MB/s",
            sink.BytesPerSecond > 0 ? liveNow >= wanted && ratio >= 0.3 : null, "~22 images/s"));
    }

    /// <summary>Whether node <paramref name="node"/>'s <c>/api/cluster</c> lists a member on <paramref name="host"/>
    /// (removed members are not listed); true when it does not answer, so a slow answer never starts a window.</summary>
    private static Task<bool> ListsAsync(int node, string host) =>
        LocalCluster.GetJsonAsync(node, "/api/cluster",
            root => root.GetProperty("members").EnumerateArray().Any(m => m.GetProperty("host").GetString() == host), true);

    /// <summary>Node 1's <c>/api/stats</c>: catalog bytes and bytes per host; null when it does not answer.</summary>
    /// <summary>Bytes of every file under <paramref name="folder"/>; 0 when it does not exist.</summary>
    private static long FolderBytes(string folder) =>
        Directory.Exists(folder)
            ? new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : 0;

    private static Task<(long Bytes, Dictionary<string, long> ByHost)?> StatsAsync() =>
        LocalCluster.GetJsonAsync<(long, Dictionary<string, long>)?>(1, "/api/stats", root =>
            (root.GetProperty("bytes").GetInt64(),
                root.GetProperty("bytesByHost").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64())), null);

    private async Task P2Async()
    {
        await ShapeAsync(3);
        byte[] padded = _images.LargePng();
        var uploads = new P2Uploads(padded, _images.Read("astronaut.png").Length, _options.P2Deflate);
        long catalog = await LocalCluster.CatalogSizeAsync();
        if (_options.Warmup > 0)
        {
            var w = await P2Load.RunAsync(3, P2Clients, _options.Warmup, uploads, _runId + "w");
            Console.WriteLine($"  (warm-up: {Fmt.D1(w.MegabytesPerSecond)} MB/s)");
        }
        P2Load.Result r;
        IReadOnlyDictionary<int, long> rss;
        var stepsBefore = await IngestSteps.ReadAsync(3);
        var sampler = new RssSampler(_cluster);
        // Where the two cores go: the load generator shares them with the nodes; with --p2-deflate live it deflates
        // every upload as it sends it, as the seed-001 client does on its own machine.
        var spent = CpuSpent.None;
        try
        {
            r = await SpendingAsync(() => P2Load.RunAsync(3, P2Clients, _options.Seconds, uploads, _runId), s => spent = s);
        }
        finally
        {
            await sampler.DisposeAsync();
        }
        double generatorMs = spent.Generator.TotalMilliseconds, nodesMs = spent.Nodes.TotalMilliseconds,
            postgresMs = spent.Postgres.TotalMilliseconds;
        rss = sampler.Peaks;
        Console.WriteLine("  " + IngestSteps.Describe(stepsBefore, await IngestSteps.ReadAsync(3)));
        if (r.Uploads > 0)
            Console.WriteLine($"  CPU in the window, per upload and its download: the load generator {generatorMs / r.Uploads:0.0} ms "
                + $"({generatorMs / 1000 / r.Seconds:0.00} cores; {(_options.P2Deflate == P2Deflate.Live ? "it deflates each upload as it sends it, as the seed-001 client does" : "uploads deflated before the window but for each one's label")}), "
                + $"the nodes {nodesMs / r.Uploads:0.0} ms ({nodesMs / 1000 / r.Seconds:0.00} cores), "
                + $"PostgreSQL {postgresMs / r.Uploads:0.0} ms ({postgresMs / 1000 / r.Seconds:0.00} cores)");
        const string name = "P2 upload+download";
        double ratio = r.MegabytesPerSecond / SeedP2MegabytesPerSecond;
        Console.WriteLine($"{name} {padded.Length / 1000} KB, {P2Clients} clients over 3 nodes (permessage-deflate {(r.Deflate ? "accepted" : "declined")}, uploads deflated {(_options.P2Deflate == P2Deflate.Live ? "as sent" : "ahead")}, "
            + $"catalog {Fmt.N(catalog)}): {Fmt.D1(r.MegabytesPerSecond)} MB/s (up {Fmt.D1(r.UpBytes / 1e6 / r.Seconds)}, down {Fmt.D1(r.DownBytes / 1e6 / r.Seconds)}; "
            + $"{r.Uploads} uploads, {r.Downloads} downloads, {r.Failed} failed{(r.FirstError.Length > 0 ? ", first: " + r.FirstError : "")}), "
            + $"upload {r.Up.Summary()}, download {r.Down.Summary()} | reference 34 MB/s, seed 001's own figure (no Python server here: "
            + $"not measured on this machine) | {Fmt.X(ratio)} | target >= 3.00x (102 MB/s) | Java 26.6 MB/s");
        _rows.Add(new Row(name, $"{Fmt.D1(r.MegabytesPerSecond)} MB/s", "34 MB/s seed 001 (not measured here)", Fmt.X(ratio), ">= 3.00x (102 MB/s)",
            ratio >= 3, "26.6 MB/s"));
        Rss("P2 transfer", rss);
    }

    private async Task ProbesAsync()
    {
        await ShapeAsync(3);
        long catalog = await LocalCluster.CatalogSizeAsync();
        Console.WriteLine($"latency probes, one request at a time on node 1, catalog {Fmt.N(catalog)} entries:");
        foreach (var probe in await Probes.RunAsync(_images, _runId, _options.ProbeRequests))
        {
            Console.WriteLine($"  {probe.Name}: {probe.Latency.Count} answered, {probe.Failed} failed, {probe.Latency.Summary()} ({probe.Note}); {probe.InNode?.ToString() ?? "in the node: none recorded"}");
            _rows.Add(new Row("probe: " + probe.Name,
                $"node p99 <= {(probe.InNode is { } n ? Fmt.Ms(n.P99BoundMs) : "n/a")} (client p99 {Fmt.Ms(probe.Latency.Millis(99))}){(probe.Failed > 0 ? $", {probe.Failed} failed" : "")}",
                "-", "-", "p99 <= 20 ms in the node", probe.InNode?.Met, "-"));
        }
    }

    private void Rss(string scenario, IReadOnlyDictionary<int, long> peaks)
    {
        long max = peaks.Count == 0 ? 0 : peaks.Values.Max();
        string each = string.Join(", ", peaks.Select(p => $"node {p.Key} {p.Value / 1_000_000} MB"));
        Console.WriteLine($"  node RSS during {scenario}: peak {each} | target <= 300 MB each | {(max <= RssTarget ? "MET" : "MISSED")}");
        _rows.Add(new Row("RSS peak, " + scenario, $"{max / 1_000_000} MB", "-", "-", "<= 300 MB", peaks.Count > 0 && max <= RssTarget, "-"));
    }

    private void PrintSummary()
    {
        if (_rows.Count == 0) return;
        Console.WriteLine();
        Console.WriteLine($"summary (run {_runId}; {Environment.ProcessorCount} shared cores; each ratio to its reference measured in rounds "
            + "alternating with the figure's, or, for re-replication, right after it):");
        string[] header = ["scenario", "figure", "reference", "ratio", "target", "verdict", "Java version"];
        var cells = _rows.Select(r => new[] { r.Scenario, r.Figure, r.Reference, r.Ratio, r.Target, r.Met switch { true => "MET", false => "MISSED", null => "-" }, r.Java }).Prepend(header).ToList();
        int[] width = Enumerable.Range(0, header.Length).Select(i => cells.Max(c => c[i].Length)).ToArray();
        foreach (var row in cells)
        {
            Console.WriteLine("  " + string.Concat(row.Select((cell, i) => i < row.Length - 1 ? cell.PadRight(width[i] + 2) : cell)).TrimEnd());
        }
    }
}

/// <summary>A reference server: this program started again as a child process (<c>sink-p1</c> or <c>responder-p3</c>).</summary>
internal sealed class ChildServer : IAsyncDisposable
{
    private static readonly List<Process> Running = [];
    private static readonly List<PosixSignalRegistration> Signals = [];
    private readonly Process _process;

    static ChildServer()
    {
        // Ctrl-C or SIGTERM must not leave a reference server behind.
        void KillAll()
        {
            lock (Running)
            {
                foreach (var process in Running) process.Kill();
                Running.Clear();
            }
        }
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            Signals.Add(PosixSignalRegistration.Create(signal, _ =>
            {
                KillAll();
                Console.Error.WriteLine("bench: interrupted; the cluster may still run (bin/cluster down)");
            }));
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    private ChildServer(Process process)
    {
        _process = process;
        lock (Running) Running.Add(process);
    }

    /// <summary>Starts it with <paramref name="args"/> and waits for its <c>ready</c> line.</summary>
    public static Task<ChildServer> StartAsync(params string[] args)
    {
        string host = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? StartCommandAsync(host, [typeof(ChildServer).Assembly.Location, .. args])
            : StartCommandAsync(host, args);
    }

    /// <summary>Starts <paramref name="command"/> with <paramref name="args"/> (a seed server in Python) and waits
    /// for its <c>ready</c> line.</summary>
    /// <exception cref="System.ComponentModel.Win32Exception">There is no such command.</exception>
    /// <exception cref="InvalidOperationException">It did not say <c>ready</c> within 30 s.</exception>
    public static async Task<ChildServer> StartCommandAsync(string command, IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = false };
        foreach (string arg in args) info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string? line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line != "ready")
        {
            process.Kill();
            throw new InvalidOperationException($"the reference server ({string.Join(' ', args)}) did not start");
        }
        return new ChildServer(process);
    }

    /// <summary>Its process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Kills it.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (Running) Running.Remove(_process);
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
