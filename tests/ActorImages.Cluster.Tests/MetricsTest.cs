using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>The 2-node cluster of <see cref="MetricsTest"/> on 127.0.33.1–2.</summary>
public sealed class MetricsCluster() : ClusterFixture(subnet: 33, count: 2);

/// <summary>
/// <c>GET /metrics</c> (README "HTTP API") on a real 2-node cluster on 127.0.33.1–2: Prometheus text whose counters
/// move with real traffic over every protocol — uploads by protocol and outcome, upload latency and the time of each
/// ingest step, the time of each kind of read, tracker requests by
/// command, errors by kind (a corrupt copy found by the scrub) — and the health routes. A counter nobody touched yet
/// may be absent, so each test drives traffic first and compares with the scrape before it.
/// </summary>
public sealed class MetricsTest(MetricsCluster fixture) : IClassFixture<MetricsCluster>
{
    private const string Peer = "127.0.33.100";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task UploadCountersAndTheLatencyHistogramMoveWithEveryProtocol()
    {
        var host = Cluster[1].Host;
        var before = await ScrapeAsync(1);

        await RawWire.SendP1Async(host, Images.Jpeg("metrics-p1"));
        await RawWire.SendP1Async(host, TestImages.Bytes("not-an-image.txt"));
        await RawWire.SendP1RawAsync(host, [0, 0, 0, 0], halfClose: false);
        await using (var p2 = await LegacyWire.P2.ConnectAsync(host))
        {
            await p2.SendAsync("AUTH", "metrics");
            await p2.ReplyAsync();
            var image = Images.Jpeg("metrics-p2");
            await p2.SendAsync("UPLOAD", "metrics.jpg", image.Length.ToString());
            await p2.ReplyAsync();
            await p2.SendBinaryAsync(image);
            Assert.Equal("SUCCESS", (await p2.ReplyAsync()).GetProperty("status").GetString());
        }
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsync(Url(1, "api/images?filename=m.jpg"),
            new ByteArrayContent(Images.Jpeg("metrics-http")))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.PostAsync(Url(1, "api/images?filename=m.txt"),
            new ByteArrayContent(TestImages.Bytes("not-an-image.txt")))).StatusCode);

        var after = await ScrapeAsync(1);
        foreach (var (protocol, outcome) in new[] { ("p1", "stored"), ("p1", "invalid"), ("p1", "refused"), ("p2", "stored"),
                     ("http", "stored"), ("http", "invalid") })
        {
            var labels = $"protocol=\"{protocol}\",outcome=\"{outcome}\"";
            Assert.True(Value(before, "actorimages_uploads_total", labels) + 1 == Value(after, "actorimages_uploads_total", labels),
                $"actorimages_uploads_total{{{labels}}}: before {Value(before, "actorimages_uploads_total", labels)}, after:\n{Samples(after, "actorimages_uploads_total")}");
        }
        foreach (var protocol in new[] { "p1", "p2", "http" })
        {
            var labels = $"protocol=\"{protocol}\"";
            Assert.Equal(Value(before, "actorimages_upload_latency_seconds_count", labels) + 1,
                Value(after, "actorimages_upload_latency_seconds_count", labels));
            Assert.True(Value(after, "actorimages_upload_latency_seconds_sum", labels) > 0);
            Assert.Equal(Value(after, "actorimages_upload_latency_seconds_count", labels),
                Value(after, "actorimages_upload_latency_seconds_bucket", labels + ",le=\"+Inf\""));
        }
        Assert.Contains("# TYPE actorimages_uploads_total counter", after);
        Assert.Contains("# TYPE actorimages_upload_latency_seconds histogram", after);
        // Each of the 3 stored uploads went through every step of the ingest path once.
        foreach (var phase in new[] { "receive", "reserve", "replicate", "commit" })
        {
            var labels = $"phase=\"{phase}\"";
            Assert.Equal(Value(before, "actorimages_ingest_phase_seconds_count", labels) + 3,
                Value(after, "actorimages_ingest_phase_seconds_count", labels));
        }
        Assert.Contains("# TYPE actorimages_ingest_phase_seconds histogram", after);
        // What prometheus-net adds on its own stops at the process and the runtime's meter
        // (NodeMetrics.LimitDefaultMetrics), though HTTP requests, replica pushes and catalog commands all ran above:
        // no per-request instruments of ASP.NET Core, HttpClient or Npgsql, no event-counter families.
        var families = Regex.Matches(after, @"^# TYPE (\S+) ", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("process_cpu_seconds_total", families);
        Assert.Contains("dotnet_total_memory_bytes", families);
        Assert.Contains(families, f => f.StartsWith("system_runtime_dotnet_gc_", StringComparison.Ordinal));
        string[] expected = ["actorimages_", "process_", "dotnet_", "system_runtime_", "prometheus_net_"];
        Assert.All(families, f => Assert.True(expected.Any(p => f.StartsWith(p, StringComparison.Ordinal)), $"unexpected family {f}"));
    }

    [Fact]
    public async Task TrackerRequestsAreCountedByCommandAndTheirWritesTimed()
    {
        var host = Cluster[2].Host;
        var before = await ScrapeAsync(2);
        var batchesBefore = await TrackerBatchWritesAsync();
        var md5 = new string('e', 32);
        Assert.Equal("OK 1_REGISTERED_IMAGES", await RawWire.AskP3Async(host, Peer, $"REG pw 7001 {md5},m.jpg"));
        Assert.Equal("OK 2_REGISTERED_FILES", await RawWire.AskP3Async(host, Peer, $"UPD pw 7001 {md5},m.jpg;{new string('f', 32)},n.jpg"));
        Assert.Contains(md5, await RawWire.AskP3Async(host, Peer, "LST"));
        Assert.StartsWith(md5, await RawWire.AskP3Async(host, Peer, "LST 0"));
        Assert.Equal("OK CLIENT_FINISHED", await RawWire.AskP3Async(host, Peer, "END pw 7001"));
        Assert.Equal("ERR INVALID_MESSAGE_FORMAT", await RawWire.AskP3Async(host, Peer, "HELLO"));
        Assert.Null(await RawWire.AskP3Async(host, Peer, "OK 1_REGISTERED_IMAGES"u8.ToArray(), 1024, TimeSpan.FromSeconds(1)));

        var after = await ScrapeAsync(2);
        foreach (var (command, count) in new[] { ("REG", 1), ("UPD", 1), ("LST", 2), ("END", 1), ("invalid", 1), ("dropped", 1) })
        {
            var labels = $"command=\"{command}\"";
            Assert.True(Value(before, "actorimages_tracker_requests_total", labels) + count == Value(after, "actorimages_tracker_requests_total", labels),
                $"{command}: before {Value(before, "actorimages_tracker_requests_total", labels)}, after:\n{Samples(after, "actorimages_tracker_requests_total")}");
        }
        // Each write is timed where it was answered, datagram to reply; each is committed by one batch of the singleton
        // (one after the other here), which counts it on whichever node runs it.
        foreach (var command in new[] { "REG", "UPD", "END" })
        {
            var labels = $"command=\"{command}\"";
            Assert.True(Value(before, "actorimages_tracker_write_seconds_count", labels) + 1
                == Value(after, "actorimages_tracker_write_seconds_count", labels),
                $"{command}:\n{Samples(after, "actorimages_tracker_write_seconds_count")}");
            Assert.True(Value(after, "actorimages_tracker_write_seconds_sum", labels)
                > Value(before, "actorimages_tracker_write_seconds_sum", labels));
        }
        Assert.Equal(batchesBefore + 3, await TrackerBatchWritesAsync());
    }

    /// <summary>The writes committed by the tracker singleton's batches, summed over both nodes (it runs on one).</summary>
    private async Task<double> TrackerBatchWritesAsync()
    {
        double total = 0;
        foreach (var node in new[] { 1, 2 })
        {
            var line = (await ScrapeAsync(node)).Split('\n')
                .FirstOrDefault(l => l.StartsWith("actorimages_tracker_batch_writes_total ", StringComparison.Ordinal));
            if (line is not null) total += double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
        }
        return total;
    }

    [Fact]
    public async Task ThumbnailsAndPreviewsAreTimedOnceEachByOutcome()
    {
        var image = Images.Jpeg("metrics-rendition");
        var planar = TestImages.Bytes("multipage_rgb.tif"); // stored, but no decoder here reads its pixels
        foreach (var (bytes, name) in new[] { (image, "rendition.jpg"), (planar, "planes.tif") })
        {
            using var created = await Http.PostAsync(Url(1, $"api/images?filename={name}"), new ByteArrayContent(bytes));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var before = await ScrapeAsync(1);

        // Each asked twice: the second answer comes from the file made, or from the failure remembered.
        foreach (var path in new[] { "thumbnail", "thumbnail", "preview", "preview" })
        {
            using (var made = await Http.GetAsync(Url(1, $"api/images/{Images.Md5(image)}/{path}")))
                Assert.Equal(HttpStatusCode.OK, made.StatusCode);
            using (var refused = await Http.GetAsync(Url(1, $"api/images/{Images.Md5(planar)}/{path}")))
                Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }

        var after = await ScrapeAsync(1);
        Assert.Contains("# TYPE actorimages_rendition_seconds histogram", after);
        foreach (var kind in new[] { "thumbnail", "preview" })
        {
            foreach (var outcome in new[] { "made", "undecodable" })
            {
                var labels = $"kind=\"{kind}\",outcome=\"{outcome}\"";
                Assert.True(Value(before, "actorimages_rendition_seconds_count", labels) + 1
                    == Value(after, "actorimages_rendition_seconds_count", labels), Samples(after, "actorimages_rendition_seconds_count"));
            }
        }
    }

    [Fact]
    public async Task ReadsAreTimedInTheNodeWithABucketAtTwentyMilliseconds()
    {
        var host = Cluster[2].Host;
        var image = Images.Jpeg("metrics-read");
        using (var created = await Http.PostAsync(Url(2, "api/images?filename=metrics-read.jpg"), new ByteArrayContent(image)))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var before = await ScrapeAsync(2);

        await using (var p2 = await LegacyWire.P2.ConnectAsync(host))
        {
            await p2.SendAsync("AUTH", "metrics");
            await p2.ReplyAsync();
            await p2.SendAsync("LIST");
            Assert.Contains("metrics-read.jpg", (await p2.ReplyAsync()).GetRawText());
            await p2.SendAsync("DOWNLOAD", "metrics-read.jpg");
            Assert.Equal("SIZE_INFO", (await p2.ReplyAsync()).GetProperty("status").GetString());
            Assert.Equal(image, (await p2.ReceiveAsync()).Bytes);
            Assert.Equal("SUCCESS", (await p2.ReplyAsync()).GetProperty("status").GetString());
        }
        Assert.Contains(Images.Md5(image), await RawWire.AskP3Async(host, Peer, "LST"));
        Assert.Contains(Images.Md5(image), await RawWire.AskP3Async(host, Peer, "LST 0"));
        Assert.Contains(Images.Md5(image), await Http.GetStringAsync(Url(2, "api/images?limit=5")));
        Assert.Contains(Images.Md5(image), await Http.GetStringAsync(Url(2, "api/images/" + Images.Md5(image))));

        var after = await ScrapeAsync(2);
        Assert.Contains("# TYPE actorimages_read_seconds histogram", after);
        foreach (var request in new[] { "P2 LIST", "P2 DOWNLOAD", "P3 LST", "P3 LST offset", "GET /api/images", "GET /api/images/{md5}" })
        {
            Assert.True((ReadSample(before, "count", request) ?? 0) + 1 == ReadSample(after, "count", request),
                $"{request}: before {ReadSample(before, "count", request)}, after:\n{Samples(after, "actorimages_read_seconds_count")}");
            // The bucket at the 20 ms target exists, so the share of reads within it is exact, not interpolated.
            Assert.True(ReadSample(after, "bucket", request, "0.02") is not null,
                $"{request}: no le=\"0.02\" bucket:\n{Samples(after, "actorimages_read_seconds_bucket")}");
            Assert.True(ReadSample(after, "sum", request) > (ReadSample(before, "sum", request) ?? 0));
        }
    }

    /// <summary>A sample of <c>actorimages_read_seconds</c> (its <c>request</c> label may hold braces, as in
    /// <c>GET /api/images/{md5}</c>); null when absent (no such read yet).</summary>
    private static double? ReadSample(string scrape, string part, string request, string? le = null)
    {
        var series = $"actorimages_read_seconds_{part}{{request=\"{request}\"{(le is null ? "" : $",le=\"{le}\"")}}} ";
        var line = scrape.Split('\n').FirstOrDefault(l => l.StartsWith(series, StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[series.Length..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task ACorruptCopyFoundByTheScrubCountsAsAnErrorAndIsRestored()
    {
        var image = Images.Jpeg("metrics-corrupt");
        using (var created = await Http.PostAsync(Url(1, "api/images?filename=corrupt.jpg"), new ByteArrayContent(image)))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var entry = await Http.GetStringAsync(Url(2, $"api/images/{Images.Md5(image)}"));
        Assert.Contains(Cluster[2].Host, entry);
        var file = Directory.EnumerateFiles(Cluster[2].DataDir, "*.jpg", SearchOption.AllDirectories)
            .Single(f => !f.Contains("/thumbnails/") && File.ReadAllBytes(f).SequenceEqual(image));
        var before = await ScrapeAsync(2);

        var corrupt = (byte[])image.Clone();
        corrupt[^1] ^= 0xFF;
        await File.WriteAllBytesAsync(file, corrupt);

        var last = "";
        await Poll.UntilAsync(TimeSpan.FromSeconds(30), "the scrub restoring the corrupt copy", async () =>
        {
            last = await ScrapeAsync(2);
            return Value(last, "actorimages_replica_copies_total", "reason=\"scrub\",outcome=\"ok\"")
                > Value(before, "actorimages_replica_copies_total", "reason=\"scrub\",outcome=\"ok\"");
        }, () => Samples(last, "actorimages_") + Cluster[2].Tail(20));
        Assert.Equal(Value(before, "actorimages_errors_total", "kind=\"bad_replica\"") + 1, Value(last, "actorimages_errors_total", "kind=\"bad_replica\""));
        Assert.Contains("# TYPE actorimages_errors_total counter", last);
        Assert.Equal(SHA256.HashData(image), SHA256.HashData(await File.ReadAllBytesAsync(file)));
    }

    [Fact]
    public async Task TheScrapeIsPrometheusTextAndTheHealthRoutesAnswer()
    {
        using var response = await Http.GetAsync(Url(1, "metrics"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')))
            Assert.Matches(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfNa]+$", line);
        foreach (var path in new[] { "alive", "ready" })
        {
            using var health = await Http.GetAsync(Url(1, path));
            Assert.True(health.StatusCode == HttpStatusCode.OK, $"{path}: {await health.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task ConnectionsAreCountedPerListenerBesideTheBoundsInEffect()
    {
        var node = Cluster[1];
        var before = await ScrapeAsync(1);
        foreach (var (listener, bound) in new[] { ("p1", 4096), ("p4", 4096), ("http", 4096), ("websocket", 2048) })
            Assert.True(bound == Value(before, "actorimages_connections_max", $"listener=\"{listener}\""), Samples(before, "actorimages_connections"));
        // The soft limit the bounds were fitted to, as the kernel reports it for the node's process.
        var limits = await File.ReadAllLinesAsync($"/proc/{node.Pid}/limits");
        var soft = limits.Single(l => l.StartsWith("Max open files")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
        Assert.Contains($"\nactorimages_open_files_limit {soft}\n", before);
        // Kestrel's connections on all its ports: at least this scrape's.
        Assert.True(Value(before, "actorimages_connections_open", "listener=\"http\"") >= 1, Samples(before, "actorimages_connections"));

        // A P1 connection held open is counted while it is, and not after.
        var open = Value(before, "actorimages_connections_open", "listener=\"p1\"");
        using (var held = new System.Net.Sockets.TcpClient())
        {
            await held.ConnectAsync(node.Host, 5001);
            await Poll.UntilAsync(TimeSpan.FromSeconds(10), "the held P1 connection counted",
                async () => Value(await ScrapeAsync(1), "actorimages_connections_open", "listener=\"p1\"") == open + 1);
        }
        await Poll.UntilAsync(TimeSpan.FromSeconds(10), "the closed P1 connection no longer counted",
            async () => Value(await ScrapeAsync(1), "actorimages_connections_open", "listener=\"p1\"") == open);
    }

    private Uri Url(int node, string path) => new(Cluster[node].HttpBase, path);

    private async Task<string> ScrapeAsync(int node)
    {
        using var response = await Http.GetAsync(Url(node, "metrics"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the sample <c>name{…}</c> whose labels include every one of <paramref name="labels"/>
    /// (<c>a="x",b="y"</c>, any order); 0 when absent.</summary>
    private static double Value(string scrape, string name, string labels)
    {
        var wanted = labels.Split(',', StringSplitOptions.RemoveEmptyEntries);
        foreach (Match m in Regex.Matches(scrape, "^" + Regex.Escape(name) + @"\{([^}]*)\} (\S+)$", RegexOptions.Multiline))
        {
            var have = m.Groups[1].Value.Split(',');
            if (wanted.All(have.Contains)) return double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        return 0;
    }

    private static string Samples(string scrape, string prefix) =>
        string.Join("\n", scrape.Split('\n').Where(l => l.StartsWith(prefix))) + "\n";
}
