namespace ActorImages.Node.Cluster;

/// <summary>
/// Whether this node's graceful leave has begun (<see cref="Repair.GracefulLeave"/>, before it asks for the evacuation,
/// <see cref="Repair.ReplicaRepair.EvacuateAsync"/>). From then on the
/// node places the uploads it still takes — its P1 listener stays open while the evacuation runs, since the host stops
/// the TCP gateways only after the actor system — on the other members, so that none lands on a node that has already
/// read the pages it moves (docs/design.md, "Membership and failure"). Thread-safe.
/// </summary>
public sealed class LeaveState
{
    private volatile bool _leaving;

    /// <summary>Whether this node's leave has begun.</summary>
    public bool Leaving => _leaving;

    /// <summary>Marks the leave as begun; it is never undone (the node exits).</summary>
    public void Begin() => _leaving = true;
}
