using System.Diagnostics;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// A second node joins a one-node cluster (127.0.62.1–2) whose 40 images, stored with replication factor 2 while
/// the node was alone, have one copy each. With <c>repair-interval = 0</c> only the member's arrival can start the
/// repair pass, so the second copies must come from that (docs/design.md, "Membership and failure"); and the two nodes
/// share the copying by the rule of <c>ReplicaRepair.Assign</c>: the joining node fetches the images whose MD5 ends in
/// a character with an odd code, the holder pushes the others — not one node making every copy while the other idles.
/// </summary>
public sealed class GrowthRepairTest(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Count = 40;
    private const string RepairOk = "actorimages_replica_copies_total{reason=\"repair\",outcome=\"ok\"}";
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(subnet: 62, count: 2,
        extra: new Dictionary<string, string> { ["ACTORIMAGES_REPAIR_INTERVAL"] = "0s" }, started: 1);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task AJoiningNodeGetsTheMissingCopiesAtOnceAndFetchesItsHalfItself()
    {
        var md5s = new List<string>();
        for (var n = 0; n < Count; n++)
        {
            var image = Images.Png(62_000 + n);
            Assert.True(await Wire.SendP1Async(_cluster[1].Host, image), $"upload {n} stored\n{_cluster.Logs()}");
            md5s.Add(Images.Md5(image));
        }
        foreach (var md5 in md5s)
            await Poll.UntilAsync(TimeSpan.FromSeconds(20), $"{md5} listed on node 1 alone", async () =>
                (await Wire.HoldersAsync(_cluster[1].Host, md5)).SequenceEqual([_cluster[1].Host]));

        _cluster[2].Start();
        await _cluster.WaitUpAsync(2, TimeSpan.FromSeconds(90));
        var sinceUp = Stopwatch.StartNew();
        string[] both = [_cluster[1].Host, _cluster[2].Host];
        foreach (var md5 in md5s)
            await Poll.UntilAsync(TimeSpan.FromSeconds(60), $"{md5} on both nodes\n{_cluster.Logs()}", async () =>
                (await Wire.HoldersAsync(_cluster[1].Host, md5)).Order().SequenceEqual(both.Order()));
        var replicated = sinceUp.Elapsed;

        var pushed = await Wire.MetricAsync(_cluster[1].Host, RepairOk);
        var fetched = await Wire.MetricAsync(_cluster[2].Host, RepairOk);
        var fetchedByRule = md5s.Count(m => (m[^1] & 1) == 1);
        output.WriteLine($"every image on both nodes {replicated.TotalSeconds:0.0} s after node 2 was Up; node 1 pushed " +
                         $"{pushed}, node 2 fetched {fetched} (its share by the MD5s: {fetchedByRule} of {Count})");
        Assert.True(fetchedByRule is > 0 and < Count, "the seeds give images on both sides of the rule");
        Assert.Equal(fetchedByRule, fetched);
        Assert.Equal(Count - fetchedByRule, pushed);
        foreach (var md5 in md5s)
            Assert.Equal(await Wire.GetP4Async(_cluster[1].Host, md5), await Wire.GetP4Async(_cluster[2].Host, md5));
    }
}
