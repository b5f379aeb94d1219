package io.actorimages.node.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.actorimages.messages.ImageStored;
import io.actorimages.node.ClusterView;
import io.actorimages.node.Node;
import io.actorimages.node.Registry;
import io.actorimages.node.Tracker;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.BroadcastHub;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * The web viewer's live feed, {@code GET /api/events} as Server-Sent Events (issue 5): one stream per browser,
 * made of
 * <ul>
 *   <li>{@code cluster}: a {@link ClusterStatus} at once on connect and then every {@value #CLUSTER_SECONDS} s,
 *       so the Cluster view follows members coming and going without polling;</li>
 *   <li>{@code image-stored}: one {@link ApiRoutes.ImageJson} per {@link ImageStored} on the cluster-wide topic,
 *       whichever node stored it, from the moment the browser connected;</li>
 *   <li>a keep-alive comment when nothing else was sent for {@value #KEEP_ALIVE_SECONDS} s, so proxies and the
 *       browser keep the connection.</li>
 * </ul>
 *
 * <p>The topic has one subscriber per node, an {@link ActorSource} made at start, whose events a
 * {@link BroadcastHub} hands to every browser's stream; a browser that goes simply detaches from the hub. Not
 * one subscriber per browser, for two reasons found in Pekko 1.2's {@code Topic}: it registers with the
 * receptionist only while it has local subscribers, and other nodes learn of that registration a gossip
 * round later, so a browser that was a node's first subscriber missed the images of its first seconds; and an
 * {@code unsubscribe} that reaches the topic after the subscriber's termination already removed it sends a
 * second deregistration, on which the (unsupervised) cluster receptionist fails and stops.
 */
final class LiveFeed {

  /** Interval of {@code cluster} events. */
  static final int CLUSTER_SECONDS = 2;
  /** Silence after which a keep-alive comment goes out. */
  static final int KEEP_ALIVE_SECONDS = 15;

  /**
   * Image events a slow browser may fall behind by; past that the oldest are dropped, since the page only
   * needs the newest and can reload the gallery, while failing the stream would cost it every later event.
   */
  static final int IMAGE_BUFFER = 256;
  private static final Duration WHERE_IS_TRACKER_TIMEOUT = Duration.ofSeconds(2);

  /**
   * A {@code cluster} event: {@code GET /api/cluster}'s fields plus the catalog's totals and per-host counts.
   *
   * @param self        this node's host
   * @param members     every member this node knows, oldest first
   * @param leader      the leader's host, or null
   * @param trackerHost the host of the tracker singleton, or null when it did not answer in time
   * @param stats       images and bytes in all and per host, or null when Registry did not answer in time
   */
  record ClusterStatus(String self, List<ClusterView.MemberInfo> members, String leader, String trackerHost,
                       Registry.Stats stats) {}

  private enum Tick { INSTANCE }

  private final Node node;
  private final Source<ImageStored, NotUsed> imagesStored;

  /** Subscribes this node's one feed to the {@code image-stored} topic, for the node's lifetime. */
  LiveFeed(Node node) {
    this.node = node;
    Pair<ActorRef<ImageStored>, Source<ImageStored, NotUsed>> hub = ActorSource.<ImageStored>actorRef(
            m -> false, m -> Optional.empty(), IMAGE_BUFFER, OverflowStrategy.dropHead())
        .toMat(BroadcastHub.of(ImageStored.class, IMAGE_BUFFER), Keep.both())
        .run(node.system());
    node.imageStored().tell(Topic.subscribe(hub.first()));
    // A hub without consumers holds events back for the next one; this consumer keeps it flowing, so a
    // browser sees only what is stored after it connected.
    hub.second().runWith(Sink.ignore(), node.system());
    this.imagesStored = hub.second();
  }

  /** The event stream of one browser. */
  Source<ServerSentEvent, NotUsed> events() {
    Source<ServerSentEvent, NotUsed> cluster = Source.tick(Duration.ZERO, Duration.ofSeconds(CLUSTER_SECONDS),
            Tick.INSTANCE)
        .mapAsync(1, tick -> clusterStatus(node))
        .map(status -> event("cluster", status))
        .mapMaterializedValue(cancellable -> NotUsed.getInstance());
    // Its own dropping buffer: a hub goes at its slowest consumer's pace, and one stalled tab must not hold
    // back every other browser's events.
    Source<ServerSentEvent, NotUsed> images = imagesStored
        .buffer(IMAGE_BUFFER, OverflowStrategy.dropHead())
        .map(stored -> event("image-stored", ApiRoutes.ImageJson.of(stored.entry())));
    return cluster.merge(images)
        .keepAlive(Duration.ofSeconds(KEEP_ALIVE_SECONDS), ServerSentEvent::heartbeat);
  }

  /**
   * This node's view of the cluster now. Never fails: a part that does not answer in time is null, so one
   * slow actor does not end the browser's stream.
   */
  static CompletionStage<ClusterStatus> clusterStatus(Node node) {
    var scheduler = node.system().scheduler();
    CompletionStage<String> trackerHost = AskPattern.<Tracker.Command, Tracker.Location>ask(
            node.tracker(), Tracker.WhereAreYou::new, WHERE_IS_TRACKER_TIMEOUT, scheduler)
        .thenApply(Tracker.Location::host)
        .exceptionally(e -> null);
    CompletionStage<Registry.Stats> stats = AskPattern.<Registry.Command, Registry.Stats>ask(
            node.registry(), Registry.GetStats::new, node.settings().askTimeout(), scheduler)
        .exceptionally(e -> null);
    return trackerHost.thenCombine(stats, (host, counts) -> {
      var state = Cluster.get(node.system()).state();
      String leader = Optional.ofNullable(state.getLeader()).flatMap(a -> a.getHost()).orElse(null);
      return new ClusterStatus(node.settings().host(), ClusterView.members(node.system()), leader, host, counts);
    });
  }

  private static ServerSentEvent event(String type, Object body) {
    try {
      return ServerSentEvent.create(JsonDirectives.JSON.writeValueAsString(body), type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("records always serialize", e);
    }
  }
}
