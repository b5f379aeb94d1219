using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Tracker;
using ActorImages.Testing;
using Akka.Actor;
using Akka.Hosting;
using Xunit;
using static ActorImages.Node.Tracker.TrackerProtocol;

namespace ActorImages.Actors.Tests;

/// <summary>The tracker singleton's rules (docs/protocols.md, P3; docs/design.md, "Tracker") against a real PostgreSQL.</summary>
public sealed class TrackerActorTest : ClusterTestKit
{
    private static readonly Lazy<CatalogDatabase> Database = new(() =>
        CatalogDatabase.OpenAsync(PostgresServer.CreateDatabaseAsync().GetAwaiter().GetResult()).GetAwaiter().GetResult());

    private static readonly PeerImage A = new(new string('a', 32), "a.jpg");
    private static readonly PeerImage B = new(new string('b', 32), "b.jpg");

    protected override void ConfigureActors(AkkaConfigurationBuilder builder) =>
        builder.WithActors((system, registry) =>
            registry.Register<TrackerActor>(system.ActorOf(TrackerActor.Props(Database.Value.Tracker, maxIdentitiesPerIp: 3))));

    private async Task<Reply> AskAsync(ICommand command) =>
        await (await ActorRegistry.GetAsync<TrackerActor>(TestContext.Current.CancellationToken)).Ask<Reply>(command, TimeSpan.FromSeconds(10));

    [Fact]
    public async Task SecondRegFromSameIdentityReplacesTheFirstWhateverItsPassword()
    {
        Assert.Equal(Outcome.Registered, (await AskAsync(new Register("10.1.0.1", 9000, "pw", [A]))).Outcome);
        var second = await AskAsync(new Register("10.1.0.1", 9000, "other", [B]));
        Assert.Equal(Outcome.Registered, second.Outcome);
        Assert.Equal([B], second.Change!.Registration!.Images);
        Assert.Equal(Outcome.WrongPassword, (await AskAsync(new Update("10.1.0.1", 9000, "pw", [A]))).Outcome);
        Assert.Equal(Outcome.Updated, (await AskAsync(new Update("10.1.0.1", 9000, "other", [A, B]))).Outcome);
    }

    [Fact]
    public async Task AnOkIsAnsweredOnlyAfterTheChangeIsInPostgres()
    {
        var reply = await AskAsync(new Register("10.1.0.2", 9001, "pw", [A, B]));
        var committed = await Database.Value.Tracker.LoadAsync(TestContext.Current.CancellationToken);
        var peer = Assert.Single(committed.Peers, p => p.Registration.Identity == "10.1.0.2:9001");
        Assert.Equal([A, B], peer.Registration.Images);
        Assert.True(committed.Version >= reply.Change!.Version);
        Assert.DoesNotContain("pw", peer.Hash);
    }

    [Fact]
    public async Task UpdateAndEndOfAnUnknownIdentityAreRefused()
    {
        Assert.Equal(Outcome.WrongPassword, (await AskAsync(new Update("10.1.0.3", 9002, "pw", [A]))).Outcome);
        Assert.Equal(Outcome.WrongPassword, (await AskAsync(new End("10.1.0.3", 9002, "pw"))).Outcome);
    }

    [Fact]
    public async Task ANewSingletonServesTheCommittedStateAsAHandOverWould()
    {
        await AskAsync(new Register("10.1.0.4", 9003, "secret", [A]));
        var successor = Sys.ActorOf(TrackerActor.Props(Database.Value.Tracker, 3));
        var finished = await successor.Ask<Reply>(new End("10.1.0.4", 9003, "secret"), TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(Outcome.Finished, finished.Outcome);
        Assert.Null(finished.Change!.Registration);
    }

    [Fact]
    public async Task OneSourceIpHoldsAtMostMaxIdentities()
    {
        for (var port = 1; port <= 3; port++)
            Assert.Equal(Outcome.Registered, (await AskAsync(new Register("10.1.0.5", port, "pw", []))).Outcome);
        Assert.Equal(Outcome.TooManyIdentities, (await AskAsync(new Register("10.1.0.5", 4, "pw", []))).Outcome);
        Assert.Equal(Outcome.Registered, (await AskAsync(new Register("10.1.0.5", 2, "pw", [A]))).Outcome);
    }

    [Fact]
    public async Task ConcurrentRegistrationsAreCommittedInBatches()
    {
        var tracker = await ActorRegistry.GetAsync<TrackerActor>(TestContext.Current.CancellationToken);
        var replies = await Task.WhenAll(Enumerable.Range(0, 100).Select(i =>
            tracker.Ask<Reply>(new Register($"10.2.0.{i}", 20000, "pw", [A]), TimeSpan.FromSeconds(20))));
        Assert.All(replies, r => Assert.Equal(Outcome.Registered, r.Outcome));
        Assert.Equal(100, replies.Select(r => r.Change!.Registration!.Sequence).Distinct().Count());
        Assert.True(replies.Select(r => r.Change!.Version).Distinct().Count() < 100, "every registration had its own transaction");
    }
}
