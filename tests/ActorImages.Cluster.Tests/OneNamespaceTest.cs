using System.Net.Http.Json;
using System.Text.Json;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>The 3-node cluster of <see cref="OneNamespaceTest"/> on 127.0.20.1–3.</summary>
public sealed class OneNamespaceCluster() : ClusterFixture(subnet: 20, count: 3);

/// <summary>
/// One namespace across protocols and nodes (docs/design.md): an image that enters any node through any protocol is
/// listed and downloadable byte-identical through every protocol on every node; what a node acknowledged, the next
/// read through that node shows.
/// </summary>
public sealed class OneNamespaceTest(OneNamespaceCluster fixture) : IClassFixture<OneNamespaceCluster>
{
    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task AP1ImageIsSeenThroughEveryProtocolOnEveryNode()
    {
        var image = Images.Jpeg("p1-namespace");
        var md5 = Images.Md5(image);
        await LegacyWire.SendP1Async(Cluster[1].Host, image);

        // Read-your-writes on node 1 at once, every other node within a second.
        foreach (var node in Cluster.Nodes)
        {
            var lst = await Poll(() => LegacyWire.AskP3Async(node.Host, "LST"), r => r.Contains(md5), TimeSpan.FromSeconds(1));
            Assert.Contains(md5, lst);
            Assert.Equal(image, await LegacyWire.GetP4Async(node.Host, md5));
        }

        // Its server-made name (HHMMSS.jpg), as the catalog has it, is listed by P2 LIST on another node.
        using var http = new HttpClient { BaseAddress = Cluster[3].HttpBase };
        var entry = await http.GetFromJsonAsync<JsonElement>($"api/images/{md5}");
        var name = entry.GetProperty("filename").GetString()!;
        Assert.Matches(@"^\d{6}(-\d+)?\.jpg$", name);
        Assert.StartsWith("tcp:", entry.GetProperty("uploader").GetString());
        await using var p2 = await LegacyWire.P2.ConnectAsync(Cluster[2].Host);
        await p2.SendAsync("LIST");
        var list = await p2.ReplyAsync();
        Assert.Contains(list.GetProperty("data").EnumerateArray(), f => f.GetProperty("filename").GetString() == name);

        await p2.SendAsync("DOWNLOAD", name);
        var size = await p2.ReplyAsync();
        Assert.Equal("SIZE_INFO", size.GetProperty("status").GetString());
        Assert.Equal(image.Length, size.GetProperty("size").GetInt64());
        var (_, bytes) = await p2.ReceiveAsync();
        Assert.Equal(image, bytes);
        Assert.Equal("SUCCESS", (await p2.ReplyAsync()).GetProperty("status").GetString());

        Assert.Equal(2, entry.GetProperty("nodes").GetArrayLength());
        Assert.Equal(image, await http.GetByteArrayAsync($"api/images/{md5}/content"));
    }

