package io.actorimages.tests;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Real ActorImages nodes as separate JVM processes, node {@code i} on {@code 127.0.0.<base+i>} with the standard
 * ports, for fault tests that must kill a node the way a crash does ({@code kill -9}). Each node's log goes to
 * {@code <root>/node-i.log}; {@link #close()} kills whatever still runs and removes the data.
 */
public final class NodeProcesses implements AutoCloseable {

  private final List<String> hosts;
  private final List<List<String>> launchers;
  private final Path root;
  private final List<Process> processes = new ArrayList<>();

  private NodeProcesses(List<String> hosts, List<List<String>> launchers, Path root) {
    this.hosts = hosts;
    this.launchers = launchers;
    this.root = root;
  }

  /** Starts {@code size} node processes on {@code 127.0.0.<base+i>} and waits until all are Up and listening. */
  public static NodeProcesses start(int base, int size) {
    List<String> hosts = IntStream.rangeClosed(1, size).mapToObj(i -> "127.0.0." + (base + i)).toList();
    return start(hosts, hosts.stream().map(h -> List.<String>of()).toList());
  }

  /**
   * Starts one node per host, each launched through its prefix (e.g. {@code ip netns exec ns1}, or nothing),
   * and waits until all are Up and listening.
   */
  public static NodeProcesses start(List<String> hosts, List<List<String>> launchers) {
    try {
      NodeProcesses nodes = new NodeProcesses(hosts, launchers, Files.createTempDirectory("actorimages-proc"));
      for (int i = 1; i <= hosts.size(); i++) nodes.processes.add(null);
      for (int i = 1; i <= hosts.size(); i++) nodes.startNode(i);
      nodes.awaitUpMembers(hosts.size(), Duration.ofSeconds(90));
      return nodes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The address of node {@code i}. */
  public String host(int i) {
    return hosts.get(i - 1);
  }

  /** The data directory of node {@code i}. */
  public Path dataDir(int i) {
    return root.resolve("node-" + i);
  }

  /** (Re)starts node {@code i} on its data directory. */
  public void startNode(int i) {
    int seedCount = Math.min(3, hosts.size());
    String seeds = IntStream.rangeClosed(1, seedCount).mapToObj(k -> "pekko://ActorImages@" + host(k) + ":25520")
        .collect(Collectors.toList()).toString();
    List<String> command = new ArrayList<>(launchers.get(i - 1));
    command.addAll(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dactorimages.host=" + host(i),
        "-Dactorimages.data-dir=" + dataDir(i)));
    for (int k = 1; k <= seedCount; k++) {
      command.add("-Dpekko.cluster.seed-nodes." + (k - 1) + "=pekko://ActorImages@" + host(k) + ":25520");
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.actorimages.node.Main"));
    try {
      File log = root.resolve("node-" + i + ".log").toFile();
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
      processes.set(i - 1, p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + i + " (seeds " + seeds + ")", e);
    }
  }

  /** Waits up to {@code timeout} for node {@code i} to exit by itself; its exit code, or -1 if it still runs. */
  public int awaitExit(int i, Duration timeout) {
    try {
      Process p = processes.get(i - 1);
      return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? p.exitValue() : -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** {@code kill -9} of node {@code i}: no leave, no hand-over, as a crash. */
  public void kill(int i) {
    Process p = processes.get(i - 1);
    p.destroyForcibly();
    try {
      p.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGTERM to node {@code i} and wait for it to exit; returns its exit code. */
  public int stop(int i) {
    Process p = processes.get(i - 1);
    p.destroy();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) throw new AssertionError("node " + i + " did not stop in 60 s");
      return p.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Whether node {@code i}'s process runs. */
  public boolean alive(int i) {
    Process p = processes.get(i - 1);
    return p != null && p.isAlive();
  }

  /** Waits until {@code count} members are Up, as the first live node reports it over HTTP. */
  public void awaitUpMembers(int count, Duration timeout) {
    Poll.until(timeout, count + " Up members", () -> upMembers() == count);
    for (int i = 1; i <= processes.size(); i++) {
      if (alive(i)) awaitListening(i, timeout);
    }
  }

  /** Number of Up members as the first live node sees them, or -1 when none answers. */
  public int upMembers() {
    for (int i = 1; i <= processes.size(); i++) {
      if (!alive(i)) continue;
      try {
        String body = http(i, "/api/cluster");
        return (int) java.util.regex.Pattern.compile("\"status\":\"Up\"").matcher(body).results().count();
      } catch (RuntimeException e) {
        // not answering yet
      }
    }
    return -1;
  }

  /** GET {@code path} on node {@code i}'s HTTP API; the body, or an exception for a non-200. */
  public String http(int i, String path) {
    try {
      var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create("http://" + host(i) + ":8080" + path)).timeout(Duration.ofSeconds(10)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) throw new IllegalStateException(response.statusCode() + " " + response.body());
      return response.body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void awaitListening(int i, Duration timeout) {
    Poll.listening(host(i), timeout);
  }

  /** The last lines of node {@code i}'s log, for failure messages. */
  public String logTail(int i, int lines) {
    try {
      List<String> all = Files.readAllLines(root.resolve("node-" + i + ".log"));
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** Kills every node still running and removes the data; the logs are kept under {@code target/node-logs/}. */
  @Override
  public void close() {
    try {
      Path keep = Path.of("target", "node-logs", root.getFileName().toString());
      Files.createDirectories(keep);
      for (int i = 1; i <= processes.size(); i++) {
        Path log = root.resolve("node-" + i + ".log");
        if (Files.exists(log)) Files.copy(log, keep.resolve("node-" + i + ".log"));
      }
    } catch (IOException e) {
      // the logs are a convenience
    }
    for (Process p : processes) if (p != null) p.destroyForcibly();
    for (Process p : processes) {
      try {
        if (p != null) p.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // temp dir
    }
  }
}
