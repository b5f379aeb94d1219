package io.actorimages.node;

import io.actorimages.messages.SourceProtocol;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * This node's metrics (issue 5 point 4), one Micrometer registry per ActorSystem, rendered as Prometheus text
 * at {@code GET /metrics}. An extension, so every actor and gateway of the node reaches the same registry
 * without passing it around, and several nodes in one JVM (the tests) keep theirs apart. Names follow
 * Prometheus conventions ({@code actorimages_*}, base units: seconds, bytes).
 */
public final class NodeMetrics implements Extension {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicLong imagesHeld = new AtomicLong();
  private final AtomicLong bytesHeld = new AtomicLong();
  private final AtomicLong catalogEntries = new AtomicLong();

  private NodeMetrics(ActorSystem<?> system) {
    registry.config().commonTags("node", system.address().getHost().orElse("local"));
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    registry.gauge("actorimages_images_stored", imagesHeld);
    registry.gauge("actorimages_bytes_stored", bytesHeld);
    registry.gauge("actorimages_catalog_entries", catalogEntries);
  }

  /** The metrics of {@code system}. */
  public static NodeMetrics get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /** Everything in Prometheus text exposition format 0.0.4. */
  public String scrape() {
    return registry.scrape();
  }

  /** An upload that ended: counted per protocol and outcome; acknowledged ones also in the latency histogram. */
  public void upload(SourceProtocol protocol, boolean acknowledged, Duration latency) {
    Counter.builder("actorimages_uploads").tag("protocol", protocol.name())
        .tag("outcome", acknowledged ? "acknowledged" : "failed").register(registry).increment();
    if (acknowledged) {
      Timer.builder("actorimages_upload_latency").tag("protocol", protocol.name())
          .description("from arrival of the whole image to the acknowledgement (all replicas, majority catalog)")
          .publishPercentileHistogram().register(registry).record(latency);
    }
  }

  /**
   * A copy made on another node.
   *
   * @param reason {@code upload}, {@code repair}, {@code leave} or {@code scrub}
   */
  public void replicaCreated(String reason, boolean ok) {
    Counter.builder("actorimages_replica_copies").tag("reason", reason).tag("outcome", ok ? "ok" : "failed")
        .register(registry).increment();
  }

  /** One P3 datagram answered; {@code command} is REG, UPD, LST, END or INVALID. */
  public void trackerRequest(String command) {
    Counter.builder("actorimages_tracker_requests").tag("command", command).register(registry).increment();
  }

  /**
   * An error a client or the cluster caused.
   *
   * @param kind e.g. {@code p1_bad_frame}, {@code p2_error}, {@code p3_invalid}, {@code corrupt_replica}
   */
  public void error(String kind) {
    Counter.builder("actorimages_errors").tag("kind", kind).register(registry).increment();
  }

  /** The catalog as this node sees it: entries, and the images and bytes this node holds. */
  public void catalog(long entries, long imagesOnThisNode, long bytesOnThisNode) {
    catalogEntries.set(entries);
    imagesHeld.set(imagesOnThisNode);
    bytesHeld.set(bytesOnThisNode);
  }

  /** The extension's id. */
  public static final class Id extends ExtensionId<NodeMetrics> {
    static final Id INSTANCE = new Id();

    @Override
    public NodeMetrics createExtension(ActorSystem<?> system) {
      return new NodeMetrics(system);
    }
  }
}
