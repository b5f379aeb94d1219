package io.actorimages.node;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a node does on its way out after SIGTERM or a leave (issue 4 point 3), as CoordinatedShutdown tasks:
 * listeners unbind first (each gateway registers that itself), then uploads already in flight finish
 * ({@code service-requests-done}), then the node copies every image it holds to the nodes that keep them
 * ({@code before-cluster-shutdown}), and only then does it leave the cluster, which hands the tracker singleton
 * over. A node that was downed skips the copying: the others already treat it as gone and repair from the
 * copies they hold.
 */
final class GracefulLeave {
  private static final Logger log = LoggerFactory.getLogger(GracefulLeave.class);

  /** Longest wait for uploads in flight; phase timeouts in reference.conf are longer. */
  static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(25);

  /** Longest wait for moving replicas away. */
  static final Duration EVACUATION_TIMEOUT = Duration.ofSeconds(55);

  private GracefulLeave() {}

  static void register(Node node) {
    var system = node.system();
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "drain-uploads", () ->
        AskPattern.<Registry.Command, Registry.Drained>ask(node.registry(), Registry.Drain::new, DRAIN_TIMEOUT,
                system.scheduler())
            .handle((ok, error) -> {
              if (error != null) log.warn("Uploads still in flight after {} s; leaving anyway", DRAIN_TIMEOUT.toSeconds());
              return Done.getInstance();
            }));
    shutdown.addTask(CoordinatedShutdown.PhaseBeforeClusterShutdown(), "move-replicas-away", () -> {
      boolean downed = shutdown.getShutdownReason()
          .filter(r -> r instanceof CoordinatedShutdown.ClusterDowningReason$).isPresent();
      if (downed) return CompletableFuture.completedFuture(Done.getInstance());
      long started = System.nanoTime();
      return AskPattern.<Repair.Command, Repair.Evacuated>ask(node.repair(), Repair.Evacuate::new,
              EVACUATION_TIMEOUT, system.scheduler())
          .handle((done, error) -> {
            if (error != null) log.warn("Moving replicas away did not finish in time: {}", error.toString());
            else if (done.copies() + done.failures() > 0) {
              log.info("Moved {} replicas to the remaining nodes ({} failed) in {} ms", done.copies(),
                  done.failures(), Duration.ofNanos(System.nanoTime() - started).toMillis());
            }
            return Done.getInstance();
          });
    });
  }
}
