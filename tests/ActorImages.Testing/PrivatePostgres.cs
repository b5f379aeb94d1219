using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ActorImages.Testing;

/// <summary>
/// A PostgreSQL server of one test's own (<c>bin/postgres</c> in a temp folder on a free port), for tests that stop
/// or kill the database: the shared <see cref="PostgresServer"/> must stay up for every other test.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _dir;

    private PrivatePostgres(string dir, int port, string url)
    {
        _dir = dir;
        Port = port;
        Url = url;
    }

    /// <summary>The server's port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The <c>actorimages</c> database's URL, as <c>ACTORIMAGES_DB_URL</c> takes it.</summary>
    public string Url { get; }

    /// <summary>Starts a new server.</summary>
    /// <returns>The running server.</returns>
    /// <exception cref="InvalidOperationException"><c>bin/postgres start</c> failed.</exception>
    public static async Task<PrivatePostgres> StartAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"actorimages-pgp-{Guid.NewGuid():N}");
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var url = (await RunAsync("start", dir, "--port", port.ToString())).Trim().Split('\n')[^1];
        return new PrivatePostgres(dir, port, url);
    }

    /// <summary>Starts the server again after <see cref="Kill"/>.</summary>
    /// <returns>A task that completes when it accepts connections.</returns>
    public Task RestartAsync() => RunAsync("start", _dir);

    /// <summary>SIGKILL to the postmaster: the database goes away at once, as in a crash.</summary>
    public void Kill()
    {
        var pid = int.Parse(File.ReadLines(Path.Combine(_dir, "data", "postmaster.pid")).First());
        Process.GetProcessById(pid).Kill(entireProcessTree: true);
    }

    /// <summary>SIGSTOP to the postmaster and every backend: the database keeps its connections but answers nothing
    /// until <see cref="Thaw"/>, as a server that hangs (a stalled disk, a paused VM).</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>SIGCONT to the postmaster and every backend after <see cref="Freeze"/>: the work sent meanwhile goes on.</summary>
    public void Thaw() => Signal("CONT");

    private void Signal(string signal)
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(_dir, "data", "postmaster.pid")).First());
        // The backends are the postmaster's children (procps' pkill; .ci/run installs procps).
        foreach (var (command, args) in new[] { ("kill", new[] { $"-{signal}", postmaster.ToString() }),
                     ("pkill", new[] { $"-{signal}", "-P", postmaster.ToString() }) })
        {
            using var process = Process.Start(command, args);
            process.WaitForExit();
            if (command == "kill" && process.ExitCode != 0)
                throw new InvalidOperationException($"kill -{signal} {postmaster} exited {process.ExitCode}");
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("stop", _dir);
        }
        catch (InvalidOperationException)
        {
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static async Task<string> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(RepoPaths.Combine("bin", "postgres"), args)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"bin/postgres {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
