package io.actorimages.tests.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/bench --profile}: a Java Flight Recording of every running node during one scenario
 * ({@code jcmd <pid> JFR.start settings=profile}), summarised afterwards from {@code jfr print --events
 * jdk.ExecutionSample} as the methods most often on top of a running thread's stack and the busiest thread
 * groups. The recordings stay in {@code run/bench-<scenario>-node<i>.jfr} for a closer look
 * ({@code jfr print}, JDK Mission Control).
 */
public class Profiler {
  /** Does nothing: the run without {@code --profile}. */
  public static final Profiler NONE = new Profiler();

  private Profiler() {}

  /** Starts a recording on every running node of {@code cluster}, for {@code seconds} plus a margin. */
  public static Profiler start(LocalCluster cluster, String scenario, int seconds) {
    Map<Integer, Path> files = new HashMap<>();
    for (int i : cluster.runningNodes()) {
      Path file = cluster.nodeLog(i).getParent().getParent().resolve("bench-" + scenario + "-node" + i + ".jfr");
      long pid = cluster.pid(i).orElseThrow();
      if (jcmd(pid, "JFR.start", "name=bench", "settings=profile", "duration=" + (seconds + 30) + "s",
          "filename=" + file) != null) {
        files.put(i, file);
      }
    }
    return new Recording(cluster, files);
  }

  /** Stops the recordings and prints their summary. */
  public void report() {}

  private static final class Recording extends Profiler {
    private final LocalCluster cluster;
    private final Map<Integer, Path> files;

    Recording(LocalCluster cluster, Map<Integer, Path> files) {
      this.cluster = cluster;
      this.files = files;
    }

    @Override
    public void report() {
      for (var e : files.entrySet()) {
        cluster.pid(e.getKey()).ifPresent(pid -> jcmd(pid, "JFR.stop", "name=bench"));
        String printed = run(List.of("jfr", "print", "--events", "jdk.ExecutionSample", e.getValue().toString()));
        if (printed == null) continue;
        Map<String, Integer> leaf = new HashMap<>();
        Map<String, Integer> threads = new HashMap<>();
        int samples = 0;
        boolean wantFrame = false;
        for (String line : printed.split("\n")) {
          String t = line.trim();
          if (t.startsWith("sampledThread = ")) {
            // thread groups: "…-dispatcher-12" and "…-dispatcher-3" are one pool
            String name = t.substring(t.indexOf('"') + 1, t.lastIndexOf('"')).replaceAll("-?\\d+$", "");
            threads.merge(name, 1, Integer::sum);
            samples++;
          } else if (t.startsWith("stackTrace = [")) {
            wantFrame = true;
          } else if (wantFrame) {
            leaf.merge(t.replaceAll("\\s+line:.*$", ""), 1, Integer::sum);
            wantFrame = false;
          }
        }
        System.out.printf("  profile node %d (%d samples, %s):%n", e.getKey(), samples, e.getValue().getFileName());
        System.out.println("    threads: " + top(threads, samples, 5));
        System.out.println("    top frames: " + top(leaf, samples, 8));
      }
    }
  }

  private static String top(Map<String, Integer> counts, int total, int n) {
    List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counts.entrySet());
    sorted.sort(Map.Entry.<String, Integer>comparingByValue().reversed());
    List<String> parts = new ArrayList<>();
    for (var e : sorted.subList(0, Math.min(n, sorted.size()))) {
      parts.add(String.format("%s %.0f%%", e.getKey(), 100.0 * e.getValue() / Math.max(1, total)));
    }
    return String.join(", ", parts);
  }

  private static String jcmd(long pid, String... args) {
    List<String> command = new ArrayList<>(List.of("jcmd", Long.toString(pid)));
    command.addAll(List.of(args));
    return run(command);
  }

  /** Runs a JDK tool; its output, or null (with a note) when it fails. */
  private static String run(List<String> command) {
    try {
      Path out = Files.createTempFile("actorimages-bench", ".txt");
      try {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
          p.destroy();
          System.out.println("  (profile: " + String.join(" ", command) + " failed)");
          return null;
        }
        return Files.readString(out, StandardCharsets.UTF_8);
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      System.out.println("  (profile: " + e.getMessage() + ")");
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
