using System.Globalization;

namespace ActorImages.Bench;

/// <summary>
/// The mean time of each step of a stored upload over a window, per node, from the nodes' own histogram
/// <c>actorimages_ingest_phase_seconds{phase}</c> on <c>/metrics</c> (README "Benchmarks"): the difference of its
/// <c>_sum</c> and <c>_count</c> between two reads.
/// </summary>
internal static class IngestSteps
{
    private static readonly string[] Steps = ["receive", "reserve", "replicate", "commit"];
    private const string Batch = "batch";
    private const string BatchEntries = "batch entries";

    /// <summary>Per node (1..<paramref name="nodes"/>) and step: (seconds summed, uploads counted); empty for a node
    /// that did not answer.</summary>
    public static async Task<Dictionary<int, Dictionary<string, (double Sum, double Count)>>> ReadAsync(int nodes)
    {
        var all = new Dictionary<int, Dictionary<string, (double, double)>>();
        foreach (var (node, body) in await ScrapeAsync(nodes))
        {
            var steps = new Dictionary<string, (double Sum, double Count)>();
            if (body is not null)
            {
                foreach (string step in Steps)
                    steps[step] = (Value(body, $"actorimages_ingest_phase_seconds_sum{{phase=\"{step}\"}}"),
                        Value(body, $"actorimages_ingest_phase_seconds_count{{phase=\"{step}\"}}"));
                // The Registry's batch transactions: their time per batch, and entries per batch.
                steps[Batch] = (Value(body, "actorimages_catalog_batch_seconds_sum"), Value(body, "actorimages_catalog_batch_seconds_count"));
                steps[BatchEntries] = (Value(body, "actorimages_catalog_batch_entries_total"), 0);
            }
            all[node] = steps;
        }
        return all;
    }

    /// <summary>Each node's (1..<paramref name="nodes"/>) <c>/metrics</c> text; null for a node that did not answer
    /// (reported as "no figures" for it).</summary>
    public static async Task<Dictionary<int, string?>> ScrapeAsync(int nodes)
    {
        var all = new Dictionary<int, string?>();
        for (int node = 1; node <= nodes; node++)
        {
            try
            {
                var (status, body) = await LocalCluster.GetAsync(node, "/metrics");
                all[node] = status == 200 ? body : null;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                all[node] = null;
            }
        }
        return all;
    }

    /// <summary><c>steps, mean ms per image: node 1 receive 4.3, reserve 1.0, …, commit 8.6 (its batches: 4.1 ms, 3.2
    /// entries each)</c> for the window between two reads; a batch is one of the Registry's catalog transactions
    /// (<c>actorimages_catalog_batch_seconds</c>).</summary>
    public static string Describe(Dictionary<int, Dictionary<string, (double Sum, double Count)>> before,
        Dictionary<int, Dictionary<string, (double Sum, double Count)>> after)
    {
        var parts = after.Keys.Order().Select(node =>
        {
            var steps = Steps.Select(step =>
            {
                if (!after[node].TryGetValue(step, out var a) || !before[node].TryGetValue(step, out var b) || a.Count <= b.Count)
                    return $"{step} -";
                return $"{step} {(a.Sum - b.Sum) / (a.Count - b.Count) * 1000:0.0}";
            });
            var batches = after[node].TryGetValue(Batch, out var ba) && before[node].TryGetValue(Batch, out var bb) && ba.Count > bb.Count
                ? $" (its batches: {(ba.Sum - bb.Sum) / (ba.Count - bb.Count) * 1000:0.0} ms, " +
                  $"{(after[node][BatchEntries].Sum - before[node][BatchEntries].Sum) / (ba.Count - bb.Count):0.0} entries each)"
                : "";
            return $"node {node} " + string.Join(", ", steps) + batches;
        });
        return "steps of a stored upload, mean ms (actorimages_ingest_phase_seconds): " + string.Join("; ", parts);
    }

    /// <summary>The value of the sample line that starts with <paramref name="series"/>, or 0.</summary>
    internal static double Value(string metrics, string series)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
                return double.Parse(line[(series.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
        }
        return 0;
    }
}
