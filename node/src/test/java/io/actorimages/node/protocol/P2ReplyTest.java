package io.actorimages.node.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actorimages.node.protocol.P2Reply.ListedFile;
import io.actorimages.node.protocol.P2Request.TransferMode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class P2ReplyTest {

  /** Each reply exactly as the PROTOCOLS.md P2 table writes it. */
  static Stream<Arguments> replies() {
    return Stream.of(
        Arguments.of(P2Reply.authenticated("maria"),
            "{\"status\":\"SUCCESS\",\"message\":\"Autenticado como maria\"}"),
        Arguments.of(P2Reply.history(List.of(
                P2Reply.newUploadMessage("a.jpg", "maria"), P2Reply.newUploadMessage("b.png", "tcp:10.0.0.7"))),
            "{\"event\":\"HISTORY\",\"data\":["
                + "{\"event\":\"NEW_UPLOAD\",\"message\":\"Novo arquivo 'a.jpg' enviado por maria.\"},"
                + "{\"event\":\"NEW_UPLOAD\",\"message\":\"Novo arquivo 'b.png' enviado por tcp:10.0.0.7.\"}]}"),
        Arguments.of(P2Reply.history(List.of()), "{\"event\":\"HISTORY\",\"data\":[]}"),
        Arguments.of(P2Reply.list(List.of(new ListedFile("a.jpg", "maria"), new ListedFile("b.png", "anon"))),
            "{\"status\":\"SUCCESS\",\"cmd\":\"LIST\",\"data\":["
                + "{\"filename\":\"a.jpg\",\"uploader\":\"maria\"},{\"filename\":\"b.png\",\"uploader\":\"anon\"}]}"),
        Arguments.of(P2Reply.list(List.of()), "{\"status\":\"SUCCESS\",\"cmd\":\"LIST\",\"data\":[]}"),
        Arguments.of(P2Reply.ready(), "{\"status\":\"READY\",\"cmd\":\"UPLOAD_DATA\"}"),
        Arguments.of(P2Reply.uploaded("a.jpg", "7f3a"),
            "{\"status\":\"SUCCESS\",\"message\":\"Upload de a.jpg concluído. ID: 7f3a\"}"),
        Arguments.of(P2Reply.newUpload("a.jpg", "maria"),
            "{\"event\":\"NEW_UPLOAD\",\"message\":\"Novo arquivo 'a.jpg' enviado por maria.\"}"),
        Arguments.of(P2Reply.sizeInfo(123456, "a.jpg", TransferMode.DOWNLOAD),
            "{\"status\":\"SIZE_INFO\",\"size\":123456,\"filename\":\"a.jpg\",\"mode\":\"DOWNLOAD\"}"),
        Arguments.of(P2Reply.sizeInfo(5_000_000_000L, "a.jpg", TransferMode.VIEW),
            "{\"status\":\"SIZE_INFO\",\"size\":5000000000,\"filename\":\"a.jpg\",\"mode\":\"VIEW\"}"),
        Arguments.of(P2Reply.transferred("a.jpg"),
            "{\"status\":\"SUCCESS\",\"message\":\"Transferência de a.jpg concluída.\"}"),
        Arguments.of(P2Reply.bye("maria"), "{\"status\":\"BYE\",\"message\":\"Cliente maria se desconectando...\"}"),
        Arguments.of(P2Reply.error(P2Reply.FILE_NOT_FOUND),
            "{\"status\":\"ERROR\",\"message\":\"Arquivo nao encontrado.\"}"),
        Arguments.of(P2Reply.error(P2Reply.NOT_JSON),
            "{\"status\":\"ERROR\",\"message\":\"Formato inválido (não é JSON).\"}"),
        Arguments.of(P2Reply.uploadFailed("size mismatch"),
            "{\"status\":\"ERROR\",\"message\":\"Falha no upload: size mismatch\"}"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("replies")
  void replyIsByteForByteTheProtocolTable(String rendered, String expected) {
    assertArrayEquals(expected.getBytes(StandardCharsets.UTF_8), rendered.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void accentsTravelAsRawUtf8NotAsEscapes() {
    byte[] bytes = P2Reply.uploaded("x", "1").getBytes(StandardCharsets.UTF_8);
    String text = new String(bytes, StandardCharsets.UTF_8);
    assertTrue(text.contains("conclu\u00eddo"), text);
    assertFalse(text.contains("\\u"), text);
    // 'í' is the two bytes C3 AD.
    assertTrue(new String(bytes, StandardCharsets.ISO_8859_1).contains("conclu\u00c3\u00addo"));
  }

  @Test
  void hostileNamesStayValidJsonAndComeBackUnchanged() throws Exception {
    String name = "a\"b\\c\n\u0000'</script>é😀.jpg";
    ObjectMapper json = new ObjectMapper();
    JsonNode size = json.readTree(P2Reply.sizeInfo(1, name, TransferMode.DOWNLOAD));
    assertEquals(name, size.get("filename").textValue());
    JsonNode listed = json.readTree(P2Reply.list(List.of(new ListedFile(name, name))));
    assertEquals(name, listed.get("data").get(0).get("uploader").textValue());
    JsonNode event = json.readTree(P2Reply.newUpload(name, "bob"));
    assertEquals("Novo arquivo '" + name + "' enviado por bob.", event.get("message").textValue());
  }

  @Test
  void everyEventCarriesTheEventKeyAndNoReplyDoes() throws Exception {
    ObjectMapper json = new ObjectMapper();
    assertTrue(json.readTree(P2Reply.newUpload("a", "b")).has("event"));
    JsonNode history = json.readTree(P2Reply.history(List.of(P2Reply.newUploadMessage("a", "b"))));
    assertTrue(history.has("event"));
    assertTrue(history.get("data").get(0).has("event"));
    for (String reply : List.of(P2Reply.authenticated("a"), P2Reply.ready(), P2Reply.error("x"),
        P2Reply.list(List.of()), P2Reply.bye("a"), P2Reply.transferred("a"), P2Reply.uploaded("a", "1"))) {
      assertFalse(json.readTree(reply).has("event"), reply);
    }
  }
}
