using System.Globalization;

namespace ActorImages.Bench;

/// <summary>
/// Where a window's time goes, every few seconds, from <c>/proc</c>: the work done (a caller's counter, e.g. the bytes
/// the survivors gained), each process group's CPU (the nodes, the load generator, PostgreSQL), the machine's busy
/// and I/O-wait cores, and the disk of the run folder — MB read and written per second, the mean latency of a read
/// and of a write (ms, the kernel's own time per completed request, as iostat's <c>r_await</c>/<c>w_await</c>) and
/// the share of the time it was busy. Added for re-replication, whose rate spreads from run to run: it tells the
/// window's phases apart — the cores shared with the serving load, a wait for cold source files, the cores alone
/// (README "What bounds each miss"; docs/benchmarks.md, "2026-12-05 (14:30–15:50)"). PostgreSQL is the cluster's own
/// server, the postmaster of <c>run/postgres</c> and its children, not every postgres process on the machine (a test
/// run's private server beside the bench would count otherwise). Linux only; on a machine without <c>/proc</c> it
/// prints nothing.
/// </summary>
internal sealed class MachineTimeline : IAsyncDisposable
{
    private const double SectorBytes = 512;

    /// <summary>One reading of the counters, all cumulative: the work, the process groups' CPU and the machine's
    /// (<see cref="CpuReading"/>, by pid, since processes come and go between readings: a killed node, a closed
    /// connection's backend), the disk's.</summary>
    private sealed record Reading(TimeSpan At, long Work, CpuReading Cpu, DiskCounters Disk);

    /// <summary>The cumulative counters of one block device (<c>/proc/diskstats</c>, fields 4–13).</summary>
    private sealed record DiskCounters(long Reads, long SectorsRead, long ReadMs, long Writes, long SectorsWritten, long WriteMs, long BusyMs);

    private readonly Func<long> _work;
    private readonly Func<IReadOnlyList<int>> _nodePids;
    private readonly string? _device;
    private readonly string _postmasterPidFile;
    private readonly TimeSpan _every;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly List<Reading> _readings = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    /// <summary>Starts sampling now, and every <paramref name="every"/> until disposed.</summary>
    /// <param name="folder">A folder on the disk to watch (the run folder).</param>
    /// <param name="work">The work done so far, cumulative (e.g. bytes copied); read at each sample.</param>
    /// <param name="nodePids">The pids of the node processes to count, read at each sample.</param>
    /// <param name="every">The interval between samples.</param>
    public MachineTimeline(string folder, Func<long> work, Func<IReadOnlyList<int>> nodePids, TimeSpan every)
    {
        _work = work;
        _nodePids = nodePids;
        _every = every;
        _device = DeviceOf(folder);
        _postmasterPidFile = Path.Combine(folder, "postgres", "data", "postmaster.pid");
        _sampling = Task.Run(async () =>
        {
            while (true)
            {
                Sample();
                try
                {
                    await Task.Delay(_every, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });
    }

    /// <summary>Takes one last reading, unless the last was less than half an interval ago (a sliver of an interval
    /// would print a rate of a few hundred milliseconds), and stops.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        TimeSpan? lastAt;
        lock (_readings) lastAt = _readings.Count > 0 ? _readings[^1].At : null;
        if (lastAt is null || _clock.Elapsed - lastAt >= _every / 2) Sample();
        _stop.Dispose();
    }

    /// <summary>
    /// One line per interval (its end on the clock started with this sampler), the work per second in the caller's
    /// unit over <paramref name="divisor"/> (e.g. 1e6 for MB/s), the cores of each process group and of the machine,
    /// and the disk.
    /// </summary>
    /// <param name="unit">The work's unit per second as printed, e.g. <c>MB/s</c>.</param>
    /// <param name="divisor">What the work is divided by before printing.</param>
    /// <returns>The lines, without indentation; none without <c>/proc</c>.</returns>
    public IReadOnlyList<string> Lines(string unit, double divisor)
    {
        var lines = new List<string>();
        List<Reading> readings;
        lock (_readings) readings = [.. _readings];
        for (var i = 1; i < readings.Count; i++)
        {
            Reading a = readings[i - 1], b = readings[i];
            double s = (b.At - a.At).TotalSeconds;
            if (s <= 0) continue;
            string Cores(TimeSpan used) => (used.TotalSeconds / s).ToString("0.00", CultureInfo.InvariantCulture);
            var cpu = b.Cpu.Since(a.Cpu);
            var d = Delta(a.Disk, b.Disk);
            string disk = _device is null ? "disk n/a" : string.Create(CultureInfo.InvariantCulture,
                $"{_device} read {d.SectorsRead * SectorBytes / 1e6 / s:0} MB/s ({d.Reads / s:0}/s, {Await(d.ReadMs, d.Reads)}), "
                + $"write {d.SectorsWritten * SectorBytes / 1e6 / s:0} MB/s ({d.Writes / s:0}/s, {Await(d.WriteMs, d.Writes)}), "
                + $"busy {d.BusyMs / 1000.0 / s:0.00}");
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{b.At.TotalSeconds,5:0.0} s: {Fmt.D1((b.Work - a.Work) / divisor / s)} {unit} | cores: nodes {Cores(cpu.Nodes)}, "
                + $"load generator {Cores(cpu.Generator)}, PostgreSQL {Cores(cpu.Postgres)}, "
                + $"machine busy {Cores(cpu.Busy)}, I/O wait {Cores(cpu.IoWait)} | {disk}"));
        }
        return lines;

        static string Await(long ms, long requests) =>
            requests == 0 ? "-" : (ms / (double)requests).ToString("0.0", CultureInfo.InvariantCulture) + " ms each";
    }

