package io.actorimages.tests.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The local {@code bin/cluster} as the benchmark drives it: starting and stopping nodes (output to
 * {@code run/bench-cluster.log}, so the figures stay readable), each node's pid for profiling, and the few
 * HTTP API calls the scenarios need (catalog listing, Prometheus figures). Only loopback addresses.
 */
public final class LocalCluster {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final Path root;
  private final Path log;

  /** @param root the repository root, where {@code bin/cluster} and {@code run/} are */
  public LocalCluster(Path root) {
    this.root = root;
    this.log = root.resolve("run/bench-cluster.log");
  }

  /** Address of node {@code i}. */
  public static String host(int i) {
    return "127.0.0." + i;
  }

  /**
   * Runs {@code bin/cluster args}, with {@code javaOpts} as {@code ACTORIMAGES_JAVA_OPTS} when present;
   * fails naming the log when it does not succeed within 5 minutes.
   */
  public void run(Optional<String> javaOpts, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(root.resolve("bin/cluster").toString()));
    command.addAll(List.of(args));
    Files.createDirectories(log.getParent());
    ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    javaOpts.ifPresent(o -> pb.environment().put("ACTORIMAGES_JAVA_OPTS", o));
    long start = System.nanoTime();
    Process p = pb.start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroy();
      throw new IllegalStateException("bin/cluster " + String.join(" ", args) + " took over 5 minutes; see " + log);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException("bin/cluster " + String.join(" ", args) + " failed; see " + log);
    }
    System.out.printf("  (bin/cluster %s%s: %.0f s)%n", javaOpts.map(o -> "[" + o + "] ").orElse(""),
        String.join(" ", args), (System.nanoTime() - start) / 1e9);
  }

  /** Numbers of the nodes whose process runs (as {@code bin/cluster} tracks them: {@code run/node-i/pid}). */
  public List<Integer> runningNodes() {
    List<Integer> nodes = new ArrayList<>();
    for (int i = 1; i <= 200; i++) if (pid(i).isPresent()) nodes.add(i);
    return nodes;
  }

  /** Pid of node {@code i} when it runs. */
  public OptionalLong pid(int i) {
    Path file = root.resolve("run/node-" + i + "/pid");
    try {
      if (!Files.exists(file)) return OptionalLong.empty();
      long pid = Long.parseLong(Files.readString(file).trim());
      boolean node = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
          .flatMap(h -> h.info().commandLine()).map(c -> c.contains("io.actorimages.node.Main")).orElse(false);
      return node ? OptionalLong.of(pid) : OptionalLong.empty();
    } catch (IOException | NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /** The log of node {@code i}. */
  public Path nodeLog(int i) {
    return root.resolve("run/node-" + i + "/node.log");
  }

  /** GET {@code path} on node {@code i}'s HTTP API; the body, or an exception for any status but 200. */
  public static String get(int node, String path) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + host(node) + ":8080" + path))
        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) throw new IOException("HTTP " + r.statusCode() + " for " + path + ": " + r.body());
    return r.body();
  }

  /**
   * The md5s of the catalog entries received at or after {@code since}, read newest first from node
   * {@code node} page by page (the listing is newest first, so it stops at the first older entry).
   */
  public static Set<String> md5sSince(int node, Instant since) throws IOException, InterruptedException {
    Set<String> md5s = new HashSet<>();
    String after = null;
    while (true) {
      JsonNode page = JSON.readTree(get(node, "/api/images?limit=500" + (after == null ? "" : "&after=" + after)));
      for (JsonNode image : page.path("images")) {
        if (receivedAt(image.path("receivedAt")).isBefore(since)) return md5s;
        md5s.add(image.path("md5").asText());
      }
      if (page.path("next").isNull() || page.path("next").isMissingNode()) return md5s;
      after = page.path("next").asText();
    }
  }

  private static Instant receivedAt(JsonNode value) {
    return value.isNumber() ? Instant.ofEpochMilli(value.asLong()) : Instant.parse(value.asText());
  }

  /** The catalog's size as node {@code node} reports it ({@code actorimages_catalog_entries}), or -1. */
  public static long catalogSize(int node) {
    try {
      return (long) metrics(node).getOrDefault("actorimages_catalog_entries", -1.0).doubleValue();
    } catch (Exception e) {
      return -1;
    }
  }

  /**
   * Node {@code node}'s Prometheus figures, summed per metric name over their labels, keeping only the label
   * filter {@code area="heap"} for the JVM memory figures (heap, not the other pools) and skipping negative
   * values (a pool without a maximum reports -1).
   */
  public static Map<String, Double> metrics(int node) throws IOException, InterruptedException {
    Map<String, Double> sums = new java.util.HashMap<>();
    for (String line : get(node, "/metrics").split("\n")) {
      if (line.isEmpty() || line.startsWith("#")) continue;
      int space = line.lastIndexOf(' ');
      int brace = line.indexOf('{');
      String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
      if (name.startsWith("jvm_memory_") && !line.contains("area=\"heap\"")) continue;
      double value;
      try {
        value = Double.parseDouble(line.substring(space + 1));
      } catch (NumberFormatException e) {
        continue;
      }
      if (value >= 0) sums.merge(name, value, Double::sum);
    }
    return sums;
  }
}
