using System.Diagnostics;
using ActorImages.Catalog;
using ActorImages.Messages;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;

namespace ActorImages.Node.Catalog;

/// <summary>
/// This node's entry to the catalog (docs/design.md, "Registry"): it reserves stored names and commits catalog
/// entries in batches — everything pending goes into one transaction (group commit), so a thousand concurrent
/// uploads cost a handful of commits, not a thousand. After a commit it hands each entry to the local
/// <see cref="ImageFeed"/> before answering (read-your-writes on this node) and publishes <see cref="ImageStored"/>
/// on the cluster-wide <c>images</c> topic (every other node within a second). It is the catalog and nothing else.
/// </summary>
public sealed class RegistryActor : ReceiveActor
{
    /// <summary>Reserve a stored path for an image received at <paramref name="ReceivedAt"/>; answered with
    /// <see cref="PathReserved"/> or a <see cref="Status.Failure"/>.</summary>
    /// <param name="ReceivedAt">Time of receipt (UTC): names the day folder and <c>HHmmss</c>.</param>
    /// <param name="Extension">The detected format's extension, e.g. <c>jpg</c>.</param>
    public sealed record ReservePath(DateTimeOffset ReceivedAt, string Extension) : INoSerializationVerificationNeeded;

    /// <summary>The answer to <see cref="ReservePath"/>.</summary>
    /// <param name="Path">A relative path unique cluster-wide, e.g. <c>2026-12-02/062423-1.jpg</c>.</param>
    public sealed record PathReserved(string Path) : INoSerializationVerificationNeeded;

    /// <summary>Commit one entry; answered with <see cref="Committed"/> once its batch transaction committed, or a
    /// <see cref="Status.Failure"/>.</summary>
    /// <param name="Entry">The entry to commit.</param>
    public sealed record Commit(NewEntry Entry) : INoSerializationVerificationNeeded;

    /// <summary>The answer to <see cref="Commit"/>. Registry messages never leave their node.</summary>
    /// <param name="Entry">The committed entry with its id.</param>
    public sealed record Committed(CatalogEntry Entry) : INoSerializationVerificationNeeded;

    /// <param name="Batch">The requests answered by the first paths.</param>
    /// <param name="Keys">The counter key of every path asked for: the batch's, then the names leased ahead.</param>
    /// <param name="Paths">The reserved paths, in the order of <paramref name="Keys"/>; null on failure.</param>
    /// <param name="Error">Why the reservation failed.</param>
    private sealed record Reserved(IReadOnlyList<(IActorRef ReplyTo, ReservePath Request)> Batch, IReadOnlyList<string> Keys,
        IReadOnlyList<string>? Paths, Exception? Error) : INoSerializationVerificationNeeded;

    /// <summary>Paths of one counter key reserved ahead and not used yet, and how many this node has used.</summary>
    private sealed class Lease
    {
        public Queue<string> Paths { get; } = new();
        public int Used { get; set; }
        public long LastUsedMs { get; set; } = Environment.TickCount64;
    }

    /// <summary>The most names reserved ahead for one key in one round trip.</summary>
    private const int MaxLeaseAhead = 32;

    /// <summary>A key's lease is dropped this long after its last use (its second has passed by then; an import's
    /// past times are done too); its unused names stay unused.</summary>
    private const long LeaseIdleMs = 5_000;
    private sealed record Written(IReadOnlyList<(IActorRef ReplyTo, Commit Request)> Batch, long Started,
        IReadOnlyList<CatalogEntry>? Entries, Exception? Error) : INoSerializationVerificationNeeded;

    /// <summary>The cluster-wide topic of <see cref="ImageStored"/>.</summary>
    public const string ImagesTopic = "images";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CatalogStore _store;
    private readonly ImageFeed _feed;
    private readonly int _batchSize;
    private readonly NodeMetrics _metrics;
    private readonly List<(IActorRef, ReservePath)> _pendingReservations = new();
    private readonly Dictionary<string, Lease> _leases = new(StringComparer.Ordinal);
    private readonly List<(IActorRef, Commit)> _pendingCommits = new();
    private bool _reserving;
    private int _batchesInFlight;

