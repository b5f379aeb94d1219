package io.actorimages.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
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
    start(ConfigFactory.load());
  }

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
