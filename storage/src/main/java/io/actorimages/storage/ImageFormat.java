package io.actorimages.storage;

import java.util.Optional;

/**
 * The image formats a node accepts, recognised by their magic numbers (PROTOCOLS.md P1 "bytes that are not an
 * image": JPEG, PNG, GIF, BMP, WebP, TIFF). The format decides the stored file's extension, which therefore is
 * not always {@code .jpg} as in the seed.
 */
public enum ImageFormat {
  JPEG("jpg", "image/jpeg"),
  PNG("png", "image/png"),
  GIF("gif", "image/gif"),
  BMP("bmp", "image/bmp"),
  WEBP("webp", "image/webp"),
  TIFF("tif", "image/tiff");

  /** Bytes that {@link #sniff} needs to tell every format apart: WebP's {@code WEBP} tag ends at offset 12. */
  static final int SNIFF_BYTES = 12;

  private static final byte[] JPEG_SOI = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  private static final byte[] GIF87A = {'G', 'I', 'F', '8', '7', 'a'};
  private static final byte[] GIF89A = {'G', 'I', 'F', '8', '9', 'a'};
  private static final byte[] BMP_MAGIC = {'B', 'M'};
  private static final byte[] RIFF = {'R', 'I', 'F', 'F'};
  private static final byte[] WEBP_TAG = {'W', 'E', 'B', 'P'};
  private static final byte[] TIFF_LITTLE_ENDIAN = {'I', 'I', '*', 0};
  private static final byte[] TIFF_BIG_ENDIAN = {'M', 'M', 0, '*'};

  private final String extension;
  private final String mediaType;

  ImageFormat(String extension, String mediaType) {
    this.extension = extension;
    this.mediaType = mediaType;
  }

  /** The stored file's extension without the dot: {@code jpg}, {@code png}, {@code gif}, {@code bmp},
   * {@code webp} or {@code tif}. */
  public String extension() {
    return extension;
  }

  /** The IANA media type, e.g. {@code image/jpeg}, as served over HTTP and kept in the catalog. */
  public String mediaType() {
    return mediaType;
  }

  /**
   * Recognises a format from the first bytes of a file.
   *
   * @param head   the file's first bytes; only {@code head[0..length)} is read
   * @param length how many bytes of {@code head} are valid; 12 suffice for every format (WebP's tag ends at
   *               offset 12), fewer can only match the formats whose magic number fits in them
   * @return the format whose magic number starts {@code head}, or empty when none does
   * @throws IllegalArgumentException if {@code length} is negative or larger than {@code head.length}
   */
  public static Optional<ImageFormat> sniff(byte[] head, int length) {
    if (length < 0 || length > head.length) {
      throw new IllegalArgumentException("length " + length + " outside 0.." + head.length);
    }
    if (startsWith(head, length, 0, JPEG_SOI)) {
      return Optional.of(JPEG);
    }
    if (startsWith(head, length, 0, PNG_SIGNATURE)) {
      return Optional.of(PNG);
    }
    if (startsWith(head, length, 0, GIF87A) || startsWith(head, length, 0, GIF89A)) {
      return Optional.of(GIF);
    }
    if (startsWith(head, length, 0, BMP_MAGIC)) {
      return Optional.of(BMP);
    }
    // RIFF is a container for WAV and AVI too: only the form type at offset 8 says WebP.
    if (startsWith(head, length, 0, RIFF) && startsWith(head, length, 8, WEBP_TAG)) {
      return Optional.of(WEBP);
    }
    if (startsWith(head, length, 0, TIFF_LITTLE_ENDIAN) || startsWith(head, length, 0, TIFF_BIG_ENDIAN)) {
      return Optional.of(TIFF);
    }
    return Optional.empty();
  }

  private static boolean startsWith(byte[] head, int length, int offset, byte[] magic) {
    if (length < offset + magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if (head[offset + i] != magic[i]) {
        return false;
      }
    }
    return true;
  }
}
