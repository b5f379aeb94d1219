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
    /// <param name="InNode">The same reads' time inside the node (<see cref="NodeReads.Since"/>); null when the node
    /// recorded none.</param>
    public sealed record Probe(string Name, Latencies Latency, int Failed, string Note, NodeReads.Window? InNode);

    /// <summary>Requests sent before each probe's timed ones and not counted: the node's first calls of a path run
    /// unoptimised code (tiered JIT) on connections whose statements are not prepared yet.</summary>
    private const int Warmup = 20;

    /// <summary>Runs every probe with <paramref name="count"/> timed requests each, after <see cref="Warmup"/>.</summary>
    public static async Task<IReadOnlyList<Probe>> RunAsync(BenchImages images, string runId, int count)
    {
        var probes = new List<Probe>();
        var random = new Random(42);
        var node = new IPEndPoint(IPAddress.Parse(LocalCluster.Host(1)), 13377);
        long size = Math.Max(1, await LocalCluster.CatalogSizeAsync());

        await using (var p2 = await BenchP2Client.ConnectAsync(LocalCluster.Host(1), "bench-probe", CancellationToken.None))
        {
            (int Files, int Bytes) last = default;
            probes.Add(await MeasureAsync("P2 LIST", "P2 LIST", count, async ct =>
            {
                last = await p2.ListAsync(ct);
                return true;
            }, () => $"{Fmt.N(last.Files)} files, {Fmt.N(last.Bytes)} bytes"));

            // Lookup by name: small images stored now, fetched back by name in random order.
            byte[] small = images.Read("rocket-cmyk.jpg");
            var names = new List<string>();
            for (int i = 0; i < 20; i++)
            {
                string name = $"bench-{runId}-probe-{i}.jpg";
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await p2.UploadAsync(name, P2Upload.Whole(BenchImages.JpegWithComment(small, name)), timeout.Token);
                names.Add(name);
            }
            probes.Add(await MeasureAsync("lookup by name (P2 DOWNLOAD)", "P2 DOWNLOAD", count, async ct =>
            {
                await p2.DownloadAsync(names[random.Next(names.Count)], ct);
                return true;
            }, () => $"{Fmt.N(small.Length / 1000)} KB images"));

            // A miss must cost no more than a hit (issue 9, "Lookups that miss"): names no upload has.
            probes.Add(await MeasureAsync("lookup by name, miss (P2 DOWNLOAD)", "P2 DOWNLOAD", count, async ct =>
            {
                await p2.ExpectAsync(new P2Request.Download($"bench-{runId}-missing-{random.Next()}.jpg"), "ERROR", ct);
                return true;
            }, () => "unknown names: ERROR"));
        }

        foreach (bool offset in new[] { false, true })
        {
            long bytes = 0, replies = 0;
            probes.Add(await MeasureAsync(offset ? "LST <offset> (random)" : "LST", offset ? "P3 LST offset" : "P3 LST", count, async _ =>
            {
                string request = offset ? "LST " + random.NextInt64(size).ToString(CultureInfo.InvariantCulture) : "LST";
                string? reply = await P3Load.AskAsync(node, request);
                if (reply is null || reply.StartsWith("ERR", StringComparison.Ordinal)) return false;
                bytes += reply.Length;
                replies++;
                return true;
            }, () => replies > 0 ? $"{Fmt.N(bytes / replies)} bytes per reply" : ""));
        }

        {
            var (status, body) = await LocalCluster.GetAsync(1, "/api/images?limit=1");
            long newest = status == 200 ? NewestId(body) : 0;
            var md5s = new List<string>();
            // A cursor the catalog never had (an id skipped by a failed commit) is a 400: counted as failed.
            probes.Add(await MeasureAsync("HTTP page (limit 50, random cursor)", "GET /api/images", count, async ct =>
            {
                long cursor = 1 + random.NextInt64(Math.Max(1, newest));
                var (code, page) = await LocalCluster.GetAsync(1, $"/api/images?limit=50&after={cursor}", ct);
                if (code != 200) return false;
                using var json = JsonDocument.Parse(page);
                var entries = json.RootElement.GetProperty("images");
                if (entries.GetArrayLength() > 0) md5s.Add(entries[random.Next(entries.GetArrayLength())].GetProperty("md5").GetString()!);
                return true;
            }, () => $"ids 1..{Fmt.N(newest)}"));

            int next = 0;
            probes.Add(await MeasureAsync("lookup by md5 (GET /api/images/{md5})", "GET /api/images/{md5}", count, async ct =>
                md5s.Count > 0 && (await LocalCluster.GetAsync(1, "/api/images/" + md5s[next++ % md5s.Count], ct)).Status == 200,
                () => "random entries from the pages"));
        }
        return probes;
    }

    /// <summary>Sends <see cref="Warmup"/> requests, then times <paramref name="count"/> one after the other, each
    /// within 30 s, and reads what node 1 recorded for <paramref name="nodeRequest"/> meanwhile. A request that returns
    /// false, throws a protocol error or gets no answer in time counts as failed, not in the latencies.</summary>
    private static async Task<Probe> MeasureAsync(string name, string nodeRequest, int count,
        Func<CancellationToken, Task<bool>> request, Func<string> note)
    {
        for (int i = 0; i < Warmup; i++) await SendAsync();
        var latency = new Latencies();
        int failed = 0;
        var before = await NodeReads.ReadAsync(1);
        for (int i = 0; i < count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            if (await SendAsync()) latency.Since(t0);
            else failed++;
        }
        return new Probe(name, latency, failed, note(), (await NodeReads.ReadAsync(1)).Since(before, nodeRequest));

        async Task<bool> SendAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                return await request(timeout.Token);
            }
            catch (Exception e) when (e is InvalidDataException or OperationCanceledException or HttpRequestException)
            {
                return false;
            }
        }
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
