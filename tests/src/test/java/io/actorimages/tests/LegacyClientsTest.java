package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The legacy clients, as Python programs that do on the wire what PROTOCOLS.md says the students' clients do
 * ({@code legacy-clients/}), against a real 2-node cluster on 127.0.0.51–52, each image crossing from one
 * protocol and node to another: P1 → P2, P2 → P3/P4, and a seed-003 peer → a seed-002 peer through the tracker.
 * The peers bind 127.0.0.58 (seed 003) and 127.0.0.59 (seed 002). Skipped when no Python can import websockets.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LegacyClientsTest {
  private static final Duration RUN = Duration.ofSeconds(60);
  private static final Duration SOON = Duration.ofSeconds(15);
  private static final String SEED003_IP = "127.0.0.58";
  private static final String SEED002_IP = "127.0.0.59";
  /** A seed-002/003 {@code --list} line: {@code [i] name | md5 | donos: ip:port, ip:port}. */
  private static final Pattern LST_LINE = Pattern.compile("^\\[\\d+] (.*) \\| ([0-9a-f]{32}) \\| donos: (.*)$",
      Pattern.MULTILINE);

  private static TestCluster cluster;
  @TempDir static Path work;
  private static Path seed002Dir;

  @BeforeAll
  static void startCluster() {
    String why = LegacyPython.why();
    if (why != null) {
      System.out.println("LegacyClientsTest skipped: " + why);
      return; // each test then reports itself skipped (see requirePython)
    }
    System.out.println("LegacyClientsTest: legacy clients run with " + LegacyPython.interpreter());
    cluster = TestCluster.start(50, 2, "");
    seed002Dir = LegacyPython.folder(work, "seed002");
  }

  @BeforeEach
  void requirePython() {
    Assumptions.assumeTrue(LegacyPython.why() == null, () -> "no Python with websockets: " + LegacyPython.why());
  }

  @AfterAll
  static void stopCluster() {
    LegacyPython.destroyAll();
    if (cluster != null) cluster.close();
  }

  @Test
  @Order(1)
  void cameraImageOnNodeOneIsListedAndDownloadedBySeed001OnNodeTwo() throws Exception {
    byte[] rocket = TestImages.bytes("rocket.jpg");
    var sent = LegacyPython.run(RUN, "seed000_camera_client.py", cluster.host(1), image("rocket.jpg"));
    assertEquals(0, sent.exit(), sent.describe());
    assertTrue(sent.output().contains("servidor fechou, 0 bytes recebidos"), sent.describe());

    // The P1 image has a server-made name (HHMMSS.jpg) and uploader tcp:<ip>: find it through LIST.
    String name = Poll.value(SOON, "seed001 LIST on node 2 showing the P1 image", () -> {
      var list = seed001(2, "bob", "list");
      if (list.exit() != 0) throw new AssertionError(list.describe());
      Matcher m = Pattern.compile("^- (\\d{6}(-\\d+)?\\.jpg) \\| uploader: tcp:", Pattern.MULTILINE)
          .matcher(list.output());
      return m.find() ? m.group(1) : null;
    });

    for (String mode : List.of("download", "view")) {
      Path into = LegacyPython.folder(work, "seed001-" + mode);
      var got = seed001(2, "bob", mode, name, into.toString());
      assertEquals(0, got.exit(), got.describe());
      assertTrue(got.output().contains("Transferência de " + name + " concluída."), got.describe());
      assertArrayEquals(rocket, Files.readAllBytes(into.resolve(name)), mode + " byte-identical");
    }

    // An unknown name is an ERROR reply the client prints, and nothing is saved.
    Path none = LegacyPython.folder(work, "seed001-unknown");
    var missing = seed001(2, "bob", "download", "no-such.jpg", none.toString());
    assertEquals(1, missing.exit(), missing.describe());
    assertTrue(missing.output().contains("Erro: Arquivo nao encontrado."), missing.describe());
    assertEquals(0, none.toFile().list().length);
  }

  @Test
  @Order(2)
  void seed001UploadOnNodeTwoIsDownloadedBySeed002OnNodeOneFromTheFirstHolder() throws Exception {
    byte[] coffee = TestImages.bytes("coffee.png");
    String md5 = TestImages.md5(coffee);
    var up = seed001(2, "alice", "upload", image("coffee.png"));
    assertEquals(0, up.exit(), up.describe());
    assertTrue(up.output().contains("Upload de coffee.png concluído. ID: "), up.describe());

    String[] item = Poll.value(SOON, "seed002 LST on node 1 listing coffee.png", () -> lstItem(md5));
    assertEquals("coffee.png", item[0]);
    String first = item[1].split(", ")[0];
    assertTrue(first.equals(cluster.host(1) + ":13378") || first.equals(cluster.host(2) + ":13378"),
        "first holder of a cluster image is a node's P4 endpoint: " + item[1]);

    var got = seed002("--download", md5);
    assertEquals(0, got.exit(), got.describe());
    assertTrue(got.output().contains("Baixando coffee.png de " + first), "from the first holder: " + got.describe());
    assertArrayEquals(coffee, Files.readAllBytes(seed002Dir.resolve("coffee.png")));

    // A second download must not overwrite the first (PROTOCOLS.md P4): coffee_downloaded.png.
    var again = seed002("--download", md5);
    assertEquals(0, again.exit(), again.describe());
    assertArrayEquals(coffee, Files.readAllBytes(seed002Dir.resolve("coffee_downloaded.png")));
  }

  @Test
  @Order(3)
  void seed003PeerOnNodeTwoServesChelseaToSeed002OnNodeOne() throws Exception {
    byte[] chelsea = TestImages.bytes("chelsea.png");
    String md5 = TestImages.md5(chelsea);
    Path shared = LegacyPython.folder(work, "seed003");
    Files.write(shared.resolve("chelsea.png"), chelsea);

    try (var peer = LegacyPython.start("seed003_peer_client.py", "--bind", SEED003_IP, cluster.host(2),
        shared.toString(), "--register")) {
      String portLine = peer.awaitLine(SOON, "with the peer's port", l -> l.startsWith("Servidor TCP na porta "));
      String endpoint = SEED003_IP + ":" + portLine.substring("Servidor TCP na porta ".length()).strip();
      peer.awaitLine(SOON, "OK 1_REGISTERED_IMAGES", l -> l.equals("Servidor: OK 1_REGISTERED_IMAGES"));

      // Registered through node 2, listed by node 1 with the peer as (only, hence first) holder.
      String[] item = Poll.value(SOON, "seed002 LST on node 1 listing chelsea.png", () -> lstItem(md5));
      assertEquals("chelsea.png", item[0]);
      assertEquals(endpoint, item[1].split(", ")[0], "first holder is the seed-003 peer: " + item[1]);

      var got = seed002("--download", md5);
      assertEquals(0, got.exit(), got.describe());
      assertTrue(got.output().contains("Baixando chelsea.png de " + endpoint), got.describe());
      assertArrayEquals(chelsea, Files.readAllBytes(seed002Dir.resolve("chelsea.png")));

      // The reconstruction's own quirk (PROTOCOLS.md P4): an unknown md5 gets text, not a bare close.
      String[] hostPort = endpoint.split(":");
      assertEquals("ERR File not found", new String(
          LegacyP3.get(hostPort[0], Integer.parseInt(hostPort[1]), "0".repeat(32)), StandardCharsets.US_ASCII));

      var finished = peer.finish(RUN);
      assertEquals(0, finished.exit(), finished.describe());
      assertTrue(finished.output().contains("Servidor: OK CLIENT_FINISHED"), finished.describe());
    }
    Poll.until(SOON, "chelsea.png gone from LST after the peer's END", () -> lstItem(md5) == null);
  }

  /** The seed-002 client's {@code --list} on node 1: {name, holders} of {@code md5}, or null when not listed. */
  private static String[] lstItem(String md5) {
    var list = seed002("--list");
    if (list.exit() != 0 && !list.output().contains("ERR NO_IMAGES_AVAILABLE")) {
      throw new AssertionError(list.describe());
    }
    Matcher m = LST_LINE.matcher(list.output());
    while (m.find()) if (m.group(2).equals(md5)) return new String[] {m.group(1), m.group(3)};
    return null;
  }

  private static LegacyPython.Result seed002(String... action) {
    String[] args = new String[4 + action.length];
    args[0] = "--bind";
    args[1] = SEED002_IP;
    args[2] = cluster.host(1);
    args[3] = seed002Dir.toString();
    System.arraycopy(action, 0, args, 4, action.length);
    return LegacyPython.run(RUN, "seed002_peer_client.py", args);
  }

  private static LegacyPython.Result seed001(int node, String user, String... command) {
    String[] args = new String[2 + command.length];
    args[0] = "ws://" + cluster.host(node) + ":8765/";
    args[1] = user;
    System.arraycopy(command, 0, args, 2, command.length);
    return LegacyPython.run(RUN, "seed001_client.py", args);
  }

  private static String image(String name) {
    return TestImages.dir().resolve(name).toAbsolutePath().toString();
  }
}
