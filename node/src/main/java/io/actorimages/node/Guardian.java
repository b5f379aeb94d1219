package io.actorimages.node;

import io.actorimages.messages.ImageStored;
import io.actorimages.node.gateway.PeerGet;
import io.actorimages.node.gateway.TcpIngest;
import io.actorimages.node.gateway.UdpTracker;
import io.actorimages.node.gateway.WebSocketGateway;
import io.actorimages.node.http.HttpApi;
import io.actorimages.storage.BlobStore;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * The root actor of a node: starts Storage, Registry, Transfer, the tracker singleton's proxy, the
 * {@code image-stored} topic and one gateway per listener (P1–P4, HTTP), as in DESIGN.md "Actors on every
 * node". A listener that cannot bind stops the node: a node that serves only some protocols would mislead
 * legacy clients.
 */
public final class Guardian {


  private Guardian() {}

  /** The root behavior for a node with {@code settings}. */
  public static Behavior<Void> create(NodeSettings settings) {
    return Behaviors.setup(ctx -> {
      BlobStore store = new BlobStore(settings.dataDir(), settings.maxImageBytes());
      ActorRef<Storage.Command> storage = ctx.spawn(Storage.create(store), "storage", Storage.BLOCKING_IO);
      ActorRef<Topic.Command<ImageStored>> imageStored =
          ctx.spawn(Topic.create(ImageStored.class, "image-stored"), "image-stored-topic");
      ActorRef<Transfer.Command> transfer =
          ctx.spawn(Transfer.create(store, storage, settings), "transfer", Storage.BLOCKING_IO);
      ActorRef<Registry.Command> registry =
          ctx.spawn(Registry.create(settings, storage, transfer, imageStored), "registry");
      ActorRef<Tracker.Command> tracker = ClusterSingleton.get(ctx.getSystem()).init(SingletonActor.of(
          Tracker.create(settings.host(), settings.catalogReadTimeout(), settings.catalogWriteTimeout()),
          Tracker.NAME));
      ActorRef<Repair.Command> repair = ctx.spawn(Repair.create(settings, store, registry, transfer), "repair");
      ctx.spawn(Scrub.create(settings, store, registry, storage, transfer), "scrub", Storage.BLOCKING_IO);
      Node node = new Node(ctx.getSystem(), settings, storage, registry, tracker, transfer, imageStored, repair);
      GracefulLeave.register(node);

      ctx.spawn(TcpIngest.create(node), "p1-tcp-ingest");
      ctx.spawn(WebSocketGateway.create(node), "p2-websocket");
      UdpTracker.start(ctx, node);
      ctx.spawn(PeerGet.create(node), "p4-peer-get");
      ctx.spawn(HttpApi.create(node), "http-api");
      ctx.getLog().info("ActorImages node on {}: P1 {} P2 {} P3 {} P4 {} HTTP {}, data in {}", settings.host(),
          settings.p1Port(), settings.p2Port(), settings.p3Port(), settings.p4Port(), settings.httpPort(),
          settings.dataDir());
      return Behaviors.empty();
    });
  }
}
