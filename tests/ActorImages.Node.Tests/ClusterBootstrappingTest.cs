using System.Collections.Immutable;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using Akka.Actor;
using Akka.Cluster;
using Akka.Management.Cluster.Bootstrap.ContactPoint;
using Newtonsoft.Json;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>Cluster Bootstrap's configuration (<see cref="ClusterBootstrapping.Hocon"/>) and the seed-nodes answer's
/// wire form; the whole bootstrap runs in ActorImages.Cluster.Tests' ClusterBootstrapTest.</summary>
public sealed class ClusterBootstrappingTest
{
    private static NodeSettings Settings(params (string Key, string Value)[] environment) =>
        NodeSettings.Create(NodeConfig.Load(environment.ToDictionary(e => e.Key, e => e.Value)));

    [Fact]
    public void DnsDiscoveryProbesTheManagementPortOfEveryAddressOfTheServiceName()
    {
        var config = ClusterBootstrapping.Hocon(Settings(("ACTORIMAGES_CLUSTER_BOOTSTRAP", "on"), ("ACTORIMAGES_HOST", "10.0.0.7"),
            ("ACTORIMAGES_MANAGEMENT_PORT", "9558"), ("ACTORIMAGES_BOOTSTRAP_REQUIRED_CONTACTS", "3")));
        var discovery = config.GetConfig("akka.management.cluster.bootstrap.contact-point-discovery");
        Assert.Equal(ClusterBootstrapping.DnsMethod, discovery.GetString("discovery-method"));
        Assert.Equal("node", discovery.GetString("service-name"));
        Assert.Equal(3, discovery.GetInt("required-contact-point-nr"));
        Assert.Equal(9558, config.GetInt("akka.management.cluster.bootstrap.contact-point.fallback-port"));
        Assert.Equal("10.0.0.7", config.GetString("akka.management.http.hostname"));
        Assert.Equal(typeof(DnsARecordDiscovery),
            Type.GetType(config.GetString($"akka.discovery.{ClusterBootstrapping.DnsMethod}.class"), throwOnError: true));
    }

    [Fact]
    public void ConfigDiscoveryListsTheEndpointsUnderTheServiceName()
    {
        var config = ClusterBootstrapping.Hocon(Settings(("ACTORIMAGES_CLUSTER_BOOTSTRAP", "on"), ("ACTORIMAGES_DISCOVERY_METHOD", "config"),
            ("ACTORIMAGES_DISCOVERY_SERVICE", "fixed"), ("ACTORIMAGES_DISCOVERY_ENDPOINTS", "10.0.0.1,10.0.0.2:9558")));
        Assert.Equal("config", config.GetString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
        Assert.Equal(["10.0.0.1", "10.0.0.2:9558"], config.GetStringList("akka.discovery.config.services.fixed.endpoints"));
    }

    [Fact]
    public void SeedNodesKeepTheirTlsProtocolOnTheWire()
    {
        // Akka's prober deserializes the answer with Newtonsoft.Json and joins the addresses as they are: a member
        // reached over TLS must come back as akka.ssl.tcp, or the join would go to a plain port no one listens on.
        var member = new Address("akka.ssl.tcp", "ActorImages", "10.0.0.2", 25520);
        var json = JsonConvert.SerializeObject(new HttpBootstrapJsonProtocol.SeedNodes(member, [
            new HttpBootstrapJsonProtocol.ClusterMember(member, 42, MemberStatus.Up, ImmutableHashSet.Create("images")),
        ]));
        var read = JsonConvert.DeserializeObject<HttpBootstrapJsonProtocol.SeedNodes>(json)!;
        Assert.Equal(member, read.SelfNode);
        var node = Assert.Single(read.Nodes);
        Assert.Equal(member, node.Node);
        Assert.Equal(MemberStatus.Up, node.Status);
    }
}
