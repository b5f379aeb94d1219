using System.Threading.Channels;
using ActorImages.Messages;

namespace ActorImages.Node.Catalog;

/// <summary>
/// The node-local stream of committed catalog entries, from this node's Registry (at once, before its caller is
/// answered: read-your-writes, docs/design.md) and from the cluster-wide <c>images</c> topic (other nodes, within a
/// second; pub-sub delivers at most once, so <see cref="FeedCatchUp"/> also reads the newest entries from the catalog
/// every <c>catch-up-interval</c>). Each entry is delivered once per subscriber, whichever way it came first.
/// Subscribers are the LST view, the P2 gateways (NEW_UPLOAD) and the SSE feed.
/// </summary>
public sealed class ImageFeed
{
    private const int RememberedIds = 8192;
    private readonly object _gate = new();
    private readonly HashSet<long> _seen = new();
    private readonly Queue<long> _seenOrder = new();
    private readonly List<Channel<CatalogEntry>> _subscribers = new();
    private readonly List<Action<CatalogEntry>> _handlers = new();
    private readonly TaskCompletionSource _primed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once <see cref="Prime"/> ran: from then on every entry committed after the primed ones is
    /// delivered (by the Registry, the topic or <see cref="FeedCatchUp"/>). A subscriber that loads its initial state
    /// from the catalog after this misses nothing between its load and the feed.</summary>
    public Task Primed => _primed.Task;

    /// <summary>Delivers <paramref name="entry"/> to every subscriber unless it was delivered before.</summary>
    /// <param name="entry">A committed entry.</param>
    /// <returns>Whether the entry was new.</returns>
    public bool Publish(CatalogEntry entry)
    {
        Channel<CatalogEntry>[] channels;
        Action<CatalogEntry>[] handlers;
        lock (_gate)
        {
            if (!RememberLocked(entry.Id)) return false;
            channels = _subscribers.ToArray();
            handlers = _handlers.ToArray();
        }
        foreach (var handler in handlers) handler(entry);
        foreach (var channel in channels) channel.Writer.TryWrite(entry);
        return true;
    }

    /// <summary>Marks entries as delivered without delivering them, then completes <see cref="Primed"/>: what was
    /// committed before the node looked (its subscribers load that from the catalog after <see cref="Primed"/>) is
    /// not announced as new.</summary>
    /// <param name="entries">The newest entries in the catalog.</param>
    public void Prime(IEnumerable<CatalogEntry> entries)
    {
        lock (_gate)
        {
            foreach (var entry in entries) RememberLocked(entry.Id);
        }
        _primed.TrySetResult();
    }

    private bool RememberLocked(long id)
    {
        if (!_seen.Add(id)) return false;
        _seenOrder.Enqueue(id);
        if (_seenOrder.Count > RememberedIds) _seen.Remove(_seenOrder.Dequeue());
        return true;
    }

    /// <summary>Calls <paramref name="handler"/> synchronously for every new entry (keep it quick).</summary>
    /// <param name="handler">The handler.</param>
    public void OnEntry(Action<CatalogEntry> handler)
    {
        lock (_gate) _handlers.Add(handler);
    }

    /// <summary>A bounded subscription for one connection: when the reader falls 256 entries behind, the oldest
    /// are dropped (a live view shows the newest; nothing is lost from the catalog).</summary>
    /// <returns>The channel to read; dispose the subscription to end it.</returns>
    public Subscription Subscribe()
    {
        var channel = Channel.CreateBounded<CatalogEntry>(new BoundedChannelOptions(256)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true,
        });
        lock (_gate) _subscribers.Add(channel);
        return new Subscription(this, channel);
    }

    /// <summary>One subscriber's channel; disposing it unsubscribes.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly ImageFeed _feed;
        private readonly Channel<CatalogEntry> _channel;

        internal Subscription(ImageFeed feed, Channel<CatalogEntry> channel)
        {
            _feed = feed;
            _channel = channel;
        }

        /// <summary>The entries, in delivery order.</summary>
        public ChannelReader<CatalogEntry> Reader => _channel.Reader;

        /// <inheritdoc />
        public void Dispose()
        {
            lock (_feed._gate) _feed._subscribers.Remove(_channel);
            _channel.Writer.TryComplete();
        }
    }
}
