using System.Diagnostics;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// <c>kill -9</c> of the node that runs the tracker singleton, on a real 3-node cluster (127.0.54.1–3). <c>LST</c>
/// never stops answering on the survivors (every node answers it from its own view); <c>REG</c> works again on a
/// survivor within about 15 s, once the Split Brain Resolver removed the dead node and the singleton started on the
/// oldest survivor; and every registration is intact there (an <c>UPD</c> with each peer's password is accepted,
/// one with another password refused).
/// </summary>
public sealed class SingletonFailoverTest(ITestOutputHelper output) : IAsyncLifetime
{
    private const string PeerFrom = "127.0.54.200";
    private static readonly string[] Md5 = [new('a', 32), new('b', 32), new('c', 32)];
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(subnet: 54, count: 3);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task TheTrackerWorksAgainOnASurvivorWithEveryRegistrationAndLstNeverStopsAnswering()
    {
        for (var i = 1; i <= 3; i++)
            Assert.Equal("OK 1_REGISTERED_IMAGES", await Wire.AskP3Async(_cluster[i].Host, $"REG pw;{i} {41000 + i} '{Md5[i - 1]},peer{i}.jpg'", PeerFrom));
        await Poll.UntilAsync(TimeSpan.FromSeconds(5), "all three peers listed", () => ListsAllAsync(_cluster[2].Host));
        var trackerHost = await Wire.TrackerHostAsync(_cluster[2].Host);
        var victim = Enumerable.Range(1, 3).Single(i => _cluster[i].Host == trackerHost);
        var survivor = _cluster[victim == 1 ? 2 : 1].Host;

        // LST on the survivor, every 100 ms, each answer awaited at most 1 s, from just before the kill to the end.
        var lstClock = Stopwatch.StartNew();
        var lstMisses = new List<string>();
        var lstAnswered = 0;
        using var polling = new CancellationTokenSource();
        var lstPoller = Task.Run(async () =>
        {
            while (!polling.IsCancellationRequested)
            {
                var reply = await Wire.TryP3Async(survivor, "LST", PeerFrom, TimeSpan.FromSeconds(1));
                if (reply.Contains(Md5[0]) && reply.Contains(Md5[1]) && reply.Contains(Md5[2])) lstAnswered++;
                else lstMisses.Add($"{lstClock.Elapsed.TotalSeconds:0.0} s: '{reply}'");
                await Task.Delay(100);
            }
        });

        _cluster[victim].Kill();
        var sinceKill = Stopwatch.StartNew();
        await Poll.UntilAsync(TimeSpan.FromSeconds(30), "REG of a new peer accepted on the survivor", async () =>
            await Wire.TryP3Async(survivor, $"REG pw;new 41009 '{new string('d', 32)},new.jpg'", PeerFrom, TimeSpan.FromSeconds(1))
                == "OK 1_REGISTERED_IMAGES", TimeSpan.Zero);
        var regSeconds = sinceKill.Elapsed.TotalSeconds;
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal("OK 1_REGISTERED_FILES", await Wire.AskP3Async(survivor, $"UPD pw;{i} {41000 + i} '{Md5[i - 1]},peer{i}.jpg'", PeerFrom));
            Assert.Equal("ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD",
                await Wire.AskP3Async(survivor, $"UPD wrong {41000 + i} '{Md5[i - 1]},peer{i}.jpg'", PeerFrom));
        }
        await Task.Delay(1000);
        await polling.CancelAsync();
        await lstPoller;

        var newTracker = await Wire.TrackerHostAsync(survivor);
        output.WriteLine($"singleton failover after kill -9: REG accepted again after {regSeconds:0.0} s; " +
                         $"LST answered {lstAnswered} times meanwhile, missed {lstMisses.Count}; tracker moved to {newTracker}");
        Assert.True(lstMisses.Count == 0, "LST did not answer with every registration: " + string.Join("; ", lstMisses));
        Assert.True(regSeconds < 15, $"REG after {regSeconds:0.0} s\n{_cluster.Logs()}");
        Assert.NotEqual(trackerHost, newTracker);
        Assert.False(string.IsNullOrEmpty(newTracker));
    }

    private async Task<bool> ListsAllAsync(string host)
    {
        var lst = await Wire.AskP3Async(host, "LST", PeerFrom);
        return Enumerable.Range(1, 3).All(i => lst.Contains($"{Md5[i - 1]},peer{i}.jpg,{PeerFrom}:{41000 + i}"));
    }
}