    /// <summary>
    /// Commit batches in flight at once. The next batch is sent while one commits, instead of after its answer came
    /// back to this actor: every batch first locks the catalog's counter row (<c>CatalogWrites</c>), so PostgreSQL runs
    /// the second batch's statements the moment the first commits, ids still growing in commit order, and the gap of a
    /// round trip through Npgsql, the thread pool and this mailbox between two commits goes (as
    /// <see cref="Tracker.TrackerActor.MaxBatchesInFlight"/>). Entries are independent, so their batches may commit in
    /// either order.
    /// </summary>
    public const int MaxBatchesInFlight = 2;

    /// <summary>Creates the registry.</summary>
    /// <param name="store">The PostgreSQL catalog.</param>
    /// <param name="feed">The node-local feed of committed entries.</param>
    /// <param name="batchSize">Most entries per transaction.</param>
    /// <param name="metrics">Records each batch's size and time (<c>actorimages_catalog_batch_seconds</c>).</param>
    public RegistryActor(CatalogStore store, ImageFeed feed, int batchSize, NodeMetrics metrics)
    {
        _store = store;
        _feed = feed;
        _batchSize = batchSize;
        _metrics = metrics;
        Receive<ReservePath>(r =>
        {
            string key;
            try
            {
                key = CatalogStore.BaseName(r.ReceivedAt, r.Extension);
            }
            catch (ArgumentException e)
            {
                Sender.Tell(new Status.Failure(e));
                return;
            }
            if (TryLeased(key, out var path)) Sender.Tell(new PathReserved(path));
            else
            {
                _pendingReservations.Add((Sender, r));
                StartReserving();
            }
        });
        Receive<Commit>(c =>
        {
            try
            {
                // A bad entry is refused alone: in the batch it would fail every other entry with it.
                CatalogStore.Validate(c.Entry);
            }
            catch (ArgumentException e)
            {
                Sender.Tell(new Status.Failure(e));
                return;
            }
            _pendingCommits.Add((Sender, c));
            StartWriting();
        });
        Receive<Reserved>(HandleReserved);
        Receive<Written>(HandleWritten);
    }

    /// <summary>Props of the registry.</summary>
    /// <param name="store">The PostgreSQL catalog.</param>
    /// <param name="feed">The node-local feed.</param>
    /// <param name="batchSize">Most entries per transaction.</param>
    /// <param name="metrics">Records each batch's size and time.</param>
    /// <returns>The props.</returns>
    public static Props Props(CatalogStore store, ImageFeed feed, int batchSize, NodeMetrics metrics) =>
        Akka.Actor.Props.Create(() => new RegistryActor(store, feed, batchSize, metrics));

    /// <summary>
    /// Reserves names for what is pending in one round trip, and names ahead for the same keys (docs/design.md, "The
    /// catalog"): as many again as this node has already used of a key, at most <see cref="MaxLeaseAhead"/>. A camera
    /// sending one image a second never leases ahead, so its names have no gaps; a busy second costs a round trip per
    /// block, not per image, and its unused names are gaps in the <c>-n</c> numbering.
    /// </summary>
    private void StartReserving()
    {
        if (_reserving) return;
        // Requests that arrived while the last round trip ran may now be served from what it leased.
        _pendingReservations.RemoveAll(p =>
        {
            if (!TryLeased(CatalogStore.BaseName(p.Item2.ReceivedAt, p.Item2.Extension), out var path)) return false;
            p.Item1.Tell(new PathReserved(path));
            return true;
        });
        if (_pendingReservations.Count == 0) return;
        _reserving = true;
        var batch = Take(_pendingReservations);
        var requests = batch.Select(b => (b.Item2.ReceivedAt, b.Item2.Extension)).ToList();
        var keys = requests.Select(q => CatalogStore.BaseName(q.ReceivedAt, q.Extension)).ToList();
        foreach (var (key, first) in keys.Zip(requests).GroupBy(k => k.First, StringComparer.Ordinal).Select(g => (g.Key, g.First().Second)))
        {
            var ahead = Math.Min(_leases.TryGetValue(key, out var lease) ? lease.Used : 0, MaxLeaseAhead);
            for (var i = 0; i < ahead; i++)
            {
                requests.Add(first);
                keys.Add(key);
            }
        }
        _store.ReserveNamesAsync(requests).PipeTo(Self,
            success: paths => new Reserved(batch, keys, paths, null),
            failure: e => new Reserved(batch, keys, null, e));
    }

