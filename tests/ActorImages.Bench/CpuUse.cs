using System.Globalization;

namespace ActorImages.Bench;

/// <summary>
/// One reading, from <c>/proc</c>, of the CPU time (user + system) used so far by each process group of a window —
/// the node processes, this load generator, the cluster's PostgreSQL (the postmaster of <c>run/postgres</c> and its
/// children, not every postgres process on the machine), other processes the caller names (a reference server) — and
/// of the machine's busy and I/O-wait ticks. Two readings give what a window spent (<see cref="Since"/>). Linux only:
/// without <c>/proc/stat</c> every figure is zero.
/// </summary>
/// <param name="Nodes">Each node process's CPU time so far, by pid.</param>
/// <param name="Generator">This process's CPU time so far.</param>
/// <param name="Postgres">Each PostgreSQL process's CPU time so far, by pid (backends come and go).</param>
/// <param name="Others">Each other named process's CPU time so far, by pid.</param>
/// <param name="BusyTicks">The machine's busy ticks so far (<c>/proc/stat</c>: all but idle and iowait), in
/// <see cref="TicksPerSecond"/>.</param>
/// <param name="IoWaitTicks">The machine's iowait ticks so far.</param>
internal sealed record CpuReading(
    Dictionary<int, TimeSpan> Nodes, TimeSpan Generator, Dictionary<int, TimeSpan> Postgres, Dictionary<int, TimeSpan> Others,
    long BusyTicks, long IoWaitTicks)
{
    /// <summary>Kernel clock ticks per second of <c>/proc/stat</c> (USER_HZ, 100 on Linux).</summary>
    public const double TicksPerSecond = 100;

    /// <summary>Reads the counters now.</summary>
    /// <param name="nodePids">The node processes.</param>
    /// <param name="postmasterPidFile">PostgreSQL's <c>postmaster.pid</c> (first line, the postmaster's pid).</param>
    /// <param name="otherPids">Other processes to count apart, e.g. a reference server; none for an empty list.</param>
    /// <exception cref="IOException">A counter file vanished between listing and reading.</exception>
    public static CpuReading Take(IEnumerable<int> nodePids, string postmasterPidFile, IEnumerable<int> otherPids)
    {
        var (busy, ioWait) = File.Exists("/proc/stat") ? MachineTicks() : (0, 0);
        return new CpuReading(CpuTimes(nodePids.Distinct()), Environment.CpuUsage.TotalTime, CpuTimes(PostgresPids(postmasterPidFile)),
            CpuTimes(otherPids.Distinct()), busy, ioWait);
    }

    /// <summary>What each group spent from <paramref name="before"/> to this reading. A process that ended in between is
    /// left out; one that started in between counts from 0.</summary>
    /// <param name="before">The earlier reading.</param>
    public CpuSpent Since(CpuReading before) => new(Grown(before.Nodes, Nodes), Generator - before.Generator,
        Grown(before.Postgres, Postgres), Grown(before.Others, Others),
        TimeSpan.FromSeconds((BusyTicks - before.BusyTicks) / TicksPerSecond),
        TimeSpan.FromSeconds((IoWaitTicks - before.IoWaitTicks) / TicksPerSecond));

    private static TimeSpan Grown(Dictionary<int, TimeSpan> before, Dictionary<int, TimeSpan> after) =>
        TimeSpan.FromTicks(after.Sum(p => Math.Max(0, (p.Value - before.GetValueOrDefault(p.Key)).Ticks)));

    /// <summary>Each process's CPU time so far (<see cref="LocalCluster.CpuTime"/>); one gone already is left out.</summary>
    private static Dictionary<int, TimeSpan> CpuTimes(IEnumerable<int> pids) =>
        pids.Select(p => (Pid: p, Used: LocalCluster.CpuTime(p))).Where(p => p.Used is not null)
            .ToDictionary(p => p.Pid, p => p.Used!.Value);

    /// <summary>The postmaster whose pid <paramref name="pidFile"/> names and its children (the backends and background
    /// workers); none when the file is missing or unreadable.</summary>
    private static List<int> PostgresPids(string pidFile)
    {
        int postmaster;
        try
        {
            if (!int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), CultureInfo.InvariantCulture, out postmaster))
                return [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        var pids = new List<int> { postmaster };
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out int pid)) continue;
            try
            {
                // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read after the last ')'.
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length > 1 && int.TryParse(fields[1], CultureInfo.InvariantCulture, out int parent) && parent == postmaster)
                    pids.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the process ended between listing and reading
            }
        }
        return pids;
    }

    /// <summary>The machine's busy ticks (all but idle and iowait) and iowait ticks (<c>/proc/stat</c>'s cpu line).</summary>
    private static (long Busy, long IoWait) MachineTicks()
    {
        string line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
        var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal
        return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7], v[4]);
    }
}

/// <summary>The CPU time each process group of a window spent (<see cref="CpuReading.Since"/>), and the machine's busy
/// and I/O-wait time in it; added over rounds with <c>+</c>.</summary>
/// <param name="Nodes">The node processes'.</param>
/// <param name="Generator">The load generator's (this process).</param>
/// <param name="Postgres">The cluster's PostgreSQL's.</param>
/// <param name="Others">The other named processes' (a reference server).</param>
/// <param name="Busy">The machine's busy time, every process and the kernel's interrupts included (2 s in 1 s on two
/// busy cores).</param>
/// <param name="IoWait">The machine's I/O-wait time.</param>
internal sealed record CpuSpent(TimeSpan Nodes, TimeSpan Generator, TimeSpan Postgres, TimeSpan Others, TimeSpan Busy, TimeSpan IoWait)
{
    /// <summary>Nothing spent.</summary>
    public static readonly CpuSpent None = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>Per unit of work, e.g. <c>93.2 µs (nodes 60.5, PostgreSQL 15.1, load generator 17.7) on 1.84 busy
    /// cores</c>: the machine's busy time per unit, each group's, and the machine's busy cores over the window.</summary>
    /// <param name="units">Units of work done in the window (replies, images), at least 1.</param>
    /// <param name="seconds">The window's length, s.</param>
    /// <param name="perSecond">The printed unit per second of CPU: 1e6 for µs, 1e3 for ms.</param>
    /// <param name="unit">The printed unit, e.g. <c>µs</c>.</param>
    /// <param name="reference">The name of the reference server counted in <see cref="Others"/> (its rounds have no
    /// nodes or PostgreSQL at work), or null for the nodes' rounds.</param>
    public string PerUnit(long units, double seconds, double perSecond, string unit, string? reference)
    {
        string Each(TimeSpan t) =>
            (t.TotalSeconds * perSecond / units).ToString(perSecond >= 1e6 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
        string groups = reference is null
            ? $"nodes {Each(Nodes)}, PostgreSQL {Each(Postgres)}, load generator {Each(Generator)}"
            : $"{reference} {Each(Others)}, load generator {Each(Generator)}";
        return $"{Each(Busy)} {unit} ({groups}) on {BusyCores(seconds)} busy cores";
    }

    /// <summary>The machine's busy cores over a window of <paramref name="seconds"/>, e.g. <c>1.84</c>.</summary>
    /// <param name="seconds">The window's length, s.</param>
    public string BusyCores(double seconds) => (Busy.TotalSeconds / seconds).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>Two windows' together.</summary>
    public static CpuSpent operator +(CpuSpent a, CpuSpent b) => new(a.Nodes + b.Nodes, a.Generator + b.Generator,
        a.Postgres + b.Postgres, a.Others + b.Others, a.Busy + b.Busy, a.IoWait + b.IoWait);
}
