package io.actorimages.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Starts one ActorImages node: loads the configuration ({@code -Dconfig.file=hocon/local.conf} or the
 * environment variables named in {@code hocon/actorimages.conf}), derives the Pekko settings that follow from
 * {@code actorimages.host} and {@code actorimages.data-dir}, and starts the {@link Guardian}. SIGTERM runs
 * CoordinatedShutdown: the node leaves the cluster and the singleton hands over.
 */
public final class Main {
  private Main() {}

  /** The cluster's ActorSystem name; every node of one cluster must use the same. */
  public static final String SYSTEM_NAME = "ActorImages";

  /**
   * Entry point; takes no arguments (everything is configuration).
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    ActorSystem<Void> system = start(ConfigFactory.load());
    system.getWhenTerminated().toCompletableFuture().join();
    // With SIGTERM the JVM is already exiting and this call only waits for the shutdown hooks to finish.
    System.exit(exitCode(CoordinatedShutdown.get(system).getShutdownReason().orElse(null)));
  }

  /** 0 for a stop that was asked for (SIGTERM, a leave), {@link #EXIT_DOWNED} when downed, 1 otherwise. */
  static int exitCode(CoordinatedShutdown.Reason reason) {
    if (reason instanceof CoordinatedShutdown.ClusterDowningReason$) return EXIT_DOWNED;
    if (reason instanceof CoordinatedShutdown.JvmExitReason$
        || reason instanceof CoordinatedShutdown.ClusterLeavingReason$) {
      return 0;
    }
    return 1; // a listener could not bind, or the node stopped by itself for another reason
  }

  /**
   * Exit code of a node that the Split Brain Resolver downed (it was on the minority side of a partition, or
   * taken for dead): {@code bin/cluster} restarts such a node so it rejoins once the network heals.
   */
  public static final int EXIT_DOWNED = 3;

  /**
   * Starts a node with {@code config} (which must contain the {@code actorimages} section, as a loaded
   * configuration with this module's reference.conf does).
   *
   * @return the running ActorSystem; terminate it to stop the node
   */
  public static ActorSystem<Void> start(Config config) {
    Config full = withDerivedSettings(config);
    NodeSettings settings = NodeSettings.from(full);
    return ActorSystem.create(Guardian.create(settings), SYSTEM_NAME, full);
  }

  /**
   * Adds the Pekko keys that follow from our own, so one setting has one source: remoting binds and advertises
   * {@code actorimages.host}, and the durable Distributed Data store lives in {@code <data-dir>/ddata-lmdb}.
   */
  static Config withDerivedSettings(Config config) {
    NodeSettings s = NodeSettings.from(config.resolve());
    String derived = String.join("\n",
        "pekko.remote.artery.canonical.hostname = \"" + s.host() + "\"",
        "pekko.cluster.distributed-data.durable.lmdb.dir = \""
            + s.dataDir().resolve("ddata-lmdb").toString().replace("\\", "/") + "\"");
    return ConfigFactory.parseString(derived).withFallback(config).resolve();
  }
}
