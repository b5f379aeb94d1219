using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node;
using ActorImages.Node.Catalog;
using ActorImages.Testing;
using Akka.Actor;
using Akka.Hosting;
using Xunit;

namespace ActorImages.Actors.Tests;

/// <summary>The Registry's batching and read-your-writes (docs/design.md, "The path of one image").</summary>
public sealed class RegistryActorTest : ClusterTestKit
{
    private static readonly Lazy<CatalogDatabase> Database = new(() =>
        CatalogDatabase.OpenAsync(PostgresServer.CreateDatabaseAsync().GetAwaiter().GetResult()).GetAwaiter().GetResult());

    private readonly ImageFeed _feed = new();

    protected override void ConfigureActors(AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, registry) =>
            registry.Register<RegistryActor>(system.ActorOf(RegistryActor.Props(Database.Value.Catalog, _feed, batchSize: 256, new NodeMetrics()))));

    [Fact]
    public async Task ConcurrentReservationsOfOneSecondGetDistinctNames()
    {
        var registry = await ActorRegistry.GetAsync<RegistryActor>(TestContext.Current.CancellationToken);
        var at = new DateTimeOffset(2026, 12, 2, 6, 24, 23, TimeSpan.Zero);
        var paths = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ =>
            registry.Ask<RegistryActor.PathReserved>(new RegistryActor.ReservePath(at, "jpg"), TimeSpan.FromSeconds(10))));
        Assert.Equal(40, paths.Select(p => p.Path).Distinct().Count());
        Assert.Contains(paths, p => p.Path == "2026-12-02/062423.jpg");
        Assert.Contains(paths, p => p.Path == "2026-12-02/062423-39.jpg");
    }

    [Fact]
    public async Task ABusySecondLeasesNamesAheadAndACameraOnceASecondLeavesNoGaps()
    {
        var registry = await ActorRegistry.GetAsync<RegistryActor>(TestContext.Current.CancellationToken);
        Task<RegistryActor.PathReserved> Reserve(DateTimeOffset at) =>
            registry.Ask<RegistryActor.PathReserved>(new RegistryActor.ReservePath(at, "png"), TimeSpan.FromSeconds(10));

        // One image a second: each second's first name, nothing reserved ahead.
        var first = new DateTimeOffset(2026, 12, 2, 7, 0, 1, TimeSpan.Zero);
        Assert.Equal("2026-12-02/070001.png", (await Reserve(first)).Path);
        Assert.Equal("2026-12-02/070002.png", (await Reserve(first.AddSeconds(1))).Path);
        Assert.Equal(1, await UsedAsync("2026-12-02/070001.png"));
        Assert.Equal(1, await UsedAsync("2026-12-02/070002.png"));

        // A hundred images in one second, one after the other: distinct names, in order, from blocks reserved ahead;
        // the names never used are fewer than one block.
        var busy = new DateTimeOffset(2026, 12, 2, 7, 0, 3, TimeSpan.Zero);
        var paths = new List<string>();
        for (var i = 0; i < 100; i++) paths.Add((await Reserve(busy)).Path);
        Assert.Equal(100, paths.Distinct().Count());
        Assert.Equal("2026-12-02/070003.png", paths[0]);
        Assert.Equal(Enumerable.Range(1, 99).Select(n => $"2026-12-02/070003-{n}.png"), paths.Skip(1));
        var used = await UsedAsync("2026-12-02/070003.png");
        Assert.InRange(used, 101, 100 + 32);
    }

    /// <summary>How many names of a base the catalog has handed out (reserved, used or not).</summary>
    private static async Task<long> UsedAsync(string baseName)
    {
        await using var command = Database.Value.DataSource.CreateCommand("SELECT used FROM name_counters WHERE base = $1");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = baseName });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task EveryCommitIsAnsweredWithItsOwnEntryAndIsInTheFeedFirst()
    {
        var registry = await ActorRegistry.GetAsync<RegistryActor>(TestContext.Current.CancellationToken);
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<long, CatalogEntry>();
        _feed.OnEntry(e => seen[e.Id] = e);
        var replica = new Replica("akka.tcp://ActorImages@127.0.0.1:25520", "127.0.0.1");
        var commits = Enumerable.Range(0, 50).Select(async i =>
        {
            var md5 = i.ToString("x32");
            var entry = new NewEntry(md5, i.ToString("x64"), 100 + i, "image/jpeg", 1, 1, $"f{i}.jpg", "u",
                SourceProtocol.Http, DateTimeOffset.UtcNow, $"2026-12-02/batch-{Guid.NewGuid():N}.jpg", [replica]);
            var committed = await registry.Ask<RegistryActor.Committed>(new RegistryActor.Commit(entry), TimeSpan.FromSeconds(10));
            Assert.True(seen.ContainsKey(committed.Entry.Id), "answered before the local feed had the entry");
            return (md5, committed.Entry);
        }).ToList();
        var results = await Task.WhenAll(commits);
        Assert.All(results, r => Assert.Equal(r.md5, r.Entry.Md5));
        Assert.Equal(50, results.Select(r => r.Entry.Id).Distinct().Count());
    }

    /// <summary>PostgreSQL's text holds no NUL, and a P2 or HTTP client may put one in a name: such an entry is refused
    /// alone, and the entries batched with it commit (docs/protocols.md, P2).</summary>
    [Fact]
    public async Task AnEntryTheCatalogCannotStoreIsRefusedAloneNotWithItsBatch()
    {
        var registry = await ActorRegistry.GetAsync<RegistryActor>(TestContext.Current.CancellationToken);
        var replica = new Replica("akka.tcp://ActorImages@127.0.0.1:25520", "127.0.0.1");
        NewEntry Entry(int i, string filename, string uploader) => new((1000 + i).ToString("x32"), i.ToString("x64"), 100 + i,
            "image/jpeg", 1, 1, filename, uploader, SourceProtocol.P2WebSocket, DateTimeOffset.UtcNow,
            $"2026-12-02/nul-{Guid.NewGuid():N}.jpg", [replica]);
        Task<RegistryActor.Committed> Commit(NewEntry entry) =>
            registry.Ask<RegistryActor.Committed>(new RegistryActor.Commit(entry), TimeSpan.FromSeconds(10));

        // Sent together, so that without the check they would share a batch transaction.
        var good = Enumerable.Range(0, 20).Select(i => Commit(Entry(i, $"good{i}.jpg", "u"))).ToList();
        var badName = Commit(Entry(20, "a\0.jpg", "u"));
        var badUser = Commit(Entry(21, "b.jpg", "\0"));
        Assert.Equal(20, (await Task.WhenAll(good)).Select(c => c.Entry.Id).Distinct().Count());
        Assert.Contains("NUL", (await Assert.ThrowsAsync<ArgumentException>(() => badName)).Message);
        await Assert.ThrowsAsync<ArgumentException>(() => badUser);
    }
}
