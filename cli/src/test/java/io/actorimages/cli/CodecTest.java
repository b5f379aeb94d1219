package io.actorimages.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The CLI's plain functions, alone: LST parsing, image sniffing, {@code host:port}, safe file names. */
class CodecTest {

  @Test
  void lstReplyIsSplitIntoItemsAndHolders() {
    String reply = "0123456789abcdef0123456789abcdef,my photo.jpg,127.0.0.1:13378,10.0.0.5:40000;"
        + "fedcba9876543210fedcba9876543210,a_b.png,127.0.0.2:13378";
    assertEquals(List.of(
            new P3Client.Listed("0123456789abcdef0123456789abcdef", "my photo.jpg",
                List.of("127.0.0.1:13378", "10.0.0.5:40000")),
            new P3Client.Listed("fedcba9876543210fedcba9876543210", "a_b.png", List.of("127.0.0.2:13378"))),
        P3Client.parseList(reply));
  }

  @Test
  void lstReplyWithoutHoldersOrEmptyItemsKeepsWhatCanBeRead() {
    assertEquals(List.of(new P3Client.Listed("0123456789abcdef0123456789abcdef", "x.gif", List.of())),
        P3Client.parseList("0123456789abcdef0123456789abcdef,x.gif;;junk"));
  }

  @ParameterizedTest
  @CsvSource({
      "ffd8ffe0, jpg", "89504e470d0a1a0a, png", "474946383961, gif", "424d, bmp",
      "524946460000000057454250, webp", "49492a00, tif", "4d4d002a, tif", "3c68746d6c3e, ''", "ff, ''"})
  void imagesAreRecognisedByTheirFirstBytes(String hex, String extension) {
    byte[] head = java.util.HexFormat.of().parseHex(hex);
    assertEquals(extension.isEmpty() ? Optional.empty() : Optional.of(extension), ImageFiles.extension(head));
  }

  @Test
  void seed003ErrorTextIsToldApartFromImageBytes() {
    byte[] err = "ERR File not found".getBytes(StandardCharsets.US_ASCII);
    assertEquals("ERR File not found", new P4Client.Received(err.length, "x", err).errorText());
    assertEquals(null, new P4Client.Received(100_000, "x", err).errorText());
  }

  @Test
  void hostPortIsParsedAtTheLastColon() {
    assertEquals(new Endpoint("127.0.0.2", 13378), Endpoint.parse("127.0.0.2:13378"));
    assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("nowhere"));
    assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("h:70000"));
    assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("h:x"));
  }

  @ParameterizedTest
  @CsvSource({"a.jpg, a.jpg", "../../etc/passwd, passwd", "dir\\evil.png, evil.png", "'..', download",
      "'', download", "x/, download"})
  void namesFromTheNetworkStayInsideTheFolder(String name, String safe) {
    assertEquals(safe, Destination.safeName(name));
  }
}
