using System.Text;
using ActorImages.Messages;
using ActorImages.Node.Cluster;
using ActorImages.Node.Tracker;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>The LST order and holders of docs/protocols.md, P3, as the node's view composes them.</summary>
public class LstViewTest
{
    private const int P4 = 13378;
    private static readonly Replica Node1 = TestMembers.Node(1);
    private static readonly Replica Node2 = TestMembers.Node(2);

    private static string Md5(int i) => i.ToString("x32");

    private static CatalogEntry Entry(long id, int md5, string name, params Replica[] replicas) =>
        new(id, Md5(md5), new string('0', 64), 10, "image/jpeg", 1, 1, name, "u", SourceProtocol.P1Tcp,
            DateTimeOffset.UnixEpoch, $"2026-12-02/{name}", replicas);

    private static TrackerProtocol.TrackerChange Registered(long version, string ip, int port, long sequence, params (int Md5, string Name)[] images) =>
        new(version, $"{ip}:{port}", new PeerRegistration(ip, port,
            images.Select(i => new PeerImage(Md5(i.Md5), i.Name)).ToList(), DateTimeOffset.UnixEpoch, sequence));

    private static string[] Items(LstView view) => Encoding.UTF8.GetString(view.First().Span).Split(';');

    private static MembershipSnapshot Up(params Replica[] up) => TestMembers.Up(Node1, up);

    [Fact]
    public void PeersComeFirstMostRecentlyRegisteredFirstThenTheClusterNewestFirst()
    {
        var view = new LstView(P4);
        view.SetMembership(Up(Node1, Node2));
        view.AddImage(Entry(1, 100, "old.jpg", Node1));
        view.AddImage(Entry(2, 101, "new.jpg", Node2));
        view.Apply(Registered(1, "10.0.0.5", 7000, 1, (200, "a.jpg")));
        view.Apply(Registered(2, "10.0.0.6", 7001, 2, (201, "b.jpg")));

        Assert.Equal(
            [$"{Md5(201)},b.jpg,10.0.0.6:7001", $"{Md5(200)},a.jpg,10.0.0.5:7000",
             $"{Md5(101)},new.jpg,127.0.0.2:{P4}", $"{Md5(100)},old.jpg,127.0.0.1:{P4}"],
            Items(view));
    }

    [Fact]
    public void AnImageHeldByTheClusterAndAPeerListsTheNodeFirstAndTheNameRegisteredFirst()
    {
        var view = new LstView(P4);
        view.SetMembership(Up(Node1));
        view.AddImage(Entry(1, 300, "cluster-name.jpg", Node1));
        view.Apply(Registered(1, "10.0.0.5", 7000, 1, (300, "first.jpg")));
        view.Apply(Registered(2, "10.0.0.6", 7001, 2, (300, "second.jpg")));

        Assert.Equal([$"{Md5(300)},first.jpg,127.0.0.1:{P4},10.0.0.5:7000,10.0.0.6:7001"], Items(view));
    }

    [Fact]
    public void HoldersThatAreUpComeFirst()
    {
        var view = new LstView(P4);
        view.SetMembership(Up(Node2));
        view.AddImage(Entry(1, 400, "x.jpg", Node1, Node2));
        Assert.Equal([$"{Md5(400)},x.jpg,127.0.0.2:{P4},127.0.0.1:{P4}"], Items(view));
    }

    /// <summary>docs/protocols.md, P3: "holders that are up come first, a cluster node's P4 endpoint before a legacy
    /// peer, nodes that are down last" — the seed-002 client tries only the first holder.</summary>
    [Fact]
    public void AnImageAPeerAlsoHoldsListsNodesThatAreDownAfterThePeer()
    {
        var view = new LstView(P4);
        view.SetMembership(Up(Node2));
        view.AddImage(Entry(1, 500, "shared.jpg", Node1, Node2));
        view.Apply(Registered(1, "10.0.0.5", 7000, 1, (500, "shared.jpg")));
        Assert.Equal([$"{Md5(500)},shared.jpg,127.0.0.2:{P4},10.0.0.5:7000,127.0.0.1:{P4}"], Items(view));

        // Every node holding it down: the peer first.
        view.SetMembership(Up());
        Assert.Equal([$"{Md5(500)},shared.jpg,10.0.0.5:7000,127.0.0.1:{P4},127.0.0.2:{P4}"], Items(view));
    }

    [Fact]
    public void AnOlderChangeOfAnIdentityNeverUndoesANewerOne()
    {
        var view = new LstView(P4);
        view.Apply(Registered(5, "10.0.0.5", 7000, 3, (500, "new.jpg")));
        view.Apply(Registered(4, "10.0.0.5", 7000, 2, (501, "old.jpg")));
        Assert.Equal([$"{Md5(500)},new.jpg,10.0.0.5:7000"], Items(view));
        view.Apply(new TrackerProtocol.TrackerChange(6, "10.0.0.5:7000", null));
        Assert.Equal("ERR NO_IMAGES_AVAILABLE", Encoding.ASCII.GetString(view.First().Span));
    }

