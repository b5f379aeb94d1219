package io.actorimages.storage;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * The real images of {@code testdata/images} (see its README.md), plus a GIF and a BMP that the JDK's own
 * encoders make from one of them, since the test set ships neither format.
 */
final class TestImages {

  /** {@code testdata/}; Maven runs a module's tests from the module folder. */
  static final Path DIR = Path.of(System.getProperty("testdata.dir", "../testdata")).resolve("images");

  /** A test image: its name, its bytes and the format the store must detect. */
  record Image(String name, byte[] bytes, ImageFormat format) {
    @Override
    public String toString() {
      return name;
    }

    BufferedImage decoded() {
      try {
        return ImageIO.read(new ByteArrayInputStream(bytes));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static final List<Image> ALL = List.of(
      file("astronaut.png", ImageFormat.PNG),
      file("chelsea.png", ImageFormat.PNG),
      file("coffee.png", ImageFormat.PNG),
      file("rocket.jpg", ImageFormat.JPEG),
      file("multipage_rgb.tif", ImageFormat.TIFF),
      encoded("chelsea.gif", "gif", ImageFormat.GIF),
      encoded("chelsea.bmp", "bmp", ImageFormat.BMP));

  private TestImages() {}

  /** Every valid test image. */
  static Stream<Image> all() {
    return ALL.stream();
  }

  /** The valid test image called {@code name}. */
  static Image image(String name) {
    return ALL.stream().filter(image -> image.name().equals(name)).findFirst().orElseThrow();
  }

  /** The bytes of {@code testdata/images/<name>}. */
  static byte[] bytes(String name) {
    try {
      return Files.readAllBytes(DIR.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException("missing test image " + DIR.resolve(name).toAbsolutePath(), e);
    }
  }

  private static Image file(String name, ImageFormat format) {
    return new Image(name, bytes(name), format);
  }

  // A 96x64 crop of chelsea.png keeps the encoded files small and the GIF palette step fast.
  private static Image encoded(String name, String imageIoFormat, ImageFormat format) {
    try {
      BufferedImage crop = ImageIO.read(DIR.resolve("chelsea.png").toFile()).getSubimage(150, 80, 96, 64);
      BufferedImage rgb = new BufferedImage(crop.getWidth(), crop.getHeight(), BufferedImage.TYPE_INT_RGB);
      rgb.getGraphics().drawImage(crop, 0, 0, null);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (!ImageIO.write(rgb, imageIoFormat, out)) {
        throw new IllegalStateException("no ImageIO writer for " + imageIoFormat);
      }
      return new Image(name, out.toByteArray(), format);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes {@code bytes} to {@code writer} in slices of {@code chunk} bytes, then finishes it. */
  static StagedBlob stage(BlobWriter writer, byte[] bytes, int chunk) throws IOException, InvalidImageException {
    for (int offset = 0; offset < bytes.length; offset += chunk) {
      writer.write(ByteBuffer.wrap(bytes, offset, Math.min(chunk, bytes.length - offset)));
    }
    return writer.finish();
  }

  /** Lowercase hex digest of {@code bytes}, computed in one piece as the reference. */
  static String digest(String algorithm, byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The names of the entries of {@code dir}, sorted. */
  static List<String> list(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(file -> file.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
