namespace ActorImages.Catalog.Tests;

/// <summary>Correctness of the synthetic fill at a size where index plans matter; its speed belongs to bin/bench.</summary>
public sealed class SyntheticFillTests
{
    [Fact]
    public async Task AHundredThousandSyntheticEntriesAreACatalogLikeAnyOther()
    {
        await using var db = await Fresh.DatabaseAsync();
        var real = await Fresh.CommitAsync(db.Catalog, "real before", "real.jpg");

        var firstId = await db.Catalog.FillSyntheticAsync(100_000, start: new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var after = await Fresh.CommitAsync(db.Catalog, "real after", "after.jpg");

        Assert.Equal(real.Id + 1, firstId);
        Assert.Equal(firstId + 100_000, after.Id);
        Assert.Equal(100_002, await db.Catalog.CountAsync());
        var stats = await db.Catalog.StatsAsync();
        Assert.Equal(100_002, stats.Images);
        Assert.Equal(200_004, stats.PerHost.Values.Sum(h => h.Images));

        // Newest first runs from the last real entry into the synthetic ones.
        var page = await db.Catalog.NewestAsync(3, null);
        Assert.Equal([after.Id, firstId + 99_999, firstId + 99_998], page.Select(e => e.Id));
        Assert.Equal(2, page[1].Replicas.Count);

        // Lookups by md5, by filename and by id find the synthetic rows.
        var middle = (await db.Catalog.FindByIdAsync(firstId + 50_000))!;
        Fresh.Same(middle, await db.Catalog.FindByMd5Async(middle.Md5));
        Fresh.Same(middle, await db.Catalog.FindByFilenameAsync(middle.Filename));
        Assert.StartsWith("2026-01-01/", middle.Path);

        // 100 entries per second: the names of one second are HHmmss.jpg, -1 … -99, and stay unique.
        Assert.Equal("2026-01-01/000000.jpg", (await db.Catalog.FindByIdAsync(firstId))!.Path);
        Assert.Equal("2026-01-01/000000-99.jpg", (await db.Catalog.FindByIdAsync(firstId + 99))!.Path);
        Assert.Equal(["2026-01-01/000000-100.jpg"], await db.Catalog.ReserveNamesAsync([(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), "jpg")]));

        // LST pages at any depth: one item per md5, numbered without gaps.
        var deep = await db.Catalog.DistinctMd5PageAsync(100_001, 5);
        Assert.Equal([real.Md5], deep.Select(l => l.Md5));
        var middlePage = await db.Catalog.DistinctMd5PageAsync(50_000, 2);
        Assert.Equal([after.Id - 50_000, after.Id - 50_001], middlePage.Select(l => l.FirstId));

        // A repair scan pages through synthetic rows, and a node's holdings page by id.
        var held = await db.Catalog.EntriesHeldByAsync(Fresh.Node3.Address, firstId + 90_000, 10);
        Assert.Equal(10, held.Count);
        Assert.All(held, e => Assert.Contains(e.Replicas, r => r.Address == Fresh.Node3.Address));
        var scan = await db.Catalog.OffFactorAsync([Fresh.Node1.Address, Fresh.Node2.Address], 2, null, firstId, 300);
        Assert.Equal(firstId + 300, scan.NextAfterId);
        Assert.Equal(200, scan.Entries.Count);
    }
}
