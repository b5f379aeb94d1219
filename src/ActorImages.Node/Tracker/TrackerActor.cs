using System.Diagnostics;
using ActorImages.Catalog;
using ActorImages.Messages;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using static ActorImages.Node.Tracker.TrackerProtocol;

namespace ActorImages.Node.Tracker;

/// <summary>
/// The IDP2PI tracker of seeds 002/003 as a cluster singleton (docs/design.md, "Actors and services on every node"):
/// the single writer of peer identities, password hashes and holdings. It checks each command against its in-memory
/// state, commits everything pending in one PostgreSQL transaction (group commit), and answers OK only after that
/// commit, so a hand-over or a crash of its node loses no acknowledged registration. An <c>UPD</c> that repeats an
/// identity's committed holdings — what a legacy client sends whenever it looks at its folder again — changes nothing
/// and is answered at once, with the identity's committed state, unless a write of that identity is pending or in
/// flight (then it waits its turn like any other). Up to <see
/// cref="MaxBatchesInFlight"/> batches are in flight at once, and no identity is in two of them: a write of an identity
/// whose batch is in flight waits for it, so each identity's writes commit in the order they were accepted. A failed
/// commit answers <see cref="Outcome.Unavailable"/>, waits for the batches still in flight, and reloads the committed
/// state, so nothing the clients were not told about survives in memory.
/// </summary>
public sealed class TrackerActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    /// <summary>An identity's state in memory. <paramref name="CommittedAt"/> is the tracker version at which its last
    /// write committed (the loaded state's version after a load, 0 before its first commit); with no write of the
    /// identity pending or in flight, the state is the committed one and that is its version.</summary>
    private sealed record Peer(PeerRegistration Registration, string Salt, string Hash, long CommittedAt);
    private sealed record Loaded(TrackerSnapshot State) : INoSerializationVerificationNeeded;
    private sealed record LoadFailed(Exception Error) : INoSerializationVerificationNeeded;
    private sealed record Pending(IActorRef ReplyTo, Reply Reply, TrackerWrite? Write, string Identity, PeerRegistration? After);
    private sealed record Written(IReadOnlyList<Pending> Batch, TrackerCommit? Commit, Exception? Error, long Started)
        : INoSerializationVerificationNeeded;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TrackerStore _store;
    private readonly int _maxIdentitiesPerIp;
    private readonly NodeMetrics? _metrics;
    private readonly Dictionary<string, Peer> _peers = new();
    private readonly List<Pending> _pending = new();
    /// <summary>The identities of the batches in flight.</summary>
    private readonly HashSet<string> _writing = new();
    private int _batchesInFlight;
    private long _sequence;

    /// <summary>
    /// Batches committing at once. The next batch is sent while one commits, instead of after its answer came back
    /// to this actor: every batch first updates the tracker's version row, so PostgreSQL runs the second batch's
    /// statements the moment the first commits (the row lock serializes them; either may take it first, which is
    /// harmless since no identity is in both), and the gap of a round trip through Npgsql, the thread pool and this
    /// mailbox between two commits goes. Two, because a third would only wait for the same row lock. Measured in
    /// alternating runs of the P3 mix (docs/benchmarks.md).
    /// </summary>
    public const int MaxBatchesInFlight = 2;

    /// <inheritdoc />
    public IStash Stash { get; set; } = null!;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Creates the tracker.</summary>
    /// <param name="store">The tracker's PostgreSQL tables.</param>
    /// <param name="maxIdentitiesPerIp">Most identities one source IP may register (docs/design.md, limits).</param>
    /// <param name="metrics">Records each batch's size and time (<c>actorimages_tracker_batch_seconds</c>); none in
    /// tests that run the actor alone.</param>
    public TrackerActor(TrackerStore store, int maxIdentitiesPerIp, NodeMetrics? metrics = null)
    {
        _store = store;
        _maxIdentitiesPerIp = maxIdentitiesPerIp;
        _metrics = metrics;
        Loading();
    }

    /// <summary>Props of the singleton.</summary>
    /// <param name="store">The tracker's PostgreSQL tables.</param>
    /// <param name="maxIdentitiesPerIp">Most identities per source IP.</param>
    /// <param name="metrics">The node's metrics, or none.</param>
    /// <returns>The props.</returns>
    public static Props Props(TrackerStore store, int maxIdentitiesPerIp, NodeMetrics? metrics = null) =>
        Akka.Actor.Props.Create(() => new TrackerActor(store, maxIdentitiesPerIp, metrics));

    private void Loading()
    {
        _store.LoadAsync(CancellationToken.None).PipeTo(Self, success: s => new Loaded(s), failure: e => new LoadFailed(e));
        Receive<Loaded>(l =>
        {
            _peers.Clear();
            foreach (var p in l.State.Peers)
                _peers[p.Registration.Identity] = new Peer(p.Registration, p.Salt, p.Hash, l.State.Version);
            _sequence = _peers.Count == 0 ? 0 : _peers.Values.Max(p => p.Registration.Sequence);
            _log.Info("tracker singleton serving with {0} registrations (version {1})", _peers.Count, l.State.Version);
            Become(Serving);
            Stash.UnstashAll();
        });
        Receive<LoadFailed>(f =>
        {
            _log.Warning("tracker: loading the state failed ({0}); retrying in 1 s", f.Error.Message);
            Timers.StartSingleTimer("retry-load", new RetryLoad(), TimeSpan.FromSeconds(1));
        });
        Receive<RetryLoad>(_ => Become(Loading));
        ReceiveAny(_ => Stash.Stash());
    }

    private sealed record RetryLoad : INoSerializationVerificationNeeded;

    private void Serving()
    {
        Receive<Register>(r =>
        {
            var identity = $"{r.Ip}:{r.Port}";
            if (!_peers.ContainsKey(identity) && _peers.Values.Count(p => p.Registration.Ip == r.Ip) >= _maxIdentitiesPerIp)
            {
                Sender.Tell(new Reply(Outcome.TooManyIdentities, 0, null));
                return;
            }
            var (salt, hash) = PasswordHash.Create(r.Password);
            var registration = new PeerRegistration(r.Ip, r.Port, r.Images, DateTimeOffset.UtcNow, ++_sequence);
            _peers[identity] = new Peer(registration, salt, hash, 0);
            Enqueue(new Pending(Sender, new Reply(Outcome.Registered, r.Images.Count, null),
                new TrackerWrite.Register(r.Ip, r.Port, salt, hash, r.Images, registration.RegisteredAt),
                identity, registration));
        });
        Receive<Update>(u =>
        {
            var identity = $"{u.Ip}:{u.Port}";
            if (!_peers.TryGetValue(identity, out var peer) || !PasswordHash.Verify(peer.Salt, peer.Hash, u.Password))
            {
                Sender.Tell(new Reply(Outcome.WrongPassword, 0, null));
                return;
            }
            if (u.Images.SequenceEqual(peer.Registration.Images) && !_writing.Contains(identity)
                && !_pending.Exists(p => p.Identity == identity))
            {
                // Nothing to commit: the reply carries the committed state, so the asking node's view shows it
                // (docs/design.md, "Actors and services on every node").
                Sender.Tell(new Reply(Outcome.Updated, u.Images.Count,
                    new TrackerChange(peer.CommittedAt, identity, peer.Registration)));
                return;
            }
            var registration = peer.Registration with { Images = u.Images };
            _peers[identity] = peer with { Registration = registration };
            Enqueue(new Pending(Sender, new Reply(Outcome.Updated, u.Images.Count, null),
                new TrackerWrite.Update(u.Ip, u.Port, u.Images), identity, registration));
        });
        Receive<End>(e =>
        {
            var identity = $"{e.Ip}:{e.Port}";
            if (!_peers.TryGetValue(identity, out var peer) || !PasswordHash.Verify(peer.Salt, peer.Hash, e.Password))
            {
                Sender.Tell(new Reply(Outcome.WrongPassword, 0, null));
                return;
            }
            _peers.Remove(identity);
            Enqueue(new Pending(Sender, new Reply(Outcome.Finished, 0, null), new TrackerWrite.Remove(e.Ip, e.Port),
                identity, null));
        });
        Receive<Written>(HandleWritten);
    }

    private void Enqueue(Pending pending)
    {
        _pending.Add(pending);
        Flush();
    }

    private void Flush()
    {
        if (_batchesInFlight >= MaxBatchesInFlight || _pending.Count == 0) return;
        // Every write of an identity whose batch is in flight stays pending, in order; the others go now.
        var batch = new List<Pending>(_pending.Count);
        var waiting = new List<Pending>();
        foreach (var p in _pending) (_writing.Contains(p.Identity) ? waiting : batch).Add(p);
        if (batch.Count == 0) return;
        _pending.Clear();
        _pending.AddRange(waiting);
        foreach (var p in batch) _writing.Add(p.Identity);
        _batchesInFlight++;
        var started = Stopwatch.GetTimestamp();
        _store.ApplyAsync(batch.Select(p => p.Write!).ToList(), CancellationToken.None).PipeTo(Self,
            success: c => new Written(batch, c, null, started), failure: e => new Written(batch, null, e, started));
    }

    /// <summary>A batch's answer came back: its identities may be written again.</summary>
    private void Landed(Written w)
    {
        _batchesInFlight--;
        foreach (var p in w.Batch) _writing.Remove(p.Identity);
    }

    /// <summary>After a failed commit: answers the batches still in flight as they land, then reloads the committed
    /// state. Commands wait in the stash, since the in-memory state may hold changes that never committed.</summary>
    private void Draining()
    {
        Receive<Written>(w =>
        {
            Landed(w);
            if (w.Error is null) Answer(w);
            else foreach (var p in w.Batch) p.ReplyTo.Tell(new Reply(Outcome.Unavailable, 0, null));
            if (_batchesInFlight == 0) Become(Loading);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void HandleWritten(Written w)
    {
        Landed(w);
        if (w.Error is not null)
        {
            _log.Warning("tracker: committing {0} changes failed ({1}); answering unavailable and reloading", w.Batch.Count, w.Error.Message);
            foreach (var p in w.Batch.Concat(_pending)) p.ReplyTo.Tell(new Reply(Outcome.Unavailable, 0, null));
            _pending.Clear();
            Become(_batchesInFlight == 0 ? Loading : Draining);
            return;
        }
        Answer(w);
        Flush();
    }

    /// <summary>Takes the committed sequences into memory, publishes each change and answers each command.</summary>
    private void Answer(Written w)
    {
        _metrics?.TrackerBatch(w.Batch.Count, Stopwatch.GetElapsedTime(w.Started));
        var mediator = DistributedPubSub.Get(Context.System).Mediator;
        for (var i = 0; i < w.Batch.Count; i++)
        {
            var p = w.Batch[i];
            var after = p.After;
            // The database hands out registration sequences: the in-memory state of the identity takes the committed
            // one and this batch's version, and keeps its holdings, which may already be those of a later UPD waiting
            // for this batch; that UPD, accepted before this answer, commits with the sequence it had then and takes
            // the committed one here too.
            var held = after is not null && _peers.TryGetValue(p.Identity, out var peer)
                && peer.Registration.RegisteredAt == after.RegisteredAt ? peer : null;
            if (after is not null && w.Commit!.Sequences[i] is { } sequence)
            {
                after = after with { Sequence = sequence };
                _sequence = Math.Max(_sequence, sequence);
            }
            else if (held is not null)
            {
                after = after! with { Sequence = held.Registration.Sequence };
            }
            if (held is not null)
            {
                _peers[p.Identity] = held with
                {
                    Registration = held.Registration with { Sequence = after!.Sequence },
                    CommittedAt = w.Commit!.Version,
                };
            }
            var change = new TrackerChange(w.Commit!.Version, p.Identity, after);
            mediator.Tell(new Publish(Topic, change));
            p.ReplyTo.Tell(p.Reply with { Change = change });
        }
    }
}
