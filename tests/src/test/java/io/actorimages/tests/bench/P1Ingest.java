package io.actorimages.tests.bench;

import io.actorimages.tests.TestImages;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Scenario 1 (DESIGN.md "Performance", P1 row): camera-style clients each send ~100 KB JPEGs over P1, one
 * connection per image as the seed-000 client does (length, bytes, half-close, wait for the node's close), for a
 * fixed time. An image counts only if the node closed its connection cleanly <em>and</em> the catalog lists its
 * md5 afterwards; latency is from connect to the node's close, which the node sends only once the image is
 * durable on every replica and in the catalog.
 */
public final class P1Ingest {
  /** What one run measured. */
  public record Result(int nodes, double seconds, int acknowledged, int stored, int failed, double perSecond,
                       double p50Millis, double p99Millis, long catalogBefore, List<Integer> perSlice) {
    /** Acknowledgements per {@link #SLICE_SECONDS}-second slice of the window, as {@code "a, b, c"}. */
    public String timeline() {
      return perSlice.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", "));
    }
  }

  /** Width of one slice of {@link Result#perSlice()}: how the rate moves as the catalog grows shows there. */
  public static final int SLICE_SECONDS = 5;

  private record Sent(int client, int n) {}

  private P1Ingest() {}

  /**
   * Runs {@code clients} senders for {@code seconds} (at most {@code maxImages} images in all) against nodes
   * 1..{@code nodes}, client {@code c} on node {@code c % nodes + 1}.
   */
  public static Result run(int nodes, int clients, int seconds, int maxImages, List<byte[]> bases, String runId)
      throws Exception {
    long catalogBefore = LocalCluster.catalogSize(1);
    Instant windowStart = Instant.now().minusSeconds(2); // the node's clock is this machine's clock
    AtomicInteger budget = new AtomicInteger(maxImages);
    AtomicInteger failed = new AtomicInteger();
    AtomicIntegerArray slices = new AtomicIntegerArray(seconds / SLICE_SECONDS + 2);
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long start = System.nanoTime();
    long deadline = start + seconds * 1_000_000_000L;
    List<Future<List<Sent>>> futures = new ArrayList<>();
    List<Latencies> latencies = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      Latencies mine = new Latencies();
      latencies.add(mine);
      futures.add(pool.submit(() -> sendUntil(client, LocalCluster.host(client % nodes + 1), bases.get(client
          % bases.size()), runId, start, deadline, budget, mine, failed, slices)));
    }
    List<Sent> acknowledged = new ArrayList<>();
    for (Future<List<Sent>> f : futures) acknowledged.addAll(f.get());
    double elapsed = (System.nanoTime() - start) / 1e9;
    pool.shutdown();

    // Hashing happens after the timed window, so the load generator spends its share of the 2 cores on sending.
    Set<String> expected = new HashSet<>();
    for (Sent s : acknowledged) expected.add(TestImages.md5(image(bases.get(s.client() % bases.size()), runId, s)));
    int stored = countListed(expected, windowStart);
    Latencies all = new Latencies();
    latencies.forEach(all::addAll);
    List<Integer> perSlice = new ArrayList<>();
    for (int i = 0; i < slices.length() && i * SLICE_SECONDS < elapsed; i++) perSlice.add(slices.get(i));
    return new Result(nodes, elapsed, acknowledged.size(), stored, failed.get(), stored / elapsed,
        all.percentileMillis(50), all.percentileMillis(99), catalogBefore, perSlice);
  }

  /** How many of {@code expected} node 1's catalog lists; waits up to 20 s for gossip to bring the last ones. */
  private static int countListed(Set<String> expected, Instant since) throws Exception {
    int listed = 0;
    long until = System.nanoTime() + 20_000_000_000L;
    while (System.nanoTime() < until) {
      Set<String> md5s = LocalCluster.md5sSince(1, since);
      listed = (int) expected.stream().filter(md5s::contains).count();
      if (listed == expected.size()) break;
      Thread.sleep(1000);
    }
    return listed;
  }

  private static byte[] image(byte[] base, String runId, Sent s) {
    return BenchImages.jpegWithComment(base, "actorimages-bench " + runId + " p1 " + s.client() + " " + s.n());
  }

  private static List<Sent> sendUntil(int client, String host, byte[] base, String runId, long start, long deadline,
                                      AtomicInteger budget, Latencies latencies, AtomicInteger failed,
                                      AtomicIntegerArray slices) {
    List<Sent> acknowledged = new ArrayList<>();
    for (int n = 0; System.nanoTime() < deadline && budget.getAndDecrement() > 0; n++) {
      Sent sent = new Sent(client, n);
      byte[] image = image(base, runId, sent);
      long t0 = System.nanoTime();
      try {
        send(host, image, 30_000);
        long now = System.nanoTime();
        latencies.add(now - t0);
        acknowledged.add(sent);
        slices.incrementAndGet((int) Math.min(slices.length() - 1, (now - start) / (SLICE_SECONDS * 1_000_000_000L)));
      } catch (IOException e) {
        failed.incrementAndGet();
      }
    }
    return acknowledged;
  }

  /**
   * One P1 frame on its own connection, as the camera client sends it, returning once the node closed the
   * connection. Writes straight from {@code image}: no second copy, which matters for the 64 MiB frame.
   *
   * @throws IOException the connection failed, timed out, or the node wrote bytes (P1 has no reply)
   */
  public static void send(String host, byte[] image, int timeoutMillis) throws IOException {
    try (Socket socket = new Socket()) {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, 5001), 5000);
      socket.setSoTimeout(timeoutMillis);
      OutputStream out = socket.getOutputStream();
      out.write(ByteBuffer.allocate(4).putInt(image.length).array());
      out.write(image);
      out.flush();
      socket.shutdownOutput();
      InputStream in = socket.getInputStream();
      if (in.read() >= 0) throw new IOException("the node wrote to a P1 connection");
    }
  }
}
