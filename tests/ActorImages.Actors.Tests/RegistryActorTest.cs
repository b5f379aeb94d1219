using ActorImages.Catalog;
using ActorImages.Messages;
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
            registry.Register<RegistryActor>(system.ActorOf(RegistryActor.Props(Database.Value.Catalog, _feed, batchSize: 256))));

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
}
