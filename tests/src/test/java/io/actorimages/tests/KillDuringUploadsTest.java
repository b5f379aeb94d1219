package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Issue 4 point 6, first scenario, with real processes on 127.0.0.61–63: {@code kill -9} of one of three nodes
 * while four P2 clients, spread over all nodes, send 320 uploads. Every upload acknowledged with SUCCESS must be
 * listed afterwards and download byte-identical from every survivor, and after self-repair every image has
 * {@code replication-factor} (2) replicas on live nodes again.
 */
class KillDuringUploadsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int CLIENTS = 4;
  private static final int UPLOADS_PER_CLIENT = 80;
  private static final int KILL_AFTER_ACKS = 100;

  @Test
  void everyAcknowledgedUploadSurvivesTheKillAndIsReplicatedAgain() throws Exception {
    try (NodeProcesses nodes = NodeProcesses.start(60, 3)) {
      Map<String, byte[]> acknowledged = new ConcurrentHashMap<>();
      AtomicInteger failed = new AtomicInteger();
      CountDownLatch enoughAcks = new CountDownLatch(KILL_AFTER_ACKS);
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        clients.submit(() -> upload(nodes, client, acknowledged, failed, enoughAcks));
      }
      assertTrue(enoughAcks.await(120, TimeUnit.SECONDS), "first " + KILL_AFTER_ACKS + " uploads acknowledged");
      nodes.kill(3);
      long killedAt = System.nanoTime();
      clients.shutdown();
      assertTrue(clients.awaitTermination(5, TimeUnit.MINUTES), "uploads finished");

      nodes.awaitUpMembers(2, Duration.ofSeconds(60));
      // Self-repair: every acknowledged image back on two live nodes.
      Set<String> live = Set.of(nodes.host(1), nodes.host(2));
      for (String md5 : acknowledged.keySet()) {
        Poll.until(Duration.ofSeconds(90), "two live replicas of " + md5, () -> {
          List<String> holders = holders(nodes, md5);
          return holders.size() == 2 && live.containsAll(holders);
        });
      }
      double repairSeconds = (System.nanoTime() - killedAt) / 1e9;

      // Listed and byte-identical from every survivor.
      Set<String> listed = listedMd5s(nodes, 2);
      int lost = 0;
      for (var e : acknowledged.entrySet()) {
        if (!listed.contains(e.getKey())) lost++;
        for (int i = 1; i <= 2; i++) {
          assertArrayEquals(e.getValue(), LegacyP3.get(nodes.host(i), 13378, e.getKey()), e.getKey() + " on " + i);
        }
      }
      System.out.printf("kill -9 during uploads: acknowledged %d, failed %d, lost %d, repaired within %.1f s%n",
          acknowledged.size(), failed.get(), lost, repairSeconds);
      assertEquals(0, lost, "acknowledged uploads missing from the catalog");
      assertTrue(acknowledged.size() + failed.get() >= CLIENTS * UPLOADS_PER_CLIENT, "all uploads attempted");
    }
  }

  /** One client: uploads its images over P2, moving to the next live node when its node dies. */
  private static void upload(NodeProcesses nodes, int client, Map<String, byte[]> acknowledged,
                             AtomicInteger failed, CountDownLatch enoughAcks) {
    int node = client % 3 + 1;
    LegacyP2 p2 = null;
    for (int n = 0; n < UPLOADS_PER_CLIENT; n++) {
      byte[] image = image(client * 1000 + n);
      try {
        if (p2 == null) {
          p2 = LegacyP2.connect(nodes.host(node));
          p2.command("AUTH", "client" + client);
        }
        JsonNode reply = p2.upload("img-" + client + "-" + n + ".png", image);
        if ("SUCCESS".equals(reply.path("status").asText())) {
          acknowledged.put(TestImages.md5(image), image);
          enoughAcks.countDown();
        } else {
          failed.incrementAndGet();
        }
      } catch (Throwable connectionLost) {
        failed.incrementAndGet();
        if (p2 != null) p2.close();
        p2 = null;
        node = node % 3 + 1;
        if (!nodes.alive(node)) node = node % 3 + 1;
      }
    }
    if (p2 != null) p2.close();
  }

  /** A small distinct PNG: 48×48 of seeded noise. */
  static byte[] image(int seed) {
    BufferedImage img = new BufferedImage(48, 48, BufferedImage.TYPE_INT_RGB);
    Random random = new Random(seed);
    for (int y = 0; y < 48; y++) for (int x = 0; x < 48; x++) img.setRGB(x, y, random.nextInt(0x1000000));
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(img, "png", out);
      return out.toByteArray();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static List<String> holders(NodeProcesses nodes, String md5) {
    try {
      List<String> holders = new ArrayList<>();
      JSON.readTree(nodes.http(1, "/api/images/" + md5)).path("nodes").forEach(n -> holders.add(n.asText()));
      return holders;
    } catch (Exception e) {
      return List.of();
    }
  }

  private static Set<String> listedMd5s(NodeProcesses nodes, int node) throws Exception {
    Set<String> md5s = new java.util.HashSet<>();
    String after = null;
    do {
      JsonNode page = JSON.readTree(nodes.http(node, "/api/images?limit=500" + (after == null ? "" : "&after=" + after)));
      page.path("images").forEach(i -> md5s.add(i.path("md5").asText()));
      after = page.path("next").isNull() ? null : page.path("next").asText();
    } while (after != null);
    return md5s;
  }
}
