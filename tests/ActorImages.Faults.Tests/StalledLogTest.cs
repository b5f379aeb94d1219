using System.Diagnostics;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// A node whose standard output nobody reads — a stalled pipe, a container log driver in blocking mode — keeps serving
/// and still exits in time (README "Limits and security", <c>actorimages.log-buffer</c>; src/ActorImages.Node/NodeLog.cs).
/// Each test runs one real node (127.0.60.1, then 127.0.60.2; replication factor 1, a log buffer of 200 events)
/// whose output pipe the test leaves unread, and sends it 1,000 P1 uploads: each is logged, so the 64 KiB pipe and
/// the buffer are full after about 700. Before the buffer, the logging threads blocked in <c>write</c> once the pipe
/// was full, and with them the uploads.
/// </summary>
public sealed class StalledLogTest(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Uploads = 1_000;
    private const int Clients = 4;
    private TestCluster? _cluster;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task UploadsGoOnWhileTheOutputIsNotReadAndTheDroppedLinesAreCountedAndReported()
    {
        var node = await StartAsync("127.0.60.1");
        var images = await UploadAllAsync(node);
        // Nothing acknowledged is missing; the lines that did not fit are counted.
        Assert.Equal(images.Select(Images.Md5).Order(), (await Wire.ListedAsync(node.Host) ?? []).Order());
        var dropped = await Wire.MetricAsync(node.Host, "actorimages_log_events_dropped_total");
        output.WriteLine($"log events dropped: {dropped}");
        Assert.True(dropped > 0, $"no dropped log events counted ({dropped})\n{node.Tail()}");

        // Once the output is read again, a warning says how many lines were lost.
        node.ReleaseOutput();
        await Poll.UntilAsync(TimeSpan.FromSeconds(30), "a warning naming the dropped log events",
            () => Task.FromResult(node.Tail(100_000).Contains(" log events dropped between ", StringComparison.Ordinal)));
        Assert.True(node.IsRunning);
    }

    [Fact]
    public async Task ANodeWhoseOutputIsNotReadStillExitsCleanlyOnSigterm()
    {
        var node = await StartAsync("127.0.60.2");
        await UploadAllAsync(node);
        // Its last lines cannot be written: the exit waits a bounded time for them, not for the reader.
        var watch = Stopwatch.StartNew();
        var code = await node.StopAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"exit code {code} after {watch.Elapsed.TotalSeconds:0.0} s");
        node.ReleaseOutput();
        Assert.True(code == 0, $"exit code {code?.ToString() ?? "none (killed after 30 s)"}\n{node.Tail()}");
    }

    /// <summary>One node on <paramref name="host"/>, its own cluster and catalog, its output unread.</summary>
    private async Task<NodeProcess> StartAsync(string host)
    {
        _cluster = await TestCluster.StartAsync([host],
            extra: new Dictionary<string, string> { ["ACTORIMAGES_REPLICATION_FACTOR"] = "1", ["ACTORIMAGES_LOG_BUFFER"] = "200" },
            holdOutput: true);
        return _cluster[1];
    }

    /// <summary>Sends <see cref="Uploads"/> distinct PNGs over P1 from <see cref="Clients"/> clients at once; each
    /// must be acknowledged (an orderly close) within the client's 30 s.</summary>
    private async Task<List<byte[]>> UploadAllAsync(NodeProcess node)
    {
        var images = Enumerable.Range(0, Uploads).Select(i => Images.Png(60_000 + i)).ToList();
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async c =>
        {
            for (var i = c; i < images.Count; i += Clients)
                Assert.True(await Wire.SendP1Async(node.Host, images[i]), $"upload {i} was refused\n{node.Tail()}");
        }));
        output.WriteLine($"{Uploads} uploads acknowledged in {watch.Elapsed.TotalSeconds:0.0} s, the node's output unread");
        return images;
    }
}
