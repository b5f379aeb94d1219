package io.actorimages.node.gateway;

import io.actorimages.node.Node;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Tcp;

/**
 * The P1 listener (PROTOCOLS.md P1, seed 000): accepts TCP connections on {@code p1.port} and gives each one
 * its own {@link TcpIngestConnection} actor. Half-close is enabled because the legacy camera client half-closes
 * after its frame and the node must keep the socket until every frame is committed.
 */
public final class TcpIngest {

  /** Messages of the listener. */
  public sealed interface Command {}

  private record Accepted(Tcp.IncomingConnection connection) implements Command {}

  private TcpIngest() {}

  /** Binds the P1 port of {@code node} and serves it until the node stops. */
  public static Behavior<Command> create(Node node) {
    return Behaviors.setup(ctx -> {
      var s = node.settings();
      var binding = Tcp.get(ctx.getSystem()).bind(s.host(), s.p1Port(), 128, List.of(), true, Optional.empty())
          .to(Sink.foreach(c -> ctx.getSelf().tell(new Accepted(c))))
          .run(ctx.getSystem());
      Listeners.watch(ctx.getSystem(), "P1 TCP ingest", s.host() + ":" + s.p1Port(), binding,
          Tcp.ServerBinding::unbind);
      return Behaviors.receive(Command.class)
          .onMessage(Accepted.class, m -> {
            TcpIngestConnection.serve(ctx, node, m.connection());
            return Behaviors.same();
          })
          .build();
    });
  }
}
