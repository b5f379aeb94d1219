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
/// commit, so a hand-over or a crash of its node loses no acknowledged registration. A failed commit answers <see
/// cref="Outcome.Unavailable"/> and reloads the committed state, so nothing the clients were not told about survives in
/// memory.
/// </summary>
public sealed class TrackerActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    private sealed record Peer(PeerRegistration Registration, string Salt, string Hash);
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
    private long _sequence;
    private bool _writing;

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
                _peers[p.Registration.Identity] = new Peer(p.Registration, p.Salt, p.Hash);
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
            _peers[identity] = new Peer(registration, salt, hash);
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
        if (_writing || _pending.Count == 0) return;
        _writing = true;
        var batch = _pending.ToList();
        _pending.Clear();
        var started = Stopwatch.GetTimestamp();
        _store.ApplyAsync(batch.Select(p => p.Write!).ToList(), CancellationToken.None).PipeTo(Self,
            success: c => new Written(batch, c, null, started), failure: e => new Written(batch, null, e, started));
    }

    private void HandleWritten(Written w)
    {
        _writing = false;
        if (w.Error is not null)
        {
            _log.Warning("tracker: committing {0} changes failed ({1}); answering unavailable and reloading", w.Batch.Count, w.Error.Message);
            foreach (var p in w.Batch.Concat(_pending)) p.ReplyTo.Tell(new Reply(Outcome.Unavailable, 0, null));
            _pending.Clear();
            Become(Loading);
            return;
        }
        _metrics?.TrackerBatch(w.Batch.Count, Stopwatch.GetElapsedTime(w.Started));
        var mediator = DistributedPubSub.Get(Context.System).Mediator;
        for (var i = 0; i < w.Batch.Count; i++)
        {
            var p = w.Batch[i];
            var after = p.After;
            // The database hands out registration sequences; the in-memory copy takes the committed one.
            if (after is not null && w.Commit!.Sequences[i] is { } sequence)
            {
                after = after with { Sequence = sequence };
                if (_peers.TryGetValue(p.Identity, out var peer) && peer.Registration.RegisteredAt == after.RegisteredAt)
                    _peers[p.Identity] = peer with { Registration = after };
                _sequence = Math.Max(_sequence, sequence);
            }
            var change = new TrackerChange(w.Commit!.Version, p.Identity, after);
            mediator.Tell(new Publish(Topic, change));
            p.ReplyTo.Tell(p.Reply with { Change = change });
        }
        Flush();
    }
}
