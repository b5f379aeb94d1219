package io.actorimages.node.gateway;

import io.actorimages.node.Node;
import io.actorimages.node.NodeMetrics;
import io.actorimages.node.Registry;
import io.actorimages.node.Tracker;
import io.actorimages.node.protocol.P3Reply;
import io.actorimages.node.protocol.P3Request;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.Done;
import org.apache.pekko.actor.AbstractActor;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.io.Udp;
import org.apache.pekko.io.UdpMessage;
import org.apache.pekko.util.ByteString;

/**
 * The P3 tracker listener (PROTOCOLS.md P3, seeds 002/003): one UDP socket on {@code p3.port}. Each datagram is
 * parsed with {@link P3Request}; {@code LST} is answered by this node's {@link Registry} from its local
 * replicas, {@code REG}/{@code UPD}/{@code END} by the {@link Tracker} singleton through its proxy, and the
 * answer, rendered by {@link P3Reply}, goes back as one datagram to the request's source address and port.
 * A classic actor, because Pekko IO's UDP socket answers through the sender of {@code Udp.Bound}.
 */
public final class UdpTracker extends AbstractActor {

  private record Reply(ByteString datagram, InetSocketAddress to) {}

  /** A listing as Registry answered it, and its rendering. */
  private record Rendered(List<P3Reply.ListedImage> source, P3Reply.Listing listing) {}

  /**
   * The rendering of the last listing: Registry answers with the same list until the catalog, the peers or the
   * up nodes change, so the LSTs in between reuse it. Set from the ask's completion threads, hence atomic.
   */
  private final AtomicReference<Rendered> lastRendered = new AtomicReference<>();

  /** Starts the listener as a child of {@code parent}. */
  public static void start(org.apache.pekko.actor.typed.javadsl.ActorContext<?> parent, Node node) {
    Adapter.actorOf(parent, Props.create(UdpTracker.class, () -> new UdpTracker(node)), "p3-udp-tracker");
  }

  private final Node node;
  private final LoggingAdapter log = Logging.getLogger(getContext().getSystem(), this);
  private ActorRef socket;

  private UdpTracker(Node node) {
    this.node = node;
  }

  @Override
  public void preStart() {
    var s = node.settings();
    Udp.get(getContext().getSystem()).getManager()
        .tell(UdpMessage.bind(getSelf(), new InetSocketAddress(s.host(), s.p3Port())), getSelf());
  }

  @Override
  public void postStop() {
    if (socket != null) socket.tell(UdpMessage.unbind(), getSelf());
  }

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(Udp.Bound.class, bound -> {
          socket = getSender();
          log.info("P3 UDP tracker listening on {}", bound.localAddress());
          ActorRef self = getSelf();
          CoordinatedShutdown.get(getContext().getSystem()).addTask(CoordinatedShutdown.PhaseServiceUnbind(),
              "unbind-p3", () -> {
                socket.tell(UdpMessage.unbind(), self);
                return CompletableFuture.completedFuture(Done.getInstance());
              });
          getContext().become(serving());
        })
        .match(Udp.CommandFailed.class, failed -> {
          log.error("P3 UDP tracker cannot listen on {}:{}. Stopping the node.", node.settings().host(),
              node.settings().p3Port());
          getContext().getSystem().terminate();
        })
        .build();
  }

  private Receive serving() {
    return receiveBuilder()
        .match(Udp.Received.class, r -> answer(r.data(), r.sender()))
        .match(Reply.class, r -> socket.tell(UdpMessage.send(r.datagram(), r.to()), getSelf()))
        .match(Udp.Unbound.class, u -> getContext().stop(getSelf()))
        .build();
  }

  private void answer(ByteString data, InetSocketAddress from) {
    byte[] bytes = data.toArrayUnsafe();
    P3Request request = P3Request.parse(bytes, bytes.length);
    String ip = from.getAddress().getHostAddress();
    NodeMetrics.get(node.system()).trackerRequest(commandOf(request));
    CompletionStage<byte[]> reply;
    if (request instanceof P3Request.Lst lst) {
      reply = AskPattern.<Registry.Command, Registry.Holders>ask(node.registry(), Registry.ListHolders::new,
              node.settings().askTimeout(), node.system().scheduler())
          .thenApply(holders -> rendered(holders.images()).datagram(lst.offset()));
    } else if (request instanceof P3Request.Reg reg) {
      reply = askTracker(r -> new Tracker.Register(ip, reg.port(), reg.password(), reg.images(), r));
    } else if (request instanceof P3Request.Upd upd) {
      reply = askTracker(r -> new Tracker.Update(ip, upd.port(), upd.password(), upd.images(), r));
    } else if (request instanceof P3Request.End end) {
      reply = askTracker(r -> new Tracker.End(ip, end.port(), end.password(), r));
    } else {
      log.info("P3 {}: malformed request of {} bytes", from, bytes.length);
      reply = CompletableFuture.completedFuture(P3Reply.invalid());
    }
    ActorRef self = getSelf();
    reply.whenComplete((datagram, error) -> {
      if (error != null) log.warning("P3 {}: no answer in time: {}", from, error.getMessage());
      self.tell(new Reply(ByteString.fromArray(error == null ? datagram : P3Reply.unavailable()), from),
          ActorRef.noSender());
    });
  }

  private P3Reply.Listing rendered(List<P3Reply.ListedImage> images) {
    Rendered last = lastRendered.get();
    if (last != null && last.source() == images) return last.listing();
    P3Reply.Listing listing = new P3Reply.Listing(images);
    lastRendered.set(new Rendered(images, listing));
    return listing;
  }

  private CompletionStage<byte[]> askTracker(
      org.apache.pekko.japi.function.Function<org.apache.pekko.actor.typed.ActorRef<Tracker.Reply>, Tracker.Command>
          message) {
    return AskPattern.<Tracker.Command, Tracker.Reply>ask(node.tracker(), message, node.settings().askTimeout(),
        node.system().scheduler()).thenApply(UdpTracker::render);
  }

  private static String commandOf(P3Request request) {
    if (request instanceof P3Request.Lst) return "LST";
    if (request instanceof P3Request.Reg) return "REG";
    if (request instanceof P3Request.Upd) return "UPD";
    if (request instanceof P3Request.End) return "END";
    return "INVALID";
  }

  /** The P3 text for a tracker answer (PROTOCOLS.md P3 reply table). */
  static byte[] render(Tracker.Reply reply) {
    if (reply instanceof Tracker.Registered r) return P3Reply.registered(r.count());
    if (reply instanceof Tracker.Updated u) return P3Reply.updated(u.count());
    if (reply instanceof Tracker.Finished) return P3Reply.finished();
    if (reply instanceof Tracker.WrongPassword) return P3Reply.wrongPassword();
    return P3Reply.unavailable();
  }
}