    [Fact]
    public async Task PhonePhotosInHeicAndAvifGetInThroughEveryProtocolKeepTheirFormatAndGetThumbnails()
    {
        // An iPhone's HEIC over P1, an AVIF over P2, the HEIC again over HTTP (testdata/images/README.md).
        var heic = TestImages.Bytes("rocket.heic");
        var avif = TestImages.Bytes("rocket.avif");
        using var http = new HttpClient { BaseAddress = Cluster[3].HttpBase };
        await LegacyWire.SendP1Async(Cluster[1].Host, heic);
        await using (var p2 = await LegacyWire.P2.ConnectAsync(Cluster[2].Host))
        {
            await p2.SendAsync("AUTH", "phone");
            await p2.ReplyAsync();
            await p2.SendAsync("UPLOAD", "IMG_0042.avif", avif.Length.ToString());
            await p2.ReplyAsync();
            await p2.SendBinaryAsync(avif);
            Assert.Equal("SUCCESS", (await p2.ReplyAsync()).GetProperty("status").GetString());
        }
        using (var posted = await http.PostAsync("api/images?filename=IMG_0043.HEIC", new ByteArrayContent(heic)))
            Assert.Equal(System.Net.HttpStatusCode.Created, posted.StatusCode);

        foreach (var (bytes, mediaType) in new[] { (heic, "image/heic"), (avif, "image/avif") })
        {
            var md5 = Images.Md5(bytes);
            // Listed by the tracker and served by P4 and HTTP on every node, byte-identical, with its own media type.
            foreach (var node in Cluster.Nodes)
            {
                var lst = await Poll(() => LegacyWire.AskP3Async(node.Host, "LST"), r => r.Contains(md5), TimeSpan.FromSeconds(1));
                Assert.Contains(md5, lst);
                Assert.Equal(bytes, await LegacyWire.GetP4Async(node.Host, md5));
            }
            var entry = await http.GetFromJsonAsync<JsonElement>($"api/images/{md5}");
            Assert.Equal(mediaType, entry.GetProperty("mediaType").GetString());
            Assert.True(entry.GetProperty("thumbnail").GetBoolean()); // the viewer's cue (format.js hasNoThumbnail)
            Assert.Equal((640, 427), (entry.GetProperty("width").GetInt32(), entry.GetProperty("height").GetInt32()));
            using var content = await http.GetAsync($"api/images/{md5}/content");
            Assert.Equal(mediaType, content.Content.Headers.ContentType?.MediaType);
            Assert.Equal(bytes, await content.Content.ReadAsByteArrayAsync());
            // Rendered by libheif's heif-thumbnailer (HeifThumbnailer) on every node, holder or not.
            foreach (var node in Cluster.Nodes)
            {
                using var thumbnail = await http.GetAsync(new Uri(node.HttpBase, $"api/images/{md5}/thumbnail"));
                Assert.Equal(System.Net.HttpStatusCode.OK, thumbnail.StatusCode);
                Assert.Equal("image/jpeg", thumbnail.Content.Headers.ContentType?.MediaType);
                Assert.Equal((256, 171), TestImages.JpegSize(await thumbnail.Content.ReadAsByteArrayAsync()));
                // And the preview the viewer shows where the browser cannot show the original: the photo's 640 px.
                using var preview = await http.GetAsync(new Uri(node.HttpBase, $"api/images/{md5}/preview"));
                Assert.Equal(System.Net.HttpStatusCode.OK, preview.StatusCode);
                Assert.Equal((640, 427), TestImages.JpegSize(await preview.Content.ReadAsByteArrayAsync()));
            }
        }
        // A format decoded here whose bytes no decoder reads (planes of floating-point noise) is a 404 with the
        // decoder's reason too, the second time from memory.
        var planar = TestImages.Bytes("multipage_rgb.tif");
        using (var posted = await http.PostAsync("api/images?filename=planes.tif", new ByteArrayContent(planar)))
            Assert.Equal(System.Net.HttpStatusCode.Created, posted.StatusCode);
        for (var i = 0; i < 2; i++)
        {
            using var thumbnail = await http.GetAsync($"api/images/{Images.Md5(planar)}/thumbnail");
            Assert.Equal(System.Net.HttpStatusCode.NotFound, thumbnail.StatusCode);
            Assert.Contains("no thumbnail: unreadable image: planar tiff not read here", await thumbnail.Content.ReadAsStringAsync());
            using var preview = await http.GetAsync($"api/images/{Images.Md5(planar)}/preview");
            Assert.Equal(System.Net.HttpStatusCode.NotFound, preview.StatusCode);
            Assert.Contains("no preview: unreadable image: planar tiff not read here", await preview.Content.ReadAsStringAsync());
        }
        // The node says so in its log, once per image and rendition.
        var said = $"No thumbnail of {Images.Md5(planar)} (image/tiff): unreadable image: planar tiff not read here";
        await ActorImages.Cluster.Tests.Poll.UntilAsync(TimeSpan.FromSeconds(10), "the log line", () => Task.FromResult(Cluster[3].ReadLog().Contains(said)));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(Cluster[3].ReadLog(), System.Text.RegularExpressions.Regex.Escape(said)));
        // The P1 copy's server-made name keeps the format's extension.
        var page = await http.GetFromJsonAsync<JsonElement>("api/images?limit=50");
        var names = page.GetProperty("images").EnumerateArray()
            .Where(e => e.GetProperty("md5").GetString() == Images.Md5(heic)).Select(e => e.GetProperty("filename").GetString()!).ToList();
        Assert.Contains(names, n => System.Text.RegularExpressions.Regex.IsMatch(n, @"^\d{6}(-\d+)?\.heic$"));
        Assert.Contains("IMG_0043.HEIC", names);
    }

    [Fact]
    public async Task TwentyP1ImagesInOneSecondGetTwentyNamesAndEachNameItsOwnBytes()
    {
        var images = Enumerable.Range(0, 20).Select(i => Images.Jpeg($"burst-{i}")).ToList();
        await using var p2 = await LegacyWire.P2.ConnectAsync(Cluster[3].Host);
        var before = (await ListAsync(p2)).ToHashSet();
        await Task.WhenAll(images.Select(img => LegacyWire.SendP1Async(Cluster[1].Host, img)));

        // Node 3 lists what node 1 acknowledged within a second: twenty new names, none listed twice.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(1);
        List<string> all, names;
        do
        {
            all = await ListAsync(p2);
            names = all.Where(n => !before.Contains(n)).ToList();
        } while (names.Count < images.Count && DateTime.UtcNow < deadline && await Delay(50));
        Assert.Equal(images.Count, names.Count);
        Assert.Equal(all.Count, all.Distinct().Count());
        var md5s = images.Select(Images.Md5).ToHashSet();
        var seen = new HashSet<string>();
        foreach (var name in names)
        {
            await p2.SendAsync("DOWNLOAD", name);
            await p2.ReplyAsync();
            var (_, bytes) = await p2.ReceiveAsync();
            await p2.ReplyAsync();
            var md5 = Images.Md5(bytes);
            if (md5s.Contains(md5)) Assert.True(seen.Add(md5), $"{name} returned the bytes of another name");
        }
        Assert.Equal(md5s, seen);
    }

    [Fact]
    public async Task ARegistrationAcknowledgedByANodeIsListedByItsNextLst()
    {
        for (var i = 0; i < 10; i++)
        {
            var md5 = $"{i:x2}" + new string('a', 30);
            var port = 40000 + i;
            Assert.Equal("OK 1_REGISTERED_IMAGES", await LegacyWire.AskP3Async(Cluster[2].Host, $"REG pw{i} {port} '{md5},p{i}.jpg'"));
            Assert.Contains($"{md5},p{i}.jpg,", await LegacyWire.AskP3Async(Cluster[2].Host, "LST"));
            Assert.Equal("OK 2_REGISTERED_FILES", await LegacyWire.AskP3Async(Cluster[2].Host, $"UPD pw{i} {port} {md5},q{i}.jpg;{md5[..31]}b,r.jpg"));
            Assert.Contains($"{md5},q{i}.jpg,", await LegacyWire.AskP3Async(Cluster[2].Host, "LST"));
            Assert.Equal("OK CLIENT_FINISHED", await LegacyWire.AskP3Async(Cluster[2].Host, $"END pw{i} {port}"));
            Assert.DoesNotContain(md5, await LegacyWire.AskP3Async(Cluster[2].Host, "LST"));
        }
    }

    [Fact]
    public async Task AP2UploadIsAnnouncedToClientsOnEveryNode()
    {
        await using var watcher = await LegacyWire.P2.ConnectAsync(Cluster[3].Host);
        await watcher.SendAsync("AUTH", "watcher");
        await watcher.ReplyAsync();
        await using var p2 = await LegacyWire.P2.ConnectAsync(Cluster[1].Host);
        await p2.SendAsync("AUTH", "ana");
        Assert.Equal("Autenticado como ana", (await p2.ReplyAsync()).GetProperty("message").GetString());
        var image = Images.Jpeg("p2-event");
        await p2.SendAsync("UPLOAD", "ana.jpg", image.Length.ToString());
        Assert.Equal("READY", (await p2.ReplyAsync()).GetProperty("status").GetString());
        await p2.SendBinaryAsync(image);
        var done = await p2.ReplyAsync();
        Assert.StartsWith("Upload de ana.jpg concluído. ID: ", done.GetProperty("message").GetString());

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (true)
        {
            var (json, _) = await watcher.ReceiveAsync();
            if (json is { } j && j.TryGetProperty("event", out var e) && e.GetString() == "NEW_UPLOAD"
                && j.GetProperty("message").GetString() == "Novo arquivo 'ana.jpg' enviado por ana.") break;
        }
    }

    /// <summary>docs/protocols.md, P4: the file's bytes, then the server closes — so a transfer cut short (a reader
    /// slower than the least rate, past its deadline of 5 s + 1 s per 8 MiB) must end with a reset: a legacy peer reads
    /// to the end of the connection and would keep a cut file as whole after an orderly close.</summary>
    [Fact]
    public async Task AP4TransferCutOffAtItsDeadlineEndsWithAReset()
    {
        byte[] image = [.. Images.Jpeg($"slow-reader-{Guid.NewGuid():N}"), .. new byte[8 << 20]];
        var md5 = Images.Md5(image);
        using (var http = new HttpClient { BaseAddress = Cluster[1].HttpBase, Timeout = TimeSpan.FromSeconds(60) })
        using (var created = await http.PostAsync($"api/images?filename=slow-{md5}.jpg&uploader=slow", new ByteArrayContent(image)))
            Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);

        // A reader that takes nothing for 8 s: the node's socket buffers fill (a few MB), its deadline (6 s) passes.
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)
        {
            ReceiveBufferSize = 4096,
        };
        await socket.ConnectAsync(System.Net.IPAddress.Parse(Cluster[1].Host), 13378);
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes("GET " + md5));
        await Task.Delay(TimeSpan.FromSeconds(8));
        long received = 0;
        var reset = false;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, timeout.Token)) > 0) received += n;
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionReset)
        {
            reset = true;
        }
        Assert.True(received < image.Length, $"all {received} bytes arrived: the node's buffers held the whole image");
        Assert.True(reset, $"the transfer was cut after {received} of {image.Length} bytes with an orderly close");
    }

    private static async Task<List<string>> ListAsync(LegacyWire.P2 p2)
    {
        await p2.SendAsync("LIST");
        return (await p2.ReplyAsync()).GetProperty("data").EnumerateArray()
            .Select(f => f.GetProperty("filename").GetString()!).ToList();
    }

    private static async Task<bool> Delay(int ms)
    {
        await Task.Delay(ms);
        return true;
    }

    private static async Task<string> Poll(Func<Task<string>> ask, Func<string, bool> done, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        var last = await ask();
        while (!done(last) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            last = await ask();
        }
        return last;
    }
}
