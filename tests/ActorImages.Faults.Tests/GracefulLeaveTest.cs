using System.Diagnostics;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// SIGTERM to the node running the tracker singleton, on a real 3-node cluster (127.0.56.1–3): before it exits it
/// copies the images it holds to the nodes that keep them — so the replica sets are whole right at its exit, by its
/// own work and not by the others' repair afterwards — exits with code 0, and the tracker's unavailability during the
/// hand-over (the longest gap between two successful UPDs polled every 100 ms on a survivor) stays short.
/// </summary>
public sealed class GracefulLeaveTest(ITestOutputHelper output) : IAsyncLifetime
{
    private const string PeerFrom = "127.0.56.200";
    private static readonly string Upd = $"UPD leave;pw 46001 '{new string('e', 32)},leave.jpg'";
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(subnet: 56, count: 3);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task TheLeavingSingletonNodeMovesItsReplicasBeforeItExitsAndTheTrackerHandsOverQuickly()
    {
        var md5s = new List<string>();
        for (var n = 0; n < 12; n++)
        {
            var image = Images.Png(7000 + n);
            await Wire.UploadP2Async(_cluster[1 + n % 3].Host, $"leave-{n}.png", image);
            md5s.Add(Images.Md5(image));
        }
        Assert.Equal("OK 1_REGISTERED_IMAGES", await Wire.AskP3Async(_cluster[2].Host, $"REG leave;pw 46001 '{new string('e', 32)},leave.jpg'", PeerFrom));
        Assert.Equal(_cluster[1].Host, await Wire.TrackerHostAsync(_cluster[2].Host));
        var heldByOne = 0;
        foreach (var md5 in md5s)
            if ((await Wire.HoldersAsync(_cluster[2].Host, md5)).Contains(_cluster[1].Host)) heldByOne++;
        Assert.True(heldByOne > 0, "node 1 holds some of the images");

        var successes = new List<TimeSpan>();
        var clock = Stopwatch.StartNew();
        using var polling = new CancellationTokenSource();
        var poller = Task.Run(async () =>
        {
            while (!polling.IsCancellationRequested)
            {
                if (await Wire.TryP3Async(_cluster[2].Host, Upd, PeerFrom, TimeSpan.FromSeconds(1)) == "OK 1_REGISTERED_FILES")
                    lock (successes) successes.Add(clock.Elapsed);
                await Task.Delay(100);
            }
        });
        await Task.Delay(1000);

        var stopAt = clock.Elapsed;
        var exit = await _cluster[1].StopAsync(TimeSpan.FromSeconds(90));
        var exitSeconds = (clock.Elapsed - stopAt).TotalSeconds;
        // Right at exit, before the survivors' repair could act: every image already on two live nodes.
        var live = new[] { _cluster[2].Host, _cluster[3].Host };
        var atExit = new List<string>();
        foreach (var md5 in md5s)
        {
            var holders = await Wire.HoldersAsync(_cluster[2].Host, md5);
            if (holders.Count != 2 || !holders.All(live.Contains)) atExit.Add($"{md5}: {string.Join(",", holders)}");
        }
        await Task.Delay(4000);
        await polling.CancelAsync();
        await poller;

        var gap = TimeSpan.Zero;
        lock (successes)
            for (var i = 1; i < successes.Count; i++)
                if (successes[i] - successes[i - 1] > gap) gap = successes[i] - successes[i - 1];
        output.WriteLine($"graceful leave of the singleton's node: exited after {exitSeconds:0.0} s with code {exit}, " +
                         $"longest tracker gap {gap.TotalSeconds:0.0} s, {heldByOne} of 12 images were on it");
        var log = _cluster[1].Tail(400);
        Assert.True(exit == 0, $"a graceful leave, exit code {exit}\n{log}");
        Assert.True(atExit.Count == 0, "replica sets at exit not on two live nodes: " + string.Join("; ", atExit) + "\n" + log);
        Assert.Contains($"Moved {heldByOne} images of {heldByOne}", log);
        // The survivors' repair found nothing left to copy: the leave did it all.
        foreach (var node in new[] { _cluster[2], _cluster[3] })
            Assert.Equal(0, await Wire.MetricAsync(node.Host, "actorimages_replica_copies_total{reason=\"repair\",outcome=\"ok\"}"));
        Assert.True(gap < TimeSpan.FromSeconds(5), $"tracker gap {gap.TotalSeconds:0.0} s\n{_cluster.Logs()}");
        Assert.True(exitSeconds < 30, $"exited after {exitSeconds:0.0} s\n{log}");
    }
}
