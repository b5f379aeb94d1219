using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>One node whose <c>PATH</c> holds <c>prlimit</c> but not libheif's <c>heif-thumbnailer</c>.</summary>
public sealed class NoHeifRendererCluster() : ClusterFixture(subnet: 38, count: 1, new Dictionary<string, string>
{
    ["ACTORIMAGES_REPLICATION_FACTOR"] = "1",
    ["PATH"] = NoHeifRendererCluster.PathWithoutRenderer.Value,
})
{
    /// <summary>A folder with a link to <c>prlimit</c> and nothing else, as the node's whole <c>PATH</c>.</summary>
    public static readonly Lazy<string> PathWithoutRenderer = new(() =>
    {
        var folder = Directory.CreateTempSubdirectory("actorimages-path-").FullName;
        File.CreateSymbolicLink(Path.Combine(folder, "prlimit"), "/usr/bin/prlimit");
        return folder;
    });
}

/// <summary>
/// A node without libheif's renderer (README "What gets in"): it still stores and serves HEIC and AVIF, says at start
/// that it cannot make their thumbnails, and answers so at once, in the API's <c>thumbnail</c> field (the viewer's cue,
/// format.js <c>hasNoThumbnail</c>) and with a 404 for the thumbnail and the preview, without fetching the bytes. Once
/// the renderer is installed it makes them, without a restart (HeifThumbnailer.LookupRetryMs, 5 s).
/// </summary>
public sealed class NoHeifRendererTest(NoHeifRendererCluster fixture) : IClassFixture<NoHeifRendererCluster>
{
    [Fact]
    public async Task HeicAndAvifAreStoredAndServedAndSaidToHaveNoThumbnailUntilTheRendererIsInstalled()
    {
        var node = fixture.Cluster[1];
        Assert.Contains("heif-thumbnailer or prlimit not found on PATH: no thumbnails of HEIC, HEIF and AVIF", node.ReadLog());
        using var http = new HttpClient { BaseAddress = node.HttpBase };
        foreach (var (name, mediaType) in new[] { ("rocket.heic", "image/heic"), ("rocket.avif", "image/avif") })
        {
            var bytes = TestImages.Bytes(name);
            var md5 = Images.Md5(bytes);
            using (var posted = await http.PostAsync($"api/images?filename={name}", new ByteArrayContent(bytes)))
                Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
            var entry = await http.GetFromJsonAsync<JsonElement>($"api/images/{md5}");
            Assert.Equal(mediaType, entry.GetProperty("mediaType").GetString());
            Assert.False(entry.GetProperty("thumbnail").GetBoolean());
            Assert.Equal(bytes, await http.GetByteArrayAsync($"api/images/{md5}/content"));
            foreach (var rendition in new[] { "thumbnail", "preview" })
            {
                using var response = await http.GetAsync($"api/images/{md5}/{rendition}");
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                Assert.Contains($"no {rendition}: {mediaType} is not decoded here", await response.Content.ReadAsStringAsync());
            }
        }
        // Other formats get theirs as on any node.
        var jpeg = Images.Jpeg("no-heif-renderer");
        using (var posted = await http.PostAsync("api/images?filename=rocket.jpg", new ByteArrayContent(jpeg)))
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        using var thumbnail = await http.GetAsync($"api/images/{Images.Md5(jpeg)}/thumbnail");
        Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
        Assert.Equal((256, 171), TestImages.JpegSize(await thumbnail.Content.ReadAsByteArrayAsync()));

        // The renderer installed while the node runs (a link where the node's PATH looks): found again within 5 s.
        File.CreateSymbolicLink(Path.Combine(NoHeifRendererCluster.PathWithoutRenderer.Value, "heif-thumbnailer"),
            "/usr/bin/heif-thumbnailer");
        var heic = Images.Md5(TestImages.Bytes("rocket.heic"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(await http.GetFromJsonAsync<JsonElement>($"api/images/{heic}")).GetProperty("thumbnail").GetBoolean())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the installed renderer was not found in 20 s");
            await Task.Delay(250);
        }
        using var rendered = await http.GetAsync($"api/images/{heic}/thumbnail");
        Assert.Equal(HttpStatusCode.OK, rendered.StatusCode);
        Assert.Equal((256, 171), TestImages.JpegSize(await rendered.Content.ReadAsByteArrayAsync()));
    }
}
