namespace ActorImages.Testing;

/// <summary>Runs a command other than the legacy clients (e.g. <c>npm ci</c>) to its end, bounded in time, with the
/// runner of <see cref="LegacyPython"/>.</summary>
public static class ChildProcess
{
    /// <summary>Runs <paramref name="command"/> in <paramref name="workingDirectory"/> with its stdin closed.</summary>
    /// <param name="timeout">How long it may run; after that it is killed and the call throws.</param>
    /// <param name="workingDirectory">Where it runs.</param>
    /// <param name="command">The program (looked up on the PATH) and its arguments.</param>
    /// <returns>Its exit status and everything it printed.</returns>
    /// <exception cref="System.ComponentModel.Win32Exception">The program cannot be started (it is not installed).</exception>
    /// <exception cref="TimeoutException">It still ran after <paramref name="timeout"/>.</exception>
    public static async Task<LegacyPython.Result> RunAsync(TimeSpan timeout, string workingDirectory, params string[] command)
    {
        await using var running = new LegacyPython.Running(command, workingDirectory);
        return await running.FinishAsync(timeout);
    }
}
