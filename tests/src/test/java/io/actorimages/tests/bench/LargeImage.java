package io.actorimages.tests.bench;

import io.actorimages.tests.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scenario 4 (DESIGN.md: "bytes stream from socket to file without being held whole in memory"): one image of
 * {@code max-image-bytes} (64 MiB) goes into a single node started with a small heap, through P1 (read back with
 * P4 {@code GET}) and through P2 ({@code UPLOAD}, then {@code DOWNLOAD}); every transfer must succeed with the
 * right bytes. Meanwhile the node's heap use is sampled from its {@code /metrics}, and afterwards its log is
 * searched for an {@code OutOfMemoryError}.
 */
public final class LargeImage {
  /** One transfer: whether it succeeded, how long it took, and what went wrong. */
  public record Step(boolean ok, double seconds, String detail) {}

  /** What the run showed; sizes in bytes. */
  public record Result(long maxHeap, long imageBytes, long peakHeapUsed, Step p1Upload, Step p4Download,
                       Step p2Upload, Step p2Download, boolean nodeAlive, boolean outOfMemory) {
    /** Whether every transfer succeeded and the node survived them. */
    public boolean ok() {
      return p1Upload.ok() && p4Download.ok() && p2Upload.ok() && p2Download.ok() && nodeAlive && !outOfMemory;
    }
  }

  private interface Transfer {
    String run() throws Exception;
  }

  private LargeImage() {}

  /** Runs against node 1 of {@code cluster}, which the caller started alone with a small heap. */
  public static Result run(LocalCluster cluster, long imageBytes, String runId) throws Exception {
    long seed = runId.hashCode();
    byte[] viaP1 = BenchImages.noiseBmp(imageBytes, seed);
    byte[] viaP2 = viaP1.clone();
    viaP2[54] ^= 1; // one pixel byte: a second, distinct image without a second 64 MiB of noise to make
    String p1Md5 = TestImages.md5(viaP1);
    String p2Md5 = TestImages.md5(viaP2);
    String p2Name = "bench-" + runId + "-large.bmp";
    long maxHeap = (long) LocalCluster.metrics(1).getOrDefault("jvm_memory_max_bytes", -1.0).doubleValue();

    AtomicLong peak = new AtomicLong();
    Thread sampler = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        try {
          long used = LocalCluster.metrics(1).getOrDefault("jvm_memory_used_bytes", 0.0).longValue();
          peak.accumulateAndGet(used, Math::max);
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        } catch (Exception e) {
          // a node busy enough to miss one sample is fine; the next one counts
        }
      }
    }, "heap-sampler");
    sampler.setDaemon(true);
    sampler.start();

    Step p1 = step(() -> {
      P1Ingest.send(LocalCluster.host(1), viaP1, 180_000);
      awaitCatalog(p1Md5, Duration.ofSeconds(30));
      return "stored";
    });
    Step p4 = step(() -> {
      String md5 = p4Get(p1Md5);
      if (!md5.equals(p1Md5)) throw new IllegalStateException("P4 GET returned bytes with md5 " + md5);
      return "md5 matches";
    });
    Step p2Up = step(() -> {
      try (BenchP2Client p2 = new BenchP2Client(LocalCluster.host(1), Duration.ofSeconds(180))) {
        p2.command("AUTH", "bench");
        var reply = p2.upload(p2Name, viaP2);
        if (!"SUCCESS".equals(reply.path("status").asText())) throw new IllegalStateException(reply.toString());
        return "SUCCESS";
      }
    });
    Step p2Down = step(() -> {
      try (BenchP2Client p2 = new BenchP2Client(LocalCluster.host(1), Duration.ofSeconds(180))) {
        p2.command("AUTH", "bench");
        BenchP2Client.Binary got = p2.download(p2Name);
        if (!got.md5().equals(p2Md5)) throw new IllegalStateException("DOWNLOAD returned md5 " + got.md5());
        return "md5 matches";
      }
    });
    sampler.interrupt();
    sampler.join(5000);
    boolean alive = cluster.pid(1).isPresent();
    boolean oom = Files.exists(cluster.nodeLog(1)) && Files.readString(cluster.nodeLog(1), StandardCharsets.UTF_8)
        .contains("OutOfMemoryError");
    return new Result(maxHeap, viaP1.length, peak.get(), p1, p4, p2Up, p2Down, alive, oom);
  }

  private static Step step(Transfer transfer) {
    long t0 = System.nanoTime();
    try {
      String detail = transfer.run();
      return new Step(true, (System.nanoTime() - t0) / 1e9, detail);
    } catch (Exception e) {
      return new Step(false, (System.nanoTime() - t0) / 1e9, String.valueOf(e.getMessage()));
    }
  }

  /** P4 {@code GET <md5>} from node 1, hashing the reply as it arrives; the reply's md5. */
  private static String p4Get(String md5) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(LocalCluster.host(1), 13378), 5000);
      socket.setSoTimeout(60_000);
      socket.getOutputStream().write(("GET " + md5).getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      MessageDigest digest = MessageDigest.getInstance("MD5");
      InputStream in = socket.getInputStream();
      byte[] buf = new byte[256 * 1024];
      for (int n; (n = in.read(buf)) >= 0; ) digest.update(buf, 0, n);
      return HexFormat.of().formatHex(digest.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Waits until node 1's HTTP API knows {@code md5} (P1 has no reply that names the image). */
  private static void awaitCatalog(String md5, Duration limit) throws Exception {
    long until = System.nanoTime() + limit.toNanos();
    while (true) {
      try {
        LocalCluster.get(1, "/api/images/" + md5);
        return;
      } catch (IOException notYet) {
        if (System.nanoTime() > until) throw new IllegalStateException("the catalog does not list " + md5);
        Thread.sleep(500);
      }
    }
  }
}
