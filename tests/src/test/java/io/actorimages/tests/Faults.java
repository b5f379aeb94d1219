package io.actorimages.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code bin/faults}: the fault scenarios of issue 4 against a running {@code bin/cluster} of three nodes on
 * 127.0.0.1–3, printing one line of figures. Four P2 clients send 320 uploads over all nodes; after 100 are
 * acknowledged the node running the tracker singleton gets {@code kill -9}; then it measures how long until
 * the tracker takes writes again on a survivor, how long until every image has two live replicas again,
 * checks that every acknowledged upload is listed and downloads byte-identical from every survivor, and
 * finally times a full restart ({@code bin/cluster down}, {@code bin/cluster up}) until everything is back.
 * Bounded: every wait has a deadline; only loopback is addressed.
 */
public final class Faults {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int CLIENTS = 4;
  private static final int UPLOADS_PER_CLIENT = 80;
  private static final String PEER_MD5 = "f".repeat(32);

  private Faults() {}

  /**
   * @param args {@code [repository root]}, default the working directory
   */
  public static void main(String[] args) throws Exception {
    Path root = Path.of(args.length > 0 ? args[0] : ".").toAbsolutePath().normalize();
    Path cluster = root.resolve("bin/cluster");
    run(cluster, "up", "--nodes", "3");
    String peerRegistration = "REG faults;pw 45001 '" + PEER_MD5 + ",faults-peer.jpg'";
    LegacyP3.request(host(1), "127.0.0.1", peerRegistration);

    Map<String, byte[]> acknowledged = new ConcurrentHashMap<>();
    AtomicInteger failed = new AtomicInteger();
    CountDownLatch enough = new CountDownLatch(100);
    Set<Integer> dead = ConcurrentHashMap.newKeySet();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    for (int c = 0; c < CLIENTS; c++) {
      int client = c;
      clients.submit(() -> Uploads.run(client, UPLOADS_PER_CLIENT, i -> host(i), i -> !dead.contains(i), acknowledged,
          failed, enough));
    }
    if (!enough.await(180, TimeUnit.SECONDS)) throw new IllegalStateException("100 uploads not acknowledged in 180 s");
    String trackerHost = JSON.readTree(http(1, "/api/cluster")).path("trackerHost").asText();
    int victim = Integer.parseInt(trackerHost.substring(trackerHost.lastIndexOf('.') + 1));
    int survivor = victim == 1 ? 2 : 1;
    dead.add(victim);
    run(cluster, "kill", String.valueOf(victim));
    long killedAt = System.nanoTime();
    Poll.until(Duration.ofSeconds(60), "the tracker taking writes again", () -> quickUpd(survivor));
    double failover = seconds(killedAt);
    clients.shutdown();
    if (!clients.awaitTermination(10, TimeUnit.MINUTES)) throw new IllegalStateException("uploads did not finish");

    List<Integer> survivors = new ArrayList<>(List.of(1, 2, 3));
    survivors.remove(Integer.valueOf(victim));
    Set<String> live = new HashSet<>();
    for (int i : survivors) live.add(host(i));
    for (String md5 : acknowledged.keySet()) {
      Poll.until(Duration.ofSeconds(180), "two live replicas of " + md5, () -> {
        List<String> holders = holders(survivor, md5);
        return holders.size() == 2 && live.containsAll(holders);
      });
    }
    double repair = seconds(killedAt);
    int lost = 0;
    for (var e : acknowledged.entrySet()) {
      for (int i : survivors) {
        byte[] got = LegacyP3.get(host(i), 13378, e.getKey());
        if (!java.util.Arrays.equals(got, e.getValue())) {
          lost++;
          break;
        }
      }
    }

    run(cluster, "down");
    long restartedAt = System.nanoTime();
    run(cluster, "up", "--nodes", "3");
    for (int i = 1; i <= 3; i++) {
      int node = i;
      Poll.until(Duration.ofSeconds(120), "node " + i + " listing every image and the peer", () ->
          listed(node).containsAll(acknowledged.keySet()) && peerRegistered(node));
    }
    double restart = seconds(restartedAt);
    System.out.printf("faults: uploads acknowledged %d (failed cleanly %d), lost %d, failover %.1f s, "
            + "repair %.1f s, restart %.1f s%n", acknowledged.size(), failed.get(), lost, failover, repair, restart);
    System.exit(lost == 0 ? 0 : 1);
  }

  private static String host(int i) {
    return "127.0.0." + i;
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  private static boolean quickUpd(int node) {
    try {
      String reply = LegacyP3.request(host(node), "127.0.0.1",
          ("UPD faults;pw 45001 '" + PEER_MD5 + ",faults-peer.jpg'").getBytes(java.nio.charset.StandardCharsets.UTF_8),
          1024, 1000);
      return reply.equals("OK 1_REGISTERED_FILES");
    } catch (IOException e) {
      return false;
    }
  }

  /** Whether the tracker still has the peer (LST shows only the newest 4,096 bytes, so ask the API). */
  private static boolean peerRegistered(int node) {
    try {
      return http(node, "/api/tracker/peers").contains("\"port\":45001");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static List<String> holders(int node, String md5) {
    try {
      List<String> holders = new ArrayList<>();
      JSON.readTree(http(node, "/api/images/" + md5)).path("nodes").forEach(n -> holders.add(n.asText()));
      return holders;
    } catch (Exception e) {
      return List.of();
    }
  }

  private static Set<String> listed(int node) {
    Set<String> md5s = new HashSet<>();
    try {
      String after = null;
      do {
        JsonNode page = JSON.readTree(http(node, "/api/images?limit=500" + (after == null ? "" : "&after=" + after)));
        page.path("images").forEach(i -> md5s.add(i.path("md5").asText()));
        after = page.path("next").isNull() ? null : page.path("next").asText();
      } while (after != null);
    } catch (Exception e) {
      // not answering yet
    }
    return md5s;
  }

  private static String http(int node, String path) throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + host(node) + ":8080" + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static void run(Path cluster, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(cluster.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).inheritIO().start();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed");
    }
  }
}
