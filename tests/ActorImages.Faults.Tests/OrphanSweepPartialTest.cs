using ActorImages.Testing;
using Xunit;

namespace ActorImages.Faults.Tests;

/// <summary>
/// The orphan sweep when some holders confirm a sound copy and others do not (docs/design.md, ScrubActor): a real
/// 3-node cluster on 127.0.97.1–3, replication factor 2, a 6 s <c>orphan-grace</c>, node 3's scrub off (so that its
/// corrupt copy stays corrupt until the test mends it). An image held by node 3 and one other node has a corrupt copy
/// on node 3, and the third node keeps an old leftover copy under the image's path: its sweep keeps the file, pass
/// after pass, without listing itself (one holder confirms, so the image is not at risk), and deletes it once node 3's
/// copy is sound again. The image reads sound through every node all along.
/// </summary>
public sealed class OrphanSweepPartialTest : IAsyncLifetime
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(6);
    private static readonly string[] Hosts = ["127.0.97.1", "127.0.97.2", "127.0.97.3"];
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(Hosts,
        extra: new Dictionary<string, string> { ["ACTORIMAGES_ORPHAN_GRACE"] = $"{Grace.TotalSeconds}s" },
        launcher: i => i == 3 ? ["env", "ACTORIMAGES_SCRUB_PACE=0"] : null);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task ALeftoverCopyStaysWhileOneHolderCannotConfirmAndGoesOnceItCan()
    {
        // Uploaded until an image lives on node 3 and one of nodes 1 and 2 (rendezvous placement, factor 2).
        byte[]? image = null;
        IReadOnlyList<string> holders = [];
        for (var n = 0; n < 30 && image is null; n++)
        {
            var png = Images.Png(9700 + n);
            await Wire.UploadP2Async(_cluster[1].Host, $"partial-{n}.png", png);
            holders = await Wire.HoldersAsync(_cluster[1].Host, Images.Md5(png));
            if (holders.Contains(_cluster[3].Host)) image = png;
        }
        Assert.NotNull(image);
        var md5 = Images.Md5(image);
        var (sound, spare) = holders.Contains(_cluster[1].Host) ? (_cluster[1], _cluster[2]) : (_cluster[2], _cluster[1]);

        var onThree = ScrubTest.CopyOf(_cluster[3].DataDir, image, _cluster);
        var corrupt = (byte[])image.Clone();
        corrupt[corrupt.Length / 2] ^= 0x55;
        await File.WriteAllBytesAsync(onThree, corrupt);
        var leftover = Path.Combine(spare.DataDir, Path.GetRelativePath(_cluster[3].DataDir, onThree));
        Directory.CreateDirectory(Path.GetDirectoryName(leftover)!);
        await File.WriteAllBytesAsync(leftover, image);
        File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow - TimeSpan.FromHours(2));

        // Kept, and kept again by the next pass (a pass rests half the grace after it ends), without being listed.
        await Poll.UntilAsync(TimeSpan.FromSeconds(20), $"{spare.Host}'s sweep keeping the leftover twice", async () =>
            (await File.ReadAllTextAsync(spare.LogPath)).AsSpan().Count($"did not confirm a sound copy of {md5}") >= 2);
        Assert.True(File.Exists(leftover), $"the leftover went while a holder's copy was corrupt\n{_cluster.Logs()}");
        Assert.Equal(image, await File.ReadAllBytesAsync(leftover));
        Assert.Equal(holders.Order(), (await Wire.HoldersAsync(spare.Host, md5)).Order());
        foreach (var node in _cluster.Nodes) Assert.Equal(image, await Wire.GetP4Async(node.Host, md5));

        // Node 3's copy sound again (what its scrub would do): the leftover goes.
        await File.WriteAllBytesAsync(onThree, image);
        await Poll.UntilAsync(TimeSpan.FromSeconds(20), "the leftover removed", () => Task.FromResult(!File.Exists(leftover)));
        Assert.Contains("Orphan sweep deleted", await File.ReadAllTextAsync(spare.LogPath));
        Assert.Equal(image, await File.ReadAllBytesAsync(ScrubTest.CopyOf(sound.DataDir, image, _cluster)));
        foreach (var node in _cluster.Nodes) Assert.Equal(image, await Wire.GetP4Async(node.Host, md5));
    }
}
