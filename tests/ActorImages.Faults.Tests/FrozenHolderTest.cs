using System.Diagnostics;
using System.Text.RegularExpressions;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// A read whose only sound copy is on a holder that does not answer (src/ActorImages.Node/Transfer/ImageReader.cs):
/// two real nodes on 127.0.66.1–2 hold every image; node 2's copy is corrupt, and node 1 is frozen (SIGSTOP: its
/// kernel still accepts connections, the process answers nothing). A read through node 2 gives node 1 the time of one
/// replica copy (<c>replication-timeout</c>, 1 s here, plus a second per 8 MiB) and answers 503 with the reason, where it
/// answered 500 after the replica channel's 10 s connect timeout (a <c>TaskCanceledException</c> escaped the reader;
/// seen once through an arm64 node under emulation, MixedArchitectureTest). Node 1 is frozen for about 2 s, under the
/// failure detector's 3 s, so no member is downed; once it runs again the same read through node 2 is served
/// byte-identical, from node 1. Then an image over 1 MiB, streamed from node 1 at the client's pace (node 2's copy
/// deleted): node 1 frozen in the middle, node 2 aborts the response once node 1 has sent nothing for 1 s
/// (<c>replication-timeout</c>), short of its length, where it waited as long as the client did. The scrub is slowed
/// to once an hour, so it restores neither copy meanwhile.
/// </summary>
public sealed class FrozenHolderTest(ITestOutputHelper output) : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    /// <inheritdoc />
    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(subnet: 66, count: 2,
        new Dictionary<string, string> { ["ACTORIMAGES_REPLICATION_TIMEOUT"] = "1s", ["ACTORIMAGES_SCRUB_PACE"] = "1h" });

    /// <inheritdoc />
    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task AHolderThatDoesNotAnswerGetsTheTimeOfACopyAndTheReadIsA503NotA500AndAStreamedReadIsAborted()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        var md5 = Images.Md5(rocket);
        await Wire.UploadP2Async(_cluster[1].Host, "rocket.jpg", rocket);
        var onTwo = ScrubTest.CopyOf(_cluster[2].DataDir, rocket, _cluster);
        var corrupt = (byte[])rocket.Clone();
        corrupt[corrupt.Length / 2] ^= 0x55;
        await File.WriteAllBytesAsync(onTwo, corrupt);

        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var url = $"http://{_cluster[2].Host}:8080/api/images/{md5}/content";
        var frozen = _cluster[1].Pid!.Value;
        Signal("STOP", frozen);
        var clock = Stopwatch.StartNew();
        int status;
        string body;
        try
        {
            using var response = await http.GetAsync(url);
            status = (int)response.StatusCode;
            body = await response.Content.ReadAsStringAsync();
        }
        finally
        {
            Signal("CONT", frozen);
        }
        output.WriteLine($"read through node 2 with node 1 frozen: {status} after {clock.Elapsed.TotalSeconds:0.00} s: {body}");
        Assert.True(status == 503, $"{status}: {body}\n{_cluster.Logs()}");
        Assert.Contains($"no holder of {md5}", body);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        await Poll.UntilAsync(TimeSpan.FromSeconds(5), "node 2 naming the holder that did not answer", () => Task.FromResult(
            Regex.IsMatch(_cluster[2].ReadLog(), @"Reading \w+ from 127\.0\.66\.1 failed: no answer within 1\.\d+ s")));

        // Node 1 runs again: the read is served from it, and both nodes are still members.
        await Poll.UntilAsync(TimeSpan.FromSeconds(20), "the read through node 2 served again", async () =>
        {
            using var response = await http.GetAsync(url);
            return response.IsSuccessStatusCode && (await response.Content.ReadAsByteArrayAsync()).AsSpan().SequenceEqual(rocket);
        });
        Assert.All(_cluster.Nodes, node => Assert.True(node.IsRunning, _cluster.Logs()));
        Assert.Equal(2, await _cluster[2].UpMembersAsync());

        // A 32 MiB image, more than the loopback sockets between the nodes buffer, streamed from node 1.
        var large = SyntheticTiff.OneRow(32 * 1024 * 1024);
        var largeMd5 = Images.Md5(large);
        Assert.True(await Wire.SendP1Async(_cluster[1].Host, large));
        await Poll.UntilAsync(TimeSpan.FromSeconds(30), "the large image on both nodes",
            async () => (await Wire.HoldersAsync(_cluster[2].Host, largeMd5)).Count == 2);
        File.Delete(ScrubTest.CopyOf(_cluster[2].DataDir, large, _cluster));
        using var streamed = await http.GetAsync($"http://{_cluster[2].Host}:8080/api/images/{largeMd5}/content",
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(large.Length, streamed.Content.Headers.ContentLength);
        await using var content = await streamed.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        long received = 0;
        while (received < 1024 * 1024) received += await content.ReadAsync(buffer);
        Signal("STOP", frozen);
        clock.Restart();
        Exception? aborted = null;
        try
        {
            int n;
            while ((n = await content.ReadAsync(buffer)) > 0) received += n;
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            aborted = e;
        }
        finally
        {
            Signal("CONT", frozen);
        }
        output.WriteLine($"streamed read with node 1 frozen: {received} of {large.Length} bytes, ended after {clock.Elapsed.TotalSeconds:0.00} s: {aborted?.Message}");
        Assert.True(received < large.Length, $"all {received} bytes arrived");
        Assert.NotNull(aborted);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the response ended {clock.Elapsed} after node 1 froze");
        await Poll.UntilAsync(TimeSpan.FromSeconds(5), $"node 2 naming the stalled holder\n{_cluster[2].Tail(15)}",
            () => Task.FromResult(_cluster[2].ReadLog().Contains($"{_cluster[1].Host} sent nothing for 1 s")));
        await Poll.UntilAsync(TimeSpan.FromSeconds(20), "the large image served through node 2 again", async () =>
        {
            var (status, body) = await Wire.GetBytesAsync(_cluster[2].Host, $"/api/images/{largeMd5}/content");
            return status == 200 && body.AsSpan().SequenceEqual(large);
        });
        Assert.Equal(2, await _cluster[2].UpMembersAsync());
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString()]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
