using ActorImages.Node.Config;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>README "Configuration": a variable beats the profile, the profile beats the defaults.</summary>
public class NodeConfigTest
{
    [Fact]
    public void DefaultsAreTheDocumentedOnes()
    {
        var s = NodeSettings.Create(NodeConfig.Load(new Dictionary<string, string>()));
        Assert.Equal(5001, s.P1Port);
        Assert.Equal(8765, s.P2Port);
        Assert.Equal(13377, s.P3Port);
        Assert.Equal(13378, s.P4Port);
        Assert.Equal(8080, s.HttpPort);
        Assert.Equal(64L * 1024 * 1024, s.MaxImageBytes);
        Assert.Equal(2, s.ReplicationFactor);
        Assert.Equal(TimeSpan.FromSeconds(30), s.P1IdleTimeout);
    }

    [Fact]
    public void AVariableBeatsTheProfileAndTheProfileBeatsTheDefaults()
    {
        var profile = Path.GetTempFileName();
        File.WriteAllText(profile, "actorimages { p1.port = 6001, p2.port = 6002 }");
        var s = NodeSettings.Create(NodeConfig.Load(new Dictionary<string, string>
        {
            ["ACTORIMAGES_CONFIG"] = profile, ["ACTORIMAGES_P1_PORT"] = "7001", ["ACTORIMAGES_P1_IDLE_TIMEOUT"] = "5s",
            ["ACTORIMAGES_MAX_IMAGE_BYTES"] = "16 MiB",
        }));
        Assert.Equal(7001, s.P1Port);
        Assert.Equal(6002, s.P2Port);
        Assert.Equal(TimeSpan.FromSeconds(5), s.P1IdleTimeout);
        Assert.Equal(16L * 1024 * 1024, s.MaxImageBytes);
    }

    [Fact]
    public void SeedNodesComeFromOneCommaSeparatedVariable()
    {
        var config = NodeConfig.Load(new Dictionary<string, string>
        {
            ["ACTORIMAGES_SEED_NODES"] = "akka.tcp://ActorImages@10.0.0.1:25520, akka.tcp://ActorImages@10.0.0.2:25520",
        });
        Assert.Equal(["akka.tcp://ActorImages@10.0.0.1:25520", "akka.tcp://ActorImages@10.0.0.2:25520"],
            config.GetStringList("akka.cluster.seed-nodes"));
    }

    [Fact]
    public void BootstrapContactPointsComeFromOneCommaSeparatedVariable()
    {
        var s = NodeSettings.Create(NodeConfig.Load(new Dictionary<string, string>
        {
            ["ACTORIMAGES_CLUSTER_BOOTSTRAP"] = "on", ["ACTORIMAGES_DISCOVERY_METHOD"] = "config",
            ["ACTORIMAGES_DISCOVERY_ENDPOINTS"] = "10.0.0.1, 10.0.0.2:9558",
        }));
        Assert.True(s.ClusterBootstrap);
        Assert.Equal("config", s.DiscoveryMethod);
        Assert.Equal(["10.0.0.1", "10.0.0.2:9558"], s.DiscoveryEndpoints);
    }

    [Fact]
    public void BootstrapWithSeedNodesOrAnUnknownDiscoveryMethodIsRefused()
    {
        var both = Assert.ThrowsAny<Exception>(() => NodeSettings.Create(NodeConfig.Load(new Dictionary<string, string>
        {
            ["ACTORIMAGES_CLUSTER_BOOTSTRAP"] = "on", ["ACTORIMAGES_SEED_NODES"] = "akka.tcp://ActorImages@10.0.0.1:25520",
        })));
        Assert.Contains("seed nodes", both.Message);
        var method = Assert.ThrowsAny<Exception>(() => NodeSettings.Create(NodeConfig.Load(new Dictionary<string, string>
        {
            ["ACTORIMAGES_DISCOVERY_METHOD"] = "kubernetes",
        })));
        Assert.Contains("discovery-method", method.Message);
        var empty = Assert.ThrowsAny<Exception>(() => NodeSettings.Create(NodeConfig.Load(new Dictionary<string, string>
        {
            ["ACTORIMAGES_CLUSTER_BOOTSTRAP"] = "on", ["ACTORIMAGES_DISCOVERY_METHOD"] = "config",
        })));
        Assert.Contains("discovery-endpoints", empty.Message);
    }

    [Fact]
    public void AnImpossibleSizeIsRefusedWithTheKeyNamed()
    {
        var e = Assert.ThrowsAny<Exception>(() => NodeSettings.Create(NodeConfig.Load(new Dictionary<string, string>
        {
            ["ACTORIMAGES_MAX_IMAGE_BYTES"] = "5 GiB",
        })));
        Assert.Contains("max-image-bytes", e.Message);
    }

    [Fact]
    public void AMissingProfileIsAClearError()
    {
        var e = Assert.ThrowsAny<Exception>(() => NodeConfig.Load(new Dictionary<string, string>
        {
            ["ACTORIMAGES_CONFIG"] = "/nonexistent/profile.conf",
        }));
        Assert.Contains("/nonexistent/profile.conf", e.Message);
    }
}