    [Fact]
    public void ManyClusterImagesNeverPushPeerRegistrationsOutOfTheFirstDatagram()
    {
        var view = new LstView(P4);
        view.SetMembership(Up(Node1));
        view.Apply(Registered(1, "10.0.0.5", 7000, 1, (600, "peer.jpg")));
        for (var i = 0; i < 200; i++) view.AddImage(Entry(i + 1, 1000 + i, $"{i:000000}.jpg", Node1));
        var first = view.First();
        Assert.True(first.Length <= 4096);
        Assert.StartsWith($"{Md5(600)},peer.jpg,10.0.0.5:7000;", Encoding.UTF8.GetString(first.Span));
    }

    [Fact]
    public void AnMd5IsListedOnceAtItsNewestEntry()
    {
        var view = new LstView(P4);
        view.AddImage(Entry(1, 700, "a.jpg", Node1));
        view.AddImage(Entry(2, 701, "b.jpg", Node1));
        view.AddImage(Entry(3, 700, "c.jpg", Node1));
        var items = Items(view);
        Assert.Equal(2, items.Length);
        Assert.StartsWith(Md5(700), items[0]);
    }

    [Fact]
    public void AnUpdateThatRepeatsThePeersImagesKeepsTheRenderedListingAndAChangedOneReplacesIt()
    {
        var view = new LstView(P4);
        view.Apply(Registered(1, "10.0.0.5", 7000, 1, (800, "a.jpg"), (801, "b.jpg")));
        var rendered = view.First();
        view.Apply(Registered(2, "10.0.0.5", 7000, 1, (800, "a.jpg"), (801, "b.jpg")));
        Assert.Equal(2, view.Version);
        Assert.True(rendered.Equals(view.First()), "the same datagram, not one composed again");

        view.Apply(Registered(3, "10.0.0.5", 7000, 1, (801, "b.jpg"), (800, "a.jpg")));
        Assert.Equal([$"{Md5(801)},b.jpg,10.0.0.5:7000", $"{Md5(800)},a.jpg,10.0.0.5:7000"], Items(view));
        view.Apply(Registered(4, "10.0.0.5", 7000, 1, (802, "c.jpg")));
        Assert.Equal([$"{Md5(802)},c.jpg,10.0.0.5:7000"], Items(view));
    }

    [Fact]
    public async Task AChangeIsShownByTheNextReadWhileAnotherThreadComposesListings()
    {
        // The P3 gateway applies a write's answer and replies; the client's next LST through the node must list it
        // (docs/protocols.md, P3), while the p3-udp thread composes listings outside the view's lock. A composition
        // from the state before the change must not be kept for the reads after it.
        var view = new LstView(P4);
        view.SetMembership(Up(Node1));
        for (var i = 0; i < LstView.HeadSize; i++) view.AddImage(Entry(i + 1, 5000 + i, $"c{i}.jpg", Node1));
        using var stop = new CancellationTokenSource();
        using var reading = new CountdownEvent(2);
        // Threads of their own: the thread pool is shared with the test classes that run meanwhile.
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
        {
            view.First();
            reading.Signal();
            while (!stop.IsCancellationRequested) view.First();
        }, TaskCreationOptions.LongRunning)).ToList();
        Assert.True(reading.Wait(TimeSpan.FromSeconds(30)), "both readers started");
        var stale = new List<int>();
        for (var k = 1; k <= 3000; k++)
        {
            // Each registration is the newest, so it leads the listing.
            view.Apply(Registered(k, "10.0.0.5", 7000 + k % 7, k, (k, $"p{k}.jpg")));
            // Every read after it, also those that come while a reader that copied the state before it still composes.
            for (var read = 0; read < 4; read++)
            {
                if (!Items(view)[0].StartsWith(Md5(k) + ",", StringComparison.Ordinal))
                {
                    stale.Add(k);
                    break;
                }
                Thread.SpinWait(100);
            }
        }
        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.True(stale.Count == 0,
            $"{stale.Count} of 3000 changes were not shown by a read after them, e.g. {string.Join(", ", stale.Take(5))}");
    }

    [Fact]
    public void AnMd5PushedOutOfTheHeadIsListedAgainWhenANewerEntryArrives()
    {
        var view = new LstView(P4);
        view.AddImage(Entry(1, 900, "first.jpg", Node1));
        // HeadSize newer entries push md5 900 out of the head (the first datagram would not have listed it anyway).
        for (var i = 0; i < LstView.HeadSize; i++) view.AddImage(Entry(i + 2, 2000 + i, $"{i:000000}.jpg", Node1));

        var rendered = view.First();
        view.AddImage(Entry(1, 900, "first.jpg", Node1)); // older than all the full head keeps: nothing changes
        Assert.True(rendered.Equals(view.First()));

        view.AddImage(Entry(LstView.HeadSize + 10, 900, "again.jpg", Node1));
        Assert.StartsWith($"{Md5(900)},again.jpg,", Items(view)[0]);
        Assert.Single(Items(view), item => item.StartsWith(Md5(900)));
    }
}

