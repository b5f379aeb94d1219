using System.Globalization;

namespace ActorImages.Node.Config;

/// <summary>
/// Keeps the node's threads under the task limit of its control group — the cgroup <c>pids</c> controller's
/// <c>pids.max</c>, which a container's pids limit sets (README, "Limits and security"). Every thread is a task, and
/// .NET 10 does not survive a thread the limit refuses: the thread pool's worker that cannot start throws
/// <see cref="OutOfMemoryException"/> out of the pool's own dispatch loop and the process aborts (measured: a node whose
/// group was held at its task count aborted within 10 s of load in three runs of five; dotnet/runtime#132492, #55964;
/// once, right after refused threads, an allocation in Kestrel's buffer pool threw it too, with memory to spare). So
/// when the limit is set, the node bounds its thread pool to what the limit leaves once the group's other tasks and a
/// reserve are counted, and says so; the pool then never asks for a thread the limit would refuse. The bound is taken
/// at start and follows the limit while the node runs (<see cref="ThreadBudgetService"/>).
/// </summary>
public static class ThreadBudget
{
    /// <summary>Tasks kept back, besides two per processor, for threads made on demand outside the pool: 8 (the
    /// runtime's tiered-compilation worker, the pool's gate thread, timers, a HEIC renderer's process).</summary>
    public const int ReserveBase = 8;

    /// <summary>The tasks kept back for threads outside the thread pool: <see cref="ReserveBase"/> + 2 ×
    /// <paramref name="processors"/> (the server GC's background threads, one per heap, and a HEIC renderer's decoder
    /// threads).</summary>
    /// <param name="processors">The processors the runtime sees (<see cref="Environment.ProcessorCount"/>).</param>
    /// <returns>A count of tasks.</returns>
    public static int Reserve(int processors) => ReserveBase + 2 * processors;

    /// <summary>The tightest task limit over this process's control group and its ancestors (cgroup v1 or v2), and the
    /// tasks in use under it now (its <c>pids.current</c>); null when no limit is set (no <c>pids</c> controller, or
    /// <c>max</c> up to the hierarchy's root) or the system has no control groups (not Linux).</summary>
    /// <returns>(limit, in use), in tasks (threads of every process in the group).</returns>
    /// <exception cref="IOException">A file of the group or of <c>/proc</c> could not be read: the limit is unknown,
    /// which is not "no limit".</exception>
    /// <exception cref="UnauthorizedAccessException">The same, refused.</exception>
    public static (long Limit, long InUse)? PidsLimit() => File.Exists("/proc/self/cgroup")
        ? Tightest(CgroupDirectory(File.ReadAllLines("/proc/self/cgroup"), File.ReadAllLines("/proc/self/mountinfo")))
        : null;

