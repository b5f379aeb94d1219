package io.actorimages.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.actorimages.messages.PeerImage;
import io.actorimages.node.protocol.P3Request.End;
import io.actorimages.node.protocol.P3Request.Invalid;
import io.actorimages.node.protocol.P3Request.Lst;
import io.actorimages.node.protocol.P3Request.Reg;
import io.actorimages.node.protocol.P3Request.Upd;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class P3RequestTest {

  static final String MD5_A = "0cc175b9c0f1b6a831c399e269772661";
  static final String MD5_B = "92eb5ffee6ae2fec3ad71c777531578f";
  static final String MD5_UPPER = "D41D8CD98F00B204E9800998ECF8427E";

  private static Arguments row(String datagram, P3Request expected) {
    return Arguments.of(datagram, expected);
  }

  private static List<PeerImage> images(String... md5AndName) {
    PeerImage[] images = new PeerImage[md5AndName.length / 2];
    for (int i = 0; i < images.length; i++) {
      images[i] = new PeerImage(md5AndName[2 * i], md5AndName[2 * i + 1]);
    }
    return List.of(images);
  }

  static Stream<Arguments> requests() {
    return Stream.of(
        // seed-002 client: plain items, no terminator
        row("REG s3nha 40123 " + MD5_A + ",a.jpg;" + MD5_B + ",b.png",
            new Reg("s3nha", 40123, images(MD5_A, "a.jpg", MD5_B, "b.png"))),
        // seed-003 client: every item quoted, punctuation in the password, a space in a name
        row("REG p'w;\"x 5000 '" + MD5_A + ",a.jpg';'" + MD5_B + ",b b.png'",
            new Reg("p'w;\"x", 5000, images(MD5_A, "a.jpg", MD5_B, "b b.png"))),
        row("REG a,b\\c;d 5000 ''", new Reg("a,b\\c;d", 5000, List.of())),
        row("UPD pw 5000 ''", new Upd("pw", 5000, List.of())),
        row("UPD pw 5000 " + MD5_UPPER + ",x.gif", new Upd("pw", 5000, images(MD5_UPPER.toLowerCase(), "x.gif"))),
        row("REG pw 5000 ;;" + MD5_A + ",a.jpg;;", new Reg("pw", 5000, images(MD5_A, "a.jpg"))),
        row("REG pw 5000 ;", new Reg("pw", 5000, List.of())),
        row("REG pw 5000 " + MD5_A + ",", new Reg("pw", 5000, images(MD5_A, ""))),
        row("REG pw 5000 " + MD5_A + ",a,b.jpg", new Reg("pw", 5000, images(MD5_A, "a,b.jpg"))),
        row("REG pw 5000 '" + MD5_A + ",it's.jpg'", new Reg("pw", 5000, images(MD5_A, "it's.jpg"))),
        row("REG pw 5000 " + MD5_A + ",a.jpg;" + MD5_A + ",again.jpg",
            new Reg("pw", 5000, images(MD5_A, "a.jpg", MD5_A, "again.jpg"))),
        row("REG pw 05000 ''", new Reg("pw", 5000, List.of())),
        row("REG pw 1 ''", new Reg("pw", 1, List.of())),
        row("REG pw 65535 ''", new Reg("pw", 65535, List.of())),
        row("REG pw 5000 " + MD5_A + ",fotó 日本.jpg", new Reg("pw", 5000, images(MD5_A, "fotó 日本.jpg"))),
        row("  REG pw 5000 ''\r\n", new Reg("pw", 5000, List.of())),
        row("END pw 5000", new End("pw", 5000)),
        row("END p'w;\"x 5000", new End("p'w;\"x", 5000)),
        row("LST", new Lst(0)),
        row("LST \n\t ", new Lst(0)),
        row("LST 5", new Lst(5)),
        row("LST 0", new Lst(0)),
        row("LST 2147483647", new Lst(Integer.MAX_VALUE)));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("requests")
  void requestsOfTheLegacyClientsParse(String datagram, P3Request expected) {
    assertEquals(expected, parse(datagram));
  }

  static Stream<String> malformed() {
    return Stream.of(
        "",
        "   ",
        "reg pw 5000 ''",
        "Lst",
        "HELLO",
        "GET " + MD5_A,
        "REG",
        "REG pw 5000",
        "REG pw",
        "UPD pw 5000",
        "REG  5000 ''", // empty password: two spaces
        "REG pw  5000 ''",
        "REG pw abc ''",
        "REG pw 0 ''",
        "REG pw 70000 ''",
        "REG pw 65536 ''",
        "REG pw -1 ''",
        "REG pw +5000 ''",
        "REG pw 5000.0 ''",
        "REG pw 99999999999999999999999 ''",
        "REG pw 5000 " + MD5_A, // item without ','
        "REG pw 5000 " + MD5_A + ",a.jpg;junk",
        "REG pw 5000 " + MD5_A.substring(1) + ",a.jpg", // 31 characters
        "REG pw 5000 " + MD5_A + "0,a.jpg", // 33 characters
        "REG pw 5000 " + "g".repeat(32) + ",a.jpg",
        "REG pw 5000 " + "ａ".repeat(32) + ",a.jpg", // full-width letters
        "REG pw 5000 ," + "a.jpg",
        "REG pw 5000 '" + MD5_A + ",a.jpg", // unbalanced quote
        "REG pw 5000 ' " + MD5_A + ",a.jpg'",
        "REG pw 5000 '",
        "REG pw 5000 ''" + MD5_A + ",a.jpg''", // only one pair of quotes is stripped
        "END pw",
        "END pw 5000 ''",
        "END pw abc",
        "END  5000",
        "LST x",
        "LST -1",
        "LST 1.5",
        "LST 5 6",
        "LST  5",
        "LST 2147483648",
        "\uFEFFLST");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("malformed")
  void malformedRequestsAreInvalid(String datagram) {
    assertEquals(new Invalid(), parse(datagram));
  }

  static Stream<Arguments> notUtf8() {
    return Stream.of(
        Arguments.of((Object) new byte[] {(byte) 0xff, (byte) 0xfe}),
        Arguments.of((Object) concat("LST ".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xff})),
        Arguments.of((Object) concat(("REG pw 5000 " + MD5_A + ",").getBytes(StandardCharsets.US_ASCII),
            new byte[] {(byte) 0xe9, '.', 'j', 'p', 'g'})), // Latin-1 'é'
        Arguments.of((Object) concat("LST".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xc3})),
        Arguments.of((Object) new byte[] {'L', (byte) 0xc0, (byte) 0x80}), // overlong NUL
        Arguments.of((Object) new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80})); // encoded surrogate
  }

  @ParameterizedTest
  @MethodSource("notUtf8")
  void bytesThatAreNotUtf8AreInvalid(byte[] datagram) {
    assertEquals(new Invalid(), P3Request.parse(datagram, datagram.length));
  }

  @Test
  void sixtyFourKibOfJunkIsInvalid() {
    byte[] junk = new byte[65_507];
    new Random(13377).nextBytes(junk);
    assertEquals(new Invalid(), P3Request.parse(junk, junk.length));
    byte[] asciiJunk = "REG ".concat("x;,' ".repeat(13_000)).getBytes(StandardCharsets.US_ASCII);
    assertEquals(new Invalid(), P3Request.parse(asciiJunk, asciiJunk.length));
  }

  @Test
  void onlyTheFirstLengthBytesOfTheBufferCount() {
    byte[] buffer = new byte[2048];
    byte[] request = "LST".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(request, 0, buffer, 0, request.length);
    buffer[3] = 'x';
    assertEquals(new Lst(0), P3Request.parse(buffer, 3));
    assertThrows(IndexOutOfBoundsException.class, () -> P3Request.parse(buffer, 4096));
  }

  @Test
  void passwordsNeverAppearInToString() {
    String datagram = "REG hunter2 5000 " + MD5_A + ",a.jpg";
    assertFalse(parse(datagram).toString().contains("hunter2"));
    assertFalse(parse("UPD hunter2 5000 ''").toString().contains("hunter2"));
    assertFalse(parse("END hunter2 5000").toString().contains("hunter2"));
  }

  private static P3Request parse(String datagram) {
    byte[] bytes = datagram.getBytes(StandardCharsets.UTF_8);
    return P3Request.parse(bytes, bytes.length);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] joined = new byte[a.length + b.length];
    System.arraycopy(a, 0, joined, 0, a.length);
    System.arraycopy(b, 0, joined, a.length, b.length);
    return joined;
  }
}
