using System.Diagnostics;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// <c>kill -9</c> of one of three nodes (127.0.52.1–3) while four P2 clients, spread over all nodes, send 320
/// uploads; the third node is killed once 100 are acknowledged. Every upload acknowledged with SUCCESS must be listed
/// afterwards and download byte-identical from every survivor, uploads through the survivors must not fail while
/// the killed node is still counted Up (its replica pushes go to the next member), and self-repair must bring every
/// image back to <c>replication-factor</c> (2) copies on live nodes within a bounded time.
/// </summary>
public sealed class KillDuringUploadsTest(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Clients = 4;
    private const int UploadsPerClient = 80;
    private const int KillAfterAcks = 100;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(subnet: 52, count: 3);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task EveryAcknowledgedUploadSurvivesTheKillAndIsReplicatedAgain()
    {
        var tally = new UploadTally(KillAfterAcks);
        var killed = false;
        var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(() =>
            Uploads.RunAsync(c, UploadsPerClient, 3, i => _cluster[i].Host, i => i != 3 || !Volatile.Read(ref killed), tally))).ToList();
        Assert.True(await Task.WhenAny(tally.Enough, Task.Delay(TimeSpan.FromSeconds(120))) == tally.Enough,
            $"first {KillAfterAcks} uploads acknowledged\n{_cluster.Logs()}");
        Volatile.Write(ref killed, true);
        var failedBeforeKill = tally.Failed;
        _cluster[3].Kill();
        var sinceKill = Stopwatch.StartNew();
        var uploads = Task.WhenAll(clients);
        Assert.True(await Task.WhenAny(uploads, Task.Delay(TimeSpan.FromMinutes(5))) == uploads, "uploads finished");
        var uploadsDone = sinceKill.Elapsed;

        await _cluster.WaitUpAsync(2, TimeSpan.FromSeconds(60));
        var live = new[] { _cluster[1].Host, _cluster[2].Host };
        foreach (var md5 in tally.Acknowledged.Keys)
        {
            await Poll.UntilAsync(TimeSpan.FromSeconds(90), $"two live replicas of {md5}\n{_cluster.Logs()}", async () =>
            {
                var holders = await Wire.HoldersAsync(_cluster[1].Host, md5);
                return holders.Count == 2 && holders.All(live.Contains);
            });
        }
        var repaired = sinceKill.Elapsed;

        var listed = (await Wire.ListedAsync(_cluster[2].Host))!.ToHashSet();
        var lost = tally.Acknowledged.Keys.Count(md5 => !listed.Contains(md5));
        foreach (var (md5, bytes) in tally.Acknowledged)
            foreach (var node in new[] { _cluster[1], _cluster[2] })
            {
                var got = await Wire.GetP4Async(node.Host, md5);
                Assert.True(bytes.AsSpan().SequenceEqual(got), $"{md5} on {node.Host}");
            }
        output.WriteLine($"kill -9 during uploads: acknowledged {tally.Acknowledged.Count}, failed {tally.Failed} " +
                         $"({failedBeforeKill} before the kill), lost {lost}, " +
                         $"uploads done {uploadsDone.TotalSeconds:0.0} s and every image on 2 live nodes {repaired.TotalSeconds:0.0} s after the kill");
        Assert.Equal(0, lost);
        // A push to the killed node fails at once (connection refused) and goes to the next member in rendezvous
        // order: only uploads that were talking to the killed node itself may fail, at most one per client.
        Assert.True(tally.Failed - failedBeforeKill <= Clients,
            $"{tally.Failed - failedBeforeKill} uploads through the survivors failed after the kill\n{_cluster.Logs()}");
        Assert.True(tally.Acknowledged.Count + tally.Failed >= Clients * UploadsPerClient, "every upload was tried");
    }
}
