package io.actorimages.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * An {@link ActorTestKit} whose system is a one-node cluster on 127.0.0.41 (a free remoting port), joined to
 * itself and Up, with its durable Distributed Data store and its {@code actorimages.data-dir} under a test's
 * temp folder: what Registry and Tracker need (Distributed Data, cluster membership) without a second node.
 */
final class OneNodeCluster {
  /** The host every actor test advertises; tests of other engineers use other loopback addresses. */
  static final String HOST = "127.0.0.41";

  private OneNodeCluster() {}

  /**
   * Starts the kit and waits until its node is Up.
   *
   * @param dir a fresh temp folder; the durable store goes to {@code dir/ddata-lmdb}, images to {@code dir/data}
   */
  static ActorTestKit start(Path dir) {
    ActorTestKit kit = ActorTestKit.create(config(dir));
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    kit.createTestProbe().awaitAssert(Duration.ofSeconds(30), () -> {
      if (cluster.selfMember().status() != MemberStatus.up()) {
        throw new AssertionError("self member is " + cluster.selfMember().status());
      }
      return null;
    });
    return kit;
  }

  /** The node settings the kit's system was started with ({@code actorimages.*}). */
  static NodeSettings settings(ActorSystem<?> system) {
    return NodeSettings.from(system.settings().config());
  }

  private static Config config(Path dir) {
    return ConfigFactory.parseString(String.join("\n",
            "pekko.actor.provider = cluster",
            "pekko.remote.artery.canonical.hostname = \"" + HOST + "\"",
            "pekko.remote.artery.canonical.port = 0",
            "pekko.cluster.distributed-data.durable.lmdb.dir = \"" + slashes(dir.resolve("ddata-lmdb")) + "\"",
            // reference.conf exits the JVM when a node stops; here a test kit stops, not the node process.
            "pekko.coordinated-shutdown.exit-jvm = off",
            "pekko.cluster.jmx.enabled = off",
            // Two shared cores: a majority write and an fsync may take longer than the 3 s default.
            "pekko.actor.testkit.typed.single-expect-default = 10s",
            "actorimages.host = \"" + HOST + "\"",
            "actorimages.data-dir = \"" + slashes(dir.resolve("data")) + "\""))
        .withFallback(ConfigFactory.load())
        .resolve();
  }

  private static String slashes(Path path) {
    return path.toAbsolutePath().toString().replace("\\", "/");
  }
}
