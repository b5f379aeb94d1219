using ActorImages.Testing;

namespace ActorImages.Catalog.Tests;

public sealed class CatalogQueryTests
{
    [Fact]
    public async Task WhereSeveralEntriesShareAFilenameTheOldestIsFound()
    {
        await using var db = await Fresh.DatabaseAsync();
        var oldest = await Fresh.CommitAsync(db.Catalog, "first bytes", "cat.jpg");
        await Fresh.CommitAsync(db.Catalog, "second bytes", "cat.jpg");

        Fresh.Same(oldest, await db.Catalog.FindByFilenameAsync("cat.jpg"));
        Assert.Null(await db.Catalog.FindByFilenameAsync("Cat.jpg"));
    }

    [Fact]
    public async Task AnMd5UploadedTwiceFindsItsOldestEntry()
    {
        await using var db = await Fresh.DatabaseAsync();
        var oldest = await Fresh.CommitAsync(db.Catalog, "same", "one.jpg");
        await Fresh.CommitAsync(db.Catalog, "same", "two.jpg");

        Fresh.Same(oldest, await db.Catalog.FindByMd5Async(Fresh.Md5Of("same")));
        Assert.Null(await db.Catalog.FindByMd5Async(Fresh.Md5Of("other")));
        Assert.Null(await db.Catalog.FindByIdAsync(12345));
    }

    [Fact]
    public async Task EntriesAreFoundByTheirStoredPathsAndUnknownPathsAreAbsent()
    {
        await using var db = await Fresh.DatabaseAsync();
        var one = await Fresh.CommitAsync(db.Catalog, "one bytes", "one.jpg");
        var two = await Fresh.CommitAsync(db.Catalog, "two bytes", "two.jpg");

        var found = await db.Catalog.EntriesByPathsAsync([one.Path, "2001-01-01/000000.jpg", two.Path]);

        Assert.Equal([one.Id, two.Id], found.Select(e => e.Id).Order());
        Fresh.Same(one, found.Single(e => e.Path == one.Path));
        Assert.Empty(await db.Catalog.EntriesByPathsAsync(["2001-01-01/000000.jpg"]));
        Assert.Empty(await db.Catalog.EntriesByPathsAsync([]));
    }