    /// <summary>The directory of this process's group in the <c>pids</c> hierarchy and the hierarchy's mount point;
    /// null when the process is in none.</summary>
    /// <param name="cgroup">The lines of <c>/proc/self/cgroup</c>: <c>id:controllers:path</c>, v2's as <c>0::path</c>.</param>
    /// <param name="mountinfo">The lines of <c>/proc/self/mountinfo</c> (proc(5)).</param>
    /// <returns>(the group's directory, the mount point it lies under).</returns>
    public static (string Group, string Mount)? CgroupDirectory(IEnumerable<string> cgroup, IEnumerable<string> mountinfo)
    {
        var mounts = mountinfo.Select(line => line.Split(' ')).Where(f => f.Length > 9)
            .Select(f => (Root: f[3], Point: f[4], Type: f[Array.IndexOf(f, "-") + 1], Options: f[^1])).ToList();
        foreach (var line in cgroup)
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3) continue;
            var v1 = parts[1].Split(',').Contains("pids");
            if (!v1 && !(parts[0] == "0" && parts[1].Length == 0)) continue;
            var mount = mounts.FirstOrDefault(m => v1
                ? m.Type == "cgroup" && m.Options.Split(',').Contains("pids")
                : m.Type == "cgroup2" && File.Exists(Path.Combine(m.Point, "cgroup.controllers"))
                  && File.ReadAllText(Path.Combine(m.Point, "cgroup.controllers")).Split(' ', '\n').Contains("pids"));
            if (mount.Point is null) continue;
            // Inside a container without its own cgroup namespace the path is the host's; the mount's root is its prefix.
            var path = parts[2];
            if (mount.Root != "/" && path.StartsWith(mount.Root, StringComparison.Ordinal)) path = path[mount.Root.Length..];
            return (Path.Combine(mount.Point, path.TrimStart('/')), mount.Point);
        }
        return null;
    }

    /// <summary>The tightest <c>pids.max</c> from <paramref name="directory"/>'s group up to the hierarchy's root, with
    /// that group's <c>pids.current</c>.</summary>
    private static (long Limit, long InUse)? Tightest((string Group, string Mount)? directory)
    {
        if (directory is not var (group, mount)) return null;
        (long Limit, long InUse)? tightest = null;
        // The group lies under the mount point (CgroupDirectory): up to it and no further.
        for (var dir = group; ; dir = Path.GetDirectoryName(dir)!)
        {
            var max = Path.Combine(dir, "pids.max");
            if (File.Exists(max) && long.TryParse(File.ReadAllText(max).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
                && (tightest is null || limit < tightest.Value.Limit)
                && long.TryParse(File.ReadAllText(Path.Combine(dir, "pids.current")).Trim(), NumberStyles.None,
                    CultureInfo.InvariantCulture, out var inUse))
            {
                tightest = (limit, inUse);
            }
            if (dir.Length <= mount.Length) break;
        }
        return tightest;
    }

    /// <summary>
    /// The thread pool's bound of worker threads under a task limit: the limit, less the tasks in use that are not the
    /// pool's, less <see cref="Reserve"/>; at least <paramref name="minimum"/> (the pool's minimum, which its maximum
    /// cannot go below). Null when that is no lower than <paramref name="configured"/>.
    /// </summary>
    /// <param name="limit">The task limit (<see cref="PidsLimit"/>).</param>
    /// <param name="inUse">Tasks in use under it now.</param>
    /// <param name="poolThreads">The pool's threads now (<see cref="ThreadPool.ThreadCount"/>), part of
    /// <paramref name="inUse"/>.</param>
    /// <param name="processors">The processors the runtime sees.</param>
    /// <param name="minimum">The pool's minimum of worker threads.</param>
    /// <param name="configured">The pool's maximum of worker threads now.</param>
    /// <param name="message">Null when unchanged, else an English sentence for the log naming the limit, what it leaves
    /// and the bound.</param>
    /// <returns>The bound to set, or null.</returns>
    public static int? Fit(long limit, long inUse, int poolThreads, int processors, int minimum, int configured,
        out string? message)
    {
        message = null;
        var others = inUse - poolThreads;
        var reserve = Reserve(processors);
        var left = limit - others - reserve;
        if (left >= configured) return null;
        var bound = (int)Math.Max(minimum, left);
        message = string.Create(CultureInfo.InvariantCulture,
            $"the pids limit of this node's control group ({limit} tasks) leaves {Math.Max(0, left)} for the thread pool " +
            $"({others} in use outside it, {reserve} kept for threads made on demand): at most {bound} worker threads " +
            $"instead of {configured}, as a thread the limit refuses would end the node") + (left < minimum
            ? string.Create(CultureInfo.InvariantCulture, $"; the limit is too low for the pool's minimum of {minimum}: raise it to at least {others + reserve + 4 * minimum}")
            : "");
        return bound;
    }

    /// <summary>A bound of at least this many workers, 256, is logged as information, a lower one as a warning: the
    /// pool stayed under a dozen workers in every load measured here (8 under 8 s of P1 from 32 clients), so 256
    /// leaves ample room; a limit of about 300 tasks or more gives it.</summary>
    public const int AmpleWorkers = 256;

    /// <summary>How often the limit is read again (<see cref="ThreadBudgetService"/>): 5 s, so that a limit changed
    /// while the node runs (<c>docker update --pids-limit</c>, a systemd unit's <c>TasksMax</c> set again) or a group
    /// others fill slowly is followed within seconds; a read is a few small files.</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The thread pool's maximum of worker threads to set after a read of the limit, or null to leave it: the bound
    /// <see cref="Fit"/> gives under <paramref name="limit"/>, or <paramref name="configured"/> (the runtime's own
    /// maximum, taken before any bound) when there is no limit or it leaves more. A change of the limit since the
    /// previous read is always followed; under the same limit, a change of the other tasks moves the bound only when it
    /// moves it by half of <see cref="Reserve"/> or more — the reserve absorbs less — so a renderer that comes and goes
    /// does not rewrite the bound and the log every few seconds. Going back to <paramref name="configured"/> is always
    /// followed.
    /// </summary>
    /// <param name="limit">The task limit and the tasks in use under it (<see cref="PidsLimit"/>), or null for none.</param>
    /// <param name="previous">The limit at the previous read, null for none (or for the first read).</param>
    /// <param name="poolThreads">The pool's threads now (<see cref="ThreadPool.ThreadCount"/>).</param>
    /// <param name="processors">The processors the runtime sees.</param>
    /// <param name="minimum">The pool's minimum of worker threads.</param>
    /// <param name="configured">The runtime's maximum of worker threads before any bound.</param>
    /// <param name="current">The pool's maximum of worker threads now.</param>
    /// <returns>Null to leave the pool as it is, else the maximum to set and an English sentence for the log.</returns>
    public static (int Maximum, string Message)? Next((long Limit, long InUse)? limit, long? previous, int poolThreads,
        int processors, int minimum, int configured, int current)
    {
        string? why = null;
        var target = limit is var (max, inUse)
            && Fit(max, inUse, poolThreads, processors, minimum, configured, out why) is { } bound ? bound : configured;
        if (target == current) return null;
        if (target == configured)
        {
            return (target, limit is { Limit: var set }
                ? string.Create(CultureInfo.InvariantCulture,
                    $"the pids limit of this node's control group ({set} tasks) leaves the thread pool its maximum again: back to {configured} worker threads")
                : string.Create(CultureInfo.InvariantCulture,
                    $"this node's control group has no pids limit any more: back to {configured} worker threads"));
        }
        if (limit?.Limit == previous && Math.Abs(target - current) < Reserve(processors) / 2) return null;
        return (target, why!);
    }
}
