using System.Diagnostics;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Faults.Tests;

/// <summary>
/// The orphan sweep on a real 2-node cluster (127.0.91.1–2) with a 16 s <c>orphan-grace</c>: files planted in node
/// 1's data directory that the catalog does not know — one last written two hours ago, one just written, in a day
/// folder and in <c>.tmp</c> — go when they are older than the grace and not before, while a catalogued copy made
/// to look two hours old is never touched.
/// </summary>
public sealed class OrphanSweepTest : IAsyncLifetime
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(16);

    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(subnet: 91, count: 2,
        new Dictionary<string, string> { ["ACTORIMAGES_ORPHAN_GRACE"] = $"{Grace.TotalSeconds}s" });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task OldOrphansGoYoungOnesStayUntilTheyAgeAndCataloguedCopiesAreNeverTouched()
    {
        var image = TestImages.Bytes("rocket.jpg");
        await Wire.UploadP2Async(_cluster[1].Host, "rocket.jpg", image);
        var catalogued = ScrubTest.CopyOf(_cluster[1].DataDir, image, _cluster);
        var day = Path.GetDirectoryName(catalogued)!;
        var longAgo = DateTime.UtcNow - TimeSpan.FromHours(2);
        File.SetLastWriteTimeUtc(catalogued, longAgo);

        var oldOrphan = Plant(Path.Combine(day, "000000-77.jpg"), image, longAgo);
        var oldInAnotherDay = Plant(Path.Combine(_cluster[1].DataDir, "2001-01-01", "120000.jpg"), image, longAgo);
        var oldTemp = Plant(Path.Combine(_cluster[1].DataDir, ".tmp", "upload-stale.part"), image, longAgo);
        var youngOrphan = Plant(Path.Combine(day, "000000-78.jpg"), image, null);
        var youngTemp = Plant(Path.Combine(_cluster[1].DataDir, ".tmp", "upload-young.part"), image, null);
        var planted = Stopwatch.StartNew();

        // A pass starts every half grace: the old ones go well before the young ones are a grace old.
        await UntilAsync(Grace - TimeSpan.FromSeconds(1), "the old orphans removed", oldOrphan, oldInAnotherDay, oldTemp);
        Assert.True(planted.Elapsed < Grace, $"the old orphans took {planted.Elapsed} to go");
        Assert.True(File.Exists(youngOrphan), "a young orphan was deleted");
        Assert.True(File.Exists(youngTemp), "a young temp file was deleted");
        Assert.Equal(image, await File.ReadAllBytesAsync(catalogued));

        // Once they are older than the grace, the young ones go too; the catalogued copy never does.
        await UntilAsync(TimeSpan.FromSeconds(45), "the aged orphans removed", youngOrphan, youngTemp);
        Assert.True(planted.Elapsed >= Grace, $"a young orphan went after {planted.Elapsed}");
        Assert.Equal(image, await File.ReadAllBytesAsync(catalogued));
        Assert.Equal(1, ScrubTest.Copies(_cluster[2].DataDir, image));
        Assert.Equal(image, await Wire.GetP4Async(_cluster[1].Host, Images.Md5(image)));
        Assert.Contains("Orphan sweep deleted", await File.ReadAllTextAsync(_cluster[1].LogPath));
    }

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
