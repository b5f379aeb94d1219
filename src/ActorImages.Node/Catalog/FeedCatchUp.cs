using ActorImages.Catalog;
using ActorImages.Node.Config;

namespace ActorImages.Node.Catalog;

/// <summary>
/// Keeps the promise "every other node within one second" (docs/design.md, read-your-writes) when pub-sub does not:
/// Distributed Pub-Sub delivers at most once, and a publish reaches only the subscribers its node's registry has
/// heard of by gossip, so an image committed on one node just after another joined is not announced to it. Every
/// <c>catch-up-interval</c> this reads the newest <see cref="Window"/> entries (one index range scan) and publishes
/// them into the <see cref="ImageFeed"/>, which drops those already delivered. The first read only marks what is
/// there as delivered and completes <see cref="ImageFeed.Primed"/>: subscribers load what was there from the catalog
/// after that, and a P2 client must not be told of old uploads as new.
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
        var primed = false;
        var failing = false;
        using var timer = new PeriodicTimer(_interval);
        do
        {
            try
            {
                var newest = await _catalog.NewestAsync(Window, null, stoppingToken);
                if (!primed) _feed.Prime(newest);
                else
                    for (var i = newest.Count - 1; i >= 0; i--) _feed.Publish(newest[i]);
                primed = true;
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
