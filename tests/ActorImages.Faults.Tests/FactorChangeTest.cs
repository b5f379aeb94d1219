using System.Text.Json;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Faults.Tests;

/// <summary>
/// Lowering <c>replication-factor</c> gives the space back (README "Configuration"; docs/design.md, RepairActor): a
/// 2-node cluster on 127.0.96.1–2 with factor 2 stores three images on both nodes; killed, then started on the same
/// data and catalog with factor 1 (an 8 s <c>orphan-grace</c>, a repair pass every 3 s), every member shows the role
/// <c>replication-factor-1</c>, self-repair drops one replica of each image from the catalog (its first live holder
/// keeps its own sound copy), and the dropped node's orphan sweep deletes its file, while every image stays readable
/// through both nodes.
/// </summary>
public sealed class FactorChangeTest : IAsyncLifetime
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(8);
    private TestCluster _before = null!;
    private TestCluster? _after;

    public async Task InitializeAsync() =>
        _before = await TestCluster.StartAsync(subnet: 96, count: 2, new Dictionary<string, string>
        {
            ["ACTORIMAGES_REPLICATION_FACTOR"] = "2",
        });

    public async Task DisposeAsync()
    {
        if (_after is not null) await _after.DisposeAsync();
        await _before.DisposeAsync();
    }

    [Fact]
    public async Task ALoweredFactorTrimsEveryImageToItsBestRankedCopyAndTheOthersFilesGo()
    {
        var images = Enumerable.Range(0, 3).Select(n => Images.Png(9600 + n)).ToList();
        foreach (var (image, n) in images.Select((image, n) => (image, n)))
            await Wire.UploadP2Async(_before[1 + n % 2].Host, $"factor-{n}.png", image);
        foreach (var image in images)
            Assert.Equal(2, (await Wire.HoldersAsync(_before[1].Host, Images.Md5(image))).Count);

        // Killed, so that neither moves its copies away as it leaves: the catalog keeps both replicas of each image.
        foreach (var node in _before.Nodes) node.Kill();
        _after = await TestCluster.StartAsync(_before.Nodes.Select(n => n.Host).ToList(), _before.DbUrl,
            new Dictionary<string, string>
            {
                ["ACTORIMAGES_REPLICATION_FACTOR"] = "1",
                ["ACTORIMAGES_REPAIR_INTERVAL"] = "3s",
                ["ACTORIMAGES_ORPHAN_GRACE"] = $"{Grace.TotalSeconds}s",
            }, root: _before.Root);

        using (var cluster = JsonDocument.Parse((await Wire.GetAsync(_after[1].Host, "/api/cluster"))!))
        {
            var members = cluster.RootElement.GetProperty("members").EnumerateArray().ToList();
            Assert.Equal(2, members.Count);
            Assert.All(members, m => Assert.Contains("replication-factor-1",
                m.GetProperty("roles").EnumerateArray().Select(r => r.GetString())));
        }

        foreach (var image in images)
        {
            var md5 = Images.Md5(image);
            IReadOnlyList<string> kept = [];
            await Poll.UntilAsync(TimeSpan.FromSeconds(30), $"{md5} listed on one node", async () =>
                (kept = await Wire.HoldersAsync(_after[2].Host, md5)).Count == 1);
            var (holder, other) = kept[0] == _after[1].Host ? (_after[1], _after[2]) : (_after[2], _after[1]);
            Assert.Equal(1, ScrubTest.Copies(holder.DataDir, image));
            await Poll.UntilAsync(TimeSpan.FromSeconds(40), $"{md5}'s file on {other.Host} removed", () =>
                Task.FromResult(ScrubTest.Copies(other.DataDir, image) == 0));
            foreach (var node in _after.Nodes) Assert.Equal(image, await Wire.GetP4Async(node.Host, md5));
        }
        var log = string.Concat(await Task.WhenAll(_after.Nodes.Select(n => File.ReadAllTextAsync(n.LogPath))));
        // Each image trimmed once, counted in the passes' summary lines (one line per trimmed entry only at Debug).
        Assert.Equal(images.Count, System.Text.RegularExpressions.Regex.Matches(log, @"more copies than wanted, (\d+) trimmed by this node")
            .Sum(m => int.Parse(m.Groups[1].Value)));
        Assert.Contains("Orphan sweep deleted", log);
    }
}
