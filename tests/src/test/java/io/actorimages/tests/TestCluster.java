package io.actorimages.tests;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.actorimages.node.Main;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Real ActorImages nodes in this JVM, each on its own loopback address with the standard ports, forming one
 * cluster: what {@code bin/cluster up} does with processes. Addresses start at {@code 127.0.0.<base+1>} so a
 * developer's running local cluster on 127.0.0.1–3 does not collide with the tests.
 */
public final class TestCluster implements AutoCloseable {

  private final int base;
  private final Path root;
  private final List<ActorSystem<Void>> nodes = new ArrayList<>();

  private TestCluster(int base, Path root) {
    this.base = base;
    this.root = root;
  }

  /**
   * Starts {@code size} nodes on {@code 127.0.0.<base+1>} … and waits until all are Up.
   *
   * @param base  last octet offset, e.g. 20 for 127.0.0.21, .22, …
   * @param size  number of nodes
   * @param extra HOCON applied to every node (may be empty)
   */
  public static TestCluster start(int base, int size, String extra) {
    try {
      return start(base, size, extra, Files.createTempDirectory("actorimages-test"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * As {@link #start(int, int, String)}, with node {@code i}'s data directory at {@code root/node-i}: pass the
   * {@link #root()} of a stopped cluster to start a new cluster on the same disks (a full restart).
   *
   * @param root folder of the nodes' data directories; created when missing, its content kept
   */
  public static TestCluster start(int base, int size, String extra, Path root) {
    TestCluster cluster = new TestCluster(base, root);
    try {
      for (int i = 1; i <= size; i++) cluster.nodes.add(Main.start(cluster.config(i, size, extra)));
      cluster.awaitUp(size, Duration.ofSeconds(60));
      for (int i = 1; i <= size; i++) cluster.awaitListening(i, Duration.ofSeconds(30));
      return cluster;
    } catch (RuntimeException | Error e) {
      // A node that failed to come up must not keep the others (and their ports) alive for the next test.
      cluster.close(false);
      throw e;
    }
  }

  /** The folder that holds every node's data directory. */
  public Path root() {
    return root;
  }

  /** The loopback address of node {@code i} (1-based). */
  public String host(int i) {
    return "127.0.0." + (base + i);
  }

  /** The ActorSystem of node {@code i} (1-based). */
  public ActorSystem<Void> node(int i) {
    return nodes.get(i - 1);
  }

  /** The data directory of node {@code i}. */
  public Path dataDir(int i) {
    return root.resolve("node-" + i);
  }

  private Config config(int i, int size, String extra) {
    String seeds = IntStream.rangeClosed(1, Math.min(size, 3))
        .mapToObj(k -> "\"pekko://ActorImages@" + host(k) + ":25520\"")
        .collect(Collectors.joining(", "));
    return ConfigFactory.parseString(extra)
        .withFallback(ConfigFactory.parseString(String.join("\n",
            "actorimages.host = \"" + host(i) + "\"",
            "actorimages.data-dir = \"" + dataDir(i).toString().replace("\\", "/") + "\"",
            "pekko.cluster.seed-nodes = [" + seeds + "]",
            "pekko.coordinated-shutdown.exit-jvm = off",
            "pekko.cluster.jmx.enabled = off")))
        .withFallback(ConfigFactory.load());
  }

  /** Waits until {@code count} members are Up as seen from node 1. */
  public void awaitUp(int count, Duration timeout) {
    Poll.until(timeout, "cluster of " + count + " Up members", () -> {
      var members = Cluster.get(nodes.get(0)).state().getMembers();
      int up = 0;
      for (var m : members) if (m.status() == MemberStatus.up()) up++;
      return up == count;
    });
  }

  /** Waits until node {@code i} accepts connections on its TCP listeners (P1, P2, P4, HTTP). */
  public void awaitListening(int i, Duration timeout) {
    Poll.listening(host(i), timeout);
  }

  /** GET {@code path} on node {@code i}'s HTTP API; returns status and body. */
  public HttpResponse<String> http(int i, String path) {
    try {
      return HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://" + host(i) + ":8080" + path)).timeout(Duration.ofSeconds(20))
              .build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Stops node {@code i} gracefully (leave, singleton hand-over) and waits until it has terminated. */
  public void stop(int i) {
    var n = nodes.get(i - 1);
    n.terminate();
    try {
      n.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("node " + i + " did not stop in 30 s", e);
    }
  }

  /** Stops every node, newest first so each leaves a cluster that can still acknowledge it; deletes the data. */
  @Override
  public void close() {
    close(true);
  }

  /**
   * Stops every node, newest first so each leaves a cluster that can still acknowledge it.
   *
   * @param deleteData whether to delete {@link #root()} too; false keeps it for a restart on the same disks
   */
  public void close(boolean deleteData) {
    announceStop();
    for (int i = nodes.size(); i >= 1; i--) {
      try {
        stop(i);
      } catch (AssertionError e) {
        // keep closing the others
      }
    }
    if (deleteData) deleteRoot();
  }

  /**
   * Tells the cluster that every node is stopping, as {@code bin/cluster down} does, so the nodes leave without
   * copying their images to the ones that stop after them.
   */
  private void announceStop() {
    if (nodes.size() < 2) return;
    try {
      HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + host(1) + ":8080/api/cluster/stopping"))
          .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.discarding());
    } catch (IOException e) {
      // a node that does not answer is stopping anyway
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void deleteRoot() {
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // temp dir; the OS cleans it
    }
  }
}
