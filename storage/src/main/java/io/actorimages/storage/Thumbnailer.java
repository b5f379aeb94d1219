package io.actorimages.storage;

import com.drew.imaging.ImageMetadataReader;
import com.drew.imaging.ImageProcessingException;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.UUID;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;

/**
 * Makes the gallery's thumbnail of an image (issue 5): a JPEG whose longest side is at most {@value #MAX_SIDE}
 * pixels, turned upright by the image's EXIF orientation, aspect ratio kept. Plain Java, blocking file I/O and
 * CPU work: call it from a blocking-I/O dispatcher. Thread-safe (no state).
 *
 * <p>A large image is never decoded at full size: the reader subsamples rows and columns while it decodes
 * ({@link ImageReadParam#setSourceSubsampling}), keeping at least twice the thumbnail's size, and the rest of
 * the way is scaled down in halving steps with bilinear filtering, which looks like area averaging at a
 * fraction of its cost. So a 64 MiB photo costs a few megabytes of heap, not its full decoded size.
 */
public final class Thumbnailer {

  /** Longest side of a thumbnail, pixels (issue 5). */
  public static final int MAX_SIDE = 256;

  /** JPEG quality of thumbnails: small files, no visible blocks at 256 px. */
  static final float JPEG_QUALITY = 0.85f;

  private Thumbnailer() {}

  /**
   * Reads the image in {@code source} and writes its thumbnail to {@code target} as JPEG. The target appears
   * whole or not at all: the JPEG goes to a temp file beside it that is then renamed (a reader never sees half
   * a thumbnail); an existing target is replaced. Not fsynced: a thumbnail lost in a crash is made again.
   *
   * @param source an image file of any format ImageIO reads here (JPEG, PNG, GIF, BMP, WebP, TIFF: the first
   *               page)
   * @param target the thumbnail file; its folder is created when missing
   * @throws InvalidImageException the source is no image any reader here decodes ({@code unreadable image: …})
   * @throws IOException           reading the source or writing the target failed
   */
  public static void write(Path source, Path target) throws IOException, InvalidImageException {
    BufferedImage thumbnail = thumbnail(source);
    Files.createDirectories(target.toAbsolutePath().getParent());
    Path temp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".part");
    try {
      try (OutputStream out = Files.newOutputStream(temp)) {
        writeJpeg(thumbnail, out);
      }
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /**
   * The thumbnail of the image in {@code source}, upright and at most {@value #MAX_SIDE} pixels on its longest
   * side (an image already that small keeps its size), as opaque RGB: transparent parts are drawn on white,
   * since JPEG has no alpha.
   *
   * @throws InvalidImageException the source is no image any reader here decodes
   * @throws IOException           reading the source failed
   */
  public static BufferedImage thumbnail(Path source) throws IOException, InvalidImageException {
    BufferedImage decoded = decodeSubsampled(source);
    BufferedImage upright = orient(decoded, orientation(source));
    int[] size = fit(upright.getWidth(), upright.getHeight());
    return scaleDown(upright, size[0], size[1]);
  }

  /**
   * Width and height of the thumbnail of a {@code width} × {@code height} image: the longest side becomes
   * {@value #MAX_SIDE} (or stays, when smaller), the other side keeps the ratio, rounded, at least 1.
   */
  static int[] fit(int width, int height) {
    int longest = Math.max(width, height);
    if (longest <= MAX_SIDE) return new int[] {width, height};
    double scale = (double) MAX_SIDE / longest;
    return new int[] {
        Math.max(1, (int) Math.round(width * scale)), Math.max(1, (int) Math.round(height * scale))};
  }

  /**
   * The subsampling step for decoding a {@code width} × {@code height} image: the largest step that still
   * leaves the longest side at least twice {@value #MAX_SIDE}, so the final scaling has pixels to average.
   */
  static int subsampling(int width, int height) {
    return Math.max(1, Math.max(width, height) / (2 * MAX_SIDE));
  }

  private static BufferedImage decodeSubsampled(Path source) throws IOException, InvalidImageException {
    Exception lastFailure = null;
    // FileImageInputStream directly, as ImageProbe does: no global ImageIO cache setting is consulted.
    try (ImageInputStream input = new FileImageInputStream(source.toFile())) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(input);
      while (readers.hasNext()) {
        ImageReader reader = readers.next();
        try {
          input.seek(0);
          reader.setInput(input, true, true);
          ImageReadParam param = reader.getDefaultReadParam();
          int step = subsampling(reader.getWidth(0), reader.getHeight(0));
          param.setSourceSubsampling(step, step, 0, 0);
          BufferedImage image = reader.read(0, param);
          if (image != null) return image;
        } catch (IOException | RuntimeException e) {
          // A reader that claims the format may still fail on it (e.g. a CMYK JPEG in the JDK's reader); the
          // next one may succeed.
          lastFailure = e;
        } finally {
          reader.dispose();
        }
      }
    }
    String why = lastFailure == null ? "no reader for its format" : lastFailure.toString();
    throw new InvalidImageException("unreadable image: " + why, lastFailure);
  }

