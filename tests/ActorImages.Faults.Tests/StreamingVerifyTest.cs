using System.Security.Cryptography;
using ActorImages.Protocols;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Faults.Tests;

/// <summary>
/// Copies are hashed while they are served (issue 9 §2, issue 10 §3), on a real 2-node cluster (127.0.90.1–2, both
/// nodes hold every image): a byte flipped in node 1's file of a 3 MiB image makes node 1's transfer fail before
/// it is complete on every protocol (P4 reset short of the size, HTTP body cut short of its Content-Length, P2 a
/// short binary message and ERROR instead of SUCCESS), the retry gets the right bytes from node 2, and the scrub
/// puts a sound copy back on node 1. A corrupt small image (≤ 1 MiB) is checked whole first, so even the first read
/// gets the right bytes.
/// </summary>
public sealed class StreamingVerifyTest : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    // A slow scrub, so that it rarely gets to a corrupted file before the read under test does (and when it does,
    // the read is simply tried again on a new corruption); a copy a reader reports is restored within one tick.
    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(subnet: 90, count: 2,
        new Dictionary<string, string> { ["ACTORIMAGES_SCRUB_PACE"] = "3s" });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task ACorruptCopyIsNeverServedWholeAndTheRetryGetsTheOtherHoldersBytes()
    {
        byte[] big = [.. TestImages.Bytes("rocket.jpg"), .. RandomNumberGenerator.GetBytes(3 << 20)];
        var small = TestImages.Bytes("chelsea.png");
        await Wire.UploadP2Async(_cluster[1].Host, "big.jpg", big);
        await Wire.UploadP2Async(_cluster[1].Host, "small.png", small);
        var host = _cluster[1].Host;
        var bigOnOne = ScrubTest.CopyOf(_cluster[1].DataDir, big, _cluster);
        var smallOnOne = ScrubTest.CopyOf(_cluster[1].DataDir, small, _cluster);
        var md5 = Images.Md5(big);

        await FailsThenServesWholeAsync("P4", bigOnOne, big, () => Wire.TryGetP4Async(host, md5));
        await FailsThenServesWholeAsync("HTTP", bigOnOne, big, async () =>
        {
            try
            {
                var (status, body) = await Wire.GetBytesAsync(host, $"/api/images/{md5}/content");
                return (body, status != 200);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                return ([], true); // the body ended before its Content-Length: HttpClient refuses it
            }
        });
        await FailsThenServesWholeAsync("P2", bigOnOne, big, async () =>
        {
            await using var p2 = await Wire.P2.ConnectAsync(host);
            await p2.CommandAsync("AUTH", "faults");
            var (info, bytes, final) = await p2.DownloadAsync("big.jpg");
            Assert.Equal("SIZE_INFO", info.GetProperty("status").GetString());
            var failed = final.GetProperty("status").GetString() != "SUCCESS";
            if (failed) Assert.Equal(P2Reply.FileUnavailable, final.GetProperty("message").GetString());
            return (bytes, failed);
        });

        // Small: checked whole before anything is sent, so node 1 serves node 2's bytes at once.
        await SoundAsync(smallOnOne, small);
        await File.WriteAllBytesAsync(smallOnOne, Flipped(small, small.Length / 3));
        var (first, failedFirst) = await Wire.TryGetP4Async(host, Images.Md5(small));
        Assert.False(failedFirst, _cluster.Logs());
        Assert.Equal(small, first);
        await SoundAsync(smallOnOne, small);

        Assert.True(await Wire.MetricAsync(host, "actorimages_errors_total{kind=\"corrupt_read\"}") >= 3,
            $"node 1 counted its corrupt reads\n{_cluster.Logs()}");

        // A thumbnail is made from sound bytes only, and at once: node 1's bad copy over 1 MiB is found bad at its end
        // by the streaming check and discarded, and the making reads node 2's.
        await SoundAsync(bigOnOne, big);
        await File.WriteAllBytesAsync(bigOnOne, Flipped(big, big.Length / 2));
        var (status, thumbnail) = await Wire.GetBytesAsync(host, $"/api/images/{md5}/thumbnail");
        Assert.True(status == 200, $"thumbnail answered {status}: {System.Text.Encoding.UTF8.GetString(thumbnail)}\n{_cluster.Logs()}");
        Assert.InRange(TestImages.JpegSize(thumbnail).Width, 1, 256);
    }

    /// <summary>Corrupts node 1's copy, reads once (the read must fail before the transfer is complete), then again
    /// (the right bytes, from node 2 or the restored copy). A read that got the right bytes at once found the copy
    /// already restored by the scrub's own cycle: the corruption is made again, up to three times.</summary>
    private async Task FailsThenServesWholeAsync(string protocol, string file, byte[] good, Func<Task<(byte[] Bytes, bool Failed)>> read)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            await SoundAsync(file, good);
            // Far from the end: only the SHA-256 can tell.
            await File.WriteAllBytesAsync(file, Flipped(good, good.Length / 2 + attempt));
            var (bytes, failed) = await read();
            if (!failed && bytes.AsSpan().SequenceEqual(good)) continue;
            Assert.True(failed, $"{protocol}: the transfer of a corrupt copy did not fail ({bytes.Length} bytes)\n{_cluster.Logs()}");
            Assert.True(bytes.Length < good.Length, $"{protocol}: all {bytes.Length} bytes of a corrupt copy were sent");
            var (again, failedAgain) = await read();
            Assert.False(failedAgain, $"{protocol}: the retry failed\n{_cluster.Logs()}");
            Assert.Equal(good, again);
            return;
        }
        Assert.Fail($"{protocol}: the scrub restored the copy before every read");
    }

    /// <summary>Waits until node 1's file holds the right bytes again (the scrub restores it in place).</summary>
    private async Task SoundAsync(string file, byte[] good) =>
        await Poll.UntilAsync(TimeSpan.FromSeconds(60), $"a sound {Path.GetFileName(file)} on node 1", () =>
        {
            try
            {
                return Task.FromResult(File.ReadAllBytes(file).AsSpan().SequenceEqual(good));
            }
            catch (IOException)
            {
                return Task.FromResult(false);
            }
        });

    private static byte[] Flipped(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x55;
        return copy;
    }
}