    [Fact]
    public async Task NewerThanReturnsWhatWasCommittedSinceAnIdNewestFirstAndNothingWhenIdle()
    {
        await using var db = await Fresh.DatabaseAsync();
        var first = await Fresh.CommitAsync(db.Catalog, "seen");
        Assert.Empty(await db.Catalog.NewerThanAsync(first.Id, 10));

        var later = new[] { await Fresh.CommitAsync(db.Catalog, "a"), await Fresh.CommitAsync(db.Catalog, "b"), await Fresh.CommitAsync(db.Catalog, "c") };

        Assert.Equal(later.Select(e => e.Id).Reverse(), (await db.Catalog.NewerThanAsync(first.Id, 10)).Select(e => e.Id));
        Assert.Equal([later[2].Id, later[1].Id], (await db.Catalog.NewerThanAsync(first.Id, 2)).Select(e => e.Id));
        Assert.Equal(4, (await db.Catalog.NewerThanAsync(0, 10)).Count);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Catalog.NewerThanAsync(0, 0));
    }

    [Fact]
    public async Task NewestPagesWalkTheCatalogNewestFirstWithoutGapsOrRepeats()
    {
        await using var db = await Fresh.DatabaseAsync();
        var entries = new List<Messages.CatalogEntry>();
        for (var i = 0; i < 7; i++)
        {
            entries.Add(await Fresh.CommitAsync(db.Catalog, "img " + i));
        }

        var walked = new List<long>();
        long? cursor = null;
        while (true)
        {
            var page = await db.Catalog.NewestAsync(3, cursor);
            if (page.Count == 0)
            {
                break;
            }

            walked.AddRange(page.Select(e => e.Id));
            cursor = page[^1].Id;
        }

        Assert.Equal(entries.Select(e => e.Id).Reverse(), walked);
        Fresh.Same(entries[^1], (await db.Catalog.NewestAsync(1, null))[0]);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Catalog.NewestAsync(0, null));
    }

    [Fact]
    public async Task APageAfterACursorTheCatalogNeverHadIsEmptyEvenWhereOlderEntriesExist()
    {
        await using var db = await Fresh.DatabaseAsync();
        var first = await Fresh.CommitAsync(db.Catalog, "first");
        var second = await Fresh.CommitAsync(db.Catalog, "second");

        Assert.Equal([first.Id], (await db.Catalog.NewestAsync(10, second.Id)).Select(e => e.Id));
        Assert.Empty(await db.Catalog.NewestAsync(10, second.Id + 1000));
        Assert.Empty(await db.Catalog.NewestAsync(10, first.Id));
    }

    [Fact]
    public async Task NewestNamesListFilenameAndUploaderNewestFirst()
    {
        await using var db = await Fresh.DatabaseAsync();
        await Fresh.CommitAsync(db.Catalog, "a", "a.jpg");
        await Fresh.CommitAsync(db.Catalog, "b", "b.jpg");
        await Fresh.CommitAsync(db.Catalog, "c", "c.jpg");

        var names = await db.Catalog.NewestNamesAsync(2);

        Assert.Equal([("c.jpg", "tcp:10.0.0.9"), ("b.jpg", "tcp:10.0.0.9")], names.Select(n => (n.Filename, n.Uploader)));
        Assert.True(names[0].Id > names[1].Id);
    }

    [Fact]
    public async Task LstPagesListEachMd5OnceNewestFirstWithTheFirstNameAndEveryHolder()
    {
        await using var db = await Fresh.DatabaseAsync();
        await Fresh.CommitAsync(db.Catalog, "a", "a.jpg", [Fresh.Node1, Fresh.Node2]);
        await Fresh.CommitAsync(db.Catalog, "b", "b.jpg", [Fresh.Node2, Fresh.Node3]);
        await Fresh.CommitAsync(db.Catalog, "a", "a-again.jpg", [Fresh.Node3, Fresh.Node1]);
        await Fresh.CommitAsync(db.Catalog, "c", "c.jpg", [Fresh.Node1, Fresh.Node3]);

        var all = await db.Catalog.DistinctMd5PageAsync(0, 10);
        var second = await db.Catalog.DistinctMd5PageAsync(1, 1);

        Assert.Equal([Fresh.Md5Of("c"), Fresh.Md5Of("b"), Fresh.Md5Of("a")], all.Select(l => l.Md5));
        Assert.Equal("a.jpg", all[2].Filename);
        Assert.Equal(["127.0.0.1", "127.0.0.2", "127.0.0.3"], all[2].Hosts);
        Fresh.Same([all[1]], second);
        Assert.Empty(await db.Catalog.DistinctMd5PageAsync(3, 10));
        Fresh.Same([all[2]], await db.Catalog.DistinctMd5PageAsync(2, 10));
    }

    /// <summary>Md5s listed elsewhere (the peers' items, the node's head) are left out of the pages and not counted
    /// by the offset: walking the rest page by page lists every other md5 once, in order.</summary>
    [Fact]
    public async Task LstPagesLeaveOutTheSkippedMd5sAndCountOnlyTheRest()
    {
        await using var db = await Fresh.DatabaseAsync();
        var keys = Enumerable.Range(0, 12).Select(i => $"k{i}").ToList();
        foreach (var key in keys) await Fresh.CommitAsync(db.Catalog, key, key + ".jpg");
        var newestFirst = keys.AsEnumerable().Reverse().Select(Fresh.Md5Of).ToList();
        // Skipped: the newest, two in the middle side by side, the oldest, and one the catalog never had.
        string[] skip = [newestFirst[0], newestFirst[4], newestFirst[5], newestFirst[11], new string('f', 32)];
        var rest = newestFirst.Except(skip).ToList();

        foreach (var size in new[] { 1, 2, 3, 10 })
        {
            var walked = new List<string>();
            for (var offset = 0; ; offset += size)
            {
                var page = await db.Catalog.DistinctMd5PageAsync(offset, size, skip: skip);
                if (page.Count == 0) break;
                walked.AddRange(page.Select(l => l.Md5));
            }
            Assert.Equal(rest, walked);
        }
        Assert.Equal(rest.Skip(3).Take(2), (await db.Catalog.DistinctMd5PageAsync(3, 2, skip: skip)).Select(l => l.Md5));
    }

    [Fact]
    public async Task EntriesHeldByANodeArePagedInIdOrder()
    {
        await using var db = await Fresh.DatabaseAsync();
        var held = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var entry = await Fresh.CommitAsync(db.Catalog, "img " + i, replicas: i % 2 == 0 ? [Fresh.Node1, Fresh.Node2] : [Fresh.Node2, Fresh.Node3]);
            if (i % 2 == 0)
            {
                held.Add(entry.Id);
            }
        }

        var first = await db.Catalog.EntriesHeldByAsync(Fresh.Node1.Address, 0, 2);
        var rest = await db.Catalog.EntriesHeldByAsync(Fresh.Node1.Address, first[^1].Id, 2);

        Assert.Equal(held, first.Concat(rest).Select(e => e.Id));
        Assert.Empty(await db.Catalog.EntriesHeldByAsync(Fresh.Node1.Address, rest[^1].Id, 2));
        Assert.Equal(5, (await db.Catalog.EntriesHeldByAsync(Fresh.Node2.Address, 0, 10)).Count);
    }

    /// <summary>
    /// The scrub and self-repair page through every entry a node holds (EntriesHeldByAsync). Prepared and planned on a
    /// catalog of a few hundred rows, the former form of the query (<c>i.id IN (subquery)</c>) hash-joined a sequential
    /// scan of images, 12 of 12 pages: a plan kept while the catalog grows would read it whole for every page. The
    /// page's ids are looked up by the primary key instead.
    /// </summary>
    [Fact]
    public async Task PagesOfEntriesHeldByANodeLookImagesUpByTheirKeyEvenWhenPlannedOnASmallCatalog()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await Fresh.SeedAsync(connectionString, "held");

        await Fresh.AssertIndexOnlyAsync(connectionString, "images", operations: 12, async db =>
        {
            for (var i = 0; i < 12; i++) Assert.Equal(20, (await db.Catalog.EntriesHeldByAsync(Fresh.Node1.Address, i * 20, 20)).Count);
        });
    }

    [Fact]
    public async Task UnderReplicatedScanFindsEntriesWithTooFewUpReplicasPageByPage()
    {
        await using var db = await Fresh.DatabaseAsync();
        var fine = await Fresh.CommitAsync(db.Catalog, "fine", replicas: [Fresh.Node1, Fresh.Node2]);
        var onDownNode = await Fresh.CommitAsync(db.Catalog, "down", replicas: [Fresh.Node1, Fresh.Node3]);
        var single = await Fresh.CommitAsync(db.Catalog, "single", replicas: [Fresh.Node2]);
        string[] up = [Fresh.Node1.Address, Fresh.Node2.Address];

        var page1 = await db.Catalog.OffFactorAsync(up, 2, null, 0, 2);
        var page2 = await db.Catalog.OffFactorAsync(up, 2, null, page1.NextAfterId!.Value, 2);
        var healthyPage = await db.Catalog.OffFactorAsync(up, 2, null, 0, 1);

        Assert.Equal([onDownNode.Id], page1.Entries.Select(e => e.Id));
        Assert.Equal(onDownNode.Id, page1.NextAfterId);
        Assert.Equal([single.Id], page2.Entries.Select(e => e.Id));
        Assert.Null(page2.NextAfterId);
        Assert.Empty(healthyPage.Entries);
        Assert.Equal(fine.Id, healthyPage.NextAfterId);
    }

    [Fact]
    public async Task TheScanFindsASurplusOnlyWhenEveryReplicaIsOnAnUpMember()
    {
        await using var db = await Fresh.DatabaseAsync();
        await Fresh.CommitAsync(db.Catalog, "fine", replicas: [Fresh.Node1, Fresh.Node2]);
        var surplus = await Fresh.CommitAsync(db.Catalog, "surplus", replicas: [Fresh.Node1, Fresh.Node2, Fresh.Node3]);
        var under = await Fresh.CommitAsync(db.Catalog, "under", replicas: [Fresh.Node2]);
        string[] allUp = [Fresh.Node1.Address, Fresh.Node2.Address, Fresh.Node3.Address];
        string[] thirdDown = [Fresh.Node1.Address, Fresh.Node2.Address];

        var trimming = await db.Catalog.OffFactorAsync(allUp, 2, 2, 0, 10);
        var notTrimming = await db.Catalog.OffFactorAsync(allUp, 2, null, 0, 10);
        var withADownHolder = await db.Catalog.OffFactorAsync(thirdDown, 2, 2, 0, 10);
        var threeWanted = await db.Catalog.OffFactorAsync(allUp, 3, 3, 0, 10);

        Assert.Equal([surplus.Id, under.Id], trimming.Entries.Select(e => e.Id));
        Assert.Equal([under.Id], notTrimming.Entries.Select(e => e.Id));
        // Its replica on a member not Up may be the one to keep: no surplus while it is down.
        Assert.Equal([under.Id], withADownHolder.Entries.Select(e => e.Id));
        Assert.DoesNotContain(surplus.Id, threeWanted.Entries.Select(e => e.Id));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => db.Catalog.OffFactorAsync(allUp, 2, 0, 0, 10));
    }
}
