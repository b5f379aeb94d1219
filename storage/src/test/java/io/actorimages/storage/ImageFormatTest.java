package io.actorimages.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageFormatTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "ffd8ffe000104a4649460001, JPEG",
      "ffd8ffe1, JPEG",
      "89504e470d0a1a0a0000000d, PNG",
      "474946383761, GIF",
      "474946383961, GIF",
      "424d36300000, BMP",
      "52494646240000005745425056503820, WEBP",
      "49492a0008000000, TIFF",
      "4d4d002a00000008, TIFF",
  })
  void sniffRecognisesEachMagicNumber(String headHex, ImageFormat expected) {
    byte[] head = HexFormat.of().parseHex(headHex);
    assertEquals(Optional.of(expected), ImageFormat.sniff(head, head.length));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "plain text, 48656c6c6f2c20776f726c6421",
      "RIFF WAVE audio, 524946462400000057415645666d7420",
      "GIF with an unknown version, 474946393061",
      "PNG signature cut short, 89504e470d0a1a",
      "JPEG SOI without a marker, ffd800",
      "PDF, 255044462d312e370a",
      "ZIP, 504b030414000000",
      "TIFF byte order with the wrong magic, 49492b00",
  })
  void sniffRejectsEverythingElse(String what, String headHex) {
    byte[] head = HexFormat.of().parseHex(headHex);
    assertEquals(Optional.empty(), ImageFormat.sniff(head, head.length), what);
  }

  @ParameterizedTest(name = "{0} bytes")
  @CsvSource({"0", "4", "11"})
  void webpNeedsTwelveBytesToBeRecognised(int length) {
    byte[] head = "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1);
    assertEquals(Optional.empty(), ImageFormat.sniff(head, length));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "JPEG, jpg, image/jpeg",
      "PNG, png, image/png",
      "GIF, gif, image/gif",
      "BMP, bmp, image/bmp",
      "WEBP, webp, image/webp",
      "TIFF, tif, image/tiff",
  })
  void eachFormatHasItsExtensionAndMediaType(ImageFormat format, String extension, String mediaType) {
    assertEquals(extension, format.extension());
    assertEquals(mediaType, format.mediaType());
  }
}