    private static DiskCounters Delta(DiskCounters a, DiskCounters b) =>
        new(b.Reads - a.Reads, b.SectorsRead - a.SectorsRead, b.ReadMs - a.ReadMs, b.Writes - a.Writes,
            b.SectorsWritten - a.SectorsWritten, b.WriteMs - a.WriteMs, b.BusyMs - a.BusyMs);

    private void Sample()
    {
        if (!File.Exists("/proc/stat")) return;
        try
        {
            var reading = new Reading(_clock.Elapsed, _work(), CpuReading.Take(_nodePids(), _postmasterPidFile, []), Disk());
            lock (_readings) _readings.Add(reading);
        }
        catch (IOException)
        {
            // a counter file vanished between listing and reading: skip this sample
        }
    }

    private DiskCounters Disk()
    {
        if (_device is null) return new DiskCounters(0, 0, 0, 0, 0, 0, 0);
        foreach (string line in File.ReadLines("/proc/diskstats"))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 13 || f[2] != _device) continue;
            long F(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
            return new DiskCounters(F(3), F(5), F(6), F(7), F(9), F(10), F(12));
        }
        return new DiskCounters(0, 0, 0, 0, 0, 0, 0);
    }

    /// <summary>The block device (<c>vda</c>, <c>sda1</c>, …) of the mount that holds <paramref name="folder"/>, from
    /// <c>/proc/self/mounts</c>; null when it is not a device of <c>/proc/diskstats</c>.</summary>
    private static string? DeviceOf(string folder)
    {
        if (!File.Exists("/proc/self/mounts") || !File.Exists("/proc/diskstats")) return null;
        string full = Path.GetFullPath(folder).TrimEnd('/') + "/";
        string? device = null;
        int longest = -1;
        foreach (string line in File.ReadLines("/proc/self/mounts"))
        {
            var f = line.Split(' ');
            if (f.Length < 2 || !f[0].StartsWith("/dev/", StringComparison.Ordinal)) continue;
            string mount = f[1].TrimEnd('/') + "/";
            if (!full.StartsWith(mount, StringComparison.Ordinal) || mount.Length <= longest) continue;
            longest = mount.Length;
            device = Path.GetFileName(f[0]);
        }
        if (device is null) return null;
        return File.ReadLines("/proc/diskstats").Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: > 2 } f && f[2] == device)
            ? device
            : null;
    }
}
