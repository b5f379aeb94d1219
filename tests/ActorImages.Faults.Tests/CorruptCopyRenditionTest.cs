using ActorImages.Testing;
using Xunit;

namespace ActorImages.Faults.Tests;

/// <summary>
/// A thumbnail is made only from bytes whose SHA-256 is right (README "Web viewer"; docs/design.md, "Reads check every
/// copy"): on a 2-node cluster (127.0.74.1–2, both nodes hold every image, the scrub off so that nothing repairs the copy
/// first), node 1's copy is overwritten with bytes that are no image; its thumbnail is still made, from node 2's copy,
/// not refused as undecodable for the life of the process.
/// </summary>
public sealed class CorruptCopyRenditionTest : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(subnet: 74, count: 2,
        new Dictionary<string, string> { ["ACTORIMAGES_SCRUB_PACE"] = "0" });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task AThumbnailIsMadeFromASoundCopyWhenThisNodesCopyIsCorrupt()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        await Wire.UploadP2Async(_cluster[1].Host, "rocket.jpg", rocket);
        var onOne = ScrubTest.CopyOf(_cluster[1].DataDir, rocket, _cluster);
        await File.WriteAllBytesAsync(onOne, new byte[rocket.Length]);

        var (status, body) = await Wire.GetBytesAsync(_cluster[1].Host, $"/api/images/{Images.Md5(rocket)}/thumbnail");
        Assert.True(status == 200, $"thumbnail answered {status}: {System.Text.Encoding.UTF8.GetString(body)}\n{_cluster.Logs()}");
        Assert.Equal([0xFF, 0xD8], body[..2]);
        Assert.InRange(TestImages.JpegSize(body).Width, 1, 512); // a thumbnail, rendered from rocket's own pixels
    }
}
