using System.Net;
using System.Security.Cryptography;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// Nodes without a cluster token (<c>ACTORIMAGES_ADMIN_TOKEN</c> empty; README "Limits and security"): their internal
/// replica routes answer loopback callers only, since a replica is stored without its header being read again. A
/// node in a network namespace (10.250.69.1) refuses the test's calls from 10.250.69.254 with 403 and stores nothing;
/// two nodes on 127.0.64.1–2 still copy every upload to each other.
/// </summary>
public sealed class ClusterTokenTest(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> NoToken = new() { ["ACTORIMAGES_ADMIN_TOKEN"] = "" };
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [NamespacesFact]
    public async Task ANodeWithoutATokenRefusesInternalCallsFromAnotherHostAndSaysWhy()
    {
        using var ns = Namespaces.Create(1);
        var (relay, dbUrl) = await TcpRelay.ToFreshDatabaseAsync();
        await using var _ = relay;
        await using var cluster = await TestCluster.StartAsync(ns.Hosts, dbUrl, extra: NoToken, launcher: ns.Launcher,
            timeout: TimeSpan.FromSeconds(60));

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
            Task.FromResult(File.ReadAllText(cluster[1].LogPath).Contains("no cluster token (ACTORIMAGES_ADMIN_TOKEN)")));
    }

    [Fact]
    public async Task NodesWithoutATokenOnLoopbackStillCopyEveryUpload()
    {
        await using var cluster = await TestCluster.StartAsync(subnet: 64, count: 2, extra: NoToken);
        string[] both = [cluster[1].Host, cluster[2].Host];
        for (var n = 0; n < 4; n++)
        {
            var image = Images.Png(64_100 + n);
            var md5 = Images.Md5(image);
            Assert.True(await Wire.SendP1Async(cluster[1 + n % 2].Host, image), $"upload {n} stored\n{cluster.Logs()}");
            await Poll.UntilAsync(TimeSpan.FromSeconds(20), $"{md5} on both nodes\n{cluster.Logs()}", async () =>
                (await Wire.HoldersAsync(cluster[1].Host, md5)).Order().SequenceEqual(both.Order()));
            Assert.Equal(image, await Wire.GetP4Async(cluster[1 + (n + 1) % 2].Host, md5));
        }
        Assert.DoesNotContain("no cluster token", File.ReadAllText(cluster[1].LogPath));
    }
}
