package io.actorimages.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.actorimages.node.protocol.P4Request.Get;
import io.actorimages.node.protocol.P4Request.Invalid;
import io.actorimages.node.protocol.P4Request.NeedMore;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class P4RequestTest {

  private static final String MD5 = "0cc175b9c0f1b6a831c399e269772661";

  private static Arguments row(String received, P4Request expected) {
    return Arguments.of(received, expected);
  }

  static Stream<Arguments> received() {
    return Stream.of(
        row("GET " + MD5, new Get(MD5)),
        row("GET " + MD5.toUpperCase(), new Get(MD5)),
        row("GET 0CC175b9C0F1b6a831c399e269772661", new Get(MD5)),
        row("GET " + MD5 + "\r\n", new Get(MD5)),
        row("GET " + MD5 + "trailing junk", new Get(MD5)),
        row("", new NeedMore()),
        row("G", new NeedMore()),
        row("GE", new NeedMore()),
        row("GET", new NeedMore()),
        row("GET ", new NeedMore()),
        row("GET " + MD5.substring(0, 31), new NeedMore()),
        row("get " + MD5, new Invalid()),
        row("GET  " + MD5, new Invalid()),
        row(" GET " + MD5, new Invalid()),
        row("GET\t" + MD5, new Invalid()),
        row("PUT " + MD5, new Invalid()),
        row("X", new Invalid()),
        row("GEX", new Invalid()),
        row("GET z", new Invalid()),
        row("GET " + MD5.substring(0, 31) + "g", new Invalid()),
        row("GET " + MD5.substring(0, 10) + "\r\n", new Invalid()),
        row("LST", new Invalid()),
        row("ERR File not found", new Invalid()));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("received")
  void requestIsGetPlus32HexOrNeedsMoreOrIsInvalid(String received, P4Request expected) {
    assertEquals(expected, P4Request.parse(ByteString.fromString(received, StandardCharsets.ISO_8859_1)));
  }

  @Test
  void getSplitAcrossSegmentsIsWholeOnlyWithTheLastByte() {
    ByteString request = ByteString.fromString("GET " + MD5, StandardCharsets.US_ASCII);
    ByteString received = ByteString.emptyByteString();
    for (int i = 0; i < request.length() - 1; i++) {
      received = received.concat(request.slice(i, i + 1));
      assertEquals(new NeedMore(), P4Request.parse(received), "after " + (i + 1) + " bytes");
    }
    assertEquals(new Get(MD5), P4Request.parse(received.concat(request.slice(35, 36))));
    assertEquals(36, P4Request.REQUEST_BYTES);
  }

  @Test
  void binaryJunkIsInvalidAtOnce() {
    assertEquals(new Invalid(), P4Request.parse(ByteString.fromArray(new byte[] {(byte) 0xff, (byte) 0xd8})));
    assertEquals(new Invalid(), P4Request.parse(ByteString.fromArray(new byte[] {'G', 'E', 'T', ' ', 0})));
    byte[] nonAsciiHex = ("GET " + MD5).getBytes(StandardCharsets.US_ASCII);
    nonAsciiHex[10] = (byte) ('a' | 0x80); // a byte that is 'a' but for its high bit
    assertEquals(new Invalid(), P4Request.parse(ByteString.fromArray(nonAsciiHex)));
  }
}
