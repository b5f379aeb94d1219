using ActorImages.Messages;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Hosting;

namespace ActorImages.Node.Cluster;

/// <summary>
/// The whole cluster is about to stop (<c>POST /api/cluster/stopping</c>, sent by <c>bin/cluster down</c>): for two
/// minutes, a leaving node does not copy its images to others and no node repairs the replicas of nodes that left, so
/// a restart brings back the replica sets the catalog had. Announced on the <c>cluster-stop</c> topic to every node.
/// </summary>
public sealed class StopAnnouncement
{
    /// <summary>How long an announcement holds.</summary>
    public static readonly TimeSpan Hold = TimeSpan.FromMinutes(2);

    /// <summary>The topic.</summary>
    public const string Topic = "cluster-stop";

    private readonly ActorSystem _system;
    private long _untilTicks;

    /// <summary>Creates the service.</summary>
    /// <param name="system">The actor system (for the mediator).</param>
    public StopAnnouncement(ActorSystem system) => _system = system;

    /// <summary>Whether a full stop was announced less than <see cref="Hold"/> ago.</summary>
    public bool Stopping => DateTime.UtcNow.Ticks < Interlocked.Read(ref _untilTicks);

    /// <summary>Announces a full stop to every node, this one included.</summary>
    public void Announce()
    {
        var until = DateTime.UtcNow + Hold;
        Set(until);
        DistributedPubSub.Get(_system).Mediator.Tell(new Publish(Topic, new StopAnnounced(until)));
    }

    internal void Set(DateTime until) => Interlocked.Exchange(ref _untilTicks, until.Ticks);
}

/// <summary>The announcement on the <c>cluster-stop</c> topic.</summary>
/// <param name="Until">Until when (UTC) nodes hold back copies and repairs.</param>
public sealed record StopAnnounced(DateTime Until) : IActorImagesMessage;

/// <summary>Applies <see cref="StopAnnounced"/> of any node to this node's <see cref="StopAnnouncement"/>.</summary>
public sealed class StopAnnouncementSubscriber : ReceiveActor
{
    /// <summary>Creates the subscriber.</summary>
    /// <param name="stop">This node's announcement holder.</param>
    public StopAnnouncementSubscriber(StopAnnouncement stop)
    {
        Receive<StopAnnounced>(s => stop.Set(s.Until));
        Receive<SubscribeAck>(_ => { });
    }

    /// <summary>Props of the subscriber.</summary>
    /// <param name="stop">The holder.</param>
    /// <returns>The props.</returns>
    public static Props Props(StopAnnouncement stop) => Akka.Actor.Props.Create(() => new StopAnnouncementSubscriber(stop));

    /// <inheritdoc />
    protected override void PreStart() =>
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(StopAnnouncement.Topic, Self));
}
