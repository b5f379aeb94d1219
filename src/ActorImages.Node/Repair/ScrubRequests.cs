using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace ActorImages.Node.Repair;

/// <summary>
/// Copies of this node found bad while they were read (<see cref="Transfer.LocalCopies"/>), for the scrub to restore
/// before it goes on with its cycle (<see cref="ScrubActor"/>): its cycle over a large node takes hours, a reported
/// copy is restored within one <c>scrub-pace</c>. Bounded: beyond 1,024 pending paths a report is dropped, and the
/// copy waits for its turn in the cycle. Thread-safe.
/// </summary>
public sealed class ScrubRequests
{
    /// <summary>Most paths waiting at once.</summary>
    public const int Capacity = 1024;

    private readonly ConcurrentQueue<string> _queue = new();
    private readonly ConcurrentDictionary<string, byte> _pending = new(StringComparer.Ordinal);

    /// <summary>Asks for this node's copy at <paramref name="path"/> to be checked and restored soon; a path already
    /// waiting is not queued twice.</summary>
    /// <param name="path">The stored relative path.</param>
    public void Report(string path)
    {
        if (_pending.Count < Capacity && _pending.TryAdd(path, 0)) _queue.Enqueue(path);
    }

    /// <summary>The oldest reported path, if any.</summary>
    /// <param name="path">The path taken.</param>
    /// <returns>Whether one was waiting.</returns>
    public bool TryTake([NotNullWhen(true)] out string? path)
    {
        if (!_queue.TryDequeue(out path)) return false;
        _pending.TryRemove(path, out _);
        return true;
    }
}
