using System.Diagnostics;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Faults.Tests;

/// <summary>
/// The orphan sweep on a real 2-node cluster (127.0.91.1–2, replication factor 1, so each image lives on one of them)
/// with a 16 s <c>orphan-grace</c>: files planted in node 1's data directory that the catalog does not know — one last
/// written two hours ago, one just written, in a day folder and in <c>.tmp</c> — go when they are older than the grace
/// and not before, while a catalogued copy made to look two hours old is never touched. Of two old copies node 1 kept
/// of images the catalog lists on node 2 only, the one whose copy on node 2 is sound goes; the other, the image's last
/// sound copy once node 2's is corrupted, stays and node 1 is listed as its holder. That is one copy more than the
/// factor: self-repair (every 4 s here) trims it back to one sound copy — node 1's, or node 2's if its scrub restored
/// it from node 1's first — and the other node's file goes with its orphan sweep.
/// </summary>
public sealed class OrphanSweepTest : IAsyncLifetime
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(16);

    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(subnet: 91, count: 2,
        new Dictionary<string, string>
        {
            ["ACTORIMAGES_ORPHAN_GRACE"] = $"{Grace.TotalSeconds}s",
            ["ACTORIMAGES_REPLICATION_FACTOR"] = "1",
            ["ACTORIMAGES_REPAIR_INTERVAL"] = "4s",
        });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task OldOrphansGoCataloguedCopiesStayAndACopyHeldElsewhereGoesOnlyOnceItsHolderConfirmsASoundOne()
    {
        // Uploaded through node 1 until one image lives on node 1 and two on node 2 (rendezvous placement, factor 1).
        var (onOne, onTwo) = (new List<byte[]>(), new List<byte[]>());
        for (var n = 0; n < 40 && (onOne.Count < 1 || onTwo.Count < 2); n++)
        {
            var png = Images.Png(9100 + n);
            await Wire.UploadP2Async(_cluster[1].Host, $"sweep-{n}.png", png);
            var holders = await Wire.HoldersAsync(_cluster[1].Host, Images.Md5(png));
            (holders.SequenceEqual([_cluster[1].Host]) ? onOne : onTwo).Add(png);
        }
        Assert.True(onOne.Count >= 1 && onTwo.Count >= 2, $"placed {onOne.Count} on node 1, {onTwo.Count} on node 2");
        var image = onOne[0];
        var catalogued = ScrubTest.CopyOf(_cluster[1].DataDir, image, _cluster);
        var day = Path.GetDirectoryName(catalogued)!;
        var longAgo = DateTime.UtcNow - TimeSpan.FromHours(2);
        File.SetLastWriteTimeUtc(catalogued, longAgo);

        // Copies node 1 kept of images the catalog lists on node 2 only, under their catalog paths: node 2's copy of
        // `sound` stays sound, its copy of `damaged` is corrupted, which leaves node 1's the only sound one.
        // (Corrupted before node 1's copy is planted, so that no pass sees node 2's copy still sound.)
        var (sound, damaged) = (onTwo[0], onTwo[1]);
        var damagedOnTwo = ScrubTest.CopyOf(_cluster[2].DataDir, damaged, _cluster);
        var corrupt = (byte[])damaged.Clone();
        corrupt[corrupt.Length / 2] ^= 0x55;
        await File.WriteAllBytesAsync(damagedOnTwo, corrupt);
        var leftover = Plant(OnNodeOne(ScrubTest.CopyOf(_cluster[2].DataDir, sound, _cluster)), sound, longAgo);
        var lastSound = Plant(OnNodeOne(damagedOnTwo), damaged, longAgo);

        var oldOrphan = Plant(Path.Combine(day, "000000-77.jpg"), image, longAgo);
        var oldInAnotherDay = Plant(Path.Combine(_cluster[1].DataDir, "2001-01-01", "120000.jpg"), image, longAgo);
        var oldTemp = Plant(Path.Combine(_cluster[1].DataDir, ".tmp", "upload-stale.part"), image, longAgo);
        var youngOrphan = Plant(Path.Combine(day, "000000-78.jpg"), image, null);
        var youngTemp = Plant(Path.Combine(_cluster[1].DataDir, ".tmp", "upload-young.part"), image, null);
        var planted = Stopwatch.StartNew();

        // A pass starts every half grace: the old ones go well before the young ones are a grace old.
        await UntilAsync(Grace - TimeSpan.FromSeconds(1), "the old orphans removed", oldOrphan, oldInAnotherDay, oldTemp, leftover);
        Assert.True(planted.Elapsed < Grace, $"the old orphans took {planted.Elapsed} to go");
        Assert.True(File.Exists(youngOrphan), "a young orphan was deleted");
        Assert.True(File.Exists(youngTemp), "a young temp file was deleted");
        Assert.Equal(image, await File.ReadAllBytesAsync(catalogued));
        Assert.True(File.Exists(lastSound), $"the last sound copy of an image was deleted\n{_cluster.Logs()}");
        Assert.Equal(damaged, await File.ReadAllBytesAsync(lastSound));
        await Poll.UntilAsync(TimeSpan.FromSeconds(10), "node 1 listed as a holder of the image whose copy it kept", async () =>
            (await Wire.HoldersAsync(_cluster[2].Host, Images.Md5(damaged))).Contains(_cluster[1].Host));

        // Self-repair trims the copy too many: one holder is listed, its copy sound, and the other node's file, no
        // longer listed, goes with that node's sweep once the holder confirms its copy.
        IReadOnlyList<string> kept = [];
        await Poll.UntilAsync(TimeSpan.FromSeconds(30), "the image listed on one node again", async () =>
            (kept = await Wire.HoldersAsync(_cluster[2].Host, Images.Md5(damaged))).Count == 1);
        var (holder, other) = kept[0] == _cluster[1].Host ? (_cluster[1], _cluster[2]) : (_cluster[2], _cluster[1]);
        Assert.Equal(damaged, await Wire.GetP4Async(holder.Host, Images.Md5(damaged)));
        var surplus = Path.Combine(other.DataDir, Path.GetRelativePath(_cluster[1].DataDir, lastSound));
        await UntilAsync(TimeSpan.FromSeconds(45), $"the surplus copy on {other.Host} removed", surplus);
        Assert.Equal(1, ScrubTest.Copies(holder.DataDir, damaged));
        Assert.Equal(damaged, await Wire.GetP4Async(other.Host, Images.Md5(damaged)));

        // Once they are older than the grace, the young ones go too; the catalogued copy never does.
        await UntilAsync(TimeSpan.FromSeconds(45), "the aged orphans removed", youngOrphan, youngTemp);
        Assert.True(planted.Elapsed >= Grace, $"a young orphan went after {planted.Elapsed}");
        Assert.Equal(image, await File.ReadAllBytesAsync(catalogued));
        Assert.Equal(sound, await Wire.GetP4Async(_cluster[1].Host, Images.Md5(sound)));
        Assert.Equal(image, await Wire.GetP4Async(_cluster[1].Host, Images.Md5(image)));
        var log = await File.ReadAllTextAsync(_cluster[1].LogPath);
        Assert.Contains("Orphan sweep deleted", log);
        Assert.Contains("is now listed as a replica", log);
        // The trim, counted in a repair pass's summary line (one line per trimmed entry only at Debug).
        Assert.Matches(@"more copies than wanted, [1-9]\d* trimmed by this node",
            string.Concat(await Task.WhenAll(_cluster.Nodes.Select(n => File.ReadAllTextAsync(n.LogPath)))));
    }

    /// <summary>The same relative path as <paramref name="pathOnTwo"/>, in node 1's data directory.</summary>
    private string OnNodeOne(string pathOnTwo) =>
        Path.Combine(_cluster[1].DataDir, Path.GetRelativePath(_cluster[2].DataDir, pathOnTwo));

    /// <summary>Waits until none of <paramref name="files"/> exists; else fails naming those left and the logs.</summary>
    private async Task UntilAsync(TimeSpan within, string what, params string[] files)
    {
        try
        {
            await Poll.UntilAsync(within, what, () => Task.FromResult(!files.Any(File.Exists)));
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}; left: {string.Join(", ", files.Where(File.Exists))}\n{_cluster.Logs()}");
        }
    }

    private static string Plant(string path, byte[] bytes, DateTime? written)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        if (written is { } at) File.SetLastWriteTimeUtc(path, at);
        return path;
    }
}
