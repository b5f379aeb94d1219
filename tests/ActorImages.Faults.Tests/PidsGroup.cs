using System.Globalization;

namespace ActorImages.Faults.Tests;

/// <summary>
/// A control group of the cgroup <c>pids</c> controller that a test creates and removes itself, as a container's pids
/// limit is one: its <c>pids.max</c> bounds the tasks (every thread of every process) in it. Found where the machine
/// mounts the controller: a cgroup v1 hierarchy of its own (<c>/sys/fs/cgroup/pids</c>), or the cgroup v2 hierarchy
/// when <c>pids</c> is among its controllers (enabled for its children here when it is not yet). Needs root; the group's
/// name begins with <c>aif-</c>, and a leftover of an interrupted run is removed first.
/// </summary>
public sealed class PidsGroup : IDisposable
{
    private PidsGroup(string directory) => Directory = directory;

    /// <summary>The group's directory.</summary>
    public string Directory { get; }

    /// <summary>Creates the group <c>aif-<paramref name="name"/></c> with no limit.</summary>
    /// <param name="name">The group's name after the prefix.</param>
    /// <returns>The group.</returns>
    /// <exception cref="InvalidOperationException">The machine has no <c>pids</c> controller mounted.</exception>
    public static PidsGroup Create(string name)
    {
        var root = Root() ?? throw new InvalidOperationException(
            "no cgroup pids controller is mounted (a cgroup v1 'pids' hierarchy, or cgroup v2 with 'pids' available)");
        var directory = Path.Combine(root, "aif-" + name);
        if (System.IO.Directory.Exists(directory)) Remove(directory);
        System.IO.Directory.CreateDirectory(directory);
        return new PidsGroup(directory);
    }

    /// <summary>The group's <c>pids.max</c>: null for none (<c>max</c>).</summary>
    public long? Limit
    {
        get => File.ReadAllText(Path.Combine(Directory, "pids.max")).Trim() is var text && text == "max"
            ? null : long.Parse(text, CultureInfo.InvariantCulture);
        set => File.WriteAllText(Path.Combine(Directory, "pids.max"),
            value?.ToString(CultureInfo.InvariantCulture) ?? "max");
    }

    /// <summary>The tasks in the group now (<c>pids.current</c>).</summary>
    public long Current => long.Parse(File.ReadAllText(Path.Combine(Directory, "pids.current")).Trim(), CultureInfo.InvariantCulture);

    /// <summary>How many times the limit refused a thread or a process in the group (<c>pids.events</c>'s <c>max</c>).</summary>
    public long Refusals => File.ReadLines(Path.Combine(Directory, "pids.events"))
        .Select(line => line.Split(' ')).Where(f => f.Length == 2 && f[0] == "max")
        .Select(f => long.Parse(f[1], CultureInfo.InvariantCulture)).FirstOrDefault();

    /// <summary>The command prefix that starts a program in this group: a shell moves itself into it and then
    /// becomes the program (<c>exec</c>), so the program and every thread and child it makes are in it.</summary>
    public IReadOnlyList<string> Launcher => ["sh", "-c", $"echo $$ > '{Directory}/cgroup.procs' && exec \"$@\"", "sh"];

    /// <summary>Removes the group once its processes have ended (within 10 s).</summary>
    public void Dispose() => Remove(Directory);

    private static void Remove(string directory)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                System.IO.Directory.Delete(directory); // rmdir: a group's files go with it
                return;
            }
            catch (IOException) when (i < 100)
            {
                Thread.Sleep(100); // tasks still in it
            }
        }
    }

    /// <summary>Where groups of the <c>pids</c> controller are made, from <c>/proc/self/mountinfo</c>; null when
    /// none.</summary>
    private static string? Root()
    {
        foreach (var fields in File.ReadLines("/proc/self/mountinfo").Select(line => line.Split(' ')))
        {
            var separator = Array.IndexOf(fields, "-");
            if (separator < 0 || separator + 3 >= fields.Length) continue;
            var (point, type, options) = (fields[4], fields[separator + 1], fields[separator + 3]);
            if (type == "cgroup" && options.Split(',').Contains("pids")) return point;
            if (type != "cgroup2") continue;
            var controllers = Path.Combine(point, "cgroup.controllers");
            if (!File.Exists(controllers) || !File.ReadAllText(controllers).Split(' ', '\n').Contains("pids")) continue;
            var subtree = Path.Combine(point, "cgroup.subtree_control");
            if (!File.ReadAllText(subtree).Split(' ', '\n').Contains("pids")) File.WriteAllText(subtree, "+pids");
            return point;
        }
        return null;
    }
}
