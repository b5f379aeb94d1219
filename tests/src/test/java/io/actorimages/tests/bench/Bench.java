package io.actorimages.tests.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code bin/bench}: the load runs of DESIGN.md "Performance the design must allow" against the local
 * {@code bin/cluster} on 127.0.0.1–3, each printed on one line next to its target, then a summary.
 *
 * <ol>
 *   <li>{@code p1}: P1 ingest of ~100 KB JPEGs from 8 camera-style clients, on one node, then on three nodes
 *       with replication factor 2 ({@link P1Ingest});</li>
 *   <li>{@code p3}: an LST-heavy tracker mix from many UDP clients over the three nodes ({@link P3Tracker});</li>
 *   <li>{@code p2}: P2 upload + download of ~900 KB images over the three nodes ({@link P2Transfer});</li>
 *   <li>{@code memory}: one 64 MiB image through P1 and P2 into one node with a small heap ({@link LargeImage}).</li>
 * </ol>
 *
 * <p>Bounded: every scenario runs its load untimed for {@code --warmup} seconds, then for {@code --seconds}, plus
 * its checks, each time under a request cap. It reshapes the cluster as each scenario needs ({@code bin/cluster
 * down}, {@code up --nodes N}), and at the end puts it back as it found it: stopped if nothing ran, else nodes
 * 1..N with the default heap. The images it stores stay in the cluster (the catalog has no delete); the tracker
 * peers it registers are removed.
 */
public final class Bench {
  private static final double C_SINK_IMAGES_PER_SECOND = 3_800;
  private static final double LEGACY_TRACKER_REQUESTS_PER_SECOND = 49_000;
  private static final double LEGACY_P2_MB_PER_SECOND = 34;

  private final LocalCluster cluster;
  private final Options options;
  private final String runId = Long.toString(System.currentTimeMillis(), 36);
  private final List<String> summary = new ArrayList<>();
  /** What the cluster runs as this run set it up ({@code nodes=N} and any JVM options), to reshape only on change. */
  private String shape = "";

  private Bench(LocalCluster cluster, Options options) {
    this.cluster = cluster;
    this.options = options;
  }

