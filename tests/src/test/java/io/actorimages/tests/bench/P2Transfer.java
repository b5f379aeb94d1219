package io.actorimages.tests.bench;

import io.actorimages.tests.TestImages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scenario 3 (DESIGN.md "Performance", P2 row): P2 clients, spread over the nodes, each in a loop uploading a
 * distinct ~900 KB image and downloading it again by name on the same connection, as a seed-001 user would. The
 * figure is the bytes moved both ways per second; only uploads answered {@code SUCCESS} and downloads whose MD5
 * is the uploaded one count. The node a client talks to holds a replica of only some of its images (2 of 3
 * nodes hold each), so part of the downloads are streamed from another node, as in real use.
 */
public final class P2Transfer {
  /** What one run measured; latencies in milliseconds. */
  public record Result(double seconds, int uploads, int downloads, int failed, double megabytesPerSecond,
                       double uploadMBps, double downloadMBps, double uploadP50, double uploadP99,
                       double downloadP50, double downloadP99, String firstError) {}

  private P2Transfer() {}

  /** Runs {@code clients} P2 clients for {@code seconds}, at most {@code maxUploads} uploads in all. */
  public static Result run(int nodes, int clients, int seconds, int maxUploads, byte[] base, String runId)
      throws Exception {
    AtomicInteger budget = new AtomicInteger(maxUploads);
    AtomicInteger uploads = new AtomicInteger();
    AtomicInteger downloads = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicLong upBytes = new AtomicLong();
    AtomicLong downBytes = new AtomicLong();
    List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Latencies> upLat = new ArrayList<>();
    List<Latencies> downLat = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long start = System.nanoTime();
    long deadline = start + seconds * 1_000_000_000L;
    List<Future<?>> futures = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      Latencies up = new Latencies();
      Latencies down = new Latencies();
      upLat.add(up);
      downLat.add(down);
      futures.add(pool.submit(() -> {
        try (BenchP2Client p2 = new BenchP2Client(LocalCluster.host(client % nodes + 1), Duration.ofSeconds(30))) {
          p2.command("AUTH", "bench-" + client);
          for (int n = 0; System.nanoTime() < deadline && budget.getAndDecrement() > 0; n++) {
            String name = "bench-" + runId + "-" + client + "-" + n + ".png";
            byte[] image = BenchImages.pngWithText(base, name);
            try {
              long t0 = System.nanoTime();
              var reply = p2.upload(name, image);
              if (!"SUCCESS".equals(reply.path("status").asText())) throw new IllegalStateException("" + reply);
              long t1 = System.nanoTime();
              up.add(t1 - t0);
              uploads.incrementAndGet();
              upBytes.addAndGet(image.length);
              BenchP2Client.Binary got = p2.download(name);
              down.add(System.nanoTime() - t1);
              if (!got.md5().equals(TestImages.md5(image))) throw new IllegalStateException("wrong bytes: " + name);
              downloads.incrementAndGet();
              downBytes.addAndGet(got.size());
            } catch (Exception e) {
              failed.incrementAndGet();
              errors.add(e.getMessage());
            }
          }
        } catch (Exception e) {
          failed.incrementAndGet();
          errors.add("connect: " + e.getMessage());
        }
      }));
    }
    for (Future<?> f : futures) f.get();
    double elapsed = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    Latencies u = new Latencies();
    upLat.forEach(u::addAll);
    Latencies d = new Latencies();
    downLat.forEach(d::addAll);
    double mb = 1e6; // MB as in DESIGN.md's table: 10^6 bytes
    return new Result(elapsed, uploads.get(), downloads.get(), failed.get(),
        (upBytes.get() + downBytes.get()) / mb / elapsed, upBytes.get() / mb / elapsed, downBytes.get() / mb / elapsed,
        u.percentileMillis(50), u.percentileMillis(99), d.percentileMillis(50), d.percentileMillis(99),
        errors.isEmpty() ? "" : errors.get(0));
  }
}
