namespace ActorImages.Node;

/// <summary>
/// Running out of memory ends the node process at once (README, "Limits and security"): an
/// <see cref="OutOfMemoryException"/> caught by an actor's supervisor or by Kestrel would leave a half-working member
/// in the cluster, so the first sight of one, before any handler, calls <see cref="Environment.FailFast(string)"/>
/// (SIGABRT, exit code 134); <c>bin/cluster</c>'s supervisor or the container's restart policy starts the node again.
/// One kind is not memory and does not end it here: a thread that cannot start. On Linux the runtime's
/// <c>Thread.Start</c> throws <see cref="OutOfMemoryException"/> when the operating system refuses the thread — for
/// want of file descriptors (every listener full of connections under a low <c>ulimit -n</c>) or over a thread or
/// process limit (a container's pids limit). The node keeps clear of both limits instead
/// (<see cref="Config.DescriptorBudget"/>, <see cref="Config.ThreadBudget"/>): .NET 10's thread pool does not catch the
/// exception when it cannot add a worker, and the process aborts whatever this policy says (dotnet/runtime#132492;
/// tests/ActorImages.Faults.Tests/PidsLimitTest.cs).
/// </summary>
public static class OutOfMemoryPolicy
{
    /// <summary>What the node writes to standard error as it ends (<see cref="Environment.FailFast(string)"/>).</summary>
    public const string Message = "ActorImages node: out of memory";

    /// <summary>Installs the rule for this process: every first-chance exception that
    /// <see cref="EndsTheProcess"/> ends it. Call once, first thing in <c>Main</c>.</summary>
    public static void Install() => AppDomain.CurrentDomain.FirstChanceException += static (_, e) =>
    {
        if (e.Exception is not OutOfMemoryException) return;
        // Reading where it was thrown (TargetSite) allocates; one that fails for want of memory raises another
        // OutOfMemoryException here, which ends the process without asking again.
        if (_deciding) Environment.FailFast(Message);
        _deciding = true;
        try
        {
            if (EndsTheProcess(e.Exception)) Environment.FailFast(Message);
        }
        finally
        {
            _deciding = false;
        }
    };

    [ThreadStatic]
    private static bool _deciding;

    /// <summary>Whether <paramref name="exception"/>, seen as it is thrown, ends the node: an
    /// <see cref="OutOfMemoryException"/> (or a subclass, such as <see cref="InsufficientMemoryException"/>) that was
    /// not thrown by <see cref="Thread"/> as it started a thread.</summary>
    /// <param name="exception">The exception, thrown or not; a thrown one names the method that threw it
    /// (<see cref="Exception.TargetSite"/>).</param>
    /// <returns>True when the process must end.</returns>
    public static bool EndsTheProcess(Exception exception) =>
        exception is OutOfMemoryException && exception.TargetSite?.DeclaringType != typeof(Thread);
}
