using System.Net;
using System.Security.Cryptography;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// Nodes without a cluster token (<c>ACTORIMAGES_ADMIN_TOKEN</c> empty; README "Limits and security"). With remoting
/// plain TCP (no cluster certificate) their internal replica routes are on the HTTP port and answer loopback callers
/// only, since a replica is stored without its header being read again: a node in a network namespace (10.250.69.1)
/// refuses the test's calls from 10.250.69.254 with 403 and stores nothing; two nodes on 127.0.64.1–2 still copy every
/// upload to each other. With the cluster certificate the certificate is the credential of the replica channel
/// (<c>ReplicaChannel</c>), so two nodes on two hosts (namespaces 10.250.69.1–2) copy every upload without a token.
/// </summary>
public sealed class ClusterTokenTest(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> NoToken = new() { ["ACTORIMAGES_ADMIN_TOKEN"] = "" };

    private static readonly Dictionary<string, string> NoTokenPlain = new()
    {
        ["ACTORIMAGES_ADMIN_TOKEN"] = "", ["ACTORIMAGES_CLUSTER_CERT"] = "", ["ACTORIMAGES_REMOTE_TLS"] = "off",
    };

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [NamespacesFact]
    public async Task ANodeWithoutATokenRefusesInternalCallsFromAnotherHostAndSaysWhy()
    {
        await OnHostsAsync(1, NoTokenPlain, async cluster =>
        {
            var image = Images.Png(64_001);
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(image));
            var path = $"token-test/{sha256[..12]}.png";
            var node = cluster[1].HttpBase;
            using var put = await Http.PutAsync(new Uri(node, $"internal/replicas/{path}?sha256={sha256}"), new ByteArrayContent(image));
            var body = await put.Content.ReadAsStringAsync();
            output.WriteLine($"PUT from {Namespaces.Gateway}: {(int)put.StatusCode} {body}");
            Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
            Assert.Contains("ACTORIMAGES_ADMIN_TOKEN", body);
            using var get = await Http.GetAsync(new Uri(node, $"internal/blobs/{path}?sha256={sha256}"));
            Assert.Equal(HttpStatusCode.Forbidden, get.StatusCode);
            Assert.False(File.Exists(Path.Combine(cluster[1].DataDir, path)), "nothing stored");
            await Poll.UntilAsync(TimeSpan.FromSeconds(10), "the node's log names the missing token", () =>
                Task.FromResult(cluster[1].ReadLog().Contains("no cluster token (ACTORIMAGES_ADMIN_TOKEN)")));
        });
    }

    [Fact]
    public async Task NodesWithoutATokenOnLoopbackStillCopyEveryUpload()
    {
        await using var cluster = await TestCluster.StartAsync(subnet: 64, count: 2, extra: NoTokenPlain);
        await AssertEveryUploadCopiedAsync(cluster, 64_100);
        Assert.DoesNotContain("no cluster token", cluster[1].ReadLog());
    }

    [NamespacesFact]
    public async Task NodesOnTwoHostsWithTheClusterCertificateCopyEveryUploadWithoutAToken()
    {
        await OnHostsAsync(2, NoToken, async cluster =>
        {
            await AssertEveryUploadCopiedAsync(cluster, 64_200);
            // The HTTP port does not serve them, whoever asks (the replica port does, to the cluster certificate only).
            var image = Images.Png(64_299);
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(image));
            using var put = await Http.PutAsync(new Uri(cluster[1].HttpBase, $"internal/replicas/token-test/x.png?sha256={sha256}"),
                new ByteArrayContent(image));
            Assert.Equal(HttpStatusCode.NotFound, put.StatusCode);
            Assert.DoesNotContain("no cluster token", cluster[1].ReadLog());
        });
    }

    /// <summary>Runs <paramref name="test"/> against a fresh cluster of <paramref name="hosts"/> nodes, each in a
    /// network namespace of its own (10.250.69.1…, the test on 10.250.69.254), with a fresh catalog database.</summary>
    private static async Task OnHostsAsync(int hosts, IReadOnlyDictionary<string, string> extra, Func<TestCluster, Task> test)
    {
        using var ns = Namespaces.Create(hosts);
        var (relay, dbUrl) = await TcpRelay.ToFreshDatabaseAsync();
        await using var _ = relay;
        await using var cluster = await TestCluster.StartAsync(ns.Hosts, dbUrl, extra: extra, launcher: ns.Launcher,
            timeout: TimeSpan.FromSeconds(60));
        await test(cluster);
    }

    /// <summary>Sends four P1 uploads, alternately to each of the cluster's two nodes, and asserts that each is listed
    /// on both and that the other node serves it byte for byte over P4.</summary>
    private static async Task AssertEveryUploadCopiedAsync(TestCluster cluster, int seed)
    {
        string[] both = [cluster[1].Host, cluster[2].Host];
        for (var n = 0; n < 4; n++)
        {
            var image = Images.Png(seed + n);
            var md5 = Images.Md5(image);
            Assert.True(await Wire.SendP1Async(cluster[1 + n % 2].Host, image), $"upload {n} stored\n{cluster.Logs()}");
            await Poll.UntilAsync(TimeSpan.FromSeconds(20), $"{md5} on both nodes\n{cluster.Logs()}", async () =>
                (await Wire.HoldersAsync(cluster[1].Host, md5)).Order().SequenceEqual(both.Order()));
            Assert.Equal(image, await Wire.GetP4Async(cluster[1 + (n + 1) % 2].Host, md5));
        }
    }
}
