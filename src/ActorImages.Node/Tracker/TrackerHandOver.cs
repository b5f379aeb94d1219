using ActorImages.Node.Cluster;
using Akka;
using Akka.Actor;

namespace ActorImages.Node.Tracker;

/// <summary>
/// Lets the node that runs the tracker singleton exit at once when no other member is left to take the singleton
/// over (docs/design.md, "Membership and failure"): every node stopped together (<c>bin/cluster down</c>,
/// <c>docker compose down</c>, a test cluster's end).
/// </summary>
/// <remarks>
/// Akka.NET's <c>ClusterSingletonManager</c> on a leaving oldest node offers the singleton to the next oldest and,
/// once this node is Exiting, ignores that member's removal: it retries the offer
/// <c>min-number-of-hand-over-retries</c> − 3 times at <c>hand-over-retry-interval</c> (12 × 500 ms here) before it
/// gives up. When all nodes stop at once the next oldest is leaving too and never takes the offer, so the tracker's
/// node spent 6 s of every full stop waiting for nobody (measured: 6.8 s from SIGTERM to the exit of a 2-node
/// cluster's oldest node, 1.7 s for the other). A CoordinatedShutdown task in <c>cluster-exiting</c>, the phase in
/// which the manager waits, watches the singleton: it ends when the singleton stops (a hand-over done), and when no
/// other member is Up and reachable any more it stops the manager, whose stop ends the singleton and that wait. A hand-over to a
/// member that stays (a rolling restart, one node stopped) is left to the manager, as are a downed node's exit and a
/// node that does not run the singleton.
/// </remarks>
public static class TrackerHandOver
{
    /// <summary>The singleton's name, which Akka.Hosting's <c>WithSingleton</c> (NodeHost) gives its manager, a top-level
    /// actor, and the singleton, the manager's child.</summary>
    public const string SingletonName = "tracker";

    private const string ManagerPath = "/user/" + SingletonName;

    private static readonly Serilog.ILogger Log = Serilog.Log.ForContext(typeof(TrackerHandOver));

    /// <summary>Adds the task to the actor system's CoordinatedShutdown.</summary>
    /// <param name="system">The actor system.</param>
    /// <param name="membership">This node's view of the cluster (<see cref="Membership"/>).</param>
    public static void Register(ActorSystem system, Membership membership)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        var phase = CoordinatedShutdown.PhaseClusterExiting;
        var timeout = shutdown.Timeout(phase);
        shutdown.AddTask(phase, "stop-tracker-without-successor", async () =>
        {
            if (shutdown.ShutdownReason is CoordinatedShutdown.ClusterDowningReason) return Done.Instance;
            var singleton = await RunningSingletonAsync(system);
            if (singleton is null) return Done.Instance;
            using var cancel = new CancellationTokenSource(timeout);
            var terminated = singleton.WatchAsync(cancel.Token);
            var noSuccessor = WhenNoOtherMemberIsUpAsync(membership, cancel.Token);
            if (await Task.WhenAny(terminated, noSuccessor) == noSuccessor && await noSuccessor)
            {
                Log.Information("No other member is Up to take the tracker over: stopping it here instead of offering it");
                system.ActorSelection(ManagerPath).Tell(PoisonPill.Instance);
                await terminated;
            }
            return Done.Instance;
        });
    }

    /// <summary>The tracker singleton if it runs on this node, else null (it runs elsewhere or was handed over).</summary>
    private static async Task<IActorRef?> RunningSingletonAsync(ActorSystem system)
    {
        try
        {
            var identity = await system.ActorSelection(ManagerPath + "/" + SingletonName)
                .Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(2));
            return identity.Subject;
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }

    /// <summary>Completes with true once <paramref name="membership"/> shows no other member Up and reachable
    /// (<see cref="MembershipSnapshot.UpReachable"/>: the only ones that could answer Akka's offer of the singleton), with
    /// false when <paramref name="cancel"/> fires first.</summary>
    private static async Task<bool> WhenNoOtherMemberIsUpAsync(Membership membership, CancellationToken cancel)
    {
        var none = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check(MembershipSnapshot view)
        {
            if (view.UpReachable.All(m => m.Address == view.Self)) none.TrySetResult(true);
        }
        membership.Changed += Check;
        try
        {
            await using var registration = cancel.Register(() => none.TrySetResult(false));
            Check(membership.Current);
            return await none.Task;
        }
        finally
        {
            membership.Changed -= Check;
        }
    }
}
