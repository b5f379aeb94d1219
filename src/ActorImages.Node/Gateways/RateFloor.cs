using System.Diagnostics;

namespace ActorImages.Node.Gateways;

/// <summary>
/// The least rate of one transfer (a P1 frame, a P2 upload): after a grace period, the bytes received must keep up
/// with <c>bytesPerSecond</c>, so that by <c>t</c> seconds in at least <c>(t - grace) × bytesPerSecond</c> bytes have
/// come — as Kestrel's <c>MinRequestBodyDataRate</c> does for HTTP bodies. A peer that trickles one byte just inside
/// every idle timeout is closed after about the grace, whatever length it announced (README "Limits and security").
/// </summary>
/// <param name="grace">Time before the rate counts; the listener's idle timeout.</param>
/// <param name="bytesPerSecond">The least rate, bytes per second.</param>
public sealed class RateFloor(TimeSpan grace, long bytesPerSecond)
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private long _bytes;

    /// <summary>Counts bytes received.</summary>
    /// <param name="bytes">How many came.</param>
    public void Add(long bytes) => _bytes += bytes;

    /// <summary>How long the next read may wait: the time until the bytes so far fall behind the rate, at most
    /// <paramref name="idle"/>; zero or less when they already have.</summary>
    /// <param name="idle">The listener's idle timeout.</param>
    /// <returns>The wait.</returns>
    public TimeSpan Wait(TimeSpan idle)
    {
        var left = grace + TimeSpan.FromSeconds((double)_bytes / Math.Max(1, bytesPerSecond)) - Stopwatch.GetElapsedTime(_start);
        return left < idle ? left : idle;
    }
}
