using System.Diagnostics;

namespace ActorImages.Testing;

/// <summary>
/// A named lock held by one process per machine for the rest of its life: a test assembly that binds fixed addresses
/// (each test class's <c>127.0.N.x</c> block with the nodes' standard ports, network namespaces with fixed names) takes
/// its own name before its first test, so a second test run on the same machine waits for the first run's copy of
/// that assembly instead of colliding with it (a port taken, a namespace deleted under a running test). Assemblies
/// whose classes use disjoint address blocks (<see cref="TestCluster"/>) may still run at the same time. The lock is
/// the operating system's (<c>flock</c>, which .NET takes for <see cref="FileShare.None"/> on Linux), so a run that
/// crashes or is killed never leaves it held.
/// </summary>
public static class MachineLock
{
    /// <summary>The longest a test process waits for another run's copy of its assembly by default (60 min: a whole
    /// suite takes about 15).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(60);

    private static readonly Dictionary<string, FileStream> Held = new(StringComparer.Ordinal);

    /// <summary>The folder of the lock files, under the temp folder.</summary>
    public static string Folder => Path.Combine(Path.GetTempPath(), "actorimages-test-locks");

    /// <summary>
    /// Takes the lock <paramref name="name"/> for this process, waiting while another process holds it (checked every
    /// 500 ms; the first wait is reported on standard error with the holder's pid). A second call with the same name
    /// in the same process returns at once.
    /// </summary>
    /// <param name="name">The lock's name, e.g. the test assembly's; letters, digits, dots and dashes.</param>
    /// <param name="timeout">How long to wait at most; default <see cref="DefaultTimeout"/>.</param>
    /// <exception cref="TimeoutException">Another process still held it after <paramref name="timeout"/>; the message
    /// names the lock file and the holder's pid.</exception>
    public static void Acquire(string name, TimeSpan? timeout = null)
    {
        lock (Held)
        {
            if (Held.ContainsKey(name)) return;
            Directory.CreateDirectory(Folder);
            var path = Path.Combine(Folder, name + ".lock");
            var limit = timeout ?? DefaultTimeout;
            var clock = Stopwatch.StartNew();
            var reported = false;
            while (true)
            {
                try
                {
                    Held[name] = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                    // Beside the lock, not in it: another process cannot open the locked file to read it.
                    File.WriteAllText(OwnerFile(path), Environment.ProcessId.ToString());
                    return;
                }
                catch (IOException) when (clock.Elapsed < limit)
                {
                    if (!reported)
                    {
                        Console.Error.WriteLine($"{name}: another test run on this machine holds {path} (pid {Owner(path)}); " +
                                                $"waiting for it, at most {limit.TotalMinutes:0.#} min");
                        reported = true;
                    }
                    Thread.Sleep(500);
                }
                catch (IOException e)
                {
                    throw new TimeoutException($"{name}: another test run on this machine (pid {Owner(path)}) held {path} " +
                                               $"for more than {limit.TotalMinutes:0.#} min; run one suite at a time", e);
                }
            }
        }
    }

    /// <summary>Gives up the lock <paramref name="name"/> if this process holds it (tests of the lock itself; a test
    /// process otherwise holds its lock until it exits).</summary>
    /// <param name="name">The lock's name.</param>
    public static void Release(string name)
    {
        lock (Held)
        {
            if (!Held.Remove(name, out var stream)) return;
            stream.Dispose();
        }
    }

    private static string OwnerFile(string path) => path + ".owner";

    private static string Owner(string path)
    {
        try
        {
            return File.ReadAllText(OwnerFile(path)).Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
