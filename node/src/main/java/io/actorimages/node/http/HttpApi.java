package io.actorimages.node.http;

import io.actorimages.node.Node;
import io.actorimages.node.gateway.Listeners;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * The HTTP listener on {@code http.port}: the registry API of {@link ApiRoutes}. Binds at start and unbinds
 * when the node shuts down.
 */
public final class HttpApi {


  private HttpApi() {}

  /** Binds the HTTP port of {@code node}. */
  public static Behavior<Void> create(Node node) {
    return Behaviors.setup(ctx -> {
      var s = node.settings();
      CompletionStage<ServerBinding> binding = Http.get(ctx.getSystem()).newServerAt(s.host(), s.httpPort())
          .bind(new WebRoutes(node).routes().orElse(new ApiRoutes(node).routes()));
      Listeners.watch(ctx.getSystem(), "HTTP API", s.host() + ":" + s.httpPort(), binding,
          b -> b.terminate(Listeners.DRAIN));
      return Behaviors.empty();
    });
  }
}
