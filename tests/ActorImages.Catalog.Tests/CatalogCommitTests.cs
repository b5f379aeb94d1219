using ActorImages.Messages;
using ActorImages.Testing;
using Npgsql;

namespace ActorImages.Catalog.Tests;

public sealed class CatalogCommitTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 2, 6, 24, 23, 123, TimeSpan.Zero);

    [Fact]
    public async Task ABatchCommitsWithIncreasingIdsAndIsReadBackAsCommitted()
    {
        await using var db = await Fresh.DatabaseAsync();
        var paths = await db.Catalog.ReserveNamesAsync([(At, "jpg"), (At, "jpg"), (At, "jpg")]);

        var committed = await db.Catalog.CommitAsync(paths.Select((p, i) => Fresh.Entry("image " + i, p)).ToList());

        Assert.Equal(paths, committed.Select(e => e.Path));
        Assert.True(committed[0].Id < committed[1].Id && committed[1].Id < committed[2].Id);
        foreach (var entry in committed)
        {
            Fresh.Same(entry, await db.Catalog.FindByIdAsync(entry.Id));
        }

        Assert.Equal(3, await db.Catalog.CountAsync());
    }

    [Fact]
    public async Task ReceiptTimeIsKeptToTheMillisecondInUtc()
    {
        await using var db = await Fresh.DatabaseAsync();
        var at = new DateTimeOffset(2026, 12, 2, 9, 24, 23, 123, TimeSpan.FromHours(3)).AddTicks(4567);
        var path = (await db.Catalog.ReserveNamesAsync([(at, "jpg")]))[0];

        var committed = (await db.Catalog.CommitAsync([Fresh.Entry("x", path, at: at)]))[0];
        var read = await db.Catalog.FindByIdAsync(committed.Id);

        Assert.Equal(new DateTimeOffset(2026, 12, 2, 6, 24, 23, 123, TimeSpan.Zero), committed.ReceivedAt);
        Assert.Equal(committed.ReceivedAt, read!.ReceivedAt);
        Assert.Equal(TimeSpan.Zero, read.ReceivedAt.Offset);
    }

    [Fact]
    public async Task ABatchIsAtomicAnEntryTheDatabaseRefusesCommitsNoneOfIt()
    {
        await using var db = await Fresh.DatabaseAsync();
        var paths = await db.Catalog.ReserveNamesAsync([(At, "jpg"), (At, "jpg")]);

        // The third entry takes the first one's path: refused by the database, after the first two were written.
        await Assert.ThrowsAsync<PostgresException>(() => db.Catalog.CommitAsync(
            [Fresh.Entry("good", paths[0]), Fresh.Entry("also good", paths[1]), Fresh.Entry("clash", paths[0])]));

        Assert.Equal(0, await db.Catalog.CountAsync());
        Assert.Null(await db.Catalog.FindByMd5Async(Fresh.Md5Of("good")));
        Assert.Equal(0, (await db.Catalog.StatsAsync()).Images);
        Assert.Empty((await db.Catalog.StatsAsync()).PerHost);
        Assert.Empty(await db.Catalog.DistinctMd5PageAsync(0, 10));
        Assert.Single(await db.Catalog.CommitAsync([Fresh.Entry("good", paths[0])]));
    }

    [Theory]
    [InlineData("NOT-AN-MD5")]
    [InlineData("D41D8CD98F00B204E9800998ECF8427E")]
    [InlineData("d41d8cd98f00b204e9800998ecf8427")]
    public async Task AnEntryWithoutALowercaseHexMd5IsRefusedBeforeAnythingIsWritten(string md5)
    {
        await using var db = await Fresh.DatabaseAsync();
        var paths = await db.Catalog.ReserveNamesAsync([(At, "jpg"), (At, "jpg")]);

        await Assert.ThrowsAsync<ArgumentException>(() => db.Catalog.CommitAsync(
            [Fresh.Entry("good", paths[0]), Fresh.Entry("bad", paths[1]) with { Md5 = md5 }]));

        Assert.Equal(0, await db.Catalog.CountAsync());
    }

    [Fact]
    public async Task ANodeHoldsAtMostOneReplicaOfAnEntry()
    {
        await using var db = await Fresh.DatabaseAsync();
        var path = (await db.Catalog.ReserveNamesAsync([(At, "jpg")]))[0];

        await Assert.ThrowsAsync<ArgumentException>(() => db.Catalog.CommitAsync([Fresh.Entry("x", path, replicas: [Fresh.Node1, Fresh.Node1])]));
    }

    [Fact]
    public async Task APathIsNeverStoredTwice()
    {
        await using var db = await Fresh.DatabaseAsync();
        var path = (await db.Catalog.ReserveNamesAsync([(At, "jpg")]))[0];
        await db.Catalog.CommitAsync([Fresh.Entry("first", path)]);

        var e = await Assert.ThrowsAsync<PostgresException>(() => db.Catalog.CommitAsync([Fresh.Entry("second", path)]));

        Assert.Equal(PostgresErrorCodes.UniqueViolation, e.SqlState);
        Assert.Equal(1, await db.Catalog.CountAsync());
    }

    [Fact]
    public async Task AnImportKeyAlreadyInTheCatalogIsSkippedAndAnsweredWithTheExistingEntry()
    {
        await using var db = await Fresh.DatabaseAsync();
        var paths = await db.Catalog.ReserveNamesAsync([(At, "jpg"), (At, "jpg"), (At, "jpg"), (At, "jpg")]);
        var first = await db.Catalog.CommitAsync([Fresh.Entry("a", paths[0], importKey: "seed001:repo:1")]);

        var second = await db.Catalog.CommitAsync(
        [
            Fresh.Entry("a", paths[1], importKey: "seed001:repo:1"),
            Fresh.Entry("b", paths[2], importKey: "seed001:repo:2"),
            Fresh.Entry("b", paths[3], importKey: "seed001:repo:2"),
        ]);

        Fresh.Same(first[0], second[0]);
        Assert.Equal(paths[2], second[1].Path);
        Fresh.Same(second[1], second[2]);
        Assert.Equal(2, await db.Catalog.CountAsync());
        Assert.Null(await db.Catalog.FindByFilenameAsync("062423-1.jpg"));
    }

    /// <summary>
    /// The commit's plan is made once per pooled connection and kept (CatalogWrites.CommitAsync): made while
    /// md5_first_seen is small and freshly analyzed, the planner's choice for such a table is a hash join over a
    /// sequential scan of it, which the cached plan would then repeat for every batch as the table grows. The commit
    /// must probe the table's key instead, whatever the statistics said when the plan was made.
    /// </summary>
    [Fact]
    public async Task TheCommitsPlanProbesMd5FirstSeenByItsKeyEvenWhenMadeOnASmallTable()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await Fresh.SeedAsync(connectionString, "seed");
        await Fresh.AssertIndexOnlyAsync(connectionString, "md5_first_seen", operations: 20, async db =>
        {
            for (var i = 0; i < 20; i++) await Fresh.CommitAsync(db.Catalog, "after " + i);
        });
    }

    [Fact]
    public async Task ConcurrentBatchesFromSeveralNodesAllCommitWithDistinctIds()
    {
        await using var db = await Fresh.DatabaseAsync();
        await using var other = await CatalogDatabase.OpenAsync(db.DataSource.ConnectionString);

        var batches = await Task.WhenAll(Enumerable.Range(0, 8).Select(b => Task.Run(async () =>
        {
            var store = b % 2 == 0 ? db.Catalog : other.Catalog;
            var paths = await store.ReserveNamesAsync(Enumerable.Range(0, 10).Select(_ => (At, "jpg")).ToList());
            // Half the md5s are shared between batches: the LST numbering must still count each md5 once.
            return await store.CommitAsync(paths.Select((p, i) => Fresh.Entry($"img {(i % 2 == 0 ? b : 100)} {i}", p)).ToList());
        })));

        var all = batches.SelectMany(b => b).ToList();
        Assert.Equal(80, all.Select(e => e.Id).Distinct().Count());
        Assert.Equal(80, await db.Catalog.CountAsync());
        var distinct = all.Select(e => e.Md5).Distinct().Count();
        var listing = await db.Catalog.DistinctMd5PageAsync(0, 1000);
        Assert.Equal(distinct, listing.Count);
        Assert.Equal(distinct, listing.Select(l => l.Md5).Distinct().Count());
    }

    [Fact]
    public async Task StatsCountEntriesOnceAndReplicasPerHost()
    {
        await using var db = await Fresh.DatabaseAsync();
        await Fresh.CommitAsync(db.Catalog, "a", replicas: [Fresh.Node1, Fresh.Node2], size: 100);
        var b = await Fresh.CommitAsync(db.Catalog, "b", replicas: [Fresh.Node2, Fresh.Node3], size: 10);

        await db.Catalog.SetReplicasAsync(b.Id, [Fresh.Node3, Fresh.Node1]);
        var stats = await db.Catalog.StatsAsync();

        Assert.Equal(2, stats.Images);
        Assert.Equal(110, stats.Bytes);
        Assert.Equal(new HostTotals(2, 110), stats.PerHost["127.0.0.1"]);
        Assert.Equal(new HostTotals(1, 100), stats.PerHost["127.0.0.2"]);
        Assert.Equal(new HostTotals(1, 10), stats.PerHost["127.0.0.3"]);
    }

    [Fact]
    public async Task SetReplicasReplacesTheSetInOrderAndIsFalseForAnUnknownId()
    {
        await using var db = await Fresh.DatabaseAsync();
        var entry = await Fresh.CommitAsync(db.Catalog, "a");

        Assert.True(await db.Catalog.SetReplicasAsync(entry.Id, [Fresh.Node3, Fresh.Node1]));
        Assert.False(await db.Catalog.SetReplicasAsync(entry.Id + 1000, [Fresh.Node3]));

        Assert.Equal<Replica>([Fresh.Node3, Fresh.Node1], (await db.Catalog.FindByIdAsync(entry.Id))!.Replicas);
        Assert.Equal(["127.0.0.3", "127.0.0.1"], (await db.Catalog.DistinctMd5PageAsync(0, 1))[0].Hosts);
        Assert.True(await db.Catalog.SetReplicasAsync(entry.Id, []));
        Assert.Empty((await db.Catalog.FindByIdAsync(entry.Id))!.Replicas);
        Assert.Empty((await db.Catalog.StatsAsync()).PerHost);
    }

    [Fact]
    public async Task ManyReplicaSetsChangeInOneTransactionAndTheHostTotalsMoveByTheirNetDifference()
    {
        await using var db = await Fresh.DatabaseAsync();
        var a = await Fresh.CommitAsync(db.Catalog, "a", replicas: [Fresh.Node1, Fresh.Node2], size: 100);
        var b = await Fresh.CommitAsync(db.Catalog, "b", replicas: [Fresh.Node2, Fresh.Node3], size: 10);
        var c = await Fresh.CommitAsync(db.Catalog, "c", replicas: [Fresh.Node3], size: 1);

        // Node 2 is gone: a moves to 1+3, b to 3+1 (a host loses one image and gains another of another size), c is
        // untouched, and an unknown id changes nothing.
        var found = await db.Catalog.SetReplicasAsync([
            (a.Id, [Fresh.Node1, Fresh.Node3]), (b.Id, [Fresh.Node3, Fresh.Node1]), (c.Id + 1000, [Fresh.Node1])]);

        Assert.Equal(2, found);
        Assert.Equal<Replica>([Fresh.Node1, Fresh.Node3], (await db.Catalog.FindByIdAsync(a.Id))!.Replicas);
        Assert.Equal<Replica>([Fresh.Node3, Fresh.Node1], (await db.Catalog.FindByIdAsync(b.Id))!.Replicas);
        Assert.Equal<Replica>([Fresh.Node3], (await db.Catalog.FindByIdAsync(c.Id))!.Replicas);
        var stats = await db.Catalog.StatsAsync();
        Assert.Equal(new HostTotals(2, 110), stats.PerHost["127.0.0.1"]);
        Assert.False(stats.PerHost.ContainsKey("127.0.0.2"));
        Assert.Equal(new HostTotals(3, 111), stats.PerHost["127.0.0.3"]);
        await Assert.ThrowsAsync<ArgumentException>(() => db.Catalog.SetReplicasAsync([(a.Id, [Fresh.Node1]), (a.Id, [Fresh.Node3])]));
    }

    [Fact]
    public async Task AReplicaChangeReadsUnderTheRowLockSoTwoConcurrentChangesBothLand()
    {
        await using var db = await Fresh.DatabaseAsync();
        var entry = await Fresh.CommitAsync(db.Catalog, "a", replicas: [Fresh.Node1], size: 100);
        using var firstRead = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();

        // Two nodes each record a copy they made: the first holds the entry's row while it decides...
        var first = Task.Run(() => db.Catalog.ChangeReplicasAsync([entry.Id], now =>
        {
            firstRead.Set();
            Assert.True(release.Wait(TimeSpan.FromSeconds(30)));
            return [.. now.Replicas, Fresh.Node2];
        }));
        Assert.True(firstRead.Wait(TimeSpan.FromSeconds(30)));
        IReadOnlyList<Replica>? secondSaw = null;
        var second = Task.Run(() => db.Catalog.ChangeReplicasAsync([entry.Id], now =>
        {
            secondSaw = now.Replicas;
            return [.. now.Replicas, Fresh.Node3];
        }));

        // ...so the second waits for it, and then reads what it wrote: neither copy is lost from the catalog.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.False(second.IsCompleted, "the second change went ahead while the first held the entry's row");
        release.Set();
        Assert.Equal(1, await first);
        Assert.Equal(1, await second);
        Assert.Equal<Replica>([Fresh.Node1, Fresh.Node2], secondSaw!);
        Assert.Equal<Replica>([Fresh.Node1, Fresh.Node2, Fresh.Node3], (await db.Catalog.FindByIdAsync(entry.Id))!.Replicas);
        var stats = await db.Catalog.StatsAsync();
        Assert.Equal(new HostTotals(1, 100), stats.PerHost["127.0.0.2"]);
        Assert.Equal(new HostTotals(1, 100), stats.PerHost["127.0.0.3"]);
    }

    [Fact]
    public async Task AReplicaChangeSkipsUnknownIdsAndEntriesItLeaves()
    {
        await using var db = await Fresh.DatabaseAsync();
        var a = await Fresh.CommitAsync(db.Catalog, "a", replicas: [Fresh.Node1, Fresh.Node2], size: 100);
        var b = await Fresh.CommitAsync(db.Catalog, "b", replicas: [Fresh.Node2], size: 10);

        var changed = await db.Catalog.ChangeReplicasAsync([a.Id, b.Id, b.Id + 1000],
            now => now.Id == a.Id ? now.Replicas.Where(r => r != Fresh.Node2).ToList() : null);

        Assert.Equal(1, changed);
        Assert.Equal<Replica>([Fresh.Node1], (await db.Catalog.FindByIdAsync(a.Id))!.Replicas);
        Assert.Equal<Replica>([Fresh.Node2], (await db.Catalog.FindByIdAsync(b.Id))!.Replicas);
        Assert.Equal(new HostTotals(1, 10), (await db.Catalog.StatsAsync()).PerHost["127.0.0.2"]);
        await Assert.ThrowsAsync<ArgumentException>(() => db.Catalog.ChangeReplicasAsync([a.Id], _ => [Fresh.Node1, Fresh.Node1]));
    }
}
