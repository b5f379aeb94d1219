package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 3, point 5, over real sockets against a real 3-node cluster on 127.0.0.21–23: an image that enters
 * through any protocol on any node is listed, downloadable byte for byte and announced through every protocol
 * on every node.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OneNamespaceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration SOON = Duration.ofSeconds(10);
  private static TestCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = TestCluster.start(20, 3, "");
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) cluster.close();
  }

  @Test
  @Order(1)
  void p1ImageOnNodeOneIsListedDownloadedAndServedEverywhere() throws Exception {
    byte[] astronaut = TestImages.bytes("astronaut.png");
    String md5 = TestImages.md5(astronaut);

    assertEquals(0, LegacyP1.send(cluster.host(1), astronaut), "P1 never writes to the socket");

    // P3 LST on node 3 names node 1's P4 endpoint as holder.
    String lst = Poll.value(SOON, "LST on node 3 listing " + md5, () -> {
      String reply = lst(3);
      return reply.contains(md5) ? reply : null;
    });
    assertReplicatedOnTwoNodes(md5, astronaut, lst);

    // P2 LIST on node 2 lists it with uploader tcp:<ip>, within seconds: node 2 may not have been part of the
    // majority write and learns of the entry a delta-propagation round later.
    String filename;
    try (LegacyP2 p2 = LegacyP2.connect(cluster.host(2))) {
      assertEquals("SUCCESS", p2.command("AUTH", "bob").path("status").asText());
      JsonNode list = Poll.value(SOON, "LIST on node 2 showing the P1 image", () -> {
        try {
          JsonNode reply = p2.command("LIST");
          for (JsonNode e : reply.path("data")) if (e.path("uploader").asText().startsWith("tcp:")) return reply;
          return null;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      assertEquals("LIST", list.path("cmd").asText());
      JsonNode entry = null;
      for (JsonNode e : list.path("data")) if (e.path("uploader").asText().startsWith("tcp:")) entry = e;
      assertTrue(entry != null, "LIST shows the P1 image: " + list);
      filename = entry.path("filename").asText();
      assertTrue(filename.matches("\\d{6}(-\\d+)?\\.png"), "stored as HHMMSS.png: " + filename);
    }

    // P2 DOWNLOAD and VIEW on node 3 give the bytes back.
    try (LegacyP2 p2 = LegacyP2.connect(cluster.host(3))) {
      p2.command("AUTH", "carol");
      for (String mode : List.of("DOWNLOAD", "VIEW")) {
        JsonNode sizeInfo = p2.command(mode, filename);
        assertEquals("SIZE_INFO", sizeInfo.path("status").asText(), sizeInfo.toString());
        assertEquals(astronaut.length, sizeInfo.path("size").asLong());
        assertEquals(filename, sizeInfo.path("filename").asText());
        assertEquals(mode, sizeInfo.path("mode").asText());
        assertArrayEquals(astronaut, p2.binary());
        assertEquals("SUCCESS", p2.reply().path("status").asText());
      }
    }

    // P4 GET from every node, including those without a replica.
    for (int i = 1; i <= 3; i++) {
      assertArrayEquals(astronaut, LegacyP3.get(cluster.host(i), 13378, md5), "P4 on node " + i);
    }

    // HTTP API: the catalog entry and the bytes.
    JsonNode meta = JSON.readTree(cluster.http(2, "/api/images/" + md5).body());
    assertEquals(md5, meta.path("md5").asText());
    assertEquals(512, meta.path("width").asInt());
    assertEquals(512, meta.path("height").asInt());
    assertEquals("image/png", meta.path("mediaType").asText());
    assertEquals("P1_TCP", meta.path("protocol").asText());
    assertEquals(astronaut.length, meta.path("size").asLong());
    assertEquals(64, meta.path("sha256").asText().length());
    HttpResponse<byte[]> content = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://" + cluster.host(3) + ":8080/api/images/" + md5 + "/content")).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, content.statusCode());
    assertEquals("image/png", content.headers().firstValue("Content-Type").orElse(""));
    assertArrayEquals(astronaut, content.body());
  }

  @Test
  @Order(2)
  void p2UploadOnNodeTwoIsAnnouncedOnNodeThreeAndListedByTheTracker() throws Exception {
    byte[] coffee = TestImages.bytes("coffee.png");
    String md5 = TestImages.md5(coffee);
    try (LegacyP2 watcher = LegacyP2.connect(cluster.host(3)); LegacyP2 uploader = LegacyP2.connect(cluster.host(2))) {
      watcher.command("AUTH", "watcher");
      uploader.command("AUTH", "alice");
      JsonNode done = uploader.upload("coffee.png", coffee);
      assertEquals("SUCCESS", done.path("status").asText(), done.toString());
      assertTrue(done.path("message").asText().startsWith("Upload de coffee.png concluído. ID: "), done.toString());

      JsonNode event = Poll.value(SOON, "NEW_UPLOAD on node 3", () -> {
        try {
          JsonNode e = watcher.event(Duration.ofMillis(500));
          return e != null && e.path("message").asText().contains("coffee.png") ? e : null;
        } catch (InterruptedException ex) {
          throw new IllegalStateException(ex);
        }
      });
      assertEquals("NEW_UPLOAD", event.path("event").asText());
      assertEquals("Novo arquivo 'coffee.png' enviado por alice.", event.path("message").asText());
    }
    String lst = Poll.value(SOON, "LST on node 1 listing coffee", () -> {
      String reply = lst(1);
      return reply.contains(md5) ? reply : null;
    });
    assertTrue(itemOf(lst, md5).startsWith(md5 + ",coffee.png,"), lst);
    assertReplicatedOnTwoNodes(md5, coffee, lst);
    assertArrayEquals(coffee, LegacyP3.get(cluster.host(1), 13378, md5));

    // A new client's AUTH replays the history, oldest first, each item a NEW_UPLOAD event.
    try (LegacyP2 late = LegacyP2.connect(cluster.host(1))) {
      late.sendText("{\"cmd\":\"auth\",\"args\":[\"late\"]}");
      assertEquals("Autenticado como late", late.reply().path("message").asText());
      JsonNode history = Poll.value(SOON, "HISTORY event", () -> {
        try {
          JsonNode e = late.event(Duration.ofMillis(500));
          return e != null && "HISTORY".equals(e.path("event").asText()) ? e : null;
        } catch (InterruptedException ex) {
          throw new IllegalStateException(ex);
        }
      });
      JsonNode last = history.path("data").get(history.path("data").size() - 1);
      assertEquals("NEW_UPLOAD", last.path("event").asText());
      assertEquals("Novo arquivo 'coffee.png' enviado por alice.", last.path("message").asText(), history.toString());
    }
  }

  @Test
  @Order(3)
  void peerRegisteredThroughNodeOneIsListedByNodeThreeAtOnce() throws Exception {
    String md5 = "0123456789abcdef0123456789abcdef";
    String reg = LegacyP3.request(cluster.host(1), "127.0.0.1",
        "REG p'w;\"x\\, 40001 '" + md5 + ",holiday photo.jpg';'" + "f".repeat(32) + ",b.png'");
    assertEquals("OK 2_REGISTERED_IMAGES", reg);
    String lst = Poll.value(Duration.ofSeconds(2), "LST on node 3 listing the peer", () -> {
      String reply = lst(3);
      return reply.contains(md5) ? reply : null;
    });
    assertEquals(md5 + ",holiday photo.jpg,127.0.0.1:40001", itemOf(lst, md5));

    assertEquals("ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD",
        LegacyP3.request(cluster.host(2), "127.0.0.1", "UPD wrong 40001 ''"));
    assertEquals("OK 0_REGISTERED_FILES",
        LegacyP3.request(cluster.host(2), "127.0.0.1", "UPD p'w;\"x\\, 40001 ''"));

    JsonNode peers = JSON.readTree(cluster.http(3, "/api/tracker/peers").body());
    assertEquals(1, peers.size(), peers.toString());
    assertEquals("127.0.0.1", peers.get(0).path("ip").asText());
    assertEquals(40001, peers.get(0).path("port").asInt());
    assertFalse(peers.toString().contains("p'w"), "no password in the API");

    assertEquals("OK CLIENT_FINISHED", LegacyP3.request(cluster.host(3), "127.0.0.1", "END p'w;\"x\\, 40001"));
  }

  @Test
  @Order(4)
  void registryApiListsNewestFirstAndShowsTheCluster() throws Exception {
    JsonNode page = JSON.readTree(cluster.http(1, "/api/images?limit=1").body());
    assertEquals(1, page.path("images").size());
    assertEquals("coffee.png", page.path("images").get(0).path("filename").asText());
    String next = page.path("next").asText();
    JsonNode second = JSON.readTree(cluster.http(1, "/api/images?limit=1&after=" + next).body());
    assertEquals("P1_TCP", second.path("images").get(0).path("protocol").asText());

    HttpResponse<String> missing = cluster.http(1, "/api/images/" + "0".repeat(32));
    assertEquals(404, missing.statusCode());
    assertEquals(404, JSON.readTree(missing.body()).path("status").asInt());
    assertEquals(400, cluster.http(1, "/api/images/not-an-md5").statusCode());
    assertEquals(400, cluster.http(1, "/api/images?limit=0").statusCode());
    assertEquals(400, cluster.http(1, "/api/images?after=no-such-cursor").statusCode());

    JsonNode info = JSON.readTree(cluster.http(2, "/api/cluster").body());
    List<String> up = new ArrayList<>();
    for (JsonNode m : info.path("members")) if ("Up".equals(m.path("status").asText())) up.add(m.path("host").asText());
    assertEquals(List.of(cluster.host(1), cluster.host(2), cluster.host(3)), up.stream().sorted().toList());
    assertEquals(cluster.host(1), info.path("trackerHost").asText(), "the oldest node hosts the singleton");
  }

  /**
   * Issue 4 point 1: the image is on replication-factor (2) nodes, byte-identical on each one's disk, and LST
   * names exactly those nodes' P4 endpoints.
   */
  private static void assertReplicatedOnTwoNodes(String md5, byte[] bytes, String lst) throws Exception {
    JsonNode meta = JSON.readTree(cluster.http(1, "/api/images/" + md5).body());
    List<String> nodes = new ArrayList<>();
    meta.path("nodes").forEach(n -> nodes.add(n.asText()));
    assertEquals(2, nodes.size(), "replicas of " + meta);
    assertEquals(2, nodes.stream().distinct().count());
    List<String> holders = List.of(itemOf(lst, md5).split(",")).subList(2, 4);
    assertEquals(nodes.stream().map(h -> h + ":13378").sorted().toList(), holders.stream().sorted().toList());
    for (int i = 1; i <= 3; i++) {
      List<byte[]> copies = new ArrayList<>();
      try (var files = java.nio.file.Files.walk(cluster.dataDir(i))) {
        for (var f : files.filter(p -> p.getParent().getFileName().toString().matches("\\d{4}-\\d{2}-\\d{2}"))
            .toList()) {
          byte[] b = java.nio.file.Files.readAllBytes(f);
          if (java.util.Arrays.equals(b, bytes)) copies.add(b);
        }
      }
      assertEquals(nodes.contains(cluster.host(i)) ? 1 : 0, copies.size(), "copies on node " + i);
    }
  }

  private static String lst(int node) {
    try {
      return LegacyP3.request(cluster.host(node), "127.0.0.1", "LST");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The LST item of {@code md5}, split the way the seed-002 client splits. */
  private static String itemOf(String lst, String md5) {
    for (String item : lst.split(";")) if (item.startsWith(md5 + ",")) return item;
    throw new AssertionError(md5 + " not in " + lst);
  }
}