    private void HandleReserved(Reserved r)
    {
        _reserving = false;
        for (var i = 0; i < r.Batch.Count; i++)
        {
            if (r.Paths is { } paths)
            {
                LeaseOf(r.Keys[i]).Used++;
                r.Batch[i].ReplyTo.Tell(new PathReserved(paths[i]));
            }
            else r.Batch[i].ReplyTo.Tell(new Status.Failure(r.Error ?? new InvalidOperationException("no path")));
        }
        if (r.Paths is { } leased)
            for (var i = r.Batch.Count; i < leased.Count; i++) LeaseOf(r.Keys[i]).Paths.Enqueue(leased[i]);
        if (r.Error is not null) _log.Warning("catalog: reserving {0} names failed: {1}", r.Batch.Count, r.Error.Message);
        var now = Environment.TickCount64;
        foreach (var idle in _leases.Where(l => now - l.Value.LastUsedMs > LeaseIdleMs).Select(l => l.Key).ToList())
            _leases.Remove(idle);
        StartReserving();
    }

    private Lease LeaseOf(string key)
    {
        if (!_leases.TryGetValue(key, out var lease)) _leases[key] = lease = new Lease();
        lease.LastUsedMs = Environment.TickCount64;
        return lease;
    }

    /// <summary>Takes a name of <paramref name="key"/> reserved ahead, if one is left.</summary>
    private bool TryLeased(string key, out string path)
    {
        path = "";
        if (!_leases.TryGetValue(key, out var lease) || !lease.Paths.TryDequeue(out var next)) return false;
        lease.Used++;
        lease.LastUsedMs = Environment.TickCount64;
        path = next;
        return true;
    }

    private void StartWriting()
    {
        if (_batchesInFlight >= MaxBatchesInFlight || _pendingCommits.Count == 0) return;
        _batchesInFlight++;
        var batch = Take(_pendingCommits);
        var started = Stopwatch.GetTimestamp();
        _store.CommitAsync(batch.Select(b => b.Item2.Entry).ToList()).PipeTo(Self,
            success: entries => new Written(batch, started, entries, null),
            failure: e => new Written(batch, started, null, e));
    }

    private void HandleWritten(Written w)
    {
        _batchesInFlight--;
        if (w.Entries is { } entries)
        {
            _metrics.CatalogBatch(entries.Count, Stopwatch.GetElapsedTime(w.Started));
            var mediator = DistributedPubSub.Get(Context.System).Mediator;
            for (var i = 0; i < w.Batch.Count; i++)
            {
                _feed.Publish(entries[i]);
                mediator.Tell(new Publish(ImagesTopic, new ImageStored(entries[i])));
                w.Batch[i].ReplyTo.Tell(new Committed(entries[i]));
            }
        }
        else
        {
            _log.Warning("catalog: committing {0} entries failed: {1}", w.Batch.Count, w.Error?.Message);
            foreach (var (replyTo, _) in w.Batch)
                replyTo.Tell(new Status.Failure(w.Error ?? new InvalidOperationException("commit failed")));
        }
        StartWriting();
    }

    private List<(IActorRef, T)> Take<T>(List<(IActorRef, T)> pending)
    {
        var n = Math.Min(_batchSize, pending.Count);
        var batch = pending.GetRange(0, n);
        pending.RemoveRange(0, n);
        return batch;
    }
}

/// <summary>Feeds <see cref="ImageStored"/> events of other nodes from the <c>images</c> topic into this node's
/// <see cref="ImageFeed"/>.</summary>
public sealed class ImageTopicSubscriber : ReceiveActor
{
    /// <summary>Creates the subscriber.</summary>
    /// <param name="feed">The node-local feed.</param>
    public ImageTopicSubscriber(ImageFeed feed)
    {
        Receive<ImageStored>(s => { feed.Publish(s.Entry); });
        Receive<SubscribeAck>(_ => { });
    }

    /// <summary>Props of the subscriber.</summary>
    /// <param name="feed">The node-local feed.</param>
    /// <returns>The props.</returns>
    public static Props Props(ImageFeed feed) => Akka.Actor.Props.Create(() => new ImageTopicSubscriber(feed));

    /// <inheritdoc />
    protected override void PreStart() =>
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(RegistryActor.ImagesTopic, Self));
}
