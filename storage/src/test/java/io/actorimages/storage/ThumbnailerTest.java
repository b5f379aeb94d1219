package io.actorimages.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class ThumbnailerTest {

  @TempDir
  Path dir;

  static Stream<TestImages.Image> images() {
    return TestImages.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void everyRealImageGetsAJpegThumbnailAtMost256PixelsWithItsAspectKept(TestImages.Image image) throws Exception {
    BufferedImage original = image.decoded();
    Path source = write(image.name(), image.bytes());
    Path target = dir.resolve("thumbnails/thumb.jpg");

    Thumbnailer.write(source, target);

    BufferedImage thumb = ImageIO.read(target.toFile());
    byte[] head = Files.readAllBytes(target);
    assertEquals(ImageFormat.JPEG, ImageFormat.sniff(head, head.length).orElseThrow());
    int longest = Math.max(original.getWidth(), original.getHeight());
    assertEquals(Math.min(longest, Thumbnailer.MAX_SIDE), Math.max(thumb.getWidth(), thumb.getHeight()));
    double expectedRatio = (double) original.getWidth() / original.getHeight();
    double ratio = (double) thumb.getWidth() / thumb.getHeight();
    // One pixel of rounding on the short side is all the aspect may move.
    assertEquals(expectedRatio, ratio, expectedRatio / Math.min(thumb.getWidth(), thumb.getHeight()) + 1e-9,
        thumb.getWidth() + "x" + thumb.getHeight());
    assertEquals(java.util.List.of("thumb.jpg"), TestImages.list(target.getParent()), "no temp file left");
  }

  @Test
  void exifOrientationSixTurnsTheThumbnailUpright() throws Exception {
    byte[] rocket = TestImages.bytes("rocket.jpg");
    Path plain = write("rocket.jpg", rocket);
    Path rotated = write("rocket-exif6.jpg", withExifOrientation(rocket, 6));
    assertEquals(6, Thumbnailer.orientation(rotated));
    assertEquals(1, Thumbnailer.orientation(plain));

    BufferedImage asStored = Thumbnailer.thumbnail(plain);
    BufferedImage upright = Thumbnailer.thumbnail(rotated);

    assertEquals(256, asStored.getWidth());
    assertEquals(171, asStored.getHeight());
    assertEquals(171, upright.getWidth(), "width and height swap");
    assertEquals(256, upright.getHeight());
    // Orientation 6 means "turn 90° clockwise to view": the stored bottom-left corner becomes the top-left.
    int[] topLeftUpright = mean(upright, 0, 0, 24, 24);
    int[] bottomLeftStored = mean(asStored, 0, asStored.getHeight() - 24, 24, 24);
    int[] topLeftStored = mean(asStored, 0, 0, 24, 24);
    assertClose(bottomLeftStored, topLeftUpright);
    assertFalse(close(topLeftStored, topLeftUpright), "the corners differ, so the check above means something");
  }

  @ParameterizedTest(name = "orientation {0}")
  @CsvSource({"1, 3, 2", "2, 3, 2", "3, 3, 2", "4, 3, 2", "5, 2, 3", "6, 2, 3", "7, 2, 3", "8, 2, 3"})
  void everyOrientationKeepsOrSwapsTheSidesAndMovesTheMarkedCorner(int orientation, int width, int height) {
    // A 3x2 image whose stored top-left pixel alone is red; where it lands is fixed by TIFF 6.0 tag 274.
    BufferedImage image = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
    image.setRGB(0, 0, 0xFF0000);
    BufferedImage out = Thumbnailer.orient(image, orientation);
    assertEquals(width, out.getWidth());
    assertEquals(height, out.getHeight());
    int[][] redAt = {null, {0, 0}, {2, 0}, {2, 1}, {0, 1}, {0, 0}, {1, 0}, {1, 2}, {0, 2}};
    int x = redAt[orientation][0];
    int y = redAt[orientation][1];
    assertEquals(0xFF0000, out.getRGB(x, y) & 0xFFFFFF, "red at " + x + "," + y);
  }

  @ParameterizedTest(name = "{0}x{1} -> step {2}")
  @CsvSource({"640, 427, 1", "1023, 800, 1", "1024, 768, 2", "6000, 4000, 11", "4000, 6000, 11", "100, 100, 1"})
  void largeImagesAreDecodedSubsampledToAtLeastTwiceTheThumbnail(int width, int height, int step) {
    assertEquals(step, Thumbnailer.subsampling(width, height));
    assertTrue(Math.max(width, height) / step >= 2 * Thumbnailer.MAX_SIDE || step == 1);
  }

  @ParameterizedTest(name = "{0}x{1} -> {2}x{3}")
  @CsvSource({"640, 427, 256, 171", "427, 640, 171, 256", "256, 10, 256, 10", "100, 60, 100, 60",
      "5000, 1, 256, 1"})
  void theLongestSideBecomes256AndTheOtherFollows(int width, int height, int thumbWidth, int thumbHeight) {
    assertArrayEquals(new int[] {thumbWidth, thumbHeight}, Thumbnailer.fit(width, height));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"not-an-image.txt", "truncated.jpg"})
  void anUnreadableImageIsAClearErrorAndWritesNothing(String name) throws Exception {
    Path source = write(name, TestImages.bytes(name));
    Path target = dir.resolve("thumbnails/x.jpg");
    InvalidImageException e = assertThrows(InvalidImageException.class, () -> Thumbnailer.write(source, target));
    assertTrue(e.getMessage().startsWith("unreadable image"), e.getMessage());
    assertFalse(Files.exists(target));
  }

  @Test
  void theStoreNamesOneThumbnailPerMd5AndRefusesOtherNames() {
    BlobStore store = new BlobStore(dir, 1024);
    String md5 = "0123456789abcdef0123456789abcdef";
    assertEquals(dir.resolve("thumbnails").resolve(md5 + ".jpg"), store.thumbnailPath(md5));
    for (String bad : new String[] {"../../etc/passwd", "0123456789ABCDEF0123456789ABCDEF", "abc", ""}) {
      assertThrows(IllegalArgumentException.class, () -> store.thumbnailPath(bad), bad);
    }
  }

  /**
   * {@code jpeg} with an APP1 Exif segment right after its APP0 (JFIF) segment, holding only IFD0 with the
   * Orientation tag (0x0112, SHORT) set to {@code orientation}; big-endian TIFF header.
   */
  static byte[] withExifOrientation(byte[] jpeg, int orientation) {
    ByteBuffer exif = ByteBuffer.allocate(2 + 2 + 6 + 8 + 2 + 12 + 4);
    exif.put((byte) 0xFF).put((byte) 0xE1).putShort((short) (exif.capacity() - 2));
    exif.put("Exif".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 0).put((byte) 0);
    exif.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);   // TIFF header, IFD0 at offset 8
    exif.putShort((short) 1);                                             // one entry
    exif.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
    exif.putInt(0);                                                       // no next IFD
    int app0End = 4 + (((jpeg[4] & 0xFF) << 8) | (jpeg[5] & 0xFF));       // SOI, then APP0 with its length
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, app0End);
    out.write(exif.array(), 0, exif.capacity());
    out.write(jpeg, app0End, jpeg.length - app0End);
    return out.toByteArray();
  }

  private Path write(String name, byte[] bytes) throws Exception {
    return Files.write(dir.resolve(name), bytes);
  }

  private static int[] mean(BufferedImage image, int x0, int y0, int w, int h) {
    long r = 0;
    long g = 0;
    long b = 0;
    for (int y = y0; y < y0 + h; y++) {
      for (int x = x0; x < x0 + w; x++) {
        int rgb = image.getRGB(x, y);
        r += (rgb >> 16) & 0xFF;
        g += (rgb >> 8) & 0xFF;
        b += rgb & 0xFF;
      }
    }
    int n = w * h;
    return new int[] {(int) (r / n), (int) (g / n), (int) (b / n)};
  }

  private static boolean close(int[] a, int[] b) {
    for (int i = 0; i < 3; i++) if (Math.abs(a[i] - b[i]) > 12) return false;
    return true;
  }

  private static void assertClose(int[] expected, int[] actual) {
    assertTrue(close(expected, actual),
        java.util.Arrays.toString(expected) + " vs " + java.util.Arrays.toString(actual));
  }
}
