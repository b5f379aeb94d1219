using ActorImages.Catalog;
using ActorImages.Node.Config;

namespace ActorImages.Node.Catalog;

/// <summary>
/// Keeps the promise "every other node within one second" (docs/design.md, read-your-writes) when pub-sub does not:
/// Distributed Pub-Sub delivers at most once, and a publish reaches only the subscribers its node's registry has
/// heard of by gossip, so an image committed on one node just after another joined is not announced to it. Every
/// <c>catch-up-interval</c> this reads the entries committed since its last read (at most <see cref="Window"/>, one
/// index range scan, no rows when nothing is new) and publishes them into the <see cref="ImageFeed"/>, which drops
/// those already delivered. The first read only marks what is there as delivered and completes
/// <see cref="ImageFeed.Primed"/>: subscribers load what was there from the catalog after that, and a P2 client must
/// not be told of old uploads as new.
/// </summary>
public sealed class FeedCatchUp : BackgroundService
{
    /// <summary>Entries read per pass: more than the cluster commits within one interval under any load measured
    /// (bin/bench), and small enough to cost a millisecond.</summary>
    public const int Window = 256;

    private readonly ImageFeed _feed;
    private readonly CatalogStore _catalog;
    private readonly TimeSpan _interval;
    private readonly ILogger<FeedCatchUp> _log;

    /// <summary>Creates the service.</summary>
    /// <param name="feed">The node-local feed to complete.</param>
    /// <param name="catalog">The catalog.</param>
    /// <param name="settings">Node settings (<c>catch-up-interval</c>).</param>
    /// <param name="log">Logger.</param>
    public FeedCatchUp(ImageFeed feed, CatalogStore catalog, NodeSettings settings, ILogger<FeedCatchUp> log)
    {
        _feed = feed;
        _catalog = catalog;
        _interval = settings.CatchUpInterval;
        _log = log;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long? seen = null; // the largest id read so far; null until the first read primed the feed
        var failing = false;
        using var timer = new PeriodicTimer(_interval);
        do
        {
            try
            {
                if (seen is not { } after)
                {
                    var newest = await _catalog.NewestAsync(Window, null, stoppingToken);
                    _feed.Prime(newest);
                    seen = newest.Count > 0 ? newest[0].Id : 0;
                }
                else
                {
                    // Only what is newer than the last read: an idle node reads no rows.
                    var newer = await _catalog.NewerThanAsync(after, Window, stoppingToken);
                    for (var i = newer.Count - 1; i >= 0; i--) _feed.Publish(newer[i]);
                    if (newer.Count > 0) seen = newer[0].Id;
                }
                failing = false;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Once per outage: the database being down is reported by the writes it refuses.
                if (!failing) _log.LogWarning("feed catch-up: reading the newest entries failed: {Error}", e.Message);
                failing = true;
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
