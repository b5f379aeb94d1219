package io.actorimages.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;

/**
 * The checks {@link BlobWriter#finish()} runs on a whole upload before it may be stored: structural completeness
 * from the stream's last bytes, then width and height from the header. Neither decodes the pixels, so a 64 MiB
 * upload costs a header parse, not a decode (PROTOCOLS.md P1: a truncated upload never becomes visible).
 */
final class ImageProbe {

  /** PNG's IEND chunk: zero length, type {@code IEND}, CRC-32 of the type. */
  private static final byte[] PNG_IEND = {0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xAE, 0x42, 0x60, (byte) 0x82};
  private static final byte[] GIF_TRAILER = {0x3B};

  /** Width and height in pixels. */
  record Dimensions(int width, int height) {}

  private ImageProbe() {}

  /**
   * Rejects a stream that stops before its format's end:
   * <ul>
   *   <li>JPEG must end with the EOI marker {@code FF D9}; zero bytes after it are allowed (padding some writers
   *       add). This is what rejects a JPEG cut anywhere before its end, such as scikit-image's
   *       {@code truncated.jpg}, whose header still parses;</li>
   *   <li>PNG must end with the IEND chunk;</li>
   *   <li>GIF must end with the trailer {@code 3B};</li>
   *   <li>BMP must be at least as long as the file size in its header (0 there means "not given");</li>
   *   <li>WebP must be at least as long as the RIFF size in its header plus the 8 bytes before it.</li>
   * </ul>
   * TIFF has no trailer nor total size; a TIFF cut after its first directory is only caught if the header parse
   * of {@link #dimensions} fails.
   *
   * @throws InvalidImageException with reason {@code truncated <format> (...)}
   */
  static void checkComplete(ImageFormat format, StreamEnds ends) throws InvalidImageException {
    switch (format) {
      case JPEG -> require(ends.endsWithBeforeZeroPadding(0xFF, 0xD9), "truncated jpeg (no EOI marker)");
      case PNG -> require(ends.endsWith(PNG_IEND), "truncated png (no IEND chunk)");
      case GIF -> require(ends.endsWith(GIF_TRAILER), "truncated gif (no trailer)");
      case BMP -> require(ends.total() >= ends.headUint32LittleEndian(2),
          "truncated bmp (shorter than its header says)");
      case WEBP -> require(ends.total() >= ends.headUint32LittleEndian(4) + 8,
          "truncated webp (shorter than its RIFF size)");
      case TIFF -> { }
    }
  }

  private static void require(boolean complete, String reason) throws InvalidImageException {
    if (!complete) {
      throw new InvalidImageException(reason);
    }
  }

  /**
   * Reads width and height from the header of {@code file} with the ImageIO readers registered for
   * {@code format}'s media type (the JDK's, and TwelveMonkeys' for WebP and TIFF); the first reader that parses
   * the header wins. Blocking file I/O.
   *
   * @throws InvalidImageException {@code unreadable <format> header} (e.g. {@code unreadable png header}) when
   *                               no reader parses the header or a side is not positive
   * @throws IOException           if the file cannot be opened
   */
  static Dimensions dimensions(Path file, ImageFormat format) throws IOException, InvalidImageException {
    Exception lastFailure = null;
    // FileImageInputStream directly: ImageIO.createImageInputStream would consult the global disk-cache setting.
    try (ImageInputStream input = new FileImageInputStream(file.toFile())) {
      Iterator<ImageReader> readers = ImageIO.getImageReadersByMIMEType(format.mediaType());
      while (readers.hasNext()) {
        ImageReader reader = readers.next();
        try {
          input.seek(0);
          reader.setInput(input, true, true);
          int width = reader.getWidth(0);
          int height = reader.getHeight(0);
          if (width > 0 && height > 0) {
            return new Dimensions(width, height);
          }
        } catch (IOException | RuntimeException e) {
          // A parser's own bug on hostile bytes must not escape as anything but "unreadable".
          lastFailure = e;
        } finally {
          reader.dispose();
        }
      }
    }
    throw new InvalidImageException("unreadable " + name(format) + " header", lastFailure);
  }

  /** The format's name in reasons: {@code jpeg}, {@code png}, ... {@code tiff}. */
  static String name(ImageFormat format) {
    return format.name().toLowerCase(Locale.ROOT);
  }
}
