using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Testing;
using Akka.Actor;
using Akka.Configuration;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>
/// README "Limits and security", remoting: TLS is on by default, a node without the cluster certificate refuses to
/// start, and a peer is accepted only when it presents that very certificate. RemotingSecurityTest shows the same
/// against real node processes.
/// </summary>
public class RemoteTlsTest
{
    private static RemoteTls Load(Dictionary<string, string> environment) =>
        RemoteTls.Load(NodeConfig.Load(environment), DateTimeOffset.UtcNow);

    private static Dictionary<string, string> WithCertificate(string path, string password = TestCertificates.Password) => new()
    {
        ["ACTORIMAGES_CLUSTER_CERT"] = path, ["ACTORIMAGES_CLUSTER_CERT_PASSWORD"] = password,
    };

    [Fact]
    public void WithoutACertificateTheNodeRefusesToStartUnlessTlsIsTurnedOff()
    {
        var refused = Assert.Throws<ConfigurationException>(() => Load([]));
        Assert.Contains("ACTORIMAGES_REMOTE_TLS=off", refused.Message);
        var plain = Load(new() { ["ACTORIMAGES_REMOTE_TLS"] = "off" });
        Assert.False(plain.Enabled);
        Assert.Equal("akka.tcp", plain.Protocol);
    }

    [Fact]
    public void TlsOffWithACertificateIsAContradiction()
    {
        var environment = WithCertificate(TestCertificates.Cluster);
        environment["ACTORIMAGES_REMOTE_TLS"] = "off";
        Assert.Throws<ConfigurationException>(() => Load(environment));
    }

    [Fact]
    public void AMissingFileOrAWrongPasswordIsRefused()
    {
        Assert.Throws<ConfigurationException>(() => Load(WithCertificate("/nonexistent/cluster.pfx")));
        var wrong = Assert.Throws<ConfigurationException>(() => Load(WithCertificate(TestCertificates.Cluster, "wrong")));
        Assert.Contains("ACTORIMAGES_CLUSTER_CERT_PASSWORD", wrong.Message);
    }

    [Fact]
    public void OnlyTheClusterCertificateItselfIsAccepted()
    {
        var tls = Load(WithCertificate(TestCertificates.Cluster));
        Assert.True(tls.Enabled);
        Assert.Equal("akka.ssl.tcp", tls.Protocol);
        using var same = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(
            TestCertificates.Cluster, TestCertificates.Password);
        using var other = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(
            TestCertificates.Create("actorimages-cluster-lookalike"), TestCertificates.Password);
        Assert.True(tls.Accepts(same));
        // The replica channel's TLS callbacks hand over the base type (ReplicaChannel).
        using var sameBase = new System.Security.Cryptography.X509Certificates.X509Certificate(same);
        Assert.True(tls.Accepts(sameBase));
        Assert.False(tls.Accepts(other));
        Assert.False(tls.Accepts(null));
        var options = tls.Options("127.0.0.1", 25520);
        Assert.True(options.EnableSsl);
        Assert.True(options.Ssl.RequireMutualAuthentication);
        Assert.NotNull(options.Ssl.CustomValidator);
    }

    [Fact]
    public void SeedNodesAreReachedInTheTransportsProtocolAndNodesKeepTheirPlainNames()
    {
        var environment = WithCertificate(TestCertificates.Cluster);
        environment["ACTORIMAGES_SEED_NODES"] = "akka.tcp://ActorImages@10.0.0.1:25520,akka.ssl.tcp://ActorImages@10.0.0.2:25520";
        var config = NodeConfig.Load(environment);
        var seeds = RemoteTls.Load(config, DateTimeOffset.UtcNow).WithTransportSeeds(config).GetStringList("akka.cluster.seed-nodes");
        Assert.Equal(["akka.ssl.tcp://ActorImages@10.0.0.1:25520", "akka.ssl.tcp://ActorImages@10.0.0.2:25520"], seeds);
        Assert.Equal("akka.tcp://ActorImages@10.0.0.2:25520", RemoteTls.NodeName(Address.Parse("akka.ssl.tcp://ActorImages@10.0.0.2:25520")));
    }
}
