using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>
/// No one joins the cluster uninvited (issue 9, "Remoting"; README "Limits and security"): cluster remoting is TLS
/// with mutual authentication, and a node accepts only a peer presenting the cluster certificate. A 2-node cluster
/// on 127.0.80.1–2 (the test run's certificate, <see cref="TestCertificates"/>) is probed by
/// <list type="bullet">
/// <item>raw TLS connections to its remoting port that accept any server certificate, as an attacker would: one
/// presenting a self-signed certificate of its own, one presenting none — both are cut off by the node, which logs
/// the refusal; the same probe presenting the cluster certificate gets through (so the probe itself works);</item>
/// <item>two real node processes with the cluster as seeds: one with a different self-signed certificate
/// (127.0.80.11), one with TLS off (127.0.80.12). For 10 s neither becomes a member: no node of the cluster lists
/// it in <c>GET /api/cluster</c>, neither is ready, both members stay Up, reachable and ready. The node with the
/// other certificate refuses the cluster's certificate too, and Akka.Remote 1.5.73 ends a node whose outbound TLS
/// handshake fails (CoordinatedShutdown, exit code 79), so it may be gone before the 10 s are over;</item>
/// <item>then a third node with the cluster certificate (127.0.80.3), which joins: the refusals were the
/// certificate's doing, not the rogues' addresses or seeds.</item>
/// </list>
/// </summary>
public sealed class RemotingSecurityTest
{
    /// <summary>How long the rogues are watched: 10 s, five join attempts each (test nodes retry InitJoin every 2 s,
    /// tests/ActorImages.Testing/test-node.conf), where 20 s gave four with the default 5 s.</summary>
    private static readonly TimeSpan RogueWatch = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task OnlyAPeerWithTheClusterCertificateGetsIn()
    {
        await using var cluster = await TestCluster.StartAsync(subnet: 80, count: 2);
        var seeds = cluster.Nodes.Select(n => n.Host).ToList();

        // Raw TLS probes at node 1's remoting port.
        using var stranger = X509CertificateLoader.LoadPkcs12FromFile(TestCertificates.Create("actorimages-rogue-probe"), TestCertificates.Password);
        using var member = X509CertificateLoader.LoadPkcs12FromFile(TestCertificates.Cluster, TestCertificates.Password);
        Assert.False(await ProbeAsync(cluster[1].Host, stranger), "a TLS client with its own certificate was let in");
        Assert.False(await ProbeAsync(cluster[1].Host, null), "a TLS client without a certificate was let in");
        Assert.True(await ProbeAsync(cluster[1].Host, member), "a TLS client with the cluster certificate was cut off:\n" + cluster[1].Tail());
        await Poll.UntilAsync(TimeSpan.FromSeconds(5), "node 1 logging both refusals", () => Task.FromResult(
            cluster[1].ReadLog().Contains("presented CN=actorimages-rogue-probe") && cluster[1].ReadLog().Contains("did not provide a certificate")),
            () => cluster[1].Tail());

        // Rogue nodes: the shipped node binary, seeded with the cluster, without the cluster certificate.
        var rogueDb = await PostgresServer.CreateDatabaseUrlAsync();
        await using var forged = Rogue(cluster, "127.0.80.11", rogueDb, seeds, new Dictionary<string, string>
        {
            ["ACTORIMAGES_CLUSTER_CERT"] = TestCertificates.Create("actorimages-rogue-node"),
        });
        await using var plain = Rogue(cluster, "127.0.80.12", rogueDb, seeds, new Dictionary<string, string>
        {
            ["ACTORIMAGES_CLUSTER_CERT"] = "",
            ["ACTORIMAGES_REMOTE_TLS"] = "off",
        });
        forged.Start();
        plain.Start();
        var until = DateTime.UtcNow + RogueWatch;
        while (DateTime.UtcNow < until)
        {
            foreach (var node in cluster.Nodes)
            {
                var members = await MembersAsync(node);
                Assert.True(members.SetEquals(seeds.Select(h => $"{h} Up reachable")),
                    $"{node.Host} sees {string.Join(", ", members)}\n{cluster.Logs()}\n{forged.Tail()}\n{plain.Tail()}");
            }
            Assert.False(await forged.ReadyAsync() || await plain.ReadyAsync(), "a rogue node became an Up member\n" + forged.Tail() + "\n" + plain.Tail());
            await Task.Delay(1000);
        }
        Assert.True(forged.IsRunning || forged.ExitCode == 79, $"the rogue with its own certificate exited with {forged.ExitCode}\n{forged.Tail()}");
        Assert.True(plain.IsRunning, "the plain rogue exited: it stopped trying\n" + plain.Tail());
        foreach (var node in cluster.Nodes) Assert.True(await node.ReadyAsync(), node.Tail());
        Assert.Contains("cluster remoting is PLAIN TCP", plain.ReadLog()); // a plain node says what it gives up

        // The control: the same kind of node with the cluster certificate joins.
        await using var invited = new NodeProcess("127.0.80.3", Path.Combine(cluster.Root, "node-3", "data"), cluster.DbUrl, seeds);
        invited.Start();
        await Poll.UntilAsync(TimeSpan.FromSeconds(60), "127.0.80.3 Up in the cluster", async () =>
                (await MembersAsync(cluster[1])).Contains("127.0.80.3 Up reachable") && await invited.ReadyAsync(),
            () => invited.Tail());
        await invited.StopAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>A node process at <paramref name="host"/> with its own data and database, the cluster's nodes as
    /// seeds, and <paramref name="environment"/> replacing the test defaults (the cluster certificate among them).</summary>
    private static NodeProcess Rogue(TestCluster cluster, string host, string dbUrl, IReadOnlyList<string> seeds,
        IReadOnlyDictionary<string, string> environment) =>
        new(host, Path.Combine(cluster.Root, "rogue-" + host, "data"), dbUrl, seeds, environment);

    /// <summary>The members <paramref name="node"/> lists, as "host status reachable|unreachable"; empty when it
    /// does not answer.</summary>
    private static async Task<HashSet<string>> MembersAsync(NodeProcess node)
    {
        using var doc = await node.ClusterAsync();
        if (doc is null) return [];
        return doc.RootElement.GetProperty("members").EnumerateArray()
            .Select(m => $"{m.GetProperty("host").GetString()} {m.GetProperty("status").GetString()} " +
                         (m.GetProperty("reachable").GetBoolean() ? "reachable" : "unreachable"))
            .ToHashSet();
    }

    /// <summary>
    /// Opens a TLS connection to <paramref name="host"/>'s remoting port (25520) presenting <paramref name="certificate"/>
    /// (or none) and accepting whatever certificate the node presents. Returns whether the node let it in: the
    /// handshake completed and the node did not close the connection within 2 s. Under TLS 1.3 the client's side of
    /// the handshake ends before the server has checked the client's certificate, so a refusal may show only as the
    /// connection closing right after.
    /// </summary>
    private static async Task<bool> ProbeAsync(string host, X509Certificate2? certificate)
    {
        using var tcp = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await tcp.ConnectAsync(host, 25520, timeout.Token);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = host,
                ClientCertificates = certificate is null ? null : [certificate],
                LocalCertificateSelectionCallback = certificate is null ? null : (_, _, _, _, _) => certificate,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }, timeout.Token);
            using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            return await tls.ReadAsync(new byte[1], quiet.Token) > 0;
        }
        catch (OperationCanceledException) when (!timeout.IsCancellationRequested)
        {
            return true; // nothing to read and still open: the node waits for the Akka handshake
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            return false;
        }
    }
}
