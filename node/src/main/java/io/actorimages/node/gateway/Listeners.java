package io.actorimages.node.gateway;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every listener does with its socket binding: log where it listens, unbind when the node shuts down
 * (CoordinatedShutdown phase {@code service-unbind}, so no new connection arrives while the node leaves), and
 * stop the node if the port cannot be bound.
 */
public final class Listeners {
  private static final Logger log = LoggerFactory.getLogger(Listeners.class);

  private Listeners() {}

  /**
   * @param system  the node's ActorSystem
   * @param what    the listener, for logs, e.g. {@code "P1 TCP ingest"}
   * @param where   {@code host:port}
   * @param binding the binding in progress
   * @param unbind  how to release it
   * @param <B>     the binding type
   */
  public static <B> void watch(ActorSystem<?> system, String what, String where, CompletionStage<B> binding,
                               Function<B, CompletionStage<?>> unbind) {
    binding.whenComplete((b, error) -> {
      if (error != null) {
        log.error("{} cannot listen on {}: {}. Stopping the node.", what, where, error.getMessage());
        system.terminate();
        return;
      }
      log.info("{} listening on {}", what, where);
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "unbind-" + where + "-"
          + what.replace(' ', '-'), () -> unbind.apply(b).thenApply(x -> Done.getInstance()));
    });
  }

  /** The short timeout a listener grants its connections to drain on shutdown. */
  public static final Duration DRAIN = Duration.ofSeconds(5);
}
