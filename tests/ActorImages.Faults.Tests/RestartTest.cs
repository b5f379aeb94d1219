using System.Text.Json;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Faults.Tests;

/// <summary>
/// A full restart (docs/design.md, "Membership and failure"; "acknowledged means durable"): a 3-node cluster on
/// 127.0.50.1–3 takes an image by P1, one by P2 and a legacy peer's registration by P3, and is stopped as
/// <c>bin/cluster down</c> stops it (full stop announced, SIGTERM to every node) as soon as each was acknowledged. A
/// new cluster on the same data directories and catalog then serves all of it from every node — the same listings,
/// the same holders, the bytes, the tracker registration and its password — with nothing sent again. The stop itself
/// takes under 5 s: the tracker's node does not wait for a hand-over to nodes that leave with it.
/// </summary>
public sealed class RestartTest : IAsyncLifetime
{
    private const string PeerIp = "127.0.50.49";
    private const int PeerPort = 40049;
    private const string Password = "re'st\"art;pw";
    private const string PeerMd5 = "5d41402abc4b2a76b9719d911017c592";
    private static readonly TimeSpan AfterStart = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FullStop = TimeSpan.FromSeconds(5);
    private TestCluster _before = null!;
    private TestCluster? _after;

    public async Task InitializeAsync() => _before = await TestCluster.StartAsync(subnet: 50, count: 3);

    public async Task DisposeAsync()
    {
        if (_after is not null) await _after.DisposeAsync();
        await _before.DisposeAsync();
    }

    [Fact]
    public async Task AFullRestartKeepsImagesCatalogAndTrackerRegistrations()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        var chelsea = TestImages.Bytes("chelsea.png");
        var rocketMd5 = Images.Md5(rocket);
        var chelseaMd5 = Images.Md5(chelsea);

        await SendP1UntilStoredAsync(_before[1].Host, rocket);
        await Wire.UploadP2Async(_before[2].Host, "chelsea.png", chelsea);
        Assert.Equal("OK 1_REGISTERED_IMAGES",
            await Wire.AskP3Async(_before[3].Host, $"REG {Password} {PeerPort} {PeerMd5},peer.jpg", PeerIp));
        var listBefore = await Poll.ValueAsync(AfterStart, "P2 LIST on node 2 with both images", async () =>
            await P2ListAsync(_before[2].Host) is { } data && JsonDocument.Parse(data).RootElement.GetArrayLength() == 2 ? data : null);
        var lstBefore = await Poll.ValueAsync(AfterStart, "LST on node 1 with both images and the peer", async () =>
            await Wire.AskP3Async(_before[1].Host, "LST", PeerIp) is var reply
            && reply.Contains(rocketMd5) && reply.Contains(chelseaMd5) && reply.Contains(PeerMd5) ? reply : null);

        Assert.True(await _before.AnnounceStopAsync(), "full stop announced");
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        var exits = await Task.WhenAll(_before.Nodes.Select(n => n.StopAsync(TimeSpan.FromSeconds(90))));
        stopping.Stop();
        Assert.True(exits.All(e => e == 0), $"every node stopped with code 0: {string.Join(", ", exits)}\n{_before.Logs()}");
        // The tracker's node does not offer the singleton to members that leave too (TrackerHandOver): Akka's offers
        // alone took 6 s (12 retries at 500 ms) of every full stop before.
        Assert.True(stopping.Elapsed < FullStop, $"every node exited within {FullStop.TotalSeconds} s of SIGTERM, " +
            $"not {stopping.Elapsed.TotalSeconds:0.0} s\n{_before.Logs()}");
        Assert.StartsWith(chelseaMd5 + ",chelsea.png,", Item(lstBefore, chelseaMd5));
        Assert.Contains(":13378", Item(lstBefore, rocketMd5));
        Assert.Equal($"{PeerMd5},peer.jpg,{PeerIp}:{PeerPort}", Item(lstBefore, PeerMd5));

