using System.Diagnostics;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>A fact that needs network namespaces: skipped, saying why, where they cannot be made.</summary>
public sealed class NamespacesFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> unless <see cref="Namespaces.Available"/>.</summary>
    public NamespacesFactAttribute()
    {
        if (!Namespaces.Available()) Skip = "needs root and iproute2 to create network namespaces";
    }
}

/// <summary>
/// A 2+1 partition between real node processes, each in its own network namespace (<see cref="Namespaces"/>), the
/// nodes bound to the namespaces' addresses: the minority refuses writes with the protocol's error and downs itself,
/// its process exiting with code 3 within the deadline; the majority keeps serving reads and writes; once the network
/// heals the node, started again as <c>bin/cluster</c>'s supervisor would, rejoins, and no image accepted on either
/// side is lost or listed twice.
/// </summary>
public sealed class PartitionTest(ITestOutputHelper output) : IAsyncLifetime
{
    private Namespaces? _ns;
    private TcpRelay? _relay;
    private TestCluster? _cluster;

    public async Task InitializeAsync()
    {
        if (!Namespaces.Available()) return;
        _ns = Namespaces.Create(3);
        (_relay, var dbUrl) = await TcpRelay.ToFreshDatabaseAsync();
        _cluster = await TestCluster.StartAsync(_ns.Hosts, dbUrl, launcher: _ns.Launcher);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        if (_relay is not null) await _relay.DisposeAsync();
        _ns?.Dispose();
    }

    [NamespacesFact]
    public async Task TheMinorityRefusesWritesAndExitsWithCode3TheMajorityServesAndNothingIsLostAfterHealing()
    {
        var cluster = _cluster!;
        var ns = _ns!;
        var accepted = new Dictionary<string, byte[]>();
        for (var n = 0; n < 4; n++) await UploadAsync(cluster[1].Host, 500 + n, accepted);

        // A client that stays connected to the minority node: an open session must not hold the downed node's exit.
        await using var idle = await Wire.P2.ConnectAsync(cluster[3].Host);
        await idle.CommandAsync("AUTH", "idle");

        ns.Isolate(3);
        var sinceCut = Stopwatch.StartNew();
        // The minority refuses writes: its copies cannot reach another node, and once it sees itself cut off it
        // refuses before reading a byte.
        var refused = Images.Png(900);
        await using (var p2 = await Wire.P2.ConnectAsync(cluster[3].Host))
        {
            await p2.CommandAsync("AUTH", "minority");
            var reply = await p2.UploadAsync("minority.png", refused);
            Assert.Equal("ERROR", reply.GetProperty("status").GetString());
            Assert.StartsWith("Falha no upload: ", reply.GetProperty("message").GetString());
            output.WriteLine($"minority refused the upload after {sinceCut.Elapsed.TotalSeconds:0.0} s: {reply.GetProperty("message").GetString()}");
        }
        var refusedP1 = Images.Png(901);
        try
        {
            await Wire.SendP1Async(cluster[3].Host, refusedP1);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            // refused either way: the node closed the connection, or it had already gone
        }

        // The majority keeps serving, writes and reads.
        for (var n = 0; n < 4; n++) await UploadAsync(cluster[2].Host, 600 + n, accepted);
        var (firstMd5, firstBytes) = accepted.First();
        Assert.Equal(firstBytes, await Wire.GetP4Async(cluster[2].Host, firstMd5));

        var exit = await cluster[3].WaitForExitAsync(TimeSpan.FromSeconds(60));
        var exitSeconds = sinceCut.Elapsed.TotalSeconds;
        output.WriteLine($"minority node exited with code {exit} after {exitSeconds:0.0} s");
        Assert.True(exit == NodeDownedExitCode, $"the minority node downs itself with exit code 3, got {exit?.ToString() ?? "no exit"}\n{cluster[3].Tail(80)}");

        ns.Heal(3);
        cluster[3].Start(); // what bin/cluster's supervisor does after exit code 3
        await cluster.WaitUpAsync(3, TimeSpan.FromSeconds(90));

        foreach (var node in cluster.Nodes)
        {
            var listed = await Poll.ValueAsync(TimeSpan.FromSeconds(20), $"catalog of {node.Host}", async () =>
                await Wire.ListedAsync(node.Host) is { } md5s && md5s.Count >= accepted.Count ? md5s : null);
            Assert.Equal(accepted.Keys.Order(), listed.Order());
            Assert.DoesNotContain(Images.Md5(refused), listed);
            Assert.DoesNotContain(Images.Md5(refusedP1), listed);
        }
        foreach (var (md5, bytes) in accepted)
            Assert.Equal(bytes, await Wire.GetP4Async(cluster[3].Host, md5));
    }

    /// <summary>The exit code of a node the Split Brain Resolver downed (NodeHost.DownedExitCode).</summary>
    private const int NodeDownedExitCode = 3;

    /// <summary>Uploads a distinct image over P2, again until it is stored: an upload placed on the node being cut
    /// off fails until the others see it unreachable, which is what a client then does.</summary>
    private static async Task UploadAsync(string host, int seed, Dictionary<string, byte[]> accepted)
    {
        var image = Images.Png(seed);
        await Wire.UploadP2Async(host, $"img-{seed}.png", image, attempts: 20);
        accepted[Images.Md5(image)] = image;
    }
}
