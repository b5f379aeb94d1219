using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ActorImages.Protocols;

namespace ActorImages.Bench;

/// <summary>
/// Latency probes at the catalog's size, one request at a time against node 1 (~200 each): P2 <c>LIST</c> (the newest
/// entries that fit 1 MiB), <c>LST</c>, <c>LST &lt;offset&gt;</c> at random offsets, an HTTP page at a random cursor, a
/// lookup by md5 (<c>GET /api/images/{md5}</c> of random entries) and by name (P2 <c>DOWNLOAD</c> of small images
/// stored just before, and of names no upload has: a miss must cost no more than a hit).
/// </summary>
internal static class Probes
{
    /// <summary>One probe's result.</summary>
    /// <param name="Name">What was asked.</param>
    /// <param name="Latency">Each request's round trip.</param>
    /// <param name="Failed">Requests without a proper answer.</param>
    /// <param name="Note">What the answers held, e.g. the LIST reply's size.</param>
    public sealed record Probe(string Name, Latencies Latency, int Failed, string Note);

    /// <summary>Runs every probe with <paramref name="count"/> requests each.</summary>
    public static async Task<IReadOnlyList<Probe>> RunAsync(BenchImages images, string runId, int count)
    {
        var probes = new List<Probe>();
        var random = new Random(42);
        var node = new IPEndPoint(IPAddress.Parse(LocalCluster.Host(1)), 13377);
        long size = Math.Max(1, await LocalCluster.CatalogSizeAsync());

        await using (var p2 = await BenchP2Client.ConnectAsync(LocalCluster.Host(1), "bench-probe", CancellationToken.None))
        {
            (int Files, int Bytes) last = default;
            var (latency, failed) = await TimeP2Async(count, async ct => last = await p2.ListAsync(ct));
            probes.Add(new Probe("P2 LIST", latency, failed, $"{Fmt.N(last.Files)} files, {Fmt.N(last.Bytes)} bytes"));

            // Lookup by name: small images stored now, fetched back by name in random order.
            byte[] small = images.Read("rocket-cmyk.jpg");
            var names = new List<string>();
            for (int i = 0; i < 20; i++)
            {
                string name = $"bench-{runId}-probe-{i}.jpg";
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await p2.UploadAsync(name, BenchImages.JpegWithComment(small, name), timeout.Token);
                names.Add(name);
            }
            (latency, failed) = await TimeP2Async(count, ct => p2.DownloadAsync(names[random.Next(names.Count)], ct));
            probes.Add(new Probe("lookup by name (P2 DOWNLOAD)", latency, failed, $"{Fmt.N(small.Length / 1000)} KB images"));

            // A miss must cost no more than a hit (issue 9, "Lookups that miss"): names no upload has.
            (latency, failed) = await TimeP2Async(count, ct =>
                p2.ExpectAsync(new P2Request.Download($"bench-{runId}-missing-{random.Next()}.jpg"), "ERROR", ct));
            probes.Add(new Probe("lookup by name, miss (P2 DOWNLOAD)", latency, failed, "unknown names: ERROR"));
        }

        foreach (bool offset in new[] { false, true })
        {
            var latency = new Latencies();
            int failed = 0;
            long bytes = 0;
            for (int i = 0; i < count; i++)
            {
                string request = offset ? "LST " + random.NextInt64(size).ToString(CultureInfo.InvariantCulture) : "LST";
                long t0 = Stopwatch.GetTimestamp();
                string? reply = await P3Load.AskAsync(node, request);
                if (reply is null || reply.StartsWith("ERR", StringComparison.Ordinal))
                {
                    failed++;
                    continue;
                }
                latency.Since(t0);
                bytes += reply.Length;
            }
            probes.Add(new Probe(offset ? "LST <offset> (random)" : "LST", latency, failed,
                latency.Count > 0 ? $"{Fmt.N(bytes / latency.Count)} bytes per reply" : ""));
        }

        {
            var (status, body) = await LocalCluster.GetAsync(1, "/api/images?limit=1");
            long newest = status == 200 ? NewestId(body) : 0;
            var latency = new Latencies();
            int failed = 0;
            var md5s = new List<string>();
            for (int i = 0; i < count; i++)
            {
                long cursor = 1 + random.NextInt64(Math.Max(1, newest));
                long t0 = Stopwatch.GetTimestamp();
                var (code, page) = await LocalCluster.GetAsync(1, $"/api/images?limit=50&after={cursor}");
                if (code != 200)
                {
                    failed++; // a cursor the catalog never had (an id skipped by a failed commit)
                    continue;
                }
                latency.Since(t0);
                using var json = JsonDocument.Parse(page);
                var entries = json.RootElement.GetProperty("images");
                if (entries.GetArrayLength() > 0) md5s.Add(entries[random.Next(entries.GetArrayLength())].GetProperty("md5").GetString()!);
            }
            probes.Add(new Probe("HTTP page (limit 50, random cursor)", latency, failed, $"ids 1..{Fmt.N(newest)}"));

            latency = new Latencies();
            failed = 0;
            foreach (string md5 in md5s)
            {
                long t0 = Stopwatch.GetTimestamp();
                var (code, _) = await LocalCluster.GetAsync(1, "/api/images/" + md5);
                if (code != 200)
                {
                    failed++;
                    continue;
                }
                latency.Since(t0);
            }
            probes.Add(new Probe("lookup by md5 (GET /api/images/{md5})", latency, failed, "random entries"));
        }
        return probes;
    }

    /// <summary>Times <paramref name="count"/> P2 requests one after the other, each within 30 s; a request that
    /// gets no proper answer (or none in time) counts as failed, not in the latencies.</summary>
    private static async Task<(Latencies Latency, int Failed)> TimeP2Async(int count, Func<CancellationToken, Task> request)
    {
        var latency = new Latencies();
        int failed = 0;
        for (int i = 0; i < count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await request(timeout.Token);
                latency.Since(t0);
            }
            catch (Exception e) when (e is InvalidDataException or OperationCanceledException)
            {
                failed++;
            }
        }
        return (latency, failed);
    }

    private static long NewestId(string body)
    {
        using var json = JsonDocument.Parse(body);
        foreach (var image in json.RootElement.GetProperty("images").EnumerateArray())
        {
            return long.Parse(image.GetProperty("id").GetString()!, CultureInfo.InvariantCulture);
        }
        return 0;
    }
}