        // An upload a crash interrupted leaves its temp file: the node removes it as it starts, not an hour later.
        var interrupted = Path.Combine(_before.Nodes[0].DataDir, ".tmp", "upload-interrupted.part");
        await File.WriteAllBytesAsync(interrupted, rocket[..1000]);
        _after = await TestCluster.StartAsync(_before.Nodes.Select(n => n.Host).ToList(), _before.DbUrl, root: _before.Root);
        Assert.False(File.Exists(interrupted), "the interrupted upload's temp file is still there after the start");
        foreach (var node in _after.Nodes)
        {
            var host = node.Host;
            Assert.Equal(listBefore, await Poll.ValueAsync(AfterStart, $"P2 LIST on {host} as before the restart", async () =>
                await P2ListAsync(host) is { } data && data == listBefore ? data : null));
            // Same names, same holders (the nodes chosen at ingest, every one Up again), same order.
            Assert.Equal(lstBefore, await Poll.ValueAsync(AfterStart, $"LST on {host} as before the restart", async () =>
                await Wire.AskP3Async(host, "LST", PeerIp) is var reply && reply == lstBefore ? reply : null));
            foreach (var image in new[] { rocket, chelsea })
            {
                var md5 = Images.Md5(image);
                Assert.Equal(image, await Wire.GetP4Async(host, md5));
                var (status, body) = await Wire.GetBytesAsync(host, $"/api/images/{md5}/content");
                Assert.Equal(200, status);
                Assert.Equal(image, body);
            }
            var peersJson = await Wire.GetAsync(host, "/api/tracker/peers");
            Assert.NotNull(peersJson);
            using var peers = JsonDocument.Parse(peersJson);
            var peer = Assert.Single(peers.RootElement.EnumerateArray());
            Assert.Equal(PeerIp, peer.GetProperty("ip").GetString());
            Assert.Equal(PeerPort, peer.GetProperty("port").GetInt32());
            Assert.Contains(PeerMd5, peersJson);
            Assert.DoesNotContain("art;pw", peersJson);
            // The tracker singleton reloaded the salted hash: the old password still works, another does not.
            Assert.Equal("ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD",
                await Wire.AskP3Async(host, $"UPD wrong {PeerPort} {PeerMd5},peer.jpg", PeerIp));
            Assert.Equal("OK 1_REGISTERED_FILES",
                await Wire.AskP3Async(host, $"UPD {Password} {PeerPort} {PeerMd5},peer.jpg", PeerIp));
        }
    }

    /// <summary>P1 has no reply (a node that could not store the frame resets the connection, one that discarded it
    /// closes as after storing): sends until the catalog lists the image, as a camera that checks the gallery would.</summary>
    private static async Task SendP1UntilStoredAsync(string host, byte[] image)
    {
        var md5 = Images.Md5(image);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await Wire.SendP1Async(host, image);
            if (await Wire.GetAsync(host, $"/api/images/{md5}") is not null) return;
            await Task.Delay(1000);
        }
        throw new InvalidOperationException($"P1 image {md5} never stored by {host}");
    }

    /// <summary>The <c>data</c> of a P2 <c>LIST</c> reply, as JSON text.</summary>
    private static async Task<string?> P2ListAsync(string host)
    {
        await using var p2 = await Wire.P2.ConnectAsync(host);
        await p2.CommandAsync("AUTH", "restart-test");
        return (await p2.CommandAsync("LIST")).GetProperty("data").GetRawText();
    }

    /// <summary>The item of <paramref name="md5"/> in an LST reply, split as the seed-002 client splits it.</summary>
    private static string Item(string lst, string md5) =>
        lst.Split(';').FirstOrDefault(i => i.StartsWith(md5 + ",", StringComparison.Ordinal))
        ?? throw new Xunit.Sdk.XunitException($"{md5} not in {lst}");
}
