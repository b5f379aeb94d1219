using System.Globalization;

namespace ActorImages.Node.Config;

/// <summary>
/// Fits the listeners' connection bounds into the process's limit of open file descriptors (<c>ulimit -n</c>; the
/// .NET runtime raises the soft limit to the hard one at start), as HAProxy derives its connection limit from it
/// (README, "Limits and security"). Each open connection holds a descriptor; the runtime, the loaded assemblies, the
/// catalog's connection pool, remoting, and the files an upload, a download or a copy has open need the rest. Run out
/// and more than accept fails: on Linux the runtime cannot start a thread or load an assembly without a descriptor,
/// and some of those failures end the process (seen: "Internal CLR error" while an exception's stack trace was read
/// under EMFILE). So when P1's, P4's and Kestrel's bounds together exceed what the limit leaves for connections, each
/// is lowered in proportion, and the node says so at start. The replica channel's client connections to each other
/// node come out of what is kept back; they are lowered in the same proportion (to at least
/// <see cref="MinReplicaConnections"/>), so that a cluster of many nodes does not spend it.
/// </summary>
public static class DescriptorBudget
{
    /// <summary>Least descriptors kept for everything but connections: 512, or a quarter of the limit when that is
    /// more.</summary>
    public const int MinReserve = 512;

    /// <summary>No bound is lowered below this many connections.</summary>
    public const int MinConnections = 16;

    /// <summary>The replica channel's connections to one node are not lowered below this many: the copies a node
    /// makes at a time (<c>actorimages.repair-parallelism</c>, 4 by default); more wait for a connection.</summary>
    public const int MinReplicaConnections = 4;

    /// <summary>The soft limit of open files of this process, from <c>/proc/self/limits</c> ("Max open files");
    /// <see cref="long.MaxValue"/> when unlimited or unknown (not Linux).</summary>
    /// <returns>The limit, in descriptors.</returns>
    public static long OpenFileLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) ? limit : long.MaxValue;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return long.MaxValue;
    }

    /// <summary>Descriptors left for connections under <paramref name="limit"/>: the limit less
    /// max(<see cref="MinReserve"/>, limit / 4), at least 0.</summary>
    /// <param name="limit">The process's limit of open files.</param>
    /// <returns>The count.</returns>
    public static long ForConnections(long limit) => Math.Max(0, limit - Math.Max(MinReserve, limit / 4));

    /// <summary>
    /// <paramref name="settings"/> with <see cref="NodeSettings.P1MaxConnections"/>,
    /// <see cref="NodeSettings.P4MaxConnections"/> and <see cref="NodeSettings.HttpMaxConnections"/> lowered in
    /// proportion so that together they fit <see cref="ForConnections"/>(<paramref name="limit"/>), none below
    /// <see cref="MinConnections"/>, and <see cref="NodeSettings.ReplicaConnectionsPerPeer"/> in the same proportion,
    /// not below <see cref="MinReplicaConnections"/>; unchanged when they fit already.
    /// </summary>
    /// <param name="settings">The configured settings.</param>
    /// <param name="limit">The process's limit of open files (<see cref="OpenFileLimit"/>).</param>
    /// <param name="warning">Null when unchanged, else an English sentence for the log naming the limit, the configured
    /// and the lowered bounds, and how to keep the configured ones.</param>
    /// <returns>The settings to run with.</returns>
    public static NodeSettings Fit(NodeSettings settings, long limit, out string? warning)
    {
        warning = null;
        long configured = (long)settings.P1MaxConnections + settings.P4MaxConnections + settings.HttpMaxConnections;
        var available = ForConnections(limit);
        if (configured <= available) return settings;
        int Scale(int bound) => (int)Math.Max(MinConnections, bound * available / configured);
        var fitted = settings with
        {
            P1MaxConnections = Scale(settings.P1MaxConnections),
            P4MaxConnections = Scale(settings.P4MaxConnections),
            HttpMaxConnections = Scale(settings.HttpMaxConnections),
            ReplicaConnectionsPerPeer = (int)Math.Max(MinReplicaConnections, settings.ReplicaConnectionsPerPeer * available / configured),
        };
        warning = string.Create(CultureInfo.InvariantCulture,
            $"the limit of open files ({limit}) leaves {available} descriptors for connections, fewer than the " +
            $"{configured} the bounds allow (P1 {settings.P1MaxConnections}, P4 {settings.P4MaxConnections}, HTTP " +
            $"{settings.HttpMaxConnections}): lowered to P1 {fitted.P1MaxConnections}, P4 {fitted.P4MaxConnections}, " +
            $"HTTP {fitted.HttpMaxConnections}, and the replica channel's connections to each node from " +
            $"{settings.ReplicaConnectionsPerPeer} to {fitted.ReplicaConnectionsPerPeer}; raise the limit (ulimit -n, " +
            $"the container's nofile) to at least {configured + Math.Max(MinReserve, configured / 3)} to keep them");
        return fitted;
    }
}
