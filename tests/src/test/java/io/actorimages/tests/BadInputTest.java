package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every bad-input rule of PROTOCOLS.md against a real node on 127.0.0.31, each followed by proof that the node
 * still serves: a malformed request never stops a listener or a node (issue 3, point 4), and nothing of a bad
 * upload is ever stored.
 */
class BadInputTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestCluster cluster;
  private static String host;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(30, 1, "actorimages.p1.idle-timeout = 2s\nactorimages.max-image-bytes = 1 MiB");
    host = cluster.host(1);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  @Test
  void p1BadFramesStoreNothingAndTheListenerKeepsServing() throws Exception {
    byte[] rocket = TestImages.bytes("rocket.jpg");
    long before = storedFiles();
    // N = 0: closed at once.
    assertEquals(0, LegacyP1.sendRaw(host, new byte[] {0, 0, 0, 0}, false));
    // N above max-image-bytes (here 1 MiB): closed at once without waiting for the bytes.
    assertEquals(0, LegacyP1.sendRaw(host, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}, false));
    // Truncated: EOF before N bytes.
    assertEquals(0, LegacyP1.sendRaw(host, frame(rocket, rocket.length / 2), true));
    // Not an image.
    assertEquals(0, LegacyP1.send(host, TestImages.bytes("not-an-image.txt")));
    // A genuinely broken JPEG (skimage's truncated.jpg).
    assertEquals(0, LegacyP1.send(host, TestImages.bytes("truncated.jpg")));
    // No progress for idle-timeout (2 s here): closed.
    long t0 = System.nanoTime();
    assertEquals(0, LegacyP1.sendRaw(host, new byte[] {0, 0, 1}, false));
    assertTrue(Duration.ofNanos(System.nanoTime() - t0).toSeconds() < 20, "idle connection closed");
    assertEquals(before, storedFiles(), "nothing stored from bad frames");
    assertEquals(0, tempFiles(), "no temp file left behind");

    // Frames before a bad one are kept; the node still serves.
    byte[] good = frame(rocket, rocket.length);
    byte[] twoThenJunk = concat(good, frame(TestImages.bytes("not-an-image.txt"), 125));
    assertEquals(0, LegacyP1.sendRaw(host, twoThenJunk, true));
    assertEquals(before + 1, storedFiles());
    assertArrayEquals(rocket, LegacyP3.get(host, 13378, TestImages.md5(rocket)));
  }

  @Test
  void p2ErrorsAreTheSeedsTextsAndTheConnectionStaysOpen() throws Exception {
    try (LegacyP2 p2 = LegacyP2.connect(host)) {
      p2.command("AUTH", "mallory");
      assertError("Comando desconhecido.", p2.command("FLY"));
      p2.sendText("this is not json");
      assertError("Formato inválido (não é JSON).", p2.reply());
      assertError("Formato UPLOAD incorreto (esperado: [filename, size]).", p2.command("UPLOAD", "a.png"));
      assertError("Tamanho do arquivo invalido.", p2.command("UPLOAD", "a.png", "12x"));
      assertError("Formato invalido (esperado: [filename]).", p2.command("DOWNLOAD"));
      assertError("Formato invalido (esperado: [filename]).", p2.command("VIEW", "a", "b"));
      assertError("Arquivo nao encontrado.", p2.command("DOWNLOAD", "no-such-file.png"));

      byte[] chelsea = TestImages.bytes("chelsea.png");
      // Wrong size: announced one more byte than sent.
      assertEquals("READY", p2.command("UPLOAD", "chelsea.png", String.valueOf(chelsea.length + 1))
          .path("status").asText());
      p2.sendBinary(chelsea);
      JsonNode wrongSize = p2.reply();
      assertEquals("ERROR", wrongSize.path("status").asText());
      assertTrue(wrongSize.path("message").asText().startsWith("Falha no upload: "), wrongSize.toString());
      // Not an image.
      JsonNode notImage = p2.upload("notes.png", TestImages.bytes("not-an-image.txt"));
      assertTrue(notImage.path("message").asText().startsWith("Falha no upload: "), notImage.toString());
      // A binary frame outside an upload is ignored: the next command is answered normally.
      p2.sendBinary(chelsea);
      JsonNode list = p2.command("LIST");
      assertEquals("SUCCESS", list.path("status").asText());
      assertTrue(list.path("data").toString().contains("chelsea.png") == false, "nothing stored: " + list);

      // The connection still works: a real upload succeeds, its size sent as a JSON number too.
      assertEquals("READY", p2.command("UPLOAD", "chelsea.png", chelsea.length).path("status").asText());
      p2.sendBinary(chelsea);
      assertEquals("SUCCESS", p2.reply().path("status").asText());
      JsonNode bye = p2.command("DISCONNECT");
      assertEquals("BYE", bye.path("status").asText());
      assertEquals("Cliente mallory se desconectando...", bye.path("message").asText());
      assertTrue(p2.closedByServer());
    }
  }

  @Test
  void p3MalformedDatagramsGetErrAndTheTrackerKeepsAnswering() throws Exception {
    String md5 = "a".repeat(32);
    for (String bad : List.of("HELLO", "REG pw", "REG pw notaport 'x'", "REG pw 70000 ''",
        "REG pw 5000 " + "z".repeat(32) + ",x.jpg", "REG pw 5000 " + md5.substring(1) + ",x.jpg",
        "REG pw 5000 nocomma", "LST extra", "END pw")) {
      assertEquals("ERR INVALID_MESSAGE_FORMAT", LegacyP3.request(host, "127.0.0.1", bad), bad);
    }
    assertEquals("ERR INVALID_MESSAGE_FORMAT", LegacyP3.request(host, "127.0.0.1",
        new byte[] {'L', 'S', 'T', ' ', (byte) 0xff, (byte) 0xfe}, 1024), "non-UTF-8");
    byte[] huge = new byte[65_000];
    Arrays.fill(huge, (byte) 'x');
    assertEquals("ERR INVALID_MESSAGE_FORMAT", LegacyP3.request(host, "127.0.0.1", huge, 1024), "64 KB datagram");
    assertEquals("ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD",
        LegacyP3.request(host, "127.0.0.1", "END nobody 5000"));
    // Still serving.
    assertEquals("OK 1_REGISTERED_IMAGES", LegacyP3.request(host, "127.0.0.1", "REG pw 5000 " + md5 + ",x.jpg"));
    Poll.until(Duration.ofSeconds(2), "LST listing the new peer", () -> {
      try {
        return LegacyP3.request(host, "127.0.0.1", "LST").contains(md5 + ",x.jpg,127.0.0.1:5000");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    assertEquals("OK CLIENT_FINISHED", LegacyP3.request(host, "127.0.0.1", "END pw 5000"));
  }

  @Test
  void p4UnknownMd5AndJunkCloseWithoutDataAndTheListenerKeepsServing() throws Exception {
    assertEquals(0, LegacyP3.get(host, 13378, "0".repeat(32)).length, "unknown md5");
    assertEquals(0, LegacyP3.getRaw(host, 13378, "HELLO WORLD".getBytes(StandardCharsets.US_ASCII)).length);
    assertEquals(0, LegacyP3.getRaw(host, 13378, "GET short".getBytes(StandardCharsets.US_ASCII)).length,
        "an incomplete request is closed after the request timeout");
    byte[] coffee = TestImages.bytes("coffee.png");
    assertEquals(0, LegacyP1.send(host, coffee));
    assertArrayEquals(coffee, LegacyP3.get(host, 13378, TestImages.md5(coffee)));
  }

  @Test
  void httpErrorsAreJson() throws Exception {
    var notFound = cluster.http(1, "/api/nothing-here");
    assertEquals(404, notFound.statusCode());
    assertEquals(404, JSON.readTree(notFound.body()).path("status").asInt());
  }

  private static void assertError(String message, JsonNode reply) {
    assertEquals("ERROR", reply.path("status").asText(), reply.toString());
    assertEquals(message, reply.path("message").asText());
  }

  private static byte[] frame(byte[] image, int bytesToSend) {
    return ByteBuffer.allocate(4 + bytesToSend).putInt(image.length).put(image, 0, bytesToSend).array();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    return ByteBuffer.allocate(a.length + b.length).put(a).put(b).array();
  }

  private static long storedFiles() {
    return count(p -> p.getParent().getFileName().toString().matches("\\d{4}-\\d{2}-\\d{2}"));
  }

  private static long tempFiles() {
    return count(p -> p.toString().contains("/.tmp/"));
  }

  private static long count(java.util.function.Predicate<Path> which) {
    try (Stream<Path> files = Files.walk(cluster.dataDir(1))) {
      return files.filter(Files::isRegularFile).filter(which).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
