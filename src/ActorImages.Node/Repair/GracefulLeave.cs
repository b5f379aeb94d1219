using ActorImages.Node.Cluster;
using Akka;
using Akka.Actor;

namespace ActorImages.Node.Repair;

/// <summary>
/// What a node does on its way out after SIGTERM or a leave (docs/design.md, "Membership and failure"): a
/// CoordinatedShutdown task in <c>before-cluster-shutdown</c> — before the node leaves the cluster, so it is still Up,
/// no other node repairs its images meanwhile, and the tracker singleton hands over only afterwards — asks the
/// <see cref="RepairActor"/> to copy every image this node holds to the node that takes its place, within the phase's
/// timeout. From then on the uploads this node still takes are placed on the other members (<see cref="LeaveState"/>).
/// A node that was downed skips it (the others already treat it as gone and repair from their copies), and so does
/// every node while a full stop is announced (the replica sets must come back as they were).
/// </summary>
public static class GracefulLeave
{
    /// <summary>Time kept back from the phase timeout for answering and logging.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(3);

    private static readonly Serilog.ILogger Log = Serilog.Log.ForContext(typeof(GracefulLeave));

    /// <summary>Adds the task to the actor system's CoordinatedShutdown.</summary>
    /// <param name="system">The actor system.</param>
    /// <param name="repair">This node's <see cref="RepairActor"/>.</param>
    /// <param name="stop">The full-stop announcement.</param>
    /// <param name="leave">Marked as the leave begins, before the evacuation reads its first page.</param>
    public static void Register(ActorSystem system, IActorRef repair, StopAnnouncement stop, LeaveState leave)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        var phase = CoordinatedShutdown.PhaseBeforeClusterShutdown;
        var budget = shutdown.Timeout(phase) - Margin;
        if (budget < TimeSpan.FromSeconds(1)) budget = TimeSpan.FromSeconds(1);
        shutdown.AddTask(phase, "move-replicas-away", async () =>
        {
            if (shutdown.ShutdownReason is CoordinatedShutdown.ClusterDowningReason)
            {
                Log.Information("Downed: this node's images stay where they are; the other nodes repair their replicas");
                return Done.Instance;
            }
            if (stop.Stopping)
            {
                Log.Information("Leaving with the whole cluster: replicas stay where they are");
                return Done.Instance;
            }
            leave.Begin();
            using var hold = ExitWatchdog.Hold("moving this node's images to the remaining nodes");
            try
            {
                var result = await repair.Ask<EvacuationResult>(new RepairActor.Evacuate(budget), budget + Margin);
                Log.Information("Moved {Moved} images of {Held} to the remaining nodes ({Copies} copies, {Failed} failed) in {Ms} ms{Cut}",
                    result.Moved, result.Held, result.Copies, result.Failed, (long)result.Elapsed.TotalMilliseconds,
                    result.Complete ? "" : $"; the {budget.TotalSeconds:0} s budget ran out, the other nodes repair the rest");
            }
            catch (Exception e)
            {
                Log.Warning("Moving images away did not finish: {Error}; the other nodes repair the rest", e.Message);
            }
            return Done.Instance;
        });
    }
}
