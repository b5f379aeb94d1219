package io.actorimages.tests.bench;

import io.actorimages.tests.TestImages;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * The images the benchmark sends, all valid and each with its own MD5.
 *
 * <p>Re-encoding a photo per image would cost the load generator more CPU than the node spends storing it, on a
 * machine where both share two cores; so a few base images are encoded once and each image sent is a base with a
 * small metadata block naming it (a JPEG {@code COM} segment, a PNG {@code tEXt} chunk) or a few changed pixel
 * bytes (BMP). That keeps every image a real, decodable file while making each one distinct for the catalog.
 */
public final class BenchImages {
  private BenchImages() {}

  /**
   * JPEG re-encodings of {@code testdata/images/rocket.jpg}, each a different crop and quality, of about
   * {@code targetBytes} bytes each.
   */
  public static List<byte[]> jpegBases(int count, int targetBytes) {
    BufferedImage photo = decode(TestImages.bytes("rocket.jpg"));
    List<byte[]> bases = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      // Crops of 90–100 % of the photo, shifted per base, so no two bases are the same picture.
      int w = photo.getWidth() - (i % 5) * photo.getWidth() / 50;
      int h = photo.getHeight() - (i % 3) * photo.getHeight() / 30;
      BufferedImage crop = photo.getSubimage((photo.getWidth() - w) * (i % 2), (photo.getHeight() - h) / 2, w, h);
      bases.add(jpegNear(crop, targetBytes));
    }
    return bases;
  }

  /** {@code base} (a JPEG) with a {@code COM} segment holding {@code label} right after its SOI marker. */
  public static byte[] jpegWithComment(byte[] base, String label) {
    byte[] text = label.getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[base.length + 4 + text.length];
    out[0] = (byte) 0xFF;
    out[1] = (byte) 0xD8;
    out[2] = (byte) 0xFF;
    out[3] = (byte) 0xFE;
    out[4] = (byte) ((text.length + 2) >> 8);
    out[5] = (byte) (text.length + 2);
    System.arraycopy(text, 0, out, 6, text.length);
    System.arraycopy(base, 2, out, 6 + text.length, base.length - 2);
    return out;
  }

  /** A PNG of RGB noise of about {@code targetBytes} bytes: noise does not compress, so size follows area. */
  public static byte[] noisePng(int targetBytes, long seed) {
    int side = (int) Math.sqrt(targetBytes / 3.0);
    BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    Random random = new Random(seed);
    for (int y = 0; y < side; y++) for (int x = 0; x < side; x++) img.setRGB(x, y, random.nextInt(0x1000000));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(img, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** {@code base} (a PNG) with a {@code tEXt} chunk {@code Comment=label} right after IHDR. */
  public static byte[] pngWithText(byte[] base, String label) {
    byte[] data = ("Comment\0" + label).getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer chunk = ByteBuffer.allocate(12 + data.length);
    chunk.putInt(data.length).put("tEXt".getBytes(StandardCharsets.US_ASCII)).put(data);
    CRC32 crc = new CRC32();
    crc.update(chunk.array(), 4, 4 + data.length);
    chunk.putInt((int) crc.getValue());
    int afterIhdr = 8 + 25; // signature, then IHDR: length 4 + type 4 + 13 data + CRC 4
    byte[] out = new byte[base.length + chunk.capacity()];
    System.arraycopy(base, 0, out, 0, afterIhdr);
    System.arraycopy(chunk.array(), 0, out, afterIhdr, chunk.capacity());
    System.arraycopy(base, afterIhdr, out, afterIhdr + chunk.capacity(), base.length - afterIhdr);
    return out;
  }

  /**
   * An uncompressed 24-bit BMP of noise, as close below {@code maxBytes} as whole rows allow: a BMP's size is
   * fixed by its header, so it is a valid image of a chosen size without any encoding work.
   */
  public static byte[] noiseBmp(long maxBytes, long seed) {
    int width = 4096;
    int rowBytes = width * 3; // a multiple of 4: no row padding
    int height = (int) ((maxBytes - 54) / rowBytes);
    int size = 54 + rowBytes * height;
    ByteBuffer b = ByteBuffer.allocate(size).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 'B').put((byte) 'M').putInt(size).putInt(0).putInt(54);
    b.putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) 24).putInt(0)
        .putInt(rowBytes * height).putInt(2835).putInt(2835).putInt(0).putInt(0);
    byte[] pixels = new byte[rowBytes * height];
    new Random(seed).nextBytes(pixels);
    b.put(pixels);
    return b.array();
  }

  private static BufferedImage decode(byte[] bytes) {
    try {
      return ImageIO.read(new ByteArrayInputStream(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The JPEG of {@code image} at the quality whose size comes closest to {@code targetBytes}. */
  private static byte[] jpegNear(BufferedImage image, int targetBytes) {
    byte[] best = null;
    for (float q = 0.70f; q <= 0.98f; q += 0.02f) {
      byte[] jpeg = jpeg(image, q);
      if (best == null || Math.abs(jpeg.length - targetBytes) < Math.abs(best.length - targetBytes)) best = jpeg;
    }
    return best;
  }

  private static byte[] jpeg(BufferedImage image, float quality) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(stream);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality);
      writer.write(null, new IIOImage(image, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }
}