/// <summary><c>LST &lt;offset&gt;</c> past what the view composes, read from a real catalog (docs/protocols.md, P3: a
/// client that asks again with the number of items received so far walks the whole listing without gaps or
/// repeats).</summary>
public class LstPagesTest
{
    private static readonly Replica Node1 = TestMembers.Node(1);

    [Fact]
    public async Task WalkingThePagesListsEveryMd5OnceWithReuploadsAndPeersAcrossTheHead()
    {
        var ct = CancellationToken.None;
        await using var db = await ActorImages.Catalog.CatalogDatabase.OpenAsync(
            await ActorImages.Testing.PostgresServer.CreateDatabaseUrlAsync(), ct);
        string Md5(int i) => (0x10000 + i).ToString("x32");
        ActorImages.Catalog.NewEntry Entry(int md5, string name) => new(Md5(md5), md5.ToString("x64"), 10, "image/jpeg",
            1, 1, name, "u", SourceProtocol.P1Tcp, DateTimeOffset.UtcNow, $"2026-12-06/{Guid.NewGuid():N}.jpg", [Node1]);
        // 300 images, more than the view's head of 256; then two old ones uploaded again, now the newest entries.
        await db.Catalog.CommitAsync(Enumerable.Range(0, 300).Select(i => Entry(i, $"i{i}.jpg")).ToList(), ct);
        await db.Catalog.CommitAsync([Entry(5, "again5.jpg"), Entry(10, "again10.jpg")], ct);

        var view = new LstView(13378);
        view.SetMembership(TestMembers.Up(Node1, Node1));
        view.ReloadHead(await db.Catalog.NewestAsync(LstView.HeadSize, null, ct));
        // A peer holds one image the head lists, one only the catalog's pages reach, and one of its own.
        view.Apply(new TrackerProtocol.TrackerChange(1, "10.0.0.5:7000", new PeerRegistration("10.0.0.5", 7000,
            [new PeerImage(Md5(299), "p299.jpg"), new PeerImage(Md5(20), "p20.jpg"), new PeerImage(Md5(1000), "own.jpg")],
            DateTimeOffset.UnixEpoch, 1)));

        var walkedItems = new List<ActorImages.Protocols.LstItem>();
        for (var offset = 0; ;)
        {
            Assert.True(ActorImages.Protocols.P3Reply.TryParseListing((await view.PageAsync(offset, db.Catalog, ct)).Span, out var items));
            if (items.Count == 0) break;
            walkedItems.AddRange(items);
            offset += items.Count;
        }
        var walked = walkedItems.Select(i => i.Md5).ToList();
        // The peer's items first, as it registered them; the one the head has is listed there with its node too.
        Assert.Equal([Md5(299), Md5(20), Md5(1000)], walked.Take(3));
        Assert.Equal(["10.0.0.5:7000", "127.0.0.1:13378"], walkedItems[0].Holders.Order());
        // The peer's md5 older than the head is listed once more among the catalog's pages, with the node holding it
        // (the view does not know it); every other md5 exactly once.
        var repeated = walked.GroupBy(m => m).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(repeated.SequenceEqual([Md5(20)]), "listed twice: " + string.Join(", ", repeated));
        Assert.Equal(["127.0.0.1:13378"], walkedItems.Skip(3).Single(i => i.Md5 == Md5(20)).Holders);
        Assert.Equal(Enumerable.Range(0, 300).Append(1000).Append(20).Select(Md5).Order(), walked.Order());
    }
}

/// <summary>Names from P2 and HTTP clients are listed so that the seed-002 client cannot write outside its folder.</summary>
public class LstNameTest
{
    [Theory]
    [InlineData("../../etc/passwd", ".._.._etc_passwd")]
    [InlineData("a\\b.jpg", "a_b.jpg")]
    [InlineData("tab\there.jpg", "tab_here.jpg")]
    [InlineData("plain.jpg", "plain.jpg")]
    public void PathSeparatorsAndControlCharactersBecomeUnderscores(string name, string listed) =>
        Assert.Equal(listed, LstView.SafeName(name));
}
