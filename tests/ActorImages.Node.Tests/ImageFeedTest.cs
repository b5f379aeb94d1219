using ActorImages.Messages;
using ActorImages.Node.Catalog;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>The node-local feed (docs/design.md, read-your-writes): each entry once per subscriber, and priming marks
/// what the catalog already held so that a subscriber loading after <see cref="ImageFeed.Primed"/> misses nothing and
/// is told nothing old as new.</summary>
public class ImageFeedTest
{
    private static CatalogEntry Entry(long id) =>
        new(id, id.ToString("x32"), new string('0', 64), 10, "image/jpeg", 1, 1, $"{id}.jpg", "u", SourceProtocol.P1Tcp,
            DateTimeOffset.UnixEpoch, $"2026-12-02/{id}.jpg", []);

    [Fact]
    public void PrimingMarksTheNewestAsDeliveredAndCompletesPrimed()
    {
        var feed = new ImageFeed();
        var delivered = new List<long>();
        feed.OnEntry(e => delivered.Add(e.Id));
        Assert.False(feed.Primed.IsCompleted);

        feed.Prime([Entry(1), Entry(2)]);

        Assert.True(feed.Primed.IsCompletedSuccessfully);
        Assert.False(feed.Publish(Entry(2)));
        Assert.True(feed.Publish(Entry(3)));
        Assert.False(feed.Publish(Entry(3)));
        Assert.Equal([3L], delivered);
    }

    [Fact]
    public async Task EverySubscriptionGetsEachNewEntryOnceInDeliveryOrder()
    {
        var feed = new ImageFeed();
        using var a = feed.Subscribe();
        using var b = feed.Subscribe();
        foreach (var id in new long[] { 5, 4, 5, 6 }) feed.Publish(Entry(id));

        foreach (var subscription in new[] { a, b })
        {
            var ids = new List<long>();
            while (subscription.Reader.TryRead(out var e)) ids.Add(e.Id);
            Assert.Equal([5L, 4L, 6L], ids);
        }

        a.Dispose();
        Assert.True(await a.Reader.Completion.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(t => t.IsCompletedSuccessfully));
    }
}
