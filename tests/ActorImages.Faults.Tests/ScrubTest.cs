using System.Text.RegularExpressions;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Faults.Tests;

/// <summary>
/// A corrupt and a missing copy on a real 2-node cluster (127.0.58.1–2, so both nodes hold every image): reads
/// through every protocol still return the right bytes, since a copy up to 1 MiB is checked whole against its
/// SHA-256 before it is served (larger ones: StreamingVerifyTest), and the background scrub puts a sound copy back in
/// both places, under the same name.
/// </summary>
public sealed partial class ScrubTest : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(subnet: 58, count: 2,
        new Dictionary<string, string> { ["ACTORIMAGES_SCRUB_PACE"] = "50ms" });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task CorruptAndDeletedCopiesAreNeverServedAndTheScrubRestoresBoth()
    {
        var rocket = TestImages.Bytes("rocket.jpg");
        var chelsea = TestImages.Bytes("chelsea.png");
        await Wire.UploadP2Async(_cluster[1].Host, "rocket.jpg", rocket);
        await Wire.UploadP2Async(_cluster[2].Host, "chelsea.png", chelsea);
        var rocketOnOne = CopyOf(_cluster[1].DataDir, rocket, _cluster);
        var chelseaOnTwo = CopyOf(_cluster[2].DataDir, chelsea, _cluster);

        var corrupt = (byte[])rocket.Clone();
        corrupt[corrupt.Length / 2] ^= 0x55;
        await File.WriteAllBytesAsync(rocketOnOne, corrupt);
        File.Delete(chelseaOnTwo);

        foreach (var node in _cluster.Nodes)
        {
            Assert.Equal(rocket, await Wire.GetP4Async(node.Host, Images.Md5(rocket)));
            Assert.Equal(chelsea, await Wire.GetP4Async(node.Host, Images.Md5(chelsea)));
            var (status, body) = await Wire.GetBytesAsync(node.Host, $"/api/images/{Images.Md5(rocket)}/content");
            Assert.Equal(200, status);
            Assert.Equal(rocket, body);
        }

        await Poll.UntilAsync(TimeSpan.FromSeconds(30), "a sound rocket on node 1 and no corrupt file left", () =>
            Task.FromResult(Copies(_cluster[1].DataDir, rocket) == 1 && Copies(_cluster[1].DataDir, corrupt) == 0));
        await Poll.UntilAsync(TimeSpan.FromSeconds(30), "a sound chelsea on node 2", () =>
            Task.FromResult(Copies(_cluster[2].DataDir, chelsea) == 1));
        // Restored in place: the same name as before, which every replica and the catalog use.
        Assert.Equal(rocket, await File.ReadAllBytesAsync(rocketOnOne));
        Assert.Equal(chelsea, await File.ReadAllBytesAsync(chelseaOnTwo));
        Assert.Equal(1, Copies(_cluster[2].DataDir, rocket));
        Assert.Equal(1, Copies(_cluster[1].DataDir, chelsea));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_cluster[1].DataDir, ".tmp")));
        Assert.Equal(rocket, await Wire.GetP4Async(_cluster[1].Host, Images.Md5(rocket)));
        foreach (var node in _cluster.Nodes)
            Assert.True(await Wire.MetricAsync(node.Host, "actorimages_replica_copies_total{reason=\"scrub\",outcome=\"ok\"}") >= 1,
                $"{node.Host} counted its restore\n{_cluster.Logs()}");
    }

    internal static string CopyOf(string dataDir, byte[] bytes, TestCluster cluster)
    {
        var found = StoredImages(dataDir).Where(p => File.ReadAllBytes(p).AsSpan().SequenceEqual(bytes)).ToList();
        Assert.True(found.Count == 1, $"one copy in {dataDir}: {string.Join(", ", found)}\n{cluster.Logs()}");
        return found[0];
    }

    internal static int Copies(string dataDir, byte[] bytes) =>
        StoredImages(dataDir).Count(p => ReadOrEmpty(p).AsSpan().SequenceEqual(bytes));

    internal static IEnumerable<string> StoredImages(string dataDir) =>
        Directory.EnumerateFiles(dataDir, "*", SearchOption.AllDirectories)
            .Where(p => DayFolder().IsMatch(Path.GetFileName(Path.GetDirectoryName(p)!)));

    private static byte[] ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (IOException)
        {
            return [];
        }
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$")]
    private static partial Regex DayFolder();
}
