using System.Diagnostics;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// Cluster Bootstrap with DNS discovery end to end, as <c>docker compose up --scale node=3</c> runs it (README "Docker";
/// docs/design.md "Membership and failure"): three node processes, each in its own network namespace
/// (<see cref="Namespaces"/>) on 10.250.69.1–3, with no seed nodes, <c>ACTORIMAGES_DISCOVERY_METHOD=dns</c> and the
/// service name <c>node</c>, which resolves in every namespace to all three addresses (<see cref="Namespaces.WriteHosts"/>,
/// as compose's DNS resolves a service name to every container). The nodes find each other's contact points through
/// that name (<c>DnsARecordDiscovery</c>), the lowest address forms the cluster and the others join it: every node
/// sees the same 3 Up members and the same leader.
/// </summary>
public sealed class DnsBootstrapTest(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The discovery service name, compose's service name (<c>ACTORIMAGES_DISCOVERY_SERVICE</c>' default).</summary>
    private const string Service = "node";

    private Namespaces? _ns;
    private TcpRelay? _relay;
    private string? _dbUrl;

    /// <summary>Creates the namespaces with their hosts files and the catalog's relay.</summary>
    /// <returns>A task that completes when they are ready.</returns>
    public async Task InitializeAsync()
    {
        if (!Namespaces.Available()) return;
        _ns = Namespaces.Create(3);
        _ns.WriteHosts(Service);
        (_relay, _dbUrl) = await TcpRelay.ToFreshDatabaseAsync();
    }

    /// <summary>Removes the relay, the namespaces and their hosts files.</summary>
    /// <returns>A task that completes when they are gone.</returns>
    public async Task DisposeAsync()
    {
        if (_relay is not null) await _relay.DisposeAsync();
        _ns?.Dispose();
    }

    /// <summary>
    /// Three nodes without seeds, discovering each other through the DNS name <c>node</c>, form exactly one cluster:
    /// every node lists the three as Up and reachable and names the same leader; each node's log shows the contact
    /// points it located through the <c>actorimages-dns</c> method, all three addresses; 10.250.69.1, the lowest,
    /// initiated the cluster and the other two joined it.
    /// </summary>
    /// <returns>A task that completes when the test has run.</returns>
    [NamespacesFact]
    public async Task NodesWithoutSeedsFindEachOtherThroughDnsAndFormOneCluster()
    {
        var ns = _ns!;
        var watch = Stopwatch.StartNew();
        await using var cluster = await TestCluster.StartAsync(ns.Hosts, _dbUrl, extra: Bootstrap(), launcher: ns.Launcher,
            timeout: TimeSpan.FromSeconds(60));
        output.WriteLine($"3 Up after {watch.Elapsed.TotalSeconds:0.0} s");

        var leaders = new HashSet<string>();
        foreach (var node in cluster.Nodes)
        {
            var view = await node.MembershipAsync();
            Assert.True(view is not null, $"{node.Host} does not answer /api/cluster\n{cluster.Logs()}");
            Assert.True(view.Up.SetEquals(ns.Hosts), $"{node.Host} sees Up {string.Join(", ", view.Up)}\n{cluster.Logs()}");
            leaders.Add(view.Leader);
        }
        var leader = Assert.Single(leaders);
        Assert.Contains(leader, ns.Hosts);

        foreach (var node in cluster.Nodes)
        {
            var log = node.ReadLog();
            // Akka's ClusterBootstrap: "Bootstrap using `akka.discovery` method: actorimages-dns", then per lookup
            // "Located service members based on: [Lookup(node, …)]: [ResolvedTarget(10.250.69.1, …), …], filtered to […]".
            Assert.True(log.Contains("method: actorimages-dns", StringComparison.Ordinal),
                $"{node.Host} did not bootstrap with the DNS method\n{node.Tail(80)}");
            var located = log.Split('\n').Where(l => l.Contains("Located service members", StringComparison.Ordinal)).ToList();
            Assert.True(located.Any(l => ns.Hosts.All(l.Contains)),
                $"{node.Host} never located all of {string.Join(", ", ns.Hosts)} through DNS:\n{string.Join('\n', located.Take(5))}\n{node.Tail(80)}");
            output.WriteLine($"{node.Host}: {located.Last().Trim()}");
        }
        // Akka's LowestAddressJoinDecider: the lowest contact point forms the cluster, the others join it.
        Assert.Contains("Initiating new cluster", cluster[1].ReadLog());
        Assert.Contains("to existing cluster", cluster[2].ReadLog());
        Assert.Contains("to existing cluster", cluster[3].ReadLog());
    }

    /// <summary>The environment of a node of the container profile: no seeds, Cluster Bootstrap on, DNS discovery of
    /// <see cref="Service"/>, 2 contacts required (README "Configuration").</summary>
    private static Dictionary<string, string> Bootstrap() => new()
    {
        ["ACTORIMAGES_SEED_NODES"] = "",
        ["ACTORIMAGES_CLUSTER_BOOTSTRAP"] = "on",
        ["ACTORIMAGES_DISCOVERY_METHOD"] = "dns",
        ["ACTORIMAGES_DISCOVERY_SERVICE"] = Service,
        ["ACTORIMAGES_BOOTSTRAP_REQUIRED_CONTACTS"] = "2",
    };
}
