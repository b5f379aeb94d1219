package io.actorimages.storage;

import static io.actorimages.storage.TestImages.digest;
import static io.actorimages.storage.TestImages.list;
import static io.actorimages.storage.TestImages.stage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class BlobWriterTest {

  private static final long LIMIT = 64L << 20;

  @TempDir
  Path dataDir;
  private BlobStore store;
  private Path tempDir;

  @BeforeEach
  void openStore() {
    store = new BlobStore(dataDir, LIMIT);
    tempDir = dataDir.resolve(".tmp");
  }

  static Stream<Arguments> everyImageInEveryChunkSize() {
    return TestImages.all().flatMap(image -> Stream.of(1, 7, 64 * 1024).map(chunk -> Arguments.of(image, chunk)));
  }

  @ParameterizedTest(name = "{0} in chunks of {1} bytes")
  @MethodSource("everyImageInEveryChunkSize")
  void everyRealImageIsStagedWhateverTheChunkSize(TestImages.Image image, int chunk) throws Exception {
    StagedBlob staged = stage(store.newWriter(), image.bytes(), chunk);

    BufferedImage decoded = image.decoded();
    assertEquals(image.bytes().length, staged.size());
    assertEquals(digest("MD5", image.bytes()), staged.md5());
    assertEquals(digest("SHA-256", image.bytes()), staged.sha256());
    assertEquals(image.format(), staged.format());
    assertEquals(decoded.getWidth() + "x" + decoded.getHeight(), staged.width() + "x" + staged.height());
    assertArrayEquals(image.bytes(), Files.readAllBytes(staged.tempFile()));
    assertEquals(tempDir, staged.tempFile().getParent());
  }

  @Test
  void astronautIsFiveHundredTwelvePixelsSquare() throws Exception {
    StagedBlob staged = stage(store.newWriter(), TestImages.image("astronaut.png").bytes(), 64 * 1024);
    assertEquals(List.of(512, 512), List.of(staged.width(), staged.height()));
  }

  @Test
  void directAndReadOnlyBuffersAreStagedAlike() throws Exception {
    byte[] bytes = TestImages.image("rocket.jpg").bytes();
    BlobWriter writer = store.newWriter();
    int half = bytes.length / 2;
    ByteBuffer direct = ByteBuffer.allocateDirect(half).put(bytes, 0, half).flip();
    writer.write(direct);
    writer.write(ByteBuffer.wrap(bytes, half, bytes.length - half).asReadOnlyBuffer());
    StagedBlob staged = writer.finish();

    assertEquals(digest("SHA-256", bytes), staged.sha256());
    assertEquals(0, direct.remaining());
  }

  // scikit-image's truncated.jpg is the first 400 bytes of a 100x100 JPEG: its header (SOF0) parses, but it stops
  // inside a Huffman table, long before the EOI marker.
  @Test
  void truncatedJpegIsRejectedForItsMissingEndMarker() throws Exception {
    assertRejected(TestImages.bytes("truncated.jpg"), "truncated jpeg (no EOI marker)");
    // Why the end marker rule is needed: TwelveMonkeys' reader still parses this header as 100x100.
    assertEquals(new ImageProbe.Dimensions(100, 100),
        ImageProbe.dimensions(TestImages.DIR.resolve("truncated.jpg"), ImageFormat.JPEG));
  }

  static Stream<Arguments> imagesCutShort() {
    return TestImages.all()
        .filter(image -> image.format() != ImageFormat.TIFF)
        .flatMap(image -> Stream.of(
            Arguments.of(image, image.bytes().length - 1),
            Arguments.of(image, image.bytes().length / 2)));
  }

  @ParameterizedTest(name = "{0} cut to {1} bytes")
  @MethodSource("imagesCutShort")
  void anImageCutBeforeItsEndIsRejected(TestImages.Image image, int length) {
    InvalidImageException e = assertRejected(Arrays.copyOf(image.bytes(), length));
    assertTrue(e.getMessage().startsWith("truncated " + image.format().name().toLowerCase()), e.getMessage());
  }

  @Test
  void zeroPaddingAfterTheJpegEndMarkerIsAccepted() throws Exception {
    byte[] rocket = TestImages.image("rocket.jpg").bytes();
    byte[] padded = Arrays.copyOf(rocket, rocket.length + 1000);

    StagedBlob staged = stage(store.newWriter(), padded, 7);
    assertEquals(List.of(640, 427), List.of(staged.width(), staged.height()));
    assertEquals(padded.length, staged.size());
  }

  @Test
  void notAnImageIsRejectedAsSoonAsTwelveBytesArrived() throws Exception {
    byte[] text = TestImages.bytes("not-an-image.txt");
    BlobWriter writer = store.newWriter();
    for (int i = 0; i < 11; i++) {
      writer.write(ByteBuffer.wrap(text, i, 1));
    }
    InvalidImageException e = assertThrows(InvalidImageException.class,
        () -> writer.write(ByteBuffer.wrap(text, 11, 1)));
    assertEquals("not an image (unknown format)", e.getMessage());
    assertEquals(List.of(), list(tempDir));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "a whole text file, not-an-image.txt",
      "a text shorter than twelve bytes, ",
  })
  void notAnImageIsRejected(String what, String file) {
    byte[] bytes = file == null ? "hello".getBytes(StandardCharsets.US_ASCII) : TestImages.bytes(file);
    assertRejected(bytes, "not an image (unknown format)");
  }

  @Test
  void emptyUploadIsRejectedAndLeavesNoFile() throws Exception {
    BlobWriter writer = store.newWriter();
    writer.write(ByteBuffer.allocate(0));
    InvalidImageException e = assertThrows(InvalidImageException.class, writer::finish);
    assertEquals("empty image", e.getMessage());
    assertEquals(List.of(), list(tempDir));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "JPEG markers around noise, ffd8ffe0deadbeefdeadbeefdeadbeefffd9, unreadable jpeg header",
      "PNG signature and IEND only, 89504e470d0a1a0a0000000049454e44ae426082, unreadable png header",
      "GIF version and trailer only, 4749463839610000000000003b, unreadable gif header",
      "BM and nothing else, 424d0000000000000000000000000000, unreadable bmp header",
  })
  void aHeaderNoReaderParsesIsRejected(String what, String hex, String reason) {
    assertRejected(HexFormat.of().parseHex(hex), reason);
  }

  @Test
  void uploadOverTheLimitIsRejectedBeforeItsBytesReachTheDisk() throws Exception {
    byte[] rocket = TestImages.image("rocket.jpg").bytes();
    BlobWriter writer = new BlobStore(dataDir, 100_000).newWriter();
    writer.write(ByteBuffer.wrap(rocket, 0, 64 * 1024));

    InvalidImageException e = assertThrows(InvalidImageException.class,
        () -> writer.write(ByteBuffer.wrap(rocket, 64 * 1024, rocket.length - 64 * 1024)));
    assertEquals("image larger than 100000 bytes", e.getMessage());
    assertEquals(64 * 1024, writer.bytesWritten());
    assertEquals(List.of(), list(tempDir));
  }

  @Test
  void uploadOfExactlyTheLimitIsAccepted() throws Exception {
    byte[] rocket = TestImages.image("rocket.jpg").bytes();
    StagedBlob staged = stage(new BlobStore(dataDir, rocket.length).newWriter(), rocket, 64 * 1024);
    assertEquals(rocket.length, staged.size());
  }

  @Test
  void abortDeletesTheTempFileAndMayBeRepeated() throws Exception {
    BlobWriter writer = store.newWriter();
    writer.write(ByteBuffer.wrap(TestImages.image("rocket.jpg").bytes(), 0, 1000));
    assertEquals(1, list(tempDir).size());

    writer.abort();
    writer.abort();
    assertEquals(List.of(), list(tempDir));
    assertThrows(IllegalStateException.class, () -> writer.write(ByteBuffer.allocate(1)));
  }

  @Test
  void aRejectedUploadLeavesTheWriterAborted() throws Exception {
    BlobWriter writer = store.newWriter();
    assertThrows(InvalidImageException.class, () -> stage(writer, TestImages.bytes("truncated.jpg"), 100));

    assertEquals(List.of(), list(tempDir));
    assertThrows(IllegalStateException.class, writer::finish);
  }

  @Test
  void closingAnUnfinishedWriterAbortsIt() throws Exception {
    try (BlobWriter writer = store.newWriter()) {
      writer.write(ByteBuffer.wrap(TestImages.image("rocket.jpg").bytes(), 0, 1000));
    }
    assertEquals(List.of(), list(tempDir));
  }

  @Test
  void closingAFinishedWriterKeepsTheStagedFileForCommit() throws Exception {
    StagedBlob staged;
    try (BlobWriter writer = store.newWriter()) {
      staged = stage(writer, TestImages.image("rocket.jpg").bytes(), 64 * 1024);
    }
    assertTrue(Files.exists(staged.tempFile()));
  }

  @Test
  void abortAfterFinishDropsTheStagedFile() throws Exception {
    BlobWriter writer = store.newWriter();
    StagedBlob staged = stage(writer, TestImages.image("rocket.jpg").bytes(), 64 * 1024);

    writer.abort();
    assertTrue(Files.notExists(staged.tempFile()));
  }

  private InvalidImageException assertRejected(byte[] bytes) {
    BlobWriter writer = store.newWriter();
    InvalidImageException e = assertThrows(InvalidImageException.class, () -> stage(writer, bytes, 4096));
    assertThrows(IllegalStateException.class, writer::finish, "a rejected writer is aborted");
    assertEquals(List.of(), list(tempDir), "a rejected upload leaves no temp file");
    return e;
  }

  private void assertRejected(byte[] bytes, String reason) {
    assertEquals(reason, assertRejected(bytes).getMessage());
  }
}