  /**
   * The EXIF orientation (1–8) of {@code source}; 1 (as stored) when it has none or its metadata cannot be
   * read: a thumbnail that is not rotated is better than none.
   */
  static int orientation(Path source) {
    try {
      Metadata metadata = ImageMetadataReader.readMetadata(source.toFile());
      for (ExifIFD0Directory exif : metadata.getDirectoriesOfType(ExifIFD0Directory.class)) {
        Integer value = exif.getInteger(ExifIFD0Directory.TAG_ORIENTATION);
        if (value != null && value >= 1 && value <= 8) return value;
      }
    } catch (ImageProcessingException | IOException | RuntimeException e) {
      // metadata-extractor rejects some valid images (e.g. formats it does not know); they have no orientation.
    }
    return 1;
  }

  /**
   * {@code image} turned upright for EXIF orientation {@code orientation} (TIFF 6.0 tag 274: 1 as stored,
   * 2 mirrored, 3 turned 180°, 4 flipped, 5 transposed, 6 turned 90° clockwise to view, 7 transversed,
   * 8 turned 90° counter-clockwise to view), as opaque RGB.
   */
  static BufferedImage orient(BufferedImage image, int orientation) {
    int w = image.getWidth();
    int h = image.getHeight();
    boolean swap = orientation >= 5;
    AffineTransform t = new AffineTransform();
    switch (orientation) {
      case 2 -> { t.translate(w, 0); t.scale(-1, 1); }
      case 3 -> { t.translate(w, h); t.rotate(Math.PI); }
      case 4 -> { t.translate(0, h); t.scale(1, -1); }
      case 5 -> { t.rotate(-Math.PI / 2); t.scale(-1, 1); }
      case 6 -> { t.translate(h, 0); t.rotate(Math.PI / 2); }
      case 7 -> { t.scale(-1, 1); t.translate(-h, w); t.rotate(3 * Math.PI / 2); }
      case 8 -> { t.translate(0, w); t.rotate(3 * Math.PI / 2); }
      default -> { }
    }
    BufferedImage out = new BufferedImage(swap ? h : w, swap ? w : h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, out.getWidth(), out.getHeight());
      g.drawImage(image, t, null);
    } finally {
      g.dispose();
    }
    return out;
  }

  private static BufferedImage scaleDown(BufferedImage image, int width, int height) {
    BufferedImage current = image;
    // Halving steps: one bilinear step from far above the target skips pixels and aliases.
    while (current.getWidth() != width || current.getHeight() != height) {
      int w = Math.max(width, current.getWidth() / 2);
      int h = Math.max(height, current.getHeight() / 2);
      BufferedImage next = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = next.createGraphics();
      try {
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(current, 0, 0, w, h, null);
      } finally {
        g.dispose();
      }
      current = next;
    }
    return current;
  }

  private static void writeJpeg(BufferedImage image, OutputStream out) throws IOException {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    try (ImageOutputStream output = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(output);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(JPEG_QUALITY);
      writer.write(null, new IIOImage(image, null, null), param);
    } finally {
      writer.dispose();
    }
  }
}
