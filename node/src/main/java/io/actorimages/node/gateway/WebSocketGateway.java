package io.actorimages.node.gateway;

import io.actorimages.node.Node;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.Flow;

/**
 * The P2 listener (PROTOCOLS.md P2, seed 001): a Pekko HTTP server on {@code p2.port} that upgrades every
 * request to a WebSocket and gives each connection its own {@link WebSocketConnection} actor, spawned as a child
 * of this listener.
 */
public final class WebSocketGateway {

  /** Messages of the listener. */
  public sealed interface Command {}

  /** Spawns a connection actor for a client at {@code clientIp} and answers with its socket flow. */
  public record Connect(String clientIp, ActorRef<Flow<Message, Message, NotUsed>> replyTo) implements Command {}

  private WebSocketGateway() {}

  /** Binds the P2 port of {@code node} and serves it until the node stops. */
  public static Behavior<Command> create(Node node) {
    return Behaviors.setup(ctx -> {
      var s = node.settings();
      ActorRef<Command> self = ctx.getSelf();
      Route route = Directives.extractClientIP(ip -> {
        String clientIp = ip.getAddress().map(a -> a.getHostAddress()).orElse("unknown");
        CompletionStage<Flow<Message, Message, NotUsed>> flow = AskPattern.ask(self,
            replyTo -> new Connect(clientIp, replyTo), s.askTimeout(), ctx.getSystem().scheduler());
        return Directives.onSuccess(flow, Directives::handleWebSocketMessages);
      });
      CompletionStage<ServerBinding> binding =
          Http.get(ctx.getSystem()).newServerAt(s.host(), s.p2Port()).bind(route);
      Listeners.watch(ctx.getSystem(), "P2 WebSocket", s.host() + ":" + s.p2Port(), binding,
          b -> b.terminate(Listeners.DRAIN));
      return Behaviors.receive(Command.class)
          .onMessage(Connect.class, m -> {
            m.replyTo().tell(WebSocketConnection.spawn(ctx, node, m.clientIp()));
            return Behaviors.same();
          })
          .build();
    });
  }
}
