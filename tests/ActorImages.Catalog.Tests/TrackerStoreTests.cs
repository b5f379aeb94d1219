using ActorImages.Messages;
using ActorImages.Testing;

namespace ActorImages.Catalog.Tests;

public sealed class TrackerStoreTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);
    private static readonly PeerImage Cat = new(Fresh.Md5Of("cat"), "cat.jpg");
    private static readonly PeerImage Dog = new(Fresh.Md5Of("dog"), "dog.png");

    private static TrackerWrite.Register Reg(string ip, int port, string password, params PeerImage[] images)
    {
        var (salt, hash) = PasswordHash.Create(password);
        return new TrackerWrite.Register(ip, port, salt, hash, images, At);
    }

    /// <summary>
    /// The tracker's batch runs on plans made once per pooled connection (CatalogWrites.WriteSettings): made while
    /// peers and peer_images held a few hundred rows, the planner's choice is a hash join over a sequential scan of
    /// each, which the kept plans would repeat for every batch as a tracker grows to thousands of peers. The batch
    /// must reach both tables by their keys instead.
    /// </summary>
    [Fact]
    public async Task TheBatchsPlansReachPeersAndTheirImagesByTheirKeysEvenWhenMadeOnSmallTables()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await using (var seeding = await CatalogDatabase.OpenAsync(connectionString))
        {
            for (var b = 0; b < 6; b++)
                await seeding.Tracker.ApplyAsync(Enumerable.Range(0, 50)
                    .Select(i => (TrackerWrite)new TrackerWrite.Register($"10.0.{b}.{i}", 7000, "salt", "hash", [Cat, Dog], At)).ToList());
        }
        async Task Updates(CatalogDatabase db)
        {
            for (var i = 0; i < 20; i++) await db.Tracker.ApplyAsync([new TrackerWrite.Update($"10.0.1.{i}", 7000, [Dog])]);
        }

        await Fresh.AssertIndexOnlyAsync(connectionString, "peers", operations: 20, Updates);
        await Fresh.AssertIndexOnlyAsync(connectionString, "peer_images", operations: 20, Updates);
    }

    [Fact]
    public async Task AFreshTrackerIsEmptyAtVersionZero()
    {
        await using var db = await Fresh.DatabaseAsync();

        var state = await db.Tracker.LoadAsync();

        Assert.Equal(0, state.Version);
        Assert.Empty(state.Peers);
    }

    [Fact]
    public async Task RegisterIsLoadedBackWithItsHoldingsInOrderAndItsPasswordHash()
    {
        await using var db = await Fresh.DatabaseAsync();

        var commit = await db.Tracker.ApplyAsync([Reg("10.0.0.5", 7000, "p;a,s's", Cat, Dog)]);
        var state = await db.Tracker.LoadAsync();

        Assert.Equal(1, commit.Version);
        Assert.Equal([1L], commit.Sequences);
        var peer = Assert.Single(state.Peers);
        Assert.Equal(("10.0.0.5", 7000, At, 1L), (peer.Registration.Ip, peer.Registration.Port, peer.Registration.RegisteredAt, peer.Registration.Sequence));
        Assert.Equal([Cat, Dog], peer.Registration.Images);
        Assert.True(PasswordHash.Verify(peer.Salt, peer.Hash, "p;a,s's"));
        Assert.False(PasswordHash.Verify(peer.Salt, peer.Hash, "wrong"));
    }

    [Fact]
    public async Task SecondRegFromSameIdentityReplacesTheFirstWithALargerSequence()
    {
        await using var db = await Fresh.DatabaseAsync();
        await db.Tracker.ApplyAsync([Reg("10.0.0.5", 7000, "one", Cat), Reg("10.0.0.6", 7000, "x", Dog)]);

        var commit = await db.Tracker.ApplyAsync([Reg("10.0.0.5", 7000, "two", Dog)]);
        var state = await db.Tracker.LoadAsync();

        Assert.Equal([3L], commit.Sequences);
        Assert.Equal(["10.0.0.6", "10.0.0.5"], state.Peers.Select(p => p.Registration.Ip));
        var replaced = state.Peers[1];
        Assert.Equal([Dog], replaced.Registration.Images);
        Assert.Equal(3, replaced.Registration.Sequence);
        Assert.True(PasswordHash.Verify(replaced.Salt, replaced.Hash, "two"));
    }

    [Fact]
    public async Task UpdateReplacesHoldingsAndRemoveDropsTheIdentity()
    {
        await using var db = await Fresh.DatabaseAsync();
        await db.Tracker.ApplyAsync([Reg("10.0.0.5", 7000, "pw", Cat), Reg("10.0.0.5", 7001, "pw", Cat)]);

        await db.Tracker.ApplyAsync([new TrackerWrite.Update("10.0.0.5", 7000, [Dog, Cat])]);
        var commit = await db.Tracker.ApplyAsync([new TrackerWrite.Remove("10.0.0.5", 7001), new TrackerWrite.Update("10.0.0.9", 1, [Dog])]);
        var state = await db.Tracker.LoadAsync();

        Assert.Equal(3, commit.Version);
        Assert.Equal([null, null], commit.Sequences);
        var peer = Assert.Single(state.Peers);
        Assert.Equal(7000, peer.Registration.Port);
        Assert.Equal([Dog, Cat], peer.Registration.Images);
        Assert.Equal(1, peer.Registration.Sequence);
    }

    [Fact]
    public async Task ABatchAppliesInOrderAndBumpsTheVersionOnce()
    {
        await using var db = await Fresh.DatabaseAsync();

        var commit = await db.Tracker.ApplyAsync(
        [
            Reg("10.0.0.1", 1, "a", Cat),
            Reg("10.0.0.2", 2, "b"),
            new TrackerWrite.Remove("10.0.0.1", 1),
            Reg("10.0.0.1", 1, "c", Dog),
        ]);
        var state = await db.Tracker.LoadAsync();

        Assert.Equal(1, commit.Version);
        Assert.Equal([1L, 2L, null, 3L], commit.Sequences);
        Assert.Equal([2L, 3L], state.Peers.Select(p => p.Registration.Sequence));
        Assert.Empty(state.Peers[0].Registration.Images);
        Assert.Equal([Dog], state.Peers[1].Registration.Images);
    }

    [Fact]
    public async Task WritesOfOneIdentityInOneBatchLeaveItsLastState()
    {
        await using var db = await Fresh.DatabaseAsync();
        await db.Tracker.ApplyAsync([Reg("10.0.0.9", 9, "gone", Cat)]);

        var commit = await db.Tracker.ApplyAsync(
        [
            Reg("10.0.0.1", 1, "a", Cat),
            new TrackerWrite.Update("10.0.0.1", 1, [Dog, Cat]),
            new TrackerWrite.Update("10.0.0.7", 7, [Dog]), // never registered: nothing happens
            new TrackerWrite.Remove("10.0.0.9", 9),
            new TrackerWrite.Update("10.0.0.9", 9, [Dog]), // after its END: nothing happens
            Reg("10.0.0.2", 2, "b", Dog),
            new TrackerWrite.Update("10.0.0.2", 2, []),
        ]);
        var state = await db.Tracker.LoadAsync();

        Assert.Equal([2L, null, null, null, null, 3L, null], commit.Sequences);
        Assert.Equal(["10.0.0.1:1", "10.0.0.2:2"], state.Peers.Select(p => p.Registration.Identity));
        Assert.Equal([2L, 3L], state.Peers.Select(p => p.Registration.Sequence));
        Assert.Equal([Dog, Cat], state.Peers[0].Registration.Images);
        Assert.Empty(state.Peers[1].Registration.Images);
    }

    [Fact]
    public async Task SequencesAreNeverReusedAfterTheNewestPeerLeaves()
    {
        await using var db = await Fresh.DatabaseAsync();
        await db.Tracker.ApplyAsync([Reg("10.0.0.1", 1, "a"), Reg("10.0.0.2", 2, "b")]);
        await db.Tracker.ApplyAsync([new TrackerWrite.Remove("10.0.0.2", 2)]);

        var commit = await db.Tracker.ApplyAsync([Reg("10.0.0.3", 3, "c")]);

        Assert.Equal([3L], commit.Sequences);
        Assert.Equal(3, (await db.Tracker.LoadAsync()).Version);
    }

    [Fact]
    public async Task AnEmptyBatchChangesNothing()
    {
        await using var db = await Fresh.DatabaseAsync();
        await db.Tracker.ApplyAsync([Reg("10.0.0.1", 1, "a")]);

        var commit = await db.Tracker.ApplyAsync([]);

        Assert.Equal(1, commit.Version);
        Assert.Empty(commit.Sequences);
    }

    [Fact]
    public async Task ABatchTheDatabaseRefusesPartWayChangesNothing()
    {
        await using var db = await Fresh.DatabaseAsync();
        await db.Tracker.ApplyAsync([Reg("10.0.0.1", 1, "a", Cat)]);

        // The holdings' insert is the batch's last statement; PostgreSQL refuses a NUL in text there, after the
        // version, the peer rows and the old holdings were already changed in the same implicit transaction.
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.Tracker.ApplyAsync(
            [Reg("10.0.0.2", 2, "b", Dog), new TrackerWrite.Update("10.0.0.1", 1, [new PeerImage(Cat.Md5, "bad\0name")])]));
        var state = await db.Tracker.LoadAsync();

        Assert.Equal(1, state.Version);
        var peer = Assert.Single(state.Peers);
        Assert.Equal(("10.0.0.1", 1L), (peer.Registration.Ip, peer.Registration.Sequence));
        Assert.Equal([Cat], peer.Registration.Images);
        Assert.Equal([2L], (await db.Tracker.ApplyAsync([Reg("10.0.0.2", 2, "b", Dog)])).Sequences);
    }
}