  /** The command line. */
  record Options(Path root, int seconds, int warmup, Set<String> scenarios, List<Integer> p1Nodes, int p1Clients,
                 int p3Clients, int p2Clients, String smallHeap, boolean profile) {
    static Options parse(String[] args) {
      Path root = Path.of(".");
      int seconds = 20;
      int warmup = 10;
      Set<String> scenarios = new LinkedHashSet<>(List.of("p1", "p3", "p2", "memory"));
      List<Integer> p1Nodes = List.of(1, 3);
      int p1 = 8;
      int p3 = 32;
      int p2 = 4;
      String heap = "128m";
      boolean profile = false;
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--root" -> root = Path.of(args[++i]);
          case "--seconds" -> seconds = Integer.parseInt(args[++i]);
          case "--warmup" -> warmup = Integer.parseInt(args[++i]);
          case "--only" -> scenarios = new LinkedHashSet<>(List.of(args[++i].split(",")));
          case "--p1-nodes" -> p1Nodes = java.util.Arrays.stream(args[++i].split(",")).map(Integer::valueOf).toList();
          case "--p1-clients" -> p1 = Integer.parseInt(args[++i]);
          case "--p3-clients" -> p3 = Integer.parseInt(args[++i]);
          case "--p2-clients" -> p2 = Integer.parseInt(args[++i]);
          case "--heap" -> heap = args[++i];
          case "--profile" -> profile = true;
          default -> throw new IllegalArgumentException("unknown option " + args[i] + " (see bin/bench --help)");
        }
      }
      if (seconds < 1 || seconds > 300) throw new IllegalArgumentException("--seconds must be in 1..300");
      if (warmup < 0 || warmup > 300) throw new IllegalArgumentException("--warmup must be in 0..300");
      if (!Set.of("p1", "p3", "p2", "memory").containsAll(scenarios)) {
        throw new IllegalArgumentException("--only takes p1, p3, p2, memory, comma-separated");
      }
      if (!List.of(1, 3).containsAll(p1Nodes)) throw new IllegalArgumentException("--p1-nodes takes 1, 3 or 1,3");
      return new Options(root.toAbsolutePath().normalize(), seconds, warmup, scenarios, p1Nodes, p1, p3, p2, heap,
          profile);
    }
  }

  /** @param args see {@code bin/bench --help} */
  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    // TestImages looks for ../testdata relative to the tests module; exec:java runs from the repository root.
    if (System.getProperty("testdata.dir") == null) {
      System.setProperty("testdata.dir", options.root().resolve("testdata").toString());
    }
    Bench bench = new Bench(new LocalCluster(options.root()), options);
    int exit;
    try {
      exit = bench.runAll();
    } catch (Exception e) {
      System.out.println("bench: failed: " + e);
      exit = 2;
    }
    System.exit(exit);
  }

  private int runAll() throws Exception {
    List<Integer> before = cluster.runningNodes();
    shape = before.equals(range(before.size())) && !before.isEmpty() ? "nodes=" + before.size() : "";
    System.out.printf("bench: run %s, %d s per scenario after %d s of warm-up, machine: %d cores (shared with the "
            + "nodes), cluster output in run/bench-cluster.log%n", runId, options.seconds(), options.warmup(),
        Runtime.getRuntime().availableProcessors());
    boolean allOk = true;
    try {
      if (options.scenarios().contains("p1")) p1();
      if (options.scenarios().contains("p3")) p3();
      if (options.scenarios().contains("p2")) p2();
      if (options.scenarios().contains("memory")) allOk = memory();
    } finally {
      restore(before);
    }
    System.out.println();
    System.out.println("summary (2 shared cores; load generator on the same machine):");
    summary.forEach(s -> System.out.println("  " + s));
    return allOk ? 0 : 1;
  }

  private void p1() throws Exception {
    List<byte[]> bases = BenchImages.jpegBases(8, 100_000);
    for (int nodes : options.p1Nodes()) {
      reshape(nodes, Optional.empty());
      if (warmingUp()) {
        P1Ingest.Result w = P1Ingest.run(nodes, options.p1Clients(), options.warmup(), 200_000, bases, runId + "w");
        System.out.printf("  (warm-up: %.0f images/s)%n", w.perSecond());
      }
      Profiler profiler = profiler("p1-" + nodes + "node");
      P1Ingest.Result r = P1Ingest.run(nodes, options.p1Clients(), options.seconds(), 200_000, bases, runId);
      profiler.report();
      String name = nodes == 1 ? "P1 ingest 1 node" : "P1 ingest " + nodes + " nodes RF2";
      double share = nodes == 1 ? 0.70 : 0.35;
      double ratio = r.perSecond() / C_SINK_IMAGES_PER_SECOND;
      String target = String.format("target >= %.0f/s (%.0f %% of C sink 3,800/s)", share * C_SINK_IMAGES_PER_SECOND,
          share * 100);
      report(String.format("%s: %.0f images/s stored (%d of %d acknowledged listed, %d failed, catalog had %d; "
              + "acknowledged per %d s: %s), p50 %.1f ms, p99 %.1f ms | %s: %.0f %% of C sink, %s", name,
          r.perSecond(), r.stored(), r.acknowledged(), r.failed(), r.catalogBefore(), P1Ingest.SLICE_SECONDS,
          r.timeline(), r.p50Millis(), r.p99Millis(), target, ratio * 100, verdict(ratio >= share)),
          String.format("%-22s %7.0f images/s   %s   %.0f %% of C sink   %s", name, r.perSecond(), target,
              ratio * 100, verdict(ratio >= share)));
    }
  }

  private void p3() throws Exception {
    reshape(3, Optional.empty());
    if (warmingUp()) {
      P3Tracker.Result w = P3Tracker.run(3, options.p3Clients(), options.warmup(), 0.10, 5_000_000, runId + "w");
      System.out.printf("  (warm-up: %.0f req/s)%n", w.perSecond());
    }
    Profiler profiler = profiler("p3");
    P3Tracker.Result r = P3Tracker.run(3, options.p3Clients(), options.seconds(), 0.10, 5_000_000, runId);
    profiler.report();
    boolean met = r.perSecond() >= LEGACY_TRACKER_REQUESTS_PER_SECOND && r.p99() <= 2.0;
    String target = "target >= 49,000 req/s and p99 <= 2 ms";
    report(String.format("P3 tracker 90 %% LST / 10 %% REG+UPD, %d clients over 3 nodes (catalog %d): %.0f req/s "
            + "(%d requests, %d errors, %d timeouts), p50 %.2f ms, p99 %.2f ms (LST %.2f, writes %.2f); one at a "
            + "time: LST p50 %.2f ms, p99 %.2f ms; LST only: %.0f req/s, p99 %.2f ms | %s: %.0f %% of it, %s",
        options.p3Clients(), r.catalog(), r.perSecond(), r.requests(), r.errors(), r.timeouts(), r.p50(), r.p99(),
        r.lstP99(), r.writeP99(), r.idleLstP50(), r.idleLstP99(), r.lstOnlyPerSecond(), r.lstOnlyP99(), target,
        r.perSecond() / LEGACY_TRACKER_REQUESTS_PER_SECOND * 100, verdict(met)),
        String.format("%-22s %7.0f req/s, p99 %.1f ms   %s   %s", "P3 tracker LST mix", r.perSecond(), r.p99(),
            target, verdict(met)));
  }

  private void p2() throws Exception {
    reshape(3, Optional.empty());
    byte[] base = BenchImages.noisePng(900_000, runId.hashCode());
    if (warmingUp()) {
      P2Transfer.Result w = P2Transfer.run(3, options.p2Clients(), options.warmup(), 5_000, base, runId + "w");
      System.out.printf("  (warm-up: %.1f MB/s)%n", w.megabytesPerSecond());
    }
    Profiler profiler = profiler("p2");
    P2Transfer.Result r = P2Transfer.run(3, options.p2Clients(), options.seconds(), 5_000, base, runId);
    profiler.report();
    double ratio = r.megabytesPerSecond() / LEGACY_P2_MB_PER_SECOND;
    String target = String.format("target >= %.0f MB/s (3 x seed 001's 34)", 3 * LEGACY_P2_MB_PER_SECOND);
    report(String.format("P2 upload+download %d KB, %d clients over 3 nodes: %.1f MB/s (up %.1f, down %.1f; %d "
            + "uploads, %d downloads, %d failed%s), upload p50 %.0f ms p99 %.0f ms, download p50 %.0f ms p99 %.0f "
            + "ms | %s: %.2f x seed 001, %s", base.length / 1000, options.p2Clients(), r.megabytesPerSecond(),
        r.uploadMBps(), r.downloadMBps(), r.uploads(), r.downloads(), r.failed(),
        r.firstError().isEmpty() ? "" : ", first: " + r.firstError(), r.uploadP50(), r.uploadP99(), r.downloadP50(),
        r.downloadP99(), target, ratio, verdict(ratio >= 3)),
        String.format("%-22s %7.1f MB/s   %s   %.2f x seed 001   %s", "P2 upload+download", r.megabytesPerSecond(),
            target, ratio, verdict(ratio >= 3)));
  }

  private boolean memory() throws Exception {
    reshape(1, Optional.of("-Xmx" + options.smallHeap()));
    LargeImage.Result r = LargeImage.run(cluster, 64L * 1024 * 1024, runId);
    double mib = 1024.0 * 1024.0;
    String target = "target: every transfer ok, the image streamed, never whole in the heap";
    report(String.format("memory: node max heap %.0f MiB, image %.1f MiB: P1 upload %s, P4 GET %s, P2 UPLOAD %s, "
            + "P2 DOWNLOAD %s; peak heap used seen %.0f MiB; node %s%s | %s: %s", r.maxHeap() / mib,
        r.imageBytes() / mib, step(r.p1Upload()), step(r.p4Download()), step(r.p2Upload()), step(r.p2Download()),
        r.peakHeapUsed() / mib, r.nodeAlive() ? "alive" : "DEAD",
        r.outOfMemory() ? ", OutOfMemoryError in its log" : "", target, verdict(r.ok())),
        String.format("%-22s %s, max heap %.0f MiB, image %.1f MiB, peak heap seen %.0f MiB   %s",
            "memory 64 MiB image", r.ok() ? "4 transfers ok" : "FAILED", r.maxHeap() / mib, r.imageBytes() / mib,
            r.peakHeapUsed() / mib, verdict(r.ok())));
    return r.ok();
  }

  private static String step(LargeImage.Step s) {
    return String.format(s.ok() ? "ok (%.1f s, %s)" : "FAILED (%.1f s: %s)", s.seconds(), s.detail());
  }

  private static String verdict(boolean met) {
    return met ? "MET" : "MISSED";
  }

  /** Prints a scenario's line now and keeps its short form for the summary. */
  private void report(String line, String summaryLine) {
    System.out.println(line);
    summary.add(summaryLine);
  }

  /**
   * Whether to run a scenario's load untimed first. Freshly started nodes spend close to half their CPU in the
   * JIT compilers for their first half minute (C1/C2 threads in {@code jcmd Thread.print}), which a timed
   * window right after {@code bin/cluster up} would count against the design.
   */
  private boolean warmingUp() {
    return options.warmup() > 0;
  }

  private Profiler profiler(String name) {
    return options.profile() ? Profiler.start(cluster, name, options.seconds()) : Profiler.NONE;
  }

  /** Puts the cluster in {@code nodes} nodes with {@code javaOpts}, reusing what runs when it already fits. */
  private void reshape(int nodes, Optional<String> javaOpts) throws Exception {
    String wanted = "nodes=" + nodes + javaOpts.map(o -> " " + o).orElse("");
    if (wanted.equals(shape)) return;
    if (shape.equals("nodes=1") && wanted.equals("nodes=3")) {
      cluster.run(Optional.empty(), "up", "--nodes", "3");
    } else {
      if (!cluster.runningNodes().isEmpty()) cluster.run(Optional.empty(), "down");
      cluster.run(javaOpts, "up", "--nodes", String.valueOf(nodes));
    }
    shape = wanted;
    Thread.sleep(3000); // let joining nodes finish their first gossip rounds before the clock starts
  }

  private void restore(List<Integer> before) throws Exception {
    String original = before.isEmpty() ? "" : "nodes=" + before.size();
    if (original.equals(shape)) return;
    if (!cluster.runningNodes().isEmpty()) cluster.run(Optional.empty(), "down");
    if (!before.isEmpty()) {
      cluster.run(Optional.empty(), "up", "--nodes", String.valueOf(before.get(before.size() - 1)));
    }
  }

  private static List<Integer> range(int n) {
    List<Integer> r = new ArrayList<>();
    for (int i = 1; i <= n; i++) r.add(i);
    return r;
  }
}
