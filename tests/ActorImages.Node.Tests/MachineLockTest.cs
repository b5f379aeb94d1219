using System.Diagnostics;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>The test assemblies' lock against a second test run on the machine (<see cref="MachineLock"/>), held here by
/// another process: util-linux's <c>flock</c>, which takes the same kind of lock.</summary>
public sealed class MachineLockTest : IDisposable
{
    private readonly string _name = "machine-lock-test-" + Guid.NewGuid().ToString("N")[..8];

    private string LockFile => Path.Combine(MachineLock.Folder, _name + ".lock");

    [Fact]
    public async Task WaitsWhileAnotherProcessHoldsTheLockAndTakesItWhenThatProcessEnds()
    {
        using var other = await HoldElsewhereAsync(seconds: 2);
        var clock = Stopwatch.StartNew();
        MachineLock.Acquire(_name, TimeSpan.FromSeconds(30));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"taken after {clock.Elapsed.TotalMilliseconds:0} ms, while held");
        // Held now: nobody else takes it until it is released.
        Assert.Throws<IOException>(() => new FileStream(LockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose());
        MachineLock.Release(_name);
        new FileStream(LockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose();
    }

    [Fact]
    public async Task GivesUpAfterItsTimeoutNamingTheHolder()
    {
        using var other = await HoldElsewhereAsync(seconds: 20);
        File.WriteAllText(LockFile + ".owner", other.Id.ToString());
        var e = Assert.Throws<TimeoutException>(() => MachineLock.Acquire(_name, TimeSpan.FromSeconds(1)));
        Assert.Contains($"pid {other.Id}", e.Message);
        Assert.Contains(LockFile, e.Message);
        other.Kill(entireProcessTree: true);
        await other.WaitForExitAsync();
        // The holder was killed: the operating system dropped its lock.
        MachineLock.Acquire(_name, TimeSpan.FromSeconds(10));
        MachineLock.Release(_name);
    }

    /// <summary>Starts <c>flock -o LOCKFILE -c 'echo held; sleep N'</c> (<c>-o</c>: only <c>flock</c> itself holds the
    /// lock, not the shell it starts) and returns once it holds the lock.</summary>
    private async Task<Process> HoldElsewhereAsync(int seconds)
    {
        Directory.CreateDirectory(MachineLock.Folder);
        var start = new ProcessStartInfo("flock", ["-o", LockFile, "-c", $"echo held; sleep {seconds}"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("held", line);
        return process;
    }

    public void Dispose()
    {
        MachineLock.Release(_name);
        File.Delete(LockFile);
        File.Delete(LockFile + ".owner");
    }
}
