using System.Globalization;
using System.Text;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace ActorImages.TraceReport;

/// <summary>
/// The samples of a thread-time trace in which a thread was not waiting, by frame. EventPipe's sample profiler takes
/// every managed thread's stack about 100 times a second whatever the thread does; a sample whose innermost frame is a
/// wait (<see cref="IsWait"/>) is left out, and each other sample counts once for every distinct frame on its stack
/// (inclusive) and once for its innermost frame (exclusive). Blocking system calls that do work (<c>fsync</c>,
/// <c>sendto</c>) count as not waiting: their share is time spent in the call, not all of it on a core; a blocking
/// receive (the P3 gateway's <c>recvfrom</c>) counts as waiting, and so does an idle thread-pool worker, whose
/// semaphore wait the JIT inlines into the worker's loop (until 2026-12-07 those samples counted as "workers between
/// work items", most of the not-waiting samples of a node under the P3 mix). A thread blocked on a contended lock
/// (<c>Monitor.Enter_Slowpath</c>) counts as not waiting: it has work and waits for another thread's.
/// Used for README "Benchmarks", "Profile of the final code".
/// </summary>
internal sealed class BusyProfile
{
    /// <summary>Innermost frames (method names, as TraceEvent prints them, or a prefix) that mean the thread was waiting.</summary>
    private static readonly string[] Waits =
    [
        "System.Threading.Monitor.Wait(", "LowLevelLifoSemaphore.WaitForSignal", "WaitHandle.WaitOneNoCheck",
        "SemaphoreSlim.WaitUntilCountOrTimeout", "SemaphoreSlim.WaitCore", "ManualResetEventSlim.Wait",
        "System.Threading.Thread.Sleep(", "System.Threading.Thread.Join", "Interop+Sys.Read(", "Interop+Sys.Poll",
        "WaitForSocketEvents",
        // A blocking receive: the P3 gateway's thread waits in recvfrom for the next datagram (copying one is
        // negligible next to the wait; the asynchronous sockets' receives never block and are not listed here).
        "Interop+Sys.ReceiveMessage", "Interop+Sys.ReceiveFrom", "SocketPal.TryCompleteReceiveFrom",
        // An idle thread-pool worker: the JIT inlines the semaphore's wait (LowLevelLifoSemaphore.Wait, WaitForSignal)
        // into the worker's loop, so a sample of a worker blocked in it names the loop as its innermost frame; the
        // loop's own code between two work items is a handful of instructions.
        "PortableThreadPool+WorkerThread.WorkerThreadStart(", "LowLevelLifoSemaphore.WaitNative",
        // A thread stopped for a garbage collection until it ends (the collection's own work is not sampled here).
        "System.Threading.Thread.<PollGC>g__PollGCWorker",
    ];

    private readonly Dictionary<string, int> _inclusive = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _exclusive = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _callers = new(StringComparer.Ordinal);
    private readonly Dictionary<int, (int Samples, string Root)> _threads = [];
    private readonly string _path;
    private int _samples, _busy;

    private BusyProfile(string path) => _path = path;

    /// <summary>Reads a <c>.nettrace</c> file (converts it to an <c>.etlx</c> beside it first, as TraceEvent does).</summary>
    /// <param name="path">The trace of <c>dotnet-trace collect --profile dotnet-sampled-thread-time</c>.</param>
    /// <returns>The counts.</returns>
    /// <exception cref="Exception">TraceEvent's, when the file cannot be read or is not an EventPipe trace.</exception>
    public static BusyProfile Read(string path)
    {
        var profile = new BusyProfile(path);
        using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(path));
        foreach (var e in log.Events)
        {
            if (!e.ProviderName.Contains("SampleProfiler", StringComparison.Ordinal) || e.CallStack() is not { } stack) continue;
            var frames = new List<string>();
            for (var s = stack; s is not null; s = s.Caller)
                frames.Add(s.CodeAddress.FullMethodName is { Length: > 0 } name ? name : s.CodeAddress.ModuleName + "!?");
            profile.Add(e.ThreadID, frames);
        }
        return profile;
    }

    /// <summary>Whether a sample with these frames (innermost first) shows a waiting thread: its innermost frame is a
    /// wait, or an unnamed native frame called from a wait or from the socket engine's loop (its <c>epoll_wait</c>).</summary>
    /// <param name="frames">The stack, innermost frame first.</param>
    /// <returns>True for a waiting thread.</returns>
    public static bool IsWait(IReadOnlyList<string> frames)
    {
        if (Waits.Any(w => frames[0].Contains(w, StringComparison.Ordinal))) return true;
        return frames[0].EndsWith("!?", StringComparison.Ordinal) && frames.Count > 1
            && (Waits.Any(w => frames[1].Contains(w, StringComparison.Ordinal))
                || frames[1].Contains("SocketAsyncEngine.EventLoop", StringComparison.Ordinal));
    }

    private void Add(int thread, List<string> frames)
    {
        _samples++;
        if (frames.Count == 0 || IsWait(frames)) return;
        _busy++;
        _exclusive[frames[0]] = _exclusive.GetValueOrDefault(frames[0]) + 1;
        var caller = Shorten(frames[0], 70) + "  <-  " + (frames.Count > 1 ? Shorten(frames[1], 70) : "(root)")
            + (frames.Count > 2 ? "  <-  " + Shorten(frames[2], 70) : "");
        _callers[caller] = _callers.GetValueOrDefault(caller) + 1;
        foreach (var f in frames.Distinct(StringComparer.Ordinal)) _inclusive[f] = _inclusive.GetValueOrDefault(f) + 1;
        var seen = _threads.GetValueOrDefault(thread);
        _threads[thread] = (seen.Samples + 1, frames[^Math.Min(frames.Count, 3)]);
    }

    /// <summary>The report: the share of samples not waiting, then the top frames inclusive and exclusive, the
    /// innermost frames with their two callers (which names a lock's or a system call's user), and the busiest threads
    /// (each named by a frame near its root), as percentages of the samples not waiting.</summary>
    /// <param name="top">Rows per list.</param>
    /// <returns>Lines of text.</returns>
    public string Report(int top)
    {
        var text = new StringBuilder();
        var busy = Math.Max(1, _busy);
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{_path}: {_samples} samples with a stack, {_busy} not waiting ({100.0 * _busy / Math.Max(1, _samples):0.0} %)");
        void List(string title, IEnumerable<(string Name, int Count)> rows)
        {
            text.AppendLine(title);
            foreach (var (name, count) in rows.OrderByDescending(r => r.Count).Take(top))
                text.AppendLine(CultureInfo.InvariantCulture, $"{100.0 * count / busy,6:0.0}  {Shorten(name)}");
        }
        List("-- inclusive, % of the samples not waiting", _inclusive.Select(p => (p.Key, p.Value)));
        List("-- exclusive (innermost frame)", _exclusive.Select(p => (p.Key, p.Value)));
        List("-- innermost frame  <-  its caller  <-  the caller's (an unnamed native frame, !?, is named by its callers)",
            _callers.Select(p => (p.Key, p.Value)));
        List("-- by thread (a frame near its root)", _threads.Select(p => ($"{p.Key} {p.Value.Root}", p.Value.Samples)));
        return text.ToString();
    }

    private static string Shorten(string name, int length = 160) => name.Length <= length ? name : name[..length];
}
