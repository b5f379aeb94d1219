package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actorimages.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 5, point 5: every subcommand of {@code bin/actorimages} against a real node on 127.0.0.71, run in-process
 * through {@link Main#run} with captured stdout and stderr, and the exit codes scripts rely on (0 ok, 1 node
 * error, 2 usage, 3 connection, 4 local file, 5 integrity). Nothing listens on 127.0.0.79 (the bad host); the
 * CLI's own peer and the fake peers bind 127.0.0.72.
 */
class CliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration SOON = Duration.ofSeconds(15);
  private static final String BAD_HOST = "127.0.0.79";
  private static final String PEER_HOST = "127.0.0.72";
  private static TestCluster cluster;
  private static String node;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startNode() {
    cluster = TestCluster.start(70, 1, "");
    node = cluster.host(1);
  }

  @AfterAll
  static void stopNode() {
    if (cluster != null) cluster.close();
  }

  /** One run of the CLI: exit code and what it wrote. */
  record Run(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private static Run cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static Run ok(String... args) {
    Run run = cli(args);
    assertEquals(0, run.code(), () -> String.join(" ", args) + "\n" + run);
    assertFalse(run.err().contains("\tat "), () -> "no stack trace\n" + run);
    return run;
  }

  private static Run fails(int code, String... args) {
    Run run = cli(args);
    assertEquals(code, run.code(), () -> String.join(" ", args) + "\n" + run);
    assertFalse(run.err().contains("\tat "), () -> "no stack trace without --verbose\n" + run);
    return run;
  }

  /** A copy of a test image under a name no other test uses, so P2's "oldest of that name" is this one. */
  private Path copyOf(String image, String prefix) throws IOException {
    Path file = tmp.resolve(prefix + "-" + UUID.randomUUID() + "-" + image);
    Files.write(file, TestImages.bytes(image));
    return file;
  }

  /** A GIF header and trailer around random bytes: an md5 no other test and no earlier run has. */
  private static byte[] uniqueGif() {
    byte[] random = UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII);
    ByteArrayOutputStream gif = new ByteArrayOutputStream();
    gif.writeBytes("GIF89a".getBytes(StandardCharsets.US_ASCII));
    gif.writeBytes(random);
    gif.write(';');
    return gif.toByteArray();
  }

  @Test
  void sendThenQueryImageShowsIt() throws Exception {
    byte[] rocket = TestImages.bytes("rocket.jpg");
    String md5 = TestImages.md5(rocket);

    Run sent = ok("send", "--node", node, TestImages.dir().resolve("rocket.jpg").toString());
    assertTrue(sent.out().startsWith("sent 1 image (0.1 MB)"), sent::toString);

    Run table = ok("query", "image", md5, "--node", node);
    assertTrue(table.out().contains(md5) && table.out().contains("P1_TCP") && table.out().contains(node),
        table::toString);
    JsonNode entry = JSON.readTree(ok("query", "image", md5.toUpperCase(), "--node", node, "--json").out());
    assertEquals(md5, entry.path("md5").asText());
    assertEquals(rocket.length, entry.path("size").asLong());
  }

  @Test
  void sendOfAFolderSendsItsImagesAndVerifyNamesWhatTheNodeDiscarded() throws Exception {
    Path folder = Files.createDirectories(tmp.resolve("camera/day-1"));
    Files.write(folder.resolve("a.png"), TestImages.bytes("chelsea.png"));
    Files.write(folder.resolve("b.tif"), TestImages.bytes("multipage_rgb.tif"));
    Files.write(folder.resolve("notes.txt"), TestImages.bytes("not-an-image.txt"));

    Run sent = ok("send", "--node", node, "--verify", tmp.resolve("camera").toString());
    assertTrue(sent.out().startsWith("sent 2 images"), sent::toString);
    assertTrue(sent.out().contains("verified"), sent::toString);

    // P1 has no reply: only --verify can tell that the node dropped a damaged JPEG.
    Files.write(folder.resolve("c.jpg"), TestImages.bytes("truncated.jpg"));
    Run dropped = fails(1, "send", "--node", node, "--verify", folder.resolve("c.jpg").toString());
    assertTrue(dropped.err().contains("not stored by the node: " + folder.resolve("c.jpg")), dropped::toString);
  }

  @Test
  void uploadThenListShowsItAndDownloadGivesIdenticalBytes() throws Exception {
    Path file = copyOf("astronaut.png", "upload");
    String name = file.getFileName().toString();

    Run uploaded = ok("upload", "--node", node, "--user", "carol", file.toString());
    assertTrue(uploaded.out().startsWith("Upload de " + name + " concluído. ID: "), uploaded::toString);

    Run table = ok("list", "--node", node);
    assertTrue(table.out().lines().anyMatch(l -> l.startsWith(name) && l.endsWith("carol")), table::toString);
    boolean listed = false;
    for (JsonNode f : JSON.readTree(ok("list", "--node", node, "--json").out())) {
      listed |= f.path("filename").asText().equals(name) && f.path("uploader").asText().equals("carol");
    }
    assertTrue(listed, "list --json names the upload");

    Path into = Files.createDirectory(tmp.resolve("downloads"));
    Run downloaded = ok("download", name, "-o", into.toString(), "--node", node);
    assertTrue(downloaded.out().startsWith("saved " + into.resolve(name)), downloaded::toString);
    assertArrayEquals(TestImages.bytes("astronaut.png"), Files.readAllBytes(into.resolve(name)));

    Run again = fails(4, "download", name, "-o", into.toString(), "--node", node);
    assertTrue(again.err().contains("file exists: " + into.resolve(name)), again::toString);
    ok("download", name, "-o", into.toString(), "--force", "--node", node);
  }

  @Test
  void uploadOfAFileThatIsNotAnImageExitsOneWithTheNodesMessage() {
    Run run = fails(1, "upload", "--node", node, TestImages.dir().resolve("not-an-image.txt").toString());
    assertTrue(run.err().contains("8765 UPLOAD not-an-image.txt: Falha no upload"), run::toString);
  }

  @Test
  void viewSavesTheFileInATempFolderAndPrintsItsPath() throws Exception {
    Path file = copyOf("coffee.png", "view");
    ok("upload", "--node", node, file.toString());

    Run viewed = ok("view", file.getFileName().toString(), "--no-open", "--node", node);
    Path saved = Path.of(viewed.out().strip().substring("saved ".length()));
    try {
      assertEquals(file.getFileName(), saved.getFileName());
      assertTrue(saved.getParent().getFileName().toString().startsWith("actorimages-view-"), saved::toString);
      assertArrayEquals(TestImages.bytes("coffee.png"), Files.readAllBytes(saved));
    } finally {
      Files.deleteIfExists(saved);
      Files.deleteIfExists(saved.getParent());
    }
  }

  @Test
  void downloadOfAnUnknownNameExitsOneWithTheNodesMessage() {
    Run run = fails(1, "download", "no-such-" + UUID.randomUUID() + ".png", "-o", tmp.toString(), "--node", node);
    assertTrue(run.err().contains("Arquivo nao encontrado."), run::toString);
    try (var left = Files.list(tmp)) {
      assertEquals(0, left.count(), "nothing is left behind");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void getFetchesFromTheFirstHolderListedAndChecksTheMd5() throws Exception {
    byte[] chelsea = TestImages.bytes("chelsea.png");
    String md5 = TestImages.md5(chelsea);
    LegacyP1.send(node, chelsea);
    Poll.until(SOON, "peers listing " + md5, () -> ok("peers", "--all", "--node", node).out().contains(md5));

    Run got = ok("get", md5, "-o", tmp.toString(), "--node", node);
    assertTrue(got.out().contains("md5 ok") && got.out().contains("from " + node + ":13378"), got::toString);
    Path saved = Path.of(got.out().split(" ")[1]);
    assertArrayEquals(chelsea, Files.readAllBytes(saved));

    Path other = Files.createDirectory(tmp.resolve("from"));
    Run direct = ok("get", md5, "--from", node + ":13378", "-o", other.toString(), "--node", node);
    assertArrayEquals(chelsea, Files.readAllBytes(other.resolve(md5 + ".png")), direct::toString);
  }

  @Test
  void getOfAnMd5NoHolderHasExitsOne() {
    String unknown = TestImages.md5(uniqueGif());
    Run listed = fails(1, "get", unknown, "-o", tmp.toString(), "--node", node);
    assertTrue(listed.err().contains("no holder of " + unknown), listed::toString);
    Run direct = fails(1, "get", unknown, "--from", node + ":13378", "-o", tmp.toString(), "--node", node);
    assertTrue(direct.err().contains("closed without data"), direct::toString);
  }

  /** PROTOCOLS.md P4: a reply whose MD5 does not match is a miss; a seed-003 peer's text is its error. */
  @ParameterizedTest
  @CsvSource({"other image, 5, md5 mismatch", "seed-003 text, 1, ERR File not found"})
  void getKeepsNothingWhoseMd5DiffersFromTheOneAskedFor(String reply, int code, String message) throws Exception {
    byte[] answer = reply.equals("other image") ? TestImages.bytes("rocket.jpg")
        : "ERR File not found".getBytes(StandardCharsets.US_ASCII);
    String asked = TestImages.md5(uniqueGif());
    try (ServerSocket peer = new ServerSocket()) {
      peer.bind(new InetSocketAddress(PEER_HOST, 0));
      Thread server = new Thread(() -> {
        try (Socket s = peer.accept()) {
          s.getInputStream().readNBytes(36);
          OutputStream out = s.getOutputStream();
          out.write(answer);
        } catch (IOException e) {
          // the test fails on the CLI's side
        }
      });
      server.start();
      Run run = fails(code, "get", asked, "--from", PEER_HOST + ":" + peer.getLocalPort(), "-o", tmp.toString(),
          "--node", node);
      server.join(10_000);
      assertTrue(run.err().contains(message), run::toString);
    }
    try (var left = Files.list(tmp)) {
      assertEquals(0, left.count(), "nothing saved");
    }
  }

  @Test
  void registerServesTheFolderToPeersUntilStoppedThenEnds() throws Exception {
    Path shared = Files.createDirectory(tmp.resolve("shared"));
    byte[] gif = uniqueGif();
    String md5 = TestImages.md5(gif);
    Files.write(shared.resolve("peer-image.gif"), gif);
    Files.write(shared.resolve("readme.txt"), TestImages.bytes("not-an-image.txt"));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    AtomicInteger code = new AtomicInteger(-1);
    Thread register = new Thread(() -> code.set(Main.run(new String[] {"register", shared.toString(), "--node", node,
        "--bind", PEER_HOST, "--password", "p;w\"x'"}, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8))), "cli-register");
    register.start();
    try {
      JsonNode item = Poll.value(SOON, "peers listing the registered image", () -> {
        for (JsonNode i : readJson(ok("peers", "--all", "--json", "--node", node).out())) {
          if (i.path("md5").asText().equals(md5)) return i;
        }
        return null;
      });
      assertEquals("peer-image.gif", item.path("name").asText());
      String holder = item.path("holders").get(0).asText();
      assertTrue(holder.startsWith(PEER_HOST + ":"), holder);
      Run table = ok("peers", "--node", node);
      assertTrue(table.out().lines().anyMatch(l -> l.matches(md5 + " +peer-image\\.gif +" + holder)),
          table::toString);
      assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("OK 1_REGISTERED_IMAGES"), out::toString);

      // Another peer fetches it with P4 GET from the CLI's peer port.
      Run got = ok("get", md5, "-o", tmp.toString(), "--node", node);
      assertArrayEquals(gif, Files.readAllBytes(tmp.resolve("peer-image.gif")), got::toString);
      assertTrue(out.toString(StandardCharsets.UTF_8).contains("served peer-image.gif"), out::toString);
    } finally {
      register.interrupt();
      register.join(30_000);
    }
    assertEquals(0, code.get(), () -> out + "\n" + err);
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("OK CLIENT_FINISHED"), out::toString);
    // LST answers from the node's replica of the tracker's state, which follows END within a gossip interval.
    Poll.until(SOON, "END removing the registration from LST",
        () -> !ok("peers", "--all", "--node", node).out().contains(md5));
  }

  @Test
  void queryImagesPagesNewestFirst() throws Exception {
    LegacyP1.send(node, TestImages.bytes("coffee.png"));
    LegacyP1.send(node, TestImages.bytes("rocket.jpg"));

    JsonNode first = readJson(ok("query", "images", "--limit", "1", "--json", "--node", node).out());
    assertEquals(1, first.path("images").size());
    String cursor = first.path("next").asText();
    JsonNode second = readJson(ok("query", "images", "--limit", "1", "--after", cursor, "--json", "--node", node)
        .out());
    assertTrue(first.path("images").get(0).path("receivedAt").asText()
        .compareTo(second.path("images").get(0).path("receivedAt").asText()) >= 0, "newest first");

    Run table = ok("query", "images", "--limit", "2", "--node", node);
    assertTrue(table.out().startsWith("RECEIVED"), table::toString);
    assertEquals(3, table.out().lines().count(), table::toString);
    assertTrue(table.err().contains("next page: --after "), table::toString);
  }

  @Test
  void queryClusterJsonParses() throws Exception {
    JsonNode cluster = readJson(ok("query", "cluster", "--json", "--node", node).out());
    assertEquals(node, cluster.path("self").asText());
    assertEquals("Up", cluster.path("members").get(0).path("status").asText());
    assertEquals(node, cluster.path("trackerHost").asText());
    Run table = ok("query", "cluster", "--node", node);
    assertTrue(table.out().lines().anyMatch(l -> l.startsWith(node) && l.contains("Up")), table::toString);
  }

  @Test
  void queryImageOfAnUnknownMd5ExitsOneWithTheHttpError() {
    String unknown = TestImages.md5(uniqueGif());
    Run run = fails(1, "query", "image", unknown, "--node", node);
    assertTrue(run.err().contains("404 no image with md5 " + unknown), run::toString);
  }

  @ParameterizedTest
  @CsvSource({
      "send IMAGES/rocket.jpg, 5001",
      "upload IMAGES/rocket.jpg, 8765",
      "list, 8765",
      "download x.png, 8765",
      "view x.png, 8765",
      "register IMAGES --bind 127.0.0.79, 13377",
      "peers, 13377",
      "get 0123456789abcdef0123456789abcdef, 13377",
      "get 0123456789abcdef0123456789abcdef --from 127.0.0.79:13378, 13378",
      "query images, 8080",
      "query image 0123456789abcdef0123456789abcdef, 8080",
      "query cluster, 8080"})
  void aHostWhereNothingListensExitsThreeNamingTheEndpoint(String command, int port) {
    List<String> args = new ArrayList<>();
    for (String arg : command.split(" ")) args.add(arg.replace("IMAGES", TestImages.dir().toString()));
    args.addAll(List.of("--node", BAD_HOST));
    if (command.startsWith("download") || command.startsWith("get")) args.addAll(List.of("-o", tmp.toString()));
    Run run = fails(3, args.toArray(String[]::new));
    assertEquals("actorimages: connection refused: " + BAD_HOST + ":" + port, run.err().strip(), run::toString);
  }

  @Test
  void verboseShowsTheStackTrace() {
    Run run = cli("--verbose", "list", "--node", BAD_HOST);
    assertEquals(3, run.code());
    assertTrue(run.err().contains("\tat "), run::toString);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "send|Missing required parameter",
      "send --bogus x.jpg|Unknown option: '--bogus'",
      "get not-an-md5|not an md5 (32 hex characters): not-an-md5",
      "query image 123|not an md5",
      "query|missing subcommand",
      "frobnicate|Unmatched argument",
      "list --timeout soon|Invalid value",
      "get 0123456789abcdef0123456789abcdef --from nowhere|--from: expected host:port"})
  void usageErrorsExitTwo(String command, String message) {
    Run run = fails(2, command.split(" "));
    assertTrue(run.err().contains(message), run::toString);
    assertTrue(run.err().contains("--help"), run::toString);
  }

  @Test
  void localFileProblemsExitFour() throws Exception {
    Run missing = fails(4, "send", tmp.resolve("missing.jpg").toString(), "--node", node);
    assertTrue(missing.err().contains("no such file or folder: " + tmp.resolve("missing.jpg")), missing::toString);
    Run notImage = fails(4, "send", TestImages.dir().resolve("not-an-image.txt").toString(), "--node", node);
    assertTrue(notImage.err().contains("not an image"), notImage::toString);
    Run noFolder = fails(4, "download", "x.png", "-o", tmp.resolve("nope").toString(), "--node", node);
    assertTrue(noFolder.err().contains("no such folder: " + tmp.resolve("nope")), noFolder::toString);
  }

  @Test
  void helpListsEveryCommandAndTheExitCodes() {
    Run help = ok("--help");
    for (String command : List.of("send", "upload", "list", "download", "view", "register", "peers", "get",
        "query")) {
      assertTrue(help.out().contains("  " + command + " "), command);
    }
    assertTrue(help.out().contains("Exit codes:") && help.out().contains("5   integrity failure"), help::toString);
    assertTrue(ok("get", "--help").out().contains("3   connection problem"));
  }

  @Test
  void progressBarsGoToStderrAndLeaveStdoutForScripts() throws Exception {
    Run run = ok("send", "--progress", "--node", node, TestImages.dir().resolve("chelsea.png").toString(),
        TestImages.dir().resolve("coffee.png").toString());
    assertEquals("sent 2 images (0.7 MB) to " + node + ":5001", run.out().strip());
    assertTrue(run.err().contains("2/2 files"), run::toString);
  }

  private static JsonNode readJson(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + text, e);
    }
  }
}
