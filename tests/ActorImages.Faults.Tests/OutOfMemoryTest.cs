using System.Diagnostics;
using System.Net;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// Running out of memory ends the node process (issue 9: "Running out of memory must end the process"; README
/// "Limits and security": out of memory ends the process at once, <c>Environment.FailFast</c>, wherever the
/// <c>OutOfMemoryException</c> would have been caught). Two real nodes on 127.0.92.1–2; node 2 runs with a managed heap
/// of 48 MiB (<c>DOTNET_GCHeapHardLimit=0x3000000</c>), in which it starts, joins and takes a 56 MiB upload as any
/// node does. The upload is a valid baseline TIFF, one row of 58,720,256 grey pixels (within the 64 MiB and 100
/// megapixel limits). Its thumbnail, asked of node 2 through the HTTP API, makes the node read that row into one
/// managed array of 56 MiB (<c>TiffThumbnailDecoder</c>), larger than node 2's whole heap, so the allocation fails
/// whatever else the node holds. Nothing on that path catches an <c>OutOfMemoryException</c> but ASP.NET Core, which
/// would answer 500 and keep a half-working node; instead the process aborts (SIGABRT, exit code 134) at once, its
/// log says <c>ActorImages node: out of memory</c>, and no thumbnail file is left behind. Node 1, with the default
/// heap, keeps serving: it lists the image, sends it byte-identical and makes the very same thumbnail. Node 2, started
/// again as <c>bin/cluster</c>'s supervisor starts it (2 s after the exit, again with a doubled delay after any further
/// exit; emulated here, as the supervisor runs nodes on 127.0.0.i only), rejoins and serves the image.
/// </summary>
public sealed class OutOfMemoryTest(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Node 2's managed heap limit: 48 MiB, hexadecimal as the runtime reads it.</summary>
    private const string HeapHardLimit = "0x3000000";

    /// <summary>The TIFF's width in pixels, one byte each: a 56 MiB row, 8 MiB more than node 2's whole heap.</summary>
    private const int Width = 56 * 1024 * 1024;

    /// <summary>What <c>Environment.FailFast</c> in src/ActorImages.Node/OutOfMemoryPolicy.cs writes.</summary>
    private const string OutOfMemoryMessage = "ActorImages node: out of memory";

    /// <summary>Exit code of a process that ended by SIGABRT (128 + 6), as <c>Process.ExitCode</c> reports it.</summary>
    private const int AbortExitCode = 134;

    private static readonly string[] Hosts = ["127.0.92.1", "127.0.92.2"];
    private TestCluster _cluster = null!;

    /// <inheritdoc />
    public async Task InitializeAsync() =>
        _cluster = await TestCluster.StartAsync(Hosts, launcher: Launcher, timeout: TimeSpan.FromSeconds(60));

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task AnOutOfMemoryEndsTheNodeAndTheRestOfTheClusterServes()
    {
        var limited = _cluster[2];
        var healthy = _cluster[1];
        var tiff = SyntheticTiff.OneRow(Width);
        var md5 = Images.Md5(tiff);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

        // Node 2 serves normal requests within its heap: it takes the 56 MiB upload and copies it to node 1.
        var clock = Stopwatch.StartNew();
        using (var upload = await http.PostAsync(new Uri(limited.HttpBase, "api/images?filename=wide.tif"), new ByteArrayContent(tiff)))
            Assert.True(upload.StatusCode == HttpStatusCode.Created,
                $"upload to the limited node: {(int)upload.StatusCode} {await upload.Content.ReadAsStringAsync()}\n{limited.Tail()}");
        await Poll.UntilAsync(TimeSpan.FromSeconds(20), $"both nodes hold {md5}\n{_cluster.Logs()}", async () =>
            (await Wire.HoldersAsync(healthy.Host, md5)).Order().SequenceEqual(Hosts));
        Assert.True(limited.IsRunning, $"the limited node runs after the upload\n{limited.Tail()}");
        output.WriteLine($"uploaded and replicated {tiff.Length} bytes in {clock.Elapsed.TotalSeconds:0.0} s; node 2's managed " +
                         $"heap then {await Wire.MetricAsync(limited.Host, "dotnet_total_memory_bytes") / (1 << 20):0.0} MiB");

        // Its thumbnail needs one 56 MiB array on node 2: out of memory, which must end the process.
        clock.Restart();
        var thumbnail = TryGetAsync(http, new Uri(limited.HttpBase, $"api/images/{md5}/thumbnail"));
        var exit = await limited.WaitForExitAsync(TimeSpan.FromSeconds(20));
        var exitSeconds = clock.Elapsed.TotalSeconds;
        output.WriteLine($"limited node exited with code {exit?.ToString() ?? "none"} {exitSeconds:0.0} s after the thumbnail request");
        Assert.True(exit == AbortExitCode,
            $"the node aborts (FailFast, SIGABRT = {AbortExitCode}) on out of memory, got {exit?.ToString() ?? "no exit within 20 s"}\n{limited.Tail(80)}");
        var answer = await thumbnail;
        Assert.True(answer is null or >= 500, $"the dying node answered the thumbnail request with {answer}");
        await Poll.UntilAsync(TimeSpan.FromSeconds(5), $"'{OutOfMemoryMessage}' in {limited.LogPath}\n{limited.Tail(80)}",
            () => Task.FromResult(limited.Tail(200).Contains(OutOfMemoryMessage, StringComparison.Ordinal)));
        var thumbnailFile = limited.ThumbnailFile(md5);
        Assert.False(File.Exists(thumbnailFile), $"no thumbnail left by the dead node: {thumbnailFile}");

        // Node 1 keeps serving, the very same request included: only node 2's heap made it fatal.
        Assert.True(await healthy.ReadyAsync(), $"node 1 ready\n{healthy.Tail()}");
        Assert.Contains(md5, await Wire.ListedAsync(healthy.Host) ?? []);
        var (status, body) = await Wire.GetBytesAsync(healthy.Host, $"/api/images/{md5}/content");
        Assert.Equal(200, status);
        Assert.True(body.AsSpan().SequenceEqual(tiff), "node 1 sends the image byte-identical");
        using (var made = await http.GetAsync(new Uri(healthy.HttpBase, $"api/images/{md5}/thumbnail")))
        {
            Assert.True(made.StatusCode == HttpStatusCode.OK, $"node 1 makes the thumbnail: {(int)made.StatusCode}\n{healthy.Tail()}");
            Assert.Equal("image/jpeg", made.Content.Headers.ContentType?.MediaType);
        }

        // Node 2 is started again as bin/cluster's supervisor starts a node after any non-zero exit: 2 s later, while
        // node 1 still lists the dead incarnation, and again with a doubled delay whenever it exits. A new incarnation
        // started that early was seen never to get node 1's answer to its join (Akka.NET 1.5.73): it now gives up after
        // shutdown-after-unsuccessful-join-seed-nodes (25 s, exit code 4) and the next start joins.
        clock.Restart();
        var starts = await SuperviseUntilUpAsync(limited, TimeSpan.FromSeconds(120));
        output.WriteLine($"node 2 rejoined {clock.Elapsed.TotalSeconds:0.0} s after its exit, in {starts} start(s)");
        Assert.NotNull(await Wire.GetAsync(limited.Host, $"/api/images/{md5}"));
        Assert.True((await Wire.GetP4Async(limited.Host, md5)).AsSpan().SequenceEqual(tiff), "node 2 sends the image byte-identical");
    }

    /// <summary>Starts <paramref name="node"/> as bin/cluster's supervisor does (2 s after its exit, then 4, 8 … s
    /// after each further exit) until the cluster has both nodes Up.</summary>
    /// <returns>How many starts it took.</returns>
    private async Task<int> SuperviseUntilUpAsync(NodeProcess node, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var delay = TimeSpan.FromSeconds(2);
        var starts = 0;
        while (true)
        {
            await Task.Delay(delay);
            node.Start();
            starts++;
            try
            {
                await _cluster.WaitUpAsync(2, deadline - DateTime.UtcNow);
                return starts;
            }
            catch (InvalidOperationException) when (node.ExitCode is { } code && DateTime.UtcNow < deadline)
            {
                output.WriteLine($"node 2 exited with code {code} after start {starts}; starting it again in {delay * 2}");
                delay *= 2;
            }
        }
    }

    /// <summary>The command each node runs under: no core file from the abort (it would land in the repository, the
    /// nodes' working directory), and node 2 with the small managed heap.</summary>
    private static IReadOnlyList<string> Launcher(int node)
    {
        string[] noCore = ["sh", "-c", "ulimit -c 0 && exec \"$@\"", "sh"];
        return node == 2 ? ["env", $"DOTNET_GCHeapHardLimit={HeapHardLimit}", .. noCore] : noCore;
    }

    /// <summary>A GET that may die with the node: its status code, or null when the connection broke.</summary>
    private static async Task<int?> TryGetAsync(HttpClient http, Uri uri)
    {
        try
        {
            using var response = await http.GetAsync(uri);
            return (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return null;
        }
    }
}
