using System.Diagnostics;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace ActorImages.Node.Repair;

/// <summary>
/// Self-repair (docs/design.md, "Membership and failure"): runs a <see cref="ReplicaRepair"/> pass whenever a member
/// is removed (downed or left) or comes Up, and every <c>repair-interval</c>, one pass at a time, and the leave of this node
/// (<see cref="Evacuate"/>). A pass gives way: a new removal cancels the running pass and starts a fresh one over the
/// new membership, and this node's leave cancels it for the evacuation. Nothing is repaired while a full stop is
/// announced (<see cref="StopAnnouncement"/>), nor from a view that is not settled — this node not Up, a member
/// unreachable, no majority — since copying then could drop good replicas of nodes that are only cut off.
/// </summary>
public sealed class RepairActor : ReceiveActor, IWithTimers
{
    /// <summary>Starts a pass now (or right after the running one).</summary>
    public sealed record RunPass
    {
        /// <summary>The message.</summary>
        public static readonly RunPass Instance = new();
    }

    /// <summary>This node leaves: stop repairing, move its copies away, answer <see cref="EvacuationResult"/> (or a
    /// <see cref="Status.Failure"/>).</summary>
    /// <param name="Deadline">Time the moving may take, from when this message arrives (the end of a running pass,
    /// which gives way, comes out of it).</param>
    public sealed record Evacuate(TimeSpan Deadline);

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record PassEnded(RepairPassResult? Result, Exception? Error);

    /// <summary>Time between a member's removal or arrival and the pass: the membership snapshot catches up with the
    /// event (and the arrivals of nodes started together fall into one pass).</summary>
    private static readonly TimeSpan AfterMembershipChange = TimeSpan.FromSeconds(1);

