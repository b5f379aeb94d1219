package io.actorimages.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.actorimages.node.protocol.P2Request.Auth;
import io.actorimages.node.protocol.P2Request.Disconnect;
import io.actorimages.node.protocol.P2Request.Download;
import io.actorimages.node.protocol.P2Request.Invalid;
import io.actorimages.node.protocol.P2Request.ListFiles;
import io.actorimages.node.protocol.P2Request.TransferMode;
import io.actorimages.node.protocol.P2Request.Upload;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class P2RequestTest {

  private static Arguments row(String frame, P2Request expected) {
    return Arguments.of(frame, expected);
  }

  /** What the legacy client sends (json.dumps, with its ", " and ": " separators), and variants it may. */
  static Stream<Arguments> commands() {
    return Stream.of(
        row("{\"cmd\": \"AUTH\", \"args\": [\"maria\"]}", new Auth("maria")),
        row("{\"cmd\":\"auth\",\"args\":[\"João Ñ\"]}", new Auth("João Ñ")),
        row("{\"cmd\":\"AUTH\",\"args\":[\" bob \"]}", new Auth(" bob ")),
        row("{\"cmd\":\"AUTH\",\"args\":[]}", new Auth("anon")),
        row("{\"cmd\":\"AUTH\"}", new Auth("anon")),
        row("{\"cmd\":\"AUTH\",\"args\":[\"\"]}", new Auth("anon")),
        row("{\"cmd\":\"AUTH\",\"args\":[\"  \\t \"]}", new Auth("anon")),
        row("{\"cmd\":\"AUTH\",\"args\":[null]}", new Auth("anon")),
        row("{\"cmd\":\"AUTH\",\"args\":[42]}", new Auth("anon")),
        row("{\"cmd\":\"AUTH\",\"args\":null}", new Auth("anon")),
        row("{\"cmd\": \"LIST\", \"args\": []}", new ListFiles()),
        row("{\"cmd\":\"list\"}", new ListFiles()),
        row("{\"cmd\":\"LiSt\",\"args\":[\"ignored\"]}", new ListFiles()),
        row("{\"args\":[],\"cmd\":\"LIST\"}", new ListFiles()),
        row("  {\"cmd\":\"LIST\"}\n", new ListFiles()),
        row("{\"cmd\": \"UPLOAD\", \"args\": [\"foto.jpg\", \"123456\"]}", new Upload("foto.jpg", 123456)),
        row("{\"cmd\":\"upload\",\"args\":[\"foto.jpg\",123456]}", new Upload("foto.jpg", 123456)),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"../../etc/passwd\",\"7\"]}", new Upload("../../etc/passwd", 7)),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"0\"]}", new Upload("a", 0)),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"000123\"]}", new Upload("a", 123)),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"9223372036854775807\"]}", new Upload("a", Long.MAX_VALUE)),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",9223372036854775807]}", new Upload("a", Long.MAX_VALUE)),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"\",\"5\"]}", new Upload("", 5)),
        row("{\"cmd\": \"DOWNLOAD\", \"args\": [\"foto.jpg\"]}", new Download("foto.jpg", TransferMode.DOWNLOAD)),
        row("{\"cmd\":\"view\",\"args\":[\"foto.jpg\"]}", new Download("foto.jpg", TransferMode.VIEW)),
        row("{\"cmd\":\"DOWNLOAD\",\"args\":[\"a \\\"b\\\" \\\\c.png\"]}",
            new Download("a \"b\" \\c.png", TransferMode.DOWNLOAD)),
        row("{\"cmd\": \"DISCONNECT\", \"args\": []}", new Disconnect()),
        row("{\"cmd\":\"disconnect\",\"args\":[1,2,3]}", new Disconnect()));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("commands")
  void validCommandsParse(String frame, P2Request expected) {
    assertEquals(expected, P2Request.parse(frame));
  }

  static Stream<Arguments> errors() {
    return Stream.of(
        // Formato inválido (não é JSON).
        row("LIST", new Invalid("Formato inválido (não é JSON).")),
        row("", new Invalid("Formato inválido (não é JSON).")),
        row("   \n", new Invalid("Formato inválido (não é JSON).")),
        row("{'cmd': 'LIST'}", new Invalid("Formato inválido (não é JSON).")),
        row("{\"cmd\":\"LIST\"", new Invalid("Formato inválido (não é JSON).")),
        row("{\"cmd\":\"LIST\"} {\"cmd\":\"LIST\"}", new Invalid("Formato inválido (não é JSON).")),
        row("{\"cmd\":\"LIST\"}x", new Invalid("Formato inválido (não é JSON).")),
        row("{\"cmd\":\"LI\u0001ST\"}", new Invalid("Formato inválido (não é JSON).")),
        row("[".repeat(100_000), new Invalid("Formato inválido (não é JSON).")),
        row(null, new Invalid("Formato inválido (não é JSON).")),
        // Comando desconhecido.
        row("{\"cmd\":\"DELETE\",\"args\":[\"a\"]}", new Invalid("Comando desconhecido.")),
        row("{\"cmd\":\"\"}", new Invalid("Comando desconhecido.")),
        row("{\"cmd\":\" LIST\"}", new Invalid("Comando desconhecido.")),
        row("{\"cmd\":\"LI\u017FT\"}", new Invalid("Comando desconhecido.")), // 'ſ'.upper() is 'S' in Python
        row("{\"args\":[]}", new Invalid("Comando desconhecido.")),
        row("{\"cmd\":null}", new Invalid("Comando desconhecido.")),
        row("{\"cmd\":7}", new Invalid("Comando desconhecido.")),
        row("{\"cmd\":[\"LIST\"]}", new Invalid("Comando desconhecido.")),
        row("{}", new Invalid("Comando desconhecido.")),
        row("[\"LIST\"]", new Invalid("Comando desconhecido.")),
        row("\"LIST\"", new Invalid("Comando desconhecido.")),
        row("null", new Invalid("Comando desconhecido.")),
        row("42", new Invalid("Comando desconhecido.")),
        // Formato UPLOAD incorreto (esperado: [filename, size]).
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a.jpg\"]}", new Invalid(P2Reply.UPLOAD_FORMAT)),
        row("{\"cmd\":\"UPLOAD\"}", new Invalid(P2Reply.UPLOAD_FORMAT)),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a.jpg\",\"1\",\"x\"]}", new Invalid(P2Reply.UPLOAD_FORMAT)),
        row("{\"cmd\":\"UPLOAD\",\"args\":\"ab\"}", new Invalid(P2Reply.UPLOAD_FORMAT)),
        row("{\"cmd\":\"UPLOAD\",\"args\":{\"0\":\"a\",\"1\":\"2\"}}", new Invalid(P2Reply.UPLOAD_FORMAT)),
        row("{\"cmd\":\"UPLOAD\",\"args\":[7,\"1\"]}", new Invalid(P2Reply.UPLOAD_FORMAT)),
        row("{\"cmd\":\"UPLOAD\",\"args\":[null,\"1\"]}", new Invalid(P2Reply.UPLOAD_FORMAT)),
        row("{\"cmd\":\"UPLOAD\",\"args\":[[\"a\"],\"1\"]}", new Invalid(P2Reply.UPLOAD_FORMAT)),
        // Tamanho do arquivo invalido.
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"12.5\"]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",12.5]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",12.0]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",1e3]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"-1\"]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",-1]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"+5\"]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\" 5\"]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"5_000\"]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"\u0665\"]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"\"]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"abc\"]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"9223372036854775808\"]}",
            new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",\"" + "9".repeat(400) + "\"]}",
            new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",99999999999999999999999]}",
            new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",true]}", new Invalid("Tamanho do arquivo invalido.")),
        row("{\"cmd\":\"UPLOAD\",\"args\":[\"a\",null]}", new Invalid("Tamanho do arquivo invalido.")),
        // Formato invalido (esperado: [filename]).
        row("{\"cmd\":\"DOWNLOAD\",\"args\":[]}", new Invalid("Formato invalido (esperado: [filename]).")),
        row("{\"cmd\":\"DOWNLOAD\"}", new Invalid("Formato invalido (esperado: [filename]).")),
        row("{\"cmd\":\"VIEW\",\"args\":[\"a\",\"b\"]}", new Invalid("Formato invalido (esperado: [filename]).")),
        row("{\"cmd\":\"VIEW\",\"args\":\"a\"}", new Invalid("Formato invalido (esperado: [filename]).")),
        row("{\"cmd\":\"download\",\"args\":[3]}", new Invalid("Formato invalido (esperado: [filename]).")),
        row("{\"cmd\":\"VIEW\",\"args\":[{\"f\":\"a\"}]}", new Invalid("Formato invalido (esperado: [filename])."))
    );
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("errors")
  void malformedCommandsGiveTheSeedsErrorText(String frame, P2Request expected) {
    assertEquals(expected, P2Request.parse(frame));
  }

  @Test
  void errorTextsAreTheSeedsBytes() {
    // Written out in UTF-8 bytes, so a mis-encoded source file cannot make the test agree with the code.
    assertEquals("Formato inv\u00e1lido (n\u00e3o \u00e9 JSON).", P2Reply.NOT_JSON);
    assertEquals("Comando desconhecido.", P2Reply.UNKNOWN_COMMAND);
    assertEquals("Formato UPLOAD incorreto (esperado: [filename, size]).", P2Reply.UPLOAD_FORMAT);
    assertEquals("Tamanho do arquivo invalido.", P2Reply.INVALID_SIZE);
    assertEquals("Formato invalido (esperado: [filename]).", P2Reply.FILENAME_FORMAT);
    assertEquals("Arquivo nao encontrado.", P2Reply.FILE_NOT_FOUND);
  }

  @Test
  void randomFramesNeverThrow() {
    String alphabet = "{}[]\":,\\ 0123456789.eE+-tnuflasrCMDUPLOAVIEWcmdargs\u00e9\ud800";
    Random random = new Random(8765);
    for (int i = 0; i < 20_000; i++) {
      StringBuilder frame = new StringBuilder("{\"cmd\":");
      for (int n = random.nextInt(40); n > 0; n--) {
        frame.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      assertNotNull(P2Request.parse(frame.toString()), frame::toString);
    }
  }

  @Test
  void jsonBeyondJacksonsReadLimitsIsNotJson() {
    // Jackson refuses numbers over 1,000 digits before building them: a cheap defence, reported as not JSON.
    String frame = "{\"cmd\":\"UPLOAD\",\"args\":[\"a\"," + "9".repeat(5000) + "]}";
    assertEquals(new Invalid(P2Reply.NOT_JSON), P2Request.parse(frame));
  }

  @Test
  void deeplyNestedJsonIsRefusedNotAStackOverflow() {
    String nested = "{\"cmd\":\"LIST\",\"args\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
    assertEquals(new Invalid(P2Reply.NOT_JSON), P2Request.parse(nested));
  }
}
