using System.Diagnostics;

namespace ActorImages.Bench;

/// <summary>
/// Latency samples in <see cref="Stopwatch"/> ticks, kept whole so percentiles are exact. Not thread-safe: each load
/// task keeps its own and they are merged after the window.
/// </summary>
internal sealed class Latencies
{
    private readonly List<long> _ticks = [];

    /// <summary>Number of samples.</summary>
    public int Count => _ticks.Count;

    /// <summary>Records the time since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void Since(long startTimestamp) => _ticks.Add(Stopwatch.GetTimestamp() - startTimestamp);

    /// <summary>Adds every sample of <paramref name="others"/>.</summary>
    public static Latencies Merge(IEnumerable<Latencies> others)
    {
        var all = new Latencies();
        foreach (var other in others) all._ticks.AddRange(other._ticks);
        return all;
    }

    /// <summary>The <paramref name="p"/>-th percentile (0–100) in milliseconds; NaN without samples.</summary>
    public double Millis(double p)
    {
        if (_ticks.Count == 0) return double.NaN;
        var sorted = _ticks.ToArray();
        Array.Sort(sorted);
        int index = Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[index] * 1000.0 / Stopwatch.Frequency;
    }

    /// <summary><c>p50 x ms, p99 y ms</c>.</summary>
    public string Summary() => Count == 0 ? "no samples" : $"p50 {Fmt.Ms(Millis(50))}, p99 {Fmt.Ms(Millis(99))}";
}