    /// <summary>Retry delay while the view is not settled.</summary>
    private static readonly TimeSpan Unsettled = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(5);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ReplicaRepair _repair;
    private readonly Membership _membership;
    private readonly StopAnnouncement _stop;
    private readonly NodeSettings _settings;
    private readonly HashSet<string> _removed = new();
    private CancellationTokenSource? _pass;
    private bool _passRequested;
    private bool _deferredLogged;
    /// <summary>This node's leave, once asked for: from then on no repair pass starts.</summary>
    private (IActorRef ReplyTo, Evacuate Request, long ReceivedAt)? _evacuation;
    private TimeSpan _retryDelay = FirstRetry;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Creates the actor.</summary>
    /// <param name="repair">The copying.</param>
    /// <param name="membership">The membership view.</param>
    /// <param name="stop">Whether a full stop was announced.</param>
    /// <param name="settings">Node settings (<c>repair-interval</c>).</param>
    public RepairActor(ReplicaRepair repair, Membership membership, StopAnnouncement stop, NodeSettings settings)
    {
        _repair = repair;
        _membership = membership;
        _stop = stop;
        _settings = settings;
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            // This node's own removal, or the others' as a downed node sees them on its way out: nothing to repair.
            var cluster = Akka.Cluster.Cluster.Get(Context.System);
            if (m.Member.Address.Equals(cluster.SelfAddress) || cluster.SelfMember.Status != MemberStatus.Up) return;
            _log.Info("Member {0} removed ({1}); checking replicas", m.Member.Address, m.PreviousStatus);
            _removed.Add(RemoteTls.NodeName(m.Member.Address));
            // A pass over the old membership would miss what the removed node held: it gives way to a fresh one.
            _pass?.Cancel();
            Timers.StartSingleTimer("after-removal", RunPass.Instance, AfterMembershipChange);
        });
        Receive<ClusterEvent.MemberUp>(m =>
        {
            // A member that comes Up is where the images below the factor now get their copies (after growing from
            // one node, every image): repair starts now, not at the next interval's tick. A running pass keeps going
            // (its copies are good, only placed over the old membership) and the new one follows it.
            var cluster = Akka.Cluster.Cluster.Get(Context.System);
            if (cluster.SelfMember.Status != MemberStatus.Up && !m.Member.Address.Equals(cluster.SelfAddress)) return;
            Timers.StartSingleTimer("after-up", RunPass.Instance, AfterMembershipChange);
        });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<RunPass>(_ => Request());
        Receive<Tick>(_ =>
        {
            if (_pass is null) Request();
        });
        Receive<PassEnded>(OnPassEnded);
        Receive<Evacuate>(e =>
        {
            _evacuation = (Sender, e, Stopwatch.GetTimestamp());
            Timers.CancelAll();
            if (_pass is null) StartEvacuation();
            else
            {
                _log.Info("Repair pass gives way to this node's leave");
                _pass.Cancel();
            }
        });
    }

    /// <summary>Props of the actor.</summary>
    /// <param name="repair">The copying.</param>
    /// <param name="membership">The membership view.</param>
    /// <param name="stop">The full-stop announcement.</param>
    /// <param name="settings">Node settings.</param>
    /// <returns>The props.</returns>
    public static Props Props(ReplicaRepair repair, Membership membership, StopAnnouncement stop, NodeSettings settings) =>
        Akka.Actor.Props.Create(() => new RepairActor(repair, membership, stop, settings));

    /// <inheritdoc />
    protected override void PreStart()
    {
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.MemberRemoved), typeof(ClusterEvent.MemberUp));
        if (_settings.RepairInterval > TimeSpan.Zero)
            Timers.StartPeriodicTimer("tick", Tick.Instance, _settings.RepairInterval);
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        _pass?.Cancel();
    }

    private void Request()
    {
        if (_evacuation is not null) return;
        if (_pass is not null)
        {
            _passRequested = true;
            return;
        }
        if (_stop.Stopping)
        {
            _log.Info("The whole cluster is stopping: no repair pass (a restart brings the replica sets back)");
            _removed.Clear();
            return;
        }
        var view = _membership.Current;
        var why = Unsettledness(view);
        if (why is not null)
        {
            if (!_deferredLogged) _log.Info("Repair pass deferred: {0}", why);
            _deferredLogged = true;
            Timers.StartSingleTimer("unsettled", RunPass.Instance, Unsettled);
            return;
        }
        _deferredLogged = false;
        _removed.Clear();
        _pass = new CancellationTokenSource();
        _repair.RunPassAsync(_pass.Token).PipeTo(Self, success: r => new PassEnded(r, null), failure: e => new PassEnded(null, e));
    }

    /// <summary>Why the view cannot be repaired from now, or null when it can.</summary>
    private string? Unsettledness(MembershipSnapshot view)
    {
        if (!view.SelfUp) return "this node is not Up";
        if (!view.HasMajority) return "this node does not see a majority";
        var unreachable = view.Members.Where(m => m.Status != "Removed" && !m.Reachable).Select(m => m.Host).ToList();
        if (unreachable.Count > 0) return "unreachable: " + string.Join(", ", unreachable);
        var lagging = view.Members.Where(m => m.Status != "Removed" && _removed.Contains(m.Address)).Select(m => m.Host).ToList();
        if (lagging.Count > 0) return "the membership view still lists " + string.Join(", ", lagging);
        return null;
    }

    private void OnPassEnded(PassEnded ended)
    {
        _pass?.Dispose();
        _pass = null;
        if (ended.Error is not null) _log.Warning("Repair pass failed: {0}", ended.Error.Message);
        if (_evacuation is not null)
        {
            StartEvacuation();
            return;
        }
        // Failed copies and a failed catalog query are retried soon rather than after a whole interval, backing off
        // (5 s, 10 s, 20 s ... up to the interval) so a copy that keeps failing does not rescan the catalog every few
        // seconds.
        if (ended.Error is not null || ended.Result is { Failed: > 0 })
        {
            Timers.StartSingleTimer("retry", RunPass.Instance, _retryDelay);
            var doubled = _retryDelay * 2;
            _retryDelay = _settings.RepairInterval > TimeSpan.Zero && doubled > _settings.RepairInterval ? _settings.RepairInterval : doubled;
        }
        else if (ended.Result is { Interrupted: false }) _retryDelay = FirstRetry;
        if (_passRequested)
        {
            _passRequested = false;
            Request();
        }
    }

    private void StartEvacuation()
    {
        var (replyTo, request, receivedAt) = _evacuation!.Value;
        // The deadline runs from the request: the wait for a cancelled pass to end comes out of it, so the answer
        // still comes within the leave's phase (GracefulLeave asks with the deadline plus a margin).
        var left = request.Deadline - Stopwatch.GetElapsedTime(receivedAt);
        var deadline = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        _repair.EvacuateAsync(deadline.Token).ContinueWith(t =>
        {
            deadline.Dispose();
            return t.IsCompletedSuccessfully ? (object)t.Result : new Status.Failure(t.Exception?.GetBaseException() ?? new TaskCanceledException());
        }).PipeTo(replyTo);
    }
}
