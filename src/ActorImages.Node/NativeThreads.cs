using System.Runtime.InteropServices;

namespace ActorImages.Node;

/// <summary>
/// The thread priority .NET does not give on Linux: <see cref="Thread.Priority"/> changes nothing there, while the
/// kernel schedules each thread by its own niceness (setpriority(2) with a thread id; man 7 sched). Raising one's
/// own niceness needs no privilege.
/// </summary>
internal static partial class NativeThreads
{
    private const int PriorityOfProcess = 0; // PRIO_PROCESS: with a thread id, that one thread

    /// <summary>Sets the calling thread's niceness (-20..19; higher runs less when the cores are busy).</summary>
    /// <param name="nice">The niceness, usually 1..19.</param>
    /// <param name="error">Why it failed: not Linux, or errno of setpriority(2).</param>
    /// <returns>True when the niceness is set.</returns>
    public static bool TrySetCurrentNice(int nice, out string? error)
    {
        if (!OperatingSystem.IsLinux())
        {
            error = "thread niceness is set on Linux only";
            return false;
        }
        if (SetPriority(PriorityOfProcess, GetThreadId(), nice) != 0)
        {
            error = $"setpriority failed (errno {Marshal.GetLastPInvokeError()})";
            return false;
        }
        error = null;
        return true;
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);
}
