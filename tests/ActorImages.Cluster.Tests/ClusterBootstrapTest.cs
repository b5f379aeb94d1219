using System.Diagnostics;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Cluster.Tests;

/// <summary>
/// Cluster Bootstrap (issue 8, point 10; README "Containers"): nodes with no seed list form one cluster through
/// Akka.Management's <c>ClusterBootstrap</c>, their contact points (<c>GET /bootstrap/seed-nodes</c> on the management
/// port, served by Kestrel) found by Akka's <c>config</c> discovery method — the DNS method of the containers resolves
/// a name instead, the rest is the same. On 127.0.40.x:
/// <list type="bullet">
/// <item>127.0.40.2–4 start at once, each listing the three as contact points, 2 required: they form exactly one
/// cluster, every node seeing the same 3 Up members and the same leader;</item>
/// <item>then 127.0.40.1 starts, listing all four. It holds the lowest address, so had it not found the running
/// cluster through the others' seed-nodes answers it would have formed a cluster of its own; it joins the running one,
/// and all four see the same 4 Up members and leader;</item>
/// <item>every node's singleton proxy identifies the tracker, without the false "failed to find" warning of
/// Akka.NET 1.5.73's proxy at start.</item>
/// </list>
/// </summary>
public sealed class ClusterBootstrapTest(ITestOutputHelper output)
{
    private static readonly string[] First = ["127.0.40.2", "127.0.40.3", "127.0.40.4"];
    private const string Late = "127.0.40.1";

    [Fact]
    public async Task NodesWithoutSeedsFormOneClusterAndALaterNodeJoinsIt()
    {
        var watch = Stopwatch.StartNew();
        await using var cluster = await TestCluster.StartAsync(First, extra: Bootstrap(First), timeout: TimeSpan.FromSeconds(60));
        output.WriteLine($"3 Up after {watch.Elapsed.TotalSeconds:0.0} s");
        await AssertOneClusterAsync(cluster.Nodes, First, cluster.Logs);

        var all = First.Prepend(Late).ToArray();
        await using var late = new NodeProcess(Late, Path.Combine(cluster.Root, "node-late", "data"), cluster.DbUrl, [], Bootstrap(all));
        late.Start();
        var nodes = cluster.Nodes.Append(late).ToList();
        string Logs() => cluster.Logs() + "\n" + late.Tail();
        await Poll.UntilAsync(TimeSpan.FromSeconds(45), $"{Late} Up in the running cluster", async () =>
        {
            foreach (var node in nodes)
                if (await node.UpMembersAsync() != 4 || !await node.ReadyAsync()) return false;
            return true;
        }, Logs);
        await AssertOneClusterAsync(nodes, all, Logs);
        output.WriteLine($"{Late} Up in the running cluster after {watch.Elapsed.TotalSeconds:0.0} s");
        // Akka's BootstrapCoordinator: "Joining [self] to existing cluster [seeds]", not "Initiating new cluster".
        Assert.Contains("to existing cluster", late.ReadLog());

        // Every node's proxy finds the tracker singleton, and none cries wolf on the way: Akka.NET 1.5.73's proxy warns
        // "failed to find an associated singleton ... after 30 seconds" the moment it starts (akka.net#8568), so that
        // warning is off (reference.conf, singleton-proxy).
        foreach (var node in nodes)
        {
            await Poll.UntilAsync(TimeSpan.FromSeconds(30), $"{node.Host}'s proxy identifying the tracker",
                () => Task.FromResult(node.ReadLog().Contains("Singleton identified at")), Logs);
            Assert.DoesNotContain("failed to find an associated singleton", node.ReadLog());
        }
    }

    /// <summary>The environment of a bootstrapping node: no seeds, Cluster Bootstrap on, discovery method config
    /// listing <paramref name="contacts"/> (port-less: the management port, 8558), 2 contacts required.</summary>
    private static Dictionary<string, string> Bootstrap(IEnumerable<string> contacts) => new()
    {
        ["ACTORIMAGES_SEED_NODES"] = "",
        ["ACTORIMAGES_CLUSTER_BOOTSTRAP"] = "on",
        ["ACTORIMAGES_DISCOVERY_METHOD"] = "config",
        ["ACTORIMAGES_DISCOVERY_SERVICE"] = "bootstrap-test",
        ["ACTORIMAGES_DISCOVERY_ENDPOINTS"] = string.Join(",", contacts),
        ["ACTORIMAGES_BOOTSTRAP_REQUIRED_CONTACTS"] = "2",
    };

    /// <summary>Every node of <paramref name="nodes"/> lists exactly <paramref name="hosts"/> as Up, reachable
    /// members and names the same leader, one of them. A node hears of a member's Up and of the leader's change in
    /// separate events, so all of them must agree within a few seconds of seeing every member Up, not at once (CI saw
    /// one node still naming the first leader right after the third member came Up).</summary>
    private static async Task AssertOneClusterAsync(IEnumerable<NodeProcess> nodes, IReadOnlyCollection<string> hosts, Func<string> logs)
    {
        var all = nodes.ToList();
        try
        {
            await Poll.UntilAsync(TimeSpan.FromSeconds(10), "every node naming one cluster and one leader", async () =>
            {
                try
                {
                    await AssertOneClusterNowAsync(all, hosts, logs);
                    return true;
                }
                catch (Xunit.Sdk.XunitException)
                {
                    return false;
                }
            });
        }
        catch (TimeoutException)
        {
            await AssertOneClusterNowAsync(all, hosts, logs); // fails saying which node differs
        }
    }

    private static async Task AssertOneClusterNowAsync(IEnumerable<NodeProcess> nodes, IReadOnlyCollection<string> hosts, Func<string> logs)
    {
        var leaders = new HashSet<string>();
        foreach (var node in nodes)
        {
            var view = await node.MembershipAsync();
            Assert.True(view is not null, $"{node.Host} does not answer /api/cluster\n{logs()}");
            Assert.True(view.Up.SetEquals(hosts), $"{node.Host} sees Up {string.Join(", ", view.Up)}\n{logs()}");
            leaders.Add(view.Leader);
        }
        var leader = Assert.Single(leaders);
        Assert.Contains(leader, hosts);
    }
}
