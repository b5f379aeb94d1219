using System.Globalization;

namespace ActorImages.Bench;

/// <summary>
/// A read's time inside the node, from node 1's own histogram <c>actorimages_read_seconds{request}</c> on
/// <c>/metrics</c> (parsed request to the reply's last byte handed to the socket; docs/design.md, "The catalog"): the
/// difference of its buckets between two reads of <c>/metrics</c>, so the client's own pauses and the loopback are not
/// in it. The bucket bounds include the 20 ms target, so whether 99 % of the reads took at most 20 ms is exact; the
/// p99 itself is known only as the bucket it falls in.
/// </summary>
internal sealed class NodeReads
{
    private readonly Dictionary<(string Request, double Le), double> _buckets;

    private NodeReads(Dictionary<(string, double), double> buckets) => _buckets = buckets;

    /// <summary>Reads node <paramref name="node"/>'s histogram now; empty when the node does not answer.</summary>
    public static async Task<NodeReads> ReadAsync(int node)
    {
        var buckets = new Dictionary<(string, double), double>();
        try
        {
            var (status, body) = await LocalCluster.GetAsync(node, "/metrics");
            if (status == 200)
            {
                const string prefix = "actorimages_read_seconds_bucket{request=\"";
                foreach (var line in body.Split('\n'))
                {
                    if (!line.StartsWith(prefix, StringComparison.Ordinal)) continue;
                    // actorimages_read_seconds_bucket{request="P2 LIST",le="0.02"} 123
                    int requestEnd = line.IndexOf('"', prefix.Length);
                    int leStart = line.IndexOf("le=\"", requestEnd, StringComparison.Ordinal) + 4;
                    int leEnd = line.IndexOf('"', leStart);
                    string le = line[leStart..leEnd];
                    double bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                    double count = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
                    buckets[(line[prefix.Length..requestEnd], bound)] = count;
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // no figures for this window
        }
        return new NodeReads(buckets);
    }

    /// <summary>The reads of one kind in a window.</summary>
    /// <param name="Count">Reads recorded.</param>
    /// <param name="ShareWithin20Ms">The share (0–1) that took at most 20 ms.</param>
    /// <param name="P99BoundMs">The upper bound (ms) of the bucket that holds the 99th percentile; infinity past the
    /// last bound.</param>
    public sealed record Window(double Count, double ShareWithin20Ms, double P99BoundMs)
    {
        /// <summary>Whether the p99 is at most 20 ms (issue 8, "A million images").</summary>
        public bool Met => ShareWithin20Ms >= 0.99;

        /// <inheritdoc />
        public override string ToString() =>
            $"in the node: p99 <= {(double.IsPositiveInfinity(P99BoundMs) ? "inf" : Fmt.Ms(P99BoundMs))}, "
            + $"{ShareWithin20Ms * 100:0.0} % within 20 ms ({Count:0} reads)";
    }

    /// <summary>What <paramref name="request"/> took in the node between <paramref name="before"/> and this read;
    /// null without requests in the window.</summary>
    public Window? Since(NodeReads before, string request)
    {
        var delta = _buckets.Where(b => b.Key.Request == request)
            .Select(b => (Le: b.Key.Le, Count: b.Value - before._buckets.GetValueOrDefault(b.Key)))
            .OrderBy(b => b.Le).ToList();
        if (delta.Count == 0 || delta[^1].Count <= 0) return null;
        double total = delta[^1].Count;
        double within = delta.Where(b => b.Le <= 0.02).Select(b => b.Count).DefaultIfEmpty(0).Max();
        double p99 = delta.First(b => b.Count >= 0.99 * total).Le * 1000;
        return new Window(total, within / total, p99);
    }
}
