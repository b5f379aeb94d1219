package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 3, point 3 ("durable store so a full restart keeps it") and point 6 ("acknowledged means durable"),
 * over real sockets: a 3-node cluster on 127.0.0.41–43 takes an image by P1, one by P2 and a legacy peer's
 * registration by P3, and is stopped as soon as each was acknowledged. A new cluster on the same data
 * directories then serves all of it from every node — catalog, bytes, tracker registrations and passwords —
 * with nothing re-sent.
 */
class RestartTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration AFTER_START = Duration.ofSeconds(30);
  /** The legacy peer's source address: in this test's loopback range, not a node's. */
  private static final String PEER_IP = "127.0.0.49";
  private static final int PEER_PORT = 40_049;
  private static final String PASSWORD = "re'st\"art;pw";
  private static final String PEER_MD5 = "5d41402abc4b2a76b9719d911017c592";

  /** Everything acknowledged before a full stop is served by every node of the restarted cluster. */
  @Test
  void fullRestartKeepsImagesCatalogAndTracker() throws Exception {
    byte[] rocket = TestImages.bytes("rocket.jpg");
    byte[] chelsea = TestImages.bytes("chelsea.png");
    String rocketMd5 = TestImages.md5(rocket);
    String chelseaMd5 = TestImages.md5(chelsea);

    TestCluster before = TestCluster.start(40, 3, "");
    Path root = before.root();
    JsonNode listBefore;
    String lstBefore;
    try {
      assertEquals(0, LegacyP1.send(before.host(1), rocket), "P1 acknowledges by closing");
      try (LegacyP2 p2 = LegacyP2.connect(before.host(2))) {
        p2.command("AUTH", "alice");
        assertEquals("SUCCESS", p2.upload("chelsea.png", chelsea).path("status").asText());
      }
      assertEquals("OK 1_REGISTERED_IMAGES", LegacyP3.request(before.host(3), PEER_IP,
          "REG " + PASSWORD + " " + PEER_PORT + " " + PEER_MD5 + ",peer.jpg"));
      listBefore = Poll.value(AFTER_START, "P2 LIST on node 2 with both images", () -> {
        JsonNode data = p2List(before.host(2));
        return data.size() == 2 ? data : null;
      });
      lstBefore = Poll.value(AFTER_START, "LST on node 1 with both images and the peer", () -> {
        String reply = lst(before.host(1));
        return reply.contains(rocketMd5) && reply.contains(chelseaMd5) && reply.contains(PEER_MD5) ? reply : null;
      });
    } finally {
      before.close(false);
    }
    assertTrue(item(lstBefore, chelseaMd5).startsWith(chelseaMd5 + ",chelsea.png,"), lstBefore);
    assertTrue(item(lstBefore, rocketMd5).contains(":13378"), "held by cluster nodes: " + lstBefore);
    assertEquals(PEER_MD5 + ",peer.jpg," + PEER_IP + ":" + PEER_PORT, item(lstBefore, PEER_MD5));

    try (TestCluster after = TestCluster.start(40, 3, "", root)) {
      for (int i = 1; i <= 3; i++) {
        String host = after.host(i);
        assertEquals(listBefore, Poll.value(AFTER_START, "P2 LIST on " + host + " as before the restart", () -> {
          JsonNode data = p2List(host);
          return data.equals(listBefore) ? data : null;
        }));

        // Same names, same holders (the nodes chosen at ingest, every one Up again), same order.
        assertEquals(lstBefore, Poll.value(AFTER_START, "LST on " + host + " as before the restart", () -> {
          String reply = lst(host);
          return reply.equals(lstBefore) ? reply : null;
        }));

        for (byte[] image : List.of(rocket, chelsea)) {
          String md5 = TestImages.md5(image);
          assertArrayEquals(image, LegacyP3.get(host, 13378, md5), "P4 GET " + md5 + " on " + host);
          assertArrayEquals(image, content(host, md5), "HTTP content of " + md5 + " on " + host);
        }

        JsonNode peers = JSON.readTree(after.http(i, "/api/tracker/peers").body());
        assertEquals(1, peers.size(), peers.toString());
        assertEquals(PEER_IP, peers.get(0).path("ip").asText());
        assertEquals(PEER_PORT, peers.get(0).path("port").asInt());
        assertTrue(peers.toString().contains(PEER_MD5), peers.toString());
        assertFalse(peers.toString().contains("art;pw"), "no password in the API");

        // The tracker singleton reloaded the salted hash: the old password still works, another does not.
        assertEquals("ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD",
            LegacyP3.request(host, PEER_IP, "UPD wrong " + PEER_PORT + " " + PEER_MD5 + ",peer.jpg"));
        assertEquals("OK 1_REGISTERED_FILES",
            LegacyP3.request(host, PEER_IP, "UPD " + PASSWORD + " " + PEER_PORT + " " + PEER_MD5 + ",peer.jpg"));
      }
    }
  }

  /** The {@code data} of a P2 {@code LIST} reply from {@code host}. */
  private static JsonNode p2List(String host) {
    try (LegacyP2 p2 = LegacyP2.connect(host)) {
      p2.command("AUTH", "restart-test");
      return p2.command("LIST").path("data");
    } catch (Exception e) {
      throw new IllegalStateException("P2 LIST on " + host, e);
    }
  }

  private static String lst(String host) {
    try {
      return LegacyP3.request(host, PEER_IP, "LST");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The item of {@code md5} in an LST reply, split as the seed-002 client splits it. */
  private static String item(String lst, String md5) {
    return Arrays.stream(lst.split(";")).filter(i -> i.startsWith(md5 + ",")).findFirst()
        .orElseThrow(() -> new AssertionError(md5 + " not in " + lst));
  }

  private static byte[] content(String host, String md5) throws IOException, InterruptedException {
    HttpResponse<byte[]> rsp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://" + host + ":8080/api/images/" + md5 + "/content")).timeout(Duration.ofSeconds(20))
        .build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, rsp.statusCode(), "HTTP content of " + md5 + " on " + host);
    return rsp.body();
  }
}
