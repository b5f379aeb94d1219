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

    [Fact]
    public async Task WritesOfOneIdentityCommitInTheOrderTheyWereAccepted()
    {
        // Batches commit side by side (TrackerActor.MaxBatchesInFlight), but an identity's next write waits for its
        // batch in flight: after 20 rounds of REGs of 5 identities, each with a new password and alternating holdings,
        // the database holds each identity's last REG, as the actor does.
        var tracker = await ActorRegistry.GetAsync<TrackerActor>(TestContext.Current.CancellationToken);
        var asks = new List<Task<Reply>>();
        for (var round = 0; round < 20; round++)
            for (var i = 0; i < 5; i++)
                asks.Add(tracker.Ask<Reply>(new Register($"10.3.0.{i}", 30000, $"pw{round}", round % 2 == 0 ? [A] : [A, B]),
                    TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken));
        var replies = await Task.WhenAll(asks);
        Assert.All(replies, r => Assert.Equal(Outcome.Registered, r.Outcome));
        Assert.True(replies.Select(r => r.Change!.Version).Distinct().Count() < 100, "every registration had its own transaction");

        var committed = await Database.Value.Tracker.LoadAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 5; i++)
        {
            var identity = $"10.3.0.{i}:30000";
            var peer = Assert.Single(committed.Peers, p => p.Registration.Identity == identity);
            Assert.Equal([A, B], peer.Registration.Images);
            Assert.True(PasswordHash.Verify(peer.Salt, peer.Hash, "pw19"), $"{identity} does not hold its last password");
            var last = replies[19 * 5 + i]; // the reply to the identity's last REG
            Assert.Equal(last.Change!.Registration!.Sequence, peer.Registration.Sequence);
            Assert.Equal(last.Change.Version, replies.Where(r => r.Change!.Identity == identity).Max(r => r.Change!.Version));
        }
        Assert.Equal(Outcome.Updated, (await AskAsync(new Update("10.3.0.0", 30000, "pw19", [B]))).Outcome);
    }

    [Fact]
    public async Task AFailedCommitIsAnsweredUnavailableAndTheCommittedStateIsServedAgain()
    {
        // A database of its own, broken under a running tracker: every batch in flight and every command pending fails
        // as one; once the database is back the tracker reloads and serves what had committed, and nothing else.
        var (database, Ask) = await OwnTrackerAsync();
        await using var _ = database;
        Assert.Equal(Outcome.Registered, (await Ask(new Register("10.4.0.1", 9000, "pw", [A]))).Outcome);

        await Sql(database, "ALTER TABLE peer_images RENAME TO peer_images_away");
        var failed = await Task.WhenAll(Enumerable.Range(2, 10).Select(i => Ask(new Register($"10.4.0.{i}", 9000, "pw", [B]))));
        Assert.All(failed, r => Assert.Equal(Outcome.Unavailable, r.Outcome));
        await Sql(database, "ALTER TABLE peer_images_away RENAME TO peer_images");

        // Reloading retries every second until the table is back; commands wait for it.
        Assert.Equal(Outcome.WrongPassword, (await Ask(new Update("10.4.0.2", 9000, "pw", [A]))).Outcome);
        Assert.Equal(Outcome.Updated, (await Ask(new Update("10.4.0.1", 9000, "pw", [A, B]))).Outcome);
        var committed = await database.Tracker.LoadAsync(TestContext.Current.CancellationToken);
        var peer = Assert.Single(committed.Peers);
        Assert.Equal("10.4.0.1:9000", peer.Registration.Identity);
        Assert.Equal([A, B], peer.Registration.Images);
    }

    [Fact]
    public async Task AnUpdRepeatingTheCommittedHoldingsIsAnsweredWithoutATransactionButAfterTheIdentitysOwnWrites()
    {
        // A database of its own, broken after X's REG committed: an UPD repeating X's holdings (what a legacy client
        // sends each time it looks at its folder) still answers OK with X's committed state, since nothing is to be
        // written; one that changes them fails, and so does its repeat and the repeat of a REG still pending (Y): each
        // waits for its identity's write and fails with it.
        var (database, Ask) = await OwnTrackerAsync();
        await using var _ = database;
        var registered = await Ask(new Register("10.5.0.1", 9000, "pw", [A, B]));
        var repeated = await Ask(new Update("10.5.0.1", 9000, "pw", [A, B]));
        Assert.Equal((Outcome.Updated, 2), (repeated.Outcome, repeated.Count));
        Assert.Equal(registered.Change!.Version, repeated.Change!.Version);
        Assert.Equal(registered.Change.Registration, repeated.Change.Registration);
        Assert.Equal(registered.Change.Version, (await database.Tracker.LoadAsync(TestContext.Current.CancellationToken)).Version);

        await Sql(database, "ALTER TABLE peer_images RENAME TO peer_images_away");
        var pendingReg = Ask(new Register("10.5.0.2", 9000, "pw", [A]));
        var pendingRepeat = Ask(new Update("10.5.0.2", 9000, "pw", [A]));
        var repeatedAgain = Ask(new Update("10.5.0.1", 9000, "pw", [A, B]));
        var changed = Ask(new Update("10.5.0.1", 9000, "pw", [B]));
        var changedRepeat = Ask(new Update("10.5.0.1", 9000, "pw", [B]));
        Assert.Equal(Outcome.Updated, (await repeatedAgain).Outcome);
        Assert.Equal(registered.Change.Version, (await repeatedAgain).Change!.Version);
        Assert.All(await Task.WhenAll(pendingReg, pendingRepeat, changed, changedRepeat), r => Assert.Equal(Outcome.Unavailable, r.Outcome));
        await Sql(database, "ALTER TABLE peer_images_away RENAME TO peer_images");

        // Reloaded, the tracker holds what committed: X with its first holdings, no Y; a repeat is answered as before.
        Assert.Equal(Outcome.WrongPassword, (await Ask(new Update("10.5.0.2", 9000, "pw", [A]))).Outcome);
        Assert.Equal([A, B], (await Ask(new Update("10.5.0.1", 9000, "pw", [A, B]))).Change!.Registration!.Images);
        var committed = await database.Tracker.LoadAsync(TestContext.Current.CancellationToken);
        Assert.Equal([A, B], Assert.Single(committed.Peers).Registration.Images);
    }

    [Fact]
    public async Task AnUpdWaitingForItsRegCommitsItsHoldingsUnderTheRegsCommittedSequence()
    {
        // A successor that loads a state whose last registration has left (Z) guesses the next sequence lower than the
        // database hands out. X's UPD, accepted while X's REG commits, waits for it; once both have, the UPD's change
        // carries the REG's committed sequence, and the tracker holds the UPD's holdings: going back to the REG's is a
        // change that commits, not a repeat answered from memory.
        var (database, Ask) = await OwnTrackerAsync();
        await using var _ = database;
        Assert.Equal(Outcome.Registered, (await Ask(new Register("10.6.0.9", 9000, "pw", [B]))).Outcome);
        Assert.Equal(Outcome.Finished, (await Ask(new End("10.6.0.9", 9000, "pw"))).Outcome);
        var successor = Sys.ActorOf(TrackerActor.Props(database.Tracker, maxIdentitiesPerIp: 64));
        Task<Reply> AskSuccessor(ICommand command) =>
            successor.Ask<Reply>(command, TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

        var reg = AskSuccessor(new Register("10.6.0.1", 9000, "pw", [A]));
        var upd = AskSuccessor(new Update("10.6.0.1", 9000, "pw", [A, B]));
        var (registered, updated) = (await reg, await upd);
        Assert.Equal(Outcome.Updated, updated.Outcome);
        Assert.True(updated.Change!.Version > registered.Change!.Version, "the UPD did not wait for the REG's batch");
        Assert.Equal(registered.Change.Registration!.Sequence, updated.Change.Registration!.Sequence);
        var back = await AskSuccessor(new Update("10.6.0.1", 9000, "pw", [A]));
        Assert.True(back.Change!.Version > updated.Change.Version, "going back to the REG's holdings was answered from memory");
        var committed = Assert.Single((await database.Tracker.LoadAsync(TestContext.Current.CancellationToken)).Peers);
        Assert.Equal([A], committed.Registration.Images);
        Assert.Equal(registered.Change.Registration.Sequence, committed.Registration.Sequence);
    }

    /// <summary>A tracker on a database of its own (which the test may break), and a way to ask it.</summary>
    private async Task<(CatalogDatabase Database, Func<ICommand, Task<Reply>> Ask)> OwnTrackerAsync()
    {
        var database = await CatalogDatabase.OpenAsync(await PostgresServer.CreateDatabaseAsync(), TestContext.Current.CancellationToken);
        var tracker = Sys.ActorOf(TrackerActor.Props(database.Tracker, maxIdentitiesPerIp: 64));
        return (database, command => tracker.Ask<Reply>(command, TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken));
    }

    private static async Task Sql(CatalogDatabase database, string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }
}
