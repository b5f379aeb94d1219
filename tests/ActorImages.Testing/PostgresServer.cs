using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ActorImages.Testing;

/// <summary>
/// One private PostgreSQL server per test process, started the way the local cluster starts its own
/// (<c>bin/postgres start DIR --port P</c>, docs/design.md "Platform"): the first caller starts it in a fresh
/// temporary folder on a free loopback port, later callers reuse it, and it is stopped and deleted when the process
/// exits. Each test asks for its own empty database, so tests never see each other's rows. Test assemblies that
/// run in parallel are separate processes and so each gets its own server on its own port.
/// </summary>
public static class PostgresServer
{
    private const string DirPrefix = "actorimages-pg-";
    private static readonly Lazy<Task<Server>> Shared = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The URL of the server's own <c>actorimages</c> database, e.g.
    /// <c>postgresql://actorimages@127.0.0.1:41234/actorimages</c>; starts the server on first use.</summary>
    /// <returns>The URL, in the form <c>ACTORIMAGES_DB_URL</c> takes.</returns>
    /// <exception cref="InvalidOperationException"><c>bin/postgres start</c> failed (its output is in the message).</exception>
    public static async Task<string> UrlAsync() => (await Shared.Value.ConfigureAwait(false)).Url;

    /// <summary>Creates a fresh, empty database owned by <c>actorimages</c>; starts the server on first use.</summary>
    /// <returns>An Npgsql connection string (<c>Host=…;Port=…;Username=actorimages;Database=t_…</c>).</returns>
    /// <exception cref="InvalidOperationException"><c>bin/postgres start</c> failed (its output is in the message).</exception>
    public static async Task<string> CreateDatabaseAsync()
    {
        var server = await Shared.Value.ConfigureAwait(false);
        var name = await server.CreateDatabaseAsync().ConfigureAwait(false);
        return new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Creates a fresh, empty database, as <see cref="CreateDatabaseAsync"/>, and gives its URL: what a
    /// node process takes in <c>ACTORIMAGES_DB_URL</c>.</summary>
    /// <returns><c>postgresql://actorimages@127.0.0.1:PORT/t_…</c>.</returns>
    /// <exception cref="InvalidOperationException"><c>bin/postgres start</c> failed (its output is in the message).</exception>
    public static async Task<string> CreateDatabaseUrlAsync()
    {
        var server = await Shared.Value.ConfigureAwait(false);
        var name = await server.CreateDatabaseAsync().ConfigureAwait(false);
        return $"postgresql://actorimages@{IPAddress.Loopback}:{server.Port}/{name}";
    }

    private static async Task<Server> StartAsync()
    {
        SweepAbandoned();
        var dir = Path.Combine(Path.GetTempPath(), DirPrefix + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        // Lets a later run stop and delete this server should the watchdog below be gone too.
        await File.WriteAllTextAsync(Path.Combine(dir, "owner.pid"), Environment.ProcessId.ToString()).ConfigureAwait(false);
        StartWatchdog(dir);

        // A free port can be taken by another process between our probe and the server's bind: try a few.
        string? lastError = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var port = FreePort();
            var (code, output) = await RunAsync("start", dir, "--host", IPAddress.Loopback.ToString(), "--port", port.ToString())
                .ConfigureAwait(false);
            if (code == 0)
            {
                var connectionString = new NpgsqlConnectionStringBuilder
                {
                    Host = IPAddress.Loopback.ToString(),
                    Port = port,
                    Username = "actorimages",
                    Database = "actorimages",
                }.ConnectionString;
                return new Server(output.Trim(), port, connectionString, NpgsqlDataSource.Create(connectionString));
            }

            lastError = output;
        }

        throw new InvalidOperationException($"bin/postgres start {dir} failed:\n{lastError}");
    }

    /// <summary>
    /// Stops and deletes the server once this process is gone. A ProcessExit handler is not enough: the test
    /// platform ends its test host without running it, and a killed run never would. The watchdog is a shell of its
    /// own session that polls this process once a second and holds none of its pipes.
    /// </summary>
    private static void StartWatchdog(string dir)
    {
        var script = "exec </dev/null >/dev/null 2>&1; while kill -0 \"$1\"; do sleep 1; done; \"$2\" stop \"$3\"; rm -rf \"$3\"";
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var arg in new[] { "bash", "-c", script, "watchdog", Environment.ProcessId.ToString(), RepoPaths.Combine("bin", "postgres"), dir })
        {
            info.ArgumentList.Add(arg);
        }

        using var watchdog = Process.Start(info) ?? throw new InvalidOperationException("setsid did not start");
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Stops and deletes servers whose test process is gone (killed before its exit handler ran).</summary>
    private static void SweepAbandoned()
    {
        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), DirPrefix + "*"))
        {
            try
            {
                var ownerFile = Path.Combine(dir, "owner.pid");
                if (!File.Exists(ownerFile) || !int.TryParse(File.ReadAllText(ownerFile), out var owner) || IsAlive(owner))
                {
                    continue;
                }

                StopAndDelete(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another process is sweeping it at the same moment, or it is not ours to delete: leave it.
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void StopAndDelete(string dir)
    {
        try
        {
            RunAsync("stop", dir).Wait(TimeSpan.FromSeconds(60));
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or AggregateException)
        {
            // At exit nothing is left to report to; a later run's sweep retries.
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(RepoPaths.Combine("bin", "postgres"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("bin/postgres did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // Generous: the first start on a fresh machine may install Debian's postgresql package.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        var output = await stdout.ConfigureAwait(false);
        return (process.ExitCode, process.ExitCode == 0 ? output : output + await stderr.ConfigureAwait(false));
    }

    private sealed record Server(string Url, int Port, string ConnectionString, NpgsqlDataSource Admin)
    {
        private int _next;

        public async Task<string> CreateDatabaseAsync()
        {
            // Process id and a counter: unique in this server, readable in its log.
            var name = $"t_{Environment.ProcessId}_{Interlocked.Increment(ref _next)}";
            await using var command = Admin.CreateCommand($"CREATE DATABASE \"{name}\"");
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            return name;
        }
    }
}
