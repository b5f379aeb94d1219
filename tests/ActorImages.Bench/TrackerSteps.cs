namespace ActorImages.Bench;

/// <summary>
/// Where a P3 write's time goes over a window, per node, from the nodes' own metrics on <c>/metrics</c> (README
/// "Benchmarks"): the mean time from datagram to reply of the REG and UPD the node answered
/// (<c>actorimages_tracker_write_seconds</c>), and, on the node that runs the tracker singleton, the mean time and size
/// of its batch transactions (<c>actorimages_tracker_batch_seconds</c>).
/// </summary>
internal static class TrackerSteps
{
    private static readonly string[] Series =
    [
        "actorimages_tracker_write_seconds_sum{command=\"REG\"}", "actorimages_tracker_write_seconds_count{command=\"REG\"}",
        "actorimages_tracker_write_seconds_sum{command=\"UPD\"}", "actorimages_tracker_write_seconds_count{command=\"UPD\"}",
        "actorimages_tracker_batch_seconds_sum", "actorimages_tracker_batch_seconds_count", "actorimages_tracker_batch_writes_total",
    ];

    /// <summary>Per node (1..<paramref name="nodes"/>), the values of <see cref="Series"/>; empty for a node that did
    /// not answer.</summary>
    public static async Task<Dictionary<int, double[]>> ReadAsync(int nodes) =>
        (await IngestSteps.ScrapeAsync(nodes)).ToDictionary(n => n.Key,
            n => n.Value is { } body ? Series.Select(s => IngestSteps.Value(body, s)).ToArray() : []);

    /// <summary><c>P3 writes in the node, mean ms: node 1 REG 12.3, UPD 4.0 (tracker batches here: 3.1 ms, 4.2 writes
    /// each); node 2 …</c>
    /// for the window between two reads.</summary>
    public static string Describe(Dictionary<int, double[]> before, Dictionary<int, double[]> after)
    {
        var parts = after.Keys.Order().Select(node =>
        {
            var (a, b) = (after[node], before[node]);
            if (a.Length == 0 || b.Length == 0) return $"node {node} -";
            // REG always commits; an UPD that repeats the committed holdings does not (TrackerActor), so each is its own figure.
            string Mean(int sum, int count) => a[count] > b[count] ? $"{(a[sum] - b[sum]) / (a[count] - b[count]) * 1000:0.0}" : "-";
            var text = $"node {node} REG {Mean(0, 1)}, UPD {Mean(2, 3)}";
            double batches = a[5] - b[5];
            if (batches > 0)
                text += $" (tracker batches here: {(a[4] - b[4]) / batches * 1000:0.0} ms, {(a[6] - b[6]) / batches:0.0} writes each)";
            return text;
        });
        return "P3 writes in the node, datagram to reply, mean ms (actorimages_tracker_write_seconds): " + string.Join("; ", parts);
    }
}
