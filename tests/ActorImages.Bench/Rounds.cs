namespace ActorImages.Bench;

/// <summary>
/// A window measured in rounds that alternate with its reference's (README "Benchmarks"): the nodes' round 1, the
/// reference's round 1, the nodes' round 2, and so on, each round a share of the window. Both figures are then totals
/// over the same minutes, so a machine that changes speed meanwhile moves both alike: this machine's disk took the sink
/// from 3,207 to 884 images/s within one run, and a reference measured once, before or after a window, was the machine
/// of another minute. The ratio of each pair of rounds shows how steady the comparison was.
/// </summary>
internal static class Rounds
{
    /// <summary>Runs <paramref name="count"/> pairs of rounds, the nodes' first in each pair.</summary>
    /// <typeparam name="TNodes">What a round of the nodes measures.</typeparam>
    /// <typeparam name="TReference">What a round of the reference measures.</typeparam>
    /// <param name="count">Pairs of rounds, at least 1.</param>
    /// <param name="beforeEach">Run before every round, outside its clock (bin/bench flushes the machine's dirty pages
    /// before a P1 round, so that neither side pays for the other's writeback); null for nothing.</param>
    /// <param name="nodes">The nodes' round i (0-based).</param>
    /// <param name="reference">The reference's round i.</param>
    /// <returns>Each side's rounds, in order.</returns>
    public static async Task<(List<TNodes> Nodes, List<TReference> References)> AlternateAsync<TNodes, TReference>(int count,
        Action? beforeEach, Func<int, Task<TNodes>> nodes, Func<int, Task<TReference>> reference)
    {
        var nodeRounds = new List<TNodes>(count);
        var referenceRounds = new List<TReference>(count);
        for (int i = 0; i < count; i++)
        {
            beforeEach?.Invoke();
            nodeRounds.Add(await nodes(i));
            beforeEach?.Invoke();
            referenceRounds.Add(await reference(i));
        }
        return (nodeRounds, referenceRounds);
    }

    /// <summary>Each pair's ratio, the nodes' figure over the reference's, e.g. <c>0.41x 0.47x 0.39x 0.45x</c>.</summary>
    /// <param name="nodes">The nodes' figure per round.</param>
    /// <param name="references">The reference's figure per round, in the same unit.</param>
    public static string Ratios(IEnumerable<double> nodes, IEnumerable<double> references) =>
        string.Join(' ', nodes.Zip(references, (n, r) => Fmt.X(n / r)));

    /// <summary>The smallest and largest of <paramref name="figures"/>, e.g. <c>1,120-2,480</c>.</summary>
    public static string Range(IReadOnlyCollection<double> figures) => $"{Fmt.N(figures.Min())}-{Fmt.N(figures.Max())}";
}
