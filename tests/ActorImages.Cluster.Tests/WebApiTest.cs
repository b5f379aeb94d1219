using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>The 2-node cluster of <see cref="WebApiTest"/> on 127.0.32.1–2; <c>max-image-bytes</c> is 300,000 so that
/// a real photo (coffee.png, 466,706 bytes) is too large.</summary>
public sealed class WebApiCluster() : ClusterFixture(subnet: 32, count: 2,
    new Dictionary<string, string> { ["ACTORIMAGES_MAX_IMAGE_BYTES"] = "300000" });

/// <summary>
/// Every route of the HTTP API (README "HTTP API") on a real 2-node cluster on 127.0.32.1–2, over real sockets: pages
/// and cursors, one entry, its bytes and thumbnail, the upload, totals, the membership, the tracker's peers, the live
/// event stream, the admin route and the viewer's files; every error is <c>{"status","error"}</c>.
/// </summary>
public sealed class WebApiTest(WebApiCluster fixture) : IClassFixture<WebApiCluster>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task AnUploadIsCreatedWithItsEntryItsBytesAndAThumbnailOfAtMost256Pixels()
    {
        var rocket = Images.Jpeg("web-api-upload");
        var md5 = Images.Md5(rocket);

        using var created = await PostAsync(1, "api/images?filename=launch%20pad.jpg&uploader=ana", new ByteArrayContent(rocket));

        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        Assert.Equal($"/api/images/{md5}", created.Headers.Location?.OriginalString);
        var entry = JsonDocument.Parse(body).RootElement;
        Assert.Equal(md5, entry.GetProperty("md5").GetString());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(rocket)), entry.GetProperty("sha256").GetString());
        Assert.Equal(rocket.Length, entry.GetProperty("size").GetInt64());
        Assert.Equal("image/jpeg", entry.GetProperty("mediaType").GetString());
        Assert.Equal(640, entry.GetProperty("width").GetInt32());
        Assert.Equal(427, entry.GetProperty("height").GetInt32());
        Assert.Equal("launch pad.jpg", entry.GetProperty("filename").GetString());
        Assert.Equal("ana", entry.GetProperty("uploader").GetString());
        Assert.Equal("HTTP", entry.GetProperty("protocol").GetString());
        Assert.True(entry.GetProperty("thumbnail").GetBoolean(), body);
        Assert.True(DateTimeOffset.TryParse(entry.GetProperty("receivedAt").GetString(), out var at)
                    && Math.Abs((DateTimeOffset.UtcNow - at).TotalMinutes) < 5, body);
        Assert.False(string.IsNullOrEmpty(entry.GetProperty("id").ToString()), body);
        // Two nodes, replication factor 2: both hold it.
        Assert.Equal(Cluster.Nodes.Select(n => n.Host).Order(),
            entry.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()!).Order());

        // Thumbnails are made on first request, never on the upload's path (README "Web viewer"): none yet.
        foreach (var holder in Cluster.Nodes)
            Assert.False(File.Exists(holder.ThumbnailFile(md5)), $"{holder.Host} made a thumbnail while storing the upload");

        foreach (var node in new[] { 1, 2 })
        {
            // The entry, the bytes and the thumbnail through either node.
            var again = await GetJsonAsync(node, $"api/images/{md5}", HttpStatusCode.OK);
            Assert.Equal(entry.GetProperty("id").ToString(), again.GetProperty("id").ToString());
            Assert.Equal(entry.GetProperty("sha256").GetString(), again.GetProperty("sha256").GetString());
            Assert.Equal(entry.GetProperty("id").ToString(), (await GetJsonAsync(node, $"api/images/{md5.ToUpperInvariant()}", HttpStatusCode.OK)).GetProperty("id").ToString());

            using var content = await Http.GetAsync(Url(node, $"api/images/{md5}/content"));
            Assert.Equal(HttpStatusCode.OK, content.StatusCode);
            Assert.Equal("image/jpeg", content.Content.Headers.ContentType?.MediaType);
            Assert.Equal(rocket, await content.Content.ReadAsByteArrayAsync());

            using var thumbnail = await Http.GetAsync(Url(node, $"api/images/{md5}/thumbnail"));
            Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
            Assert.Equal("image/jpeg", thumbnail.Content.Headers.ContentType?.MediaType);
            Assert.Equal((256, 171), TestImages.JpegSize(await thumbnail.Content.ReadAsByteArrayAsync()));
            Assert.True(File.Exists(Cluster[node].ThumbnailFile(md5)), $"node {node} keeps the thumbnail it made");
        }
    }

    [Fact]
    public async Task PreviewsPastTheirBoundAreRefusedAtOnceAndMadeWhenAskedAgain()
    {
        // Five phone HEICs (12 megapixels, with a 512-pixel thumbnail item), distinct by a trailer: a preview needs the
        // primary image, a second or two each here. Asked at once, at most Thumbnails.MaxPreviewsPending (2) are
        // pending; the others are 503 at once, and made when asked again.
        var heics = Enumerable.Range(0, 5)
            .Select(i => (byte[])[.. TestImages.Bytes("gradient-thumbnail.heic"), .. System.Text.Encoding.ASCII.GetBytes($"trailer:{i}")])
            .ToList();
        foreach (var heic in heics)
        {
            using var created = await PostAsync(1, "api/images?filename=IMG_1000.HEIC", new ByteArrayContent(heic));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var answers = await Task.WhenAll(heics.Select(async heic =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var response = await Http.GetAsync(Url(1, $"api/images/{Images.Md5(heic)}/preview"));
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync(), clock.Elapsed);
        }));
        var made = answers.Where(a => a.StatusCode == HttpStatusCode.OK).ToList();
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.Equal(5, made.Count + refused.Count);
        Assert.InRange(made.Count, 1, 2);
        Assert.All(refused, a => Assert.Contains("no preview: busy making 2 other previews", a.Body));
        // Refused without waiting for the previews being made.
        Assert.True(refused.Max(a => a.Elapsed) < made.Max(a => a.Elapsed),
            string.Join("; ", answers.Select(a => $"{(int)a.StatusCode} after {a.Elapsed.TotalMilliseconds:0} ms")));

        foreach (var heic in heics)
        {
            using var again = await Http.GetAsync(Url(1, $"api/images/{Images.Md5(heic)}/preview"));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal((2048, 1536), TestImages.JpegSize(await again.Content.ReadAsByteArrayAsync()));
        }
    }

    [Fact]
    public async Task ARendererKilledByTheSystemIsAnsweredAsUnavailableAndAskedAgainNotRemembered()
    {
        // The kernel's out-of-memory killer (or a container's) ends a process with SIGKILL: not the image's fault. The
        // renderer of a phone HEIC's 12-megapixel primary image runs a second or two here; killed meanwhile, the
        // preview is 503 with the reason, and the next request renders it (before, any failure of the renderer was
        // remembered as "unreadable image" and answered 404 until the node restarted).
        var heic = (byte[])[.. TestImages.Bytes("gradient-thumbnail.heic"), .. System.Text.Encoding.ASCII.GetBytes("trailer:killed")];
        using (var created = await PostAsync(1, "api/images?filename=IMG_2000.HEIC", new ByteArrayContent(heic)))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var url = Url(1, $"api/images/{Images.Md5(heic)}/preview");
        var asked = Http.GetAsync(url);
        var killed = false;
        for (var deadline = DateTime.UtcNow.AddSeconds(20); !killed && !asked.IsCompleted && DateTime.UtcNow < deadline;)
        {
            // The renderer reads the image from node 1's data folder, which its command line names.
            using var pkill = System.Diagnostics.Process.Start("pkill", ["-KILL", "-f", $"heif-thumbnailer .*{System.Text.RegularExpressions.Regex.Escape(Cluster[1].DataDir)}"])!;
            await pkill.WaitForExitAsync();
            killed = pkill.ExitCode == 0;
            if (!killed) await Task.Delay(10);
        }
        Assert.True(killed, "the renderer was not seen running");
        using (var refused = await asked)
        {
            var body = await refused.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("no preview: the renderer was refused a thread, a process or memory (heif-thumbnailer exited 137", body);
        }
        using var again = await Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal((2048, 1536), TestImages.JpegSize(await again.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task APortraitPhotoStoredSidewaysIsListedAndThumbnailedUpright()
    {
        // A phone's portrait JPEG: 640 × 427 pixels stored, EXIF orientation 6 ("turn 90° clockwise to view").
        var portrait = TestImages.WithExifOrientation(Images.Jpeg("web-api-portrait"), 6);
        var md5 = Images.Md5(portrait);
        using var created = await PostAsync(2, "api/images?filename=IMG_0003.JPG", new ByteArrayContent(portrait));
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        foreach (var node in new[] { 1, 2 })
        {
            var entry = await GetJsonAsync(node, $"api/images/{md5}", HttpStatusCode.OK);
            Assert.Equal((427, 640), (entry.GetProperty("width").GetInt32(), entry.GetProperty("height").GetInt32()));
            using var thumbnail = await Http.GetAsync(Url(node, $"api/images/{md5}/thumbnail"));
            Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
            Assert.Equal((171, 256), TestImages.JpegSize(await thumbnail.Content.ReadAsByteArrayAsync()));
            // The preview (at most 2048 px: the photo's own size) is upright too.
            using var preview = await Http.GetAsync(Url(node, $"api/images/{md5}/preview"));
            Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
            Assert.Equal("public, max-age=31536000, immutable", preview.Headers.CacheControl?.ToString());
            Assert.Equal((427, 640), TestImages.JpegSize(await preview.Content.ReadAsByteArrayAsync()));
        }
        // The bytes are the phone's, orientation and all.
        using var content = await Http.GetAsync(Url(1, $"api/images/{md5}/content"));
        Assert.Equal(portrait, await content.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task WithoutAnUploaderTheUploaderIsTheClientAddressAndAFolderInTheFilenameIsDropped()
    {
        var image = Images.Jpeg("web-api-folder");
        using var created = await PostAsync(2, "api/images?filename=C:%5Cphotos%5Cchelsea.jpg", new ByteArrayContent(image));
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        var entry = JsonDocument.Parse(body).RootElement;
        Assert.Equal("chelsea.jpg", entry.GetProperty("filename").GetString());
        Assert.Matches(@"^http:127\.\d+\.\d+\.\d+$", entry.GetProperty("uploader").GetString());

        // Without a filename: the stored file's name (HHMMSS.ext); the body sent chunked, without Content-Length.
        var chunked = Images.Jpeg("web-api-chunked");
        var content = new ByteArrayContent(chunked);
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(1, "api/images?uploader=chunks")) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        Assert.Matches(@"^\d{6}(-\d+)?\.jpg$", JsonDocument.Parse(text).RootElement.GetProperty("filename").GetString());
    }

    [Theory]
    [InlineData("not-an-image.txt", false, 400)]
    [InlineData("truncated.jpg", false, 400)]
    [InlineData("", false, 400)]
    [InlineData("coffee.png", false, 413)]
    [InlineData("coffee.png", true, 413)]
    public async Task BadUploadsAreJsonErrorsAndStoreNothing(string name, bool chunked, int status)
    {
        var before = (await GetJsonAsync(1, "api/stats", HttpStatusCode.OK)).GetProperty("images").GetInt64();
        var bytes = name.Length == 0 ? [] : TestImages.Bytes(name);
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(1, $"api/images?filename={name}x"))
        {
            Content = new ByteArrayContent(bytes),
        };
        request.Headers.TransferEncodingChunked = chunked;
        using var response = await Http.SendAsync(request);

        await AssertErrorAsync(response, status);
        Assert.Equal(before, (await GetJsonAsync(1, "api/stats", HttpStatusCode.OK)).GetProperty("images").GetInt64());
        Assert.Equal(before, (await GetJsonAsync(2, "api/stats", HttpStatusCode.OK)).GetProperty("images").GetInt64());
    }

    [Fact]
    public async Task PagesAreNewestFirstAndCursorsWalkTheWholeCatalogOnEveryNode()
    {
        for (var i = 0; i < 3; i++)
        {
            using var created = await PostAsync(1 + i % 2, $"api/images?filename=page-{i}.jpg&uploader=pages", new ByteArrayContent(Images.Jpeg($"page-{i}")));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var total = (await GetJsonAsync(1, "api/stats", HttpStatusCode.OK)).GetProperty("images").GetInt32();
        Assert.True(total >= 3);

        foreach (var node in new[] { 1, 2 })
        {
            var all = await GetJsonAsync(node, "api/images", HttpStatusCode.OK);
            var ids = all.GetProperty("images").EnumerateArray().Select(e => long.Parse(e.GetProperty("id").ToString())).ToList();
            Assert.Equal(total, ids.Count); // fewer than the default page of 50
            Assert.Equal(JsonValueKind.Null, all.GetProperty("next").ValueKind);
            Assert.Equal(ids.OrderDescending(), ids);
            Assert.Equal(Enumerable.Range(0, 3).Select(i => $"page-{2 - i}.jpg"),
                all.GetProperty("images").EnumerateArray().Select(e => e.GetProperty("filename").GetString())
                    .Where(f => f!.StartsWith("page-")));

            // One at a time: each page's next is the cursor of the following one, without gaps or repeats.
            var walked = new List<long>();
            string? cursor = null;
            do
            {
                var page = await GetJsonAsync(node, "api/images?limit=1" + (cursor is null ? "" : "&after=" + cursor), HttpStatusCode.OK);
                walked.AddRange(page.GetProperty("images").EnumerateArray().Select(e => long.Parse(e.GetProperty("id").ToString())));
                cursor = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").ToString();
            } while (cursor is not null && walked.Count <= total);
            Assert.Equal(ids, walked);
            var two = await GetJsonAsync(node, "api/images?limit=2", HttpStatusCode.OK);
            Assert.Equal(ids.Take(2), two.GetProperty("images").EnumerateArray().Select(e => long.Parse(e.GetProperty("id").ToString())));
            Assert.Equal(ids[1].ToString(), two.GetProperty("next").ToString());
        }

        // A cursor the catalog never had, and malformed limits, are 400s.
        foreach (var query in new[] { "after=999999999", "after=nope", "limit=0", "limit=-1", "limit=501", "limit=ten" })
            await AssertErrorAsync(await Http.GetAsync(Url(1, "api/images?" + query)), 400);
        Assert.Equal(total, (await GetJsonAsync(1, "api/images?limit=500", HttpStatusCode.OK)).GetProperty("images").GetArrayLength());
    }

    [Fact]
    public async Task UnknownAndMalformedMd5sAndUnknownPathsAreJsonErrors()
    {
        var unknown = new string('0', 32);
        foreach (var (path, status) in new[]
                 {
                     ($"api/images/{unknown}", 404), ($"api/images/{unknown}/content", 404), ($"api/images/{unknown}/thumbnail", 404),
                     ("api/images/xyz", 400), ("api/images/xyz/content", 400), ("api/images/xyz/thumbnail", 400),
                     ($"api/images/{unknown}0", 400), ("api/no-such-route", 404), ("no-such-file.js", 404),
                 })
        {
            await AssertErrorAsync(await Http.GetAsync(Url(2, path)), status);
        }
    }

    [Fact]
    public async Task StatsCountEachEntryOnceAndWhatEachHostHolds()
    {
        var before = await GetJsonAsync(2, "api/stats", HttpStatusCode.OK);
        var image = Images.Jpeg("web-api-stats");
        await CreateAsync(2, "api/images?filename=stats.jpg", image);
        foreach (var node in new[] { 1, 2 })
        {
            var after = await GetJsonAsync(node, "api/stats", HttpStatusCode.OK);
            Assert.Equal(before.GetProperty("images").GetInt64() + 1, after.GetProperty("images").GetInt64());
            Assert.Equal(before.GetProperty("bytes").GetInt64() + image.Length, after.GetProperty("bytes").GetInt64());
            foreach (var host in Cluster.Nodes.Select(n => n.Host))
            {
                // Replication factor 2 on 2 nodes: each host holds every image.
                Assert.Equal(after.GetProperty("images").GetInt64(), after.GetProperty("perHost").GetProperty(host).GetInt64());
                Assert.Equal(after.GetProperty("bytes").GetInt64(), after.GetProperty("bytesByHost").GetProperty(host).GetInt64());
            }
        }
    }

    [Fact]
    public async Task ClusterShowsEveryMemberTheLeaderAndTheTrackerHost()
    {
        var hosts = Cluster.Nodes.Select(n => n.Host).Order().ToList();
        foreach (var node in new[] { 1, 2 })
        {
            var view = await GetJsonAsync(node, "api/cluster", HttpStatusCode.OK);
            Assert.Equal(Cluster[node].Host, view.GetProperty("self").GetString());
            var members = view.GetProperty("members").EnumerateArray().ToList();
            Assert.Equal(hosts, members.Select(m => m.GetProperty("host").GetString()!).Order());
            foreach (var m in members)
            {
                Assert.Equal("Up", m.GetProperty("status").GetString());
                Assert.True(m.GetProperty("reachable").GetBoolean());
                Assert.Contains(m.GetProperty("host").GetString()!, m.GetProperty("address").GetString());
                Assert.Equal(JsonValueKind.Array, m.GetProperty("roles").ValueKind);
            }
            Assert.Contains(view.GetProperty("leader").GetString()!, members.Select(m => m.GetProperty("address").GetString()!).Concat(hosts));
            Assert.Contains(view.GetProperty("trackerHost").GetString(), hosts);
        }
        Assert.Equal((await GetJsonAsync(1, "api/cluster", HttpStatusCode.OK)).GetProperty("trackerHost").GetString(),
            (await GetJsonAsync(2, "api/cluster", HttpStatusCode.OK)).GetProperty("trackerHost").GetString());
    }

    [Fact]
    public async Task TrackerPeersListsRegisteredPeersWithoutTheirPasswords()
    {
        const string password = "s3cr3t-'p;w,x\"";
        const string from = "127.0.32.77";
        var md5 = new string('c', 32);
        Assert.Equal("OK 2_REGISTERED_IMAGES",
            await RawWire.AskP3Async(Cluster[1].Host, from, $"REG {password} 6001 '{md5},peer one.jpg';'{new string('d', 32)},two.png'"));
        try
        {
            foreach (var node in new[] { 1, 2 })
            {
                string raw = "";
                var peer = await Poll.ValueAsync(TimeSpan.FromSeconds(15), $"the peer in node {node}'s /api/tracker/peers", async () =>
                {
                    raw = await Http.GetStringAsync(Url(node, "api/tracker/peers"));
                    return JsonDocument.Parse(raw).RootElement.EnumerateArray()
                        .Where(p => p.GetProperty("ip").GetString() == from && p.GetProperty("port").GetInt32() == 6001)
                        .Select(p => (JsonElement?)p).FirstOrDefault() is { } found ? new Box(found) : null;
                }, () => raw);
                var images = peer.Value.GetProperty("images").EnumerateArray()
                    .Select(i => (i.GetProperty("md5").GetString(), i.GetProperty("name").GetString())).ToList();
                Assert.Equal([(md5, "peer one.jpg"), (new string('d', 32), "two.png")], images);
                Assert.True(peer.Value.TryGetProperty("registeredAt", out _), peer.Value.ToString());
                Assert.DoesNotContain("s3cr3t", raw);
                Assert.DoesNotContain("password", raw, StringComparison.OrdinalIgnoreCase);
            }
        }
        finally
        {
            Assert.Equal("OK CLIENT_FINISHED", await RawWire.AskP3Async(Cluster[1].Host, from, $"END {password} 6001"));
        }
    }

    [Fact]
    public async Task TheEventStreamOpensWithTheClusterAndAnnouncesAnImageStoredOnAnotherNode()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var request = new HttpRequestMessage(HttpMethod.Get, Url(1, "api/events"));
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));

        // The cluster event comes at once.
        var started = DateTime.UtcNow;
        var cluster = JsonDocument.Parse(await NextEventAsync(events, "cluster", _ => true, stop.Token)).RootElement;
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3), "the cluster event comes at once");
        Assert.Equal(Cluster[1].Host, cluster.GetProperty("self").GetString());
        Assert.Equal(2, cluster.GetProperty("members").GetArrayLength());
        Assert.True(cluster.GetProperty("stats").TryGetProperty("perHost", out _), cluster.ToString());
        Assert.True(cluster.GetProperty("stats").TryGetProperty("images", out _), cluster.ToString());

        // An image stored through node 2 is announced on node 1's stream.
        var pages = TestImages.Bytes("multipage_rgb.tif");
        var md5 = Images.Md5(pages);
        await CreateAsync(2, "api/images?filename=pages.tif&uploader=sse", pages);
        var stored = JsonDocument.Parse(await NextEventAsync(events, "image-stored",
            d => d.Contains(md5), stop.Token)).RootElement;
        Assert.Equal(md5, stored.GetProperty("md5").GetString());
        Assert.Equal("sse", stored.GetProperty("uploader").GetString());
        Assert.Equal("image/tiff", stored.GetProperty("mediaType").GetString());

        // And the cluster event comes again about every 2 s.
        started = DateTime.UtcNow;
        await NextEventAsync(events, "cluster", _ => true, stop.Token);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "cluster event every 2 s");
    }

    [Fact]
    public async Task AnnouncingAStopNeedsTheAdminToken()
    {
        foreach (var authorization in new[] { null, "Bearer wrong-token", NodeProcess.AdminToken, "Basic " + NodeProcess.AdminToken })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Url(1, "api/cluster/stopping"));
            if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
            await AssertErrorAsync(await Http.SendAsync(request), 401);
        }
        using var ok = new HttpRequestMessage(HttpMethod.Post, Url(1, "api/cluster/stopping"));
        ok.Headers.Authorization = new AuthenticationHeaderValue("Bearer", NodeProcess.AdminToken);
        using var accepted = await Http.SendAsync(ok);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }

    /// <summary>A thumbnail is made only from bytes whose SHA-256 is right (README "Web viewer"): node 1's copy
    /// overwritten with bytes that are no image, its thumbnail is still made, from node 2's copy (both nodes hold every
    /// image), not refused as undecodable for the life of the process.</summary>
    [Fact]
    public async Task AThumbnailIsMadeFromASoundCopyWhenThisNodesCopyIsCorrupt()
    {
        var image = Images.Jpeg("corrupt-copy-thumbnail");
        var md5 = Images.Md5(image);
        using (var created = await PostAsync(1, "api/images?filename=corrupt-copy.jpg&uploader=ana", new ByteArrayContent(image)))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var onOne = Directory.EnumerateFiles(Cluster[1].DataDir, "*.jpg", SearchOption.AllDirectories)
            .Single(f => !f.Contains("thumbnails") && File.ReadAllBytes(f).AsSpan().SequenceEqual(image));
        await File.WriteAllBytesAsync(onOne, new byte[image.Length]);

        using var thumbnail = await Http.GetAsync(Url(1, $"api/images/{md5}/thumbnail"));
        var body = await thumbnail.Content.ReadAsByteArrayAsync();
        Assert.True(thumbnail.StatusCode == HttpStatusCode.OK,
            $"thumbnail answered {(int)thumbnail.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}\n{Cluster.Logs()}");
        Assert.InRange(TestImages.JpegSize(body).Width, 1, 256); // rendered from the image's own pixels
    }

    [Fact]
    public async Task TheInternalReplicaRoutesNeedTheClusterCertificateAndASafePath()
    {
        // README "Limits and security": a replica is stored without its header being read again, so only a member may;
        // with the cluster certificate (the test clusters have it) the routes are served only on the replica port
        // (25521), over TLS on which both ends present that certificate (ReplicaChannel).
        var image = Images.Jpeg("internal-routes");
        var sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(image));
        var path = $"internal-route-test/{sha256[..12]}.jpg";
        var stored = Path.Combine(Cluster[2].DataDir, path);

        // Not on the HTTP port, not even with the cluster token.
        foreach (var token in new[] { null, "wrong-token", NodeProcess.AdminToken })
        {
            using var put = Internal(HttpMethod.Put, Url(2, $"internal/replicas/{path}?sha256={sha256}"), token, image);
            Assert.Equal(HttpStatusCode.NotFound, (await Http.SendAsync(put)).StatusCode);
            using var get = Internal(HttpMethod.Get, Url(2, $"internal/blobs/{path}?sha256={sha256}"), token);
            Assert.Equal(HttpStatusCode.NotFound, (await Http.SendAsync(get)).StatusCode);
        }

        // On the replica port, a caller without the cluster certificate does not get past the handshake, token or not.
        using var strangerCertificate = X509CertificateLoader.LoadPkcs12FromFile(
            TestCertificates.Create("actorimages-replica-stranger"), TestCertificates.Password);
        foreach (var certificate in new[] { null, strangerCertificate })
        {
            using var stranger = ReplicaClient(certificate);
            using var put = Internal(HttpMethod.Put, ReplicaUrl(2, $"internal/replicas/{path}?sha256={sha256}"), NodeProcess.AdminToken, image);
            await Assert.ThrowsAsync<HttpRequestException>(() => stranger.SendAsync(put));
            using var get = Internal(HttpMethod.Get, ReplicaUrl(2, $"internal/blobs/{path}?sha256={sha256}"), null);
            await Assert.ThrowsAsync<HttpRequestException>(() => stranger.SendAsync(get));
        }
        Assert.False(File.Exists(stored), "a stranger stored a copy");
        await Poll.UntilAsync(TimeSpan.FromSeconds(5), "node 2 logging the stranger's certificate", () => Task.FromResult(
            Cluster[2].ReadLog().Contains("replica channel: refused a caller: it presented CN=actorimages-replica-stranger")));

        // A member: the server it reached presented the cluster certificate too (ReplicaClient checks it).
        using var cluster = X509CertificateLoader.LoadPkcs12FromFile(TestCertificates.Cluster, TestCertificates.Password);
        using var member = ReplicaClient(cluster);
        using (var missing = Internal(HttpMethod.Get, ReplicaUrl(2, $"internal/blobs/{path}?sha256={sha256}"), null))
            Assert.Equal(HttpStatusCode.NotFound, (await member.SendAsync(missing)).StatusCode);
        foreach (var unsafePath in new[] { ".tmp/x.jpg", "a%5Cx.jpg" })
        {
            using var put = Internal(HttpMethod.Put, ReplicaUrl(2, $"internal/replicas/{unsafePath}?sha256={sha256}"), null, image);
            using var refused = await member.SendAsync(put);
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{unsafePath}: {(int)refused.StatusCode} {await refused.Content.ReadAsStringAsync()}");
        }
        Assert.Null(await ReplicaChannelClient.RoundTripAsync(member, Cluster[2].Host, path, image));
        Assert.False(File.Exists(stored), "the test's copy is gone again");
    }

    private static HttpRequestMessage Internal(HttpMethod method, Uri url, string? token, byte[]? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (token is not null) request.Headers.TryAddWithoutValidation("X-ActorImages-Cluster", token);
        if (body is not null) request.Content = new ByteArrayContent(body);
        return request;
    }

    private Uri ReplicaUrl(int node, string path) => ReplicaChannelClient.Url(Cluster[node].Host, path);

    /// <summary>A client of the replica channel presenting <paramref name="certificate"/> (or none) that accepts only a
    /// server presenting the cluster certificate.</summary>
    private static HttpClient ReplicaClient(X509Certificate2? certificate)
    {
        using var cluster = X509CertificateLoader.LoadPkcs12FromFile(TestCertificates.Cluster, TestCertificates.Password);
        return ReplicaChannelClient.Create(certificate, cluster, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task TheNodeServesTheViewerPageAndItsModules()
    {
        using var page = await Http.GetAsync(Url(2, ""));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script type=\"module\" src=\"/app.js\"></script>", await page.Content.ReadAsStringAsync());
        foreach (var file in new[] { "app.js", "gallery.js", "latest.js", "upload.js", "cluster.js", "live.js", "style.css" })
        {
            using var response = await Http.GetAsync(Url(2, file));
            Assert.True(response.StatusCode == HttpStatusCode.OK, file);
        }
        using var js = await Http.GetAsync(Url(2, "app.js"));
        Assert.Contains(js.Content.Headers.ContentType?.MediaType, new[] { "text/javascript", "application/javascript" });
    }

    private sealed record Box(JsonElement Value);

    private Uri Url(int node, string path) => new(Cluster[node].HttpBase, path);

    private async Task<HttpResponseMessage> PostAsync(int node, string path, HttpContent content) =>
        await Http.PostAsync(Url(node, path), content);

    private async Task<JsonElement> CreateAsync(int node, string path, byte[] image)
    {
        using var response = await PostAsync(node, path, new ByteArrayContent(image));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST {path} on node {node}: {(int)response.StatusCode} {body}\n{Cluster.Logs()}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<JsonElement> GetJsonAsync(int node, string path, HttpStatusCode status)
    {
        using var response = await Http.GetAsync(Url(node, path));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>An error is JSON <c>{"status":&lt;code&gt;,"error":"&lt;text&gt;"}</c> with the response's status.</summary>
    private static async Task AssertErrorAsync(HttpResponseMessage response, int status)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            var what = $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}";
            Assert.True((int)response.StatusCode == status, what);
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", what);
            var json = JsonDocument.Parse(body).RootElement;
            Assert.Equal(status, json.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("error").GetString()), what);
        }
    }

    /// <summary>The data of the next event named <paramref name="name"/> whose data passes <paramref name="match"/>,
    /// skipping other events and keep-alive comments.</summary>
    private static async Task<string> NextEventAsync(StreamReader events, string name, Func<string, bool> match, CancellationToken ct)
    {
        string? eventName = null;
        var data = new List<string>();
        while (await events.ReadLineAsync(ct) is { } line)
        {
            if (line.StartsWith("event:")) eventName = line[6..].Trim();
            else if (line.StartsWith("data:")) data.Add(line[5..].TrimStart());
            else if (line.Length == 0)
            {
                var text = string.Join("\n", data);
                if (eventName == name && match(text)) return text;
                eventName = null;
                data.Clear();
            }
        }
        throw new EndOfStreamException($"the stream ended before a {name} event");
    }
}
