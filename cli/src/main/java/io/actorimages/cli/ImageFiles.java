package io.actorimages.cli;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Local image files: recognising them by their first bytes (the formats a node accepts, PROTOCOLS.md P1: JPEG,
 * PNG, GIF, BMP, WebP, TIFF), collecting them from files and folders, and their MD5. All of it is blocking file
 * I/O; every {@link IOException} becomes a {@link CliFailure#localFile} naming the path.
 */
final class ImageFiles {

  /** Bytes needed to recognise every supported format. */
  static final int HEAD = 12;

  private ImageFiles() {}

  /**
   * The usual file extension of the image format {@code head} starts with ({@code jpg}, {@code png}, {@code gif},
   * {@code bmp}, {@code webp}, {@code tif}), or empty if it is none of them.
   */
  static Optional<String> extension(byte[] head) {
    if (startsWith(head, 0xFF, 0xD8, 0xFF)) return Optional.of("jpg");
    if (startsWith(head, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) return Optional.of("png");
    if (startsWith(head, 'G', 'I', 'F', '8')) return Optional.of("gif");
    if (startsWith(head, 'B', 'M')) return Optional.of("bmp");
    if (startsWith(head, 'R', 'I', 'F', 'F') && head.length >= 12
        && "WEBP".equals(new String(head, 8, 4, StandardCharsets.US_ASCII))) return Optional.of("webp");
    if (startsWith(head, 'I', 'I', 42, 0) || startsWith(head, 'M', 'M', 0, 42)) return Optional.of("tif");
    return Optional.empty();
  }

  /** Whether the file at {@code path} starts like an image. */
  static boolean isImage(Path path) {
    try (InputStream in = Files.newInputStream(path)) {
      return extension(in.readNBytes(HEAD)).isPresent();
    } catch (IOException e) {
      throw CliFailure.localFile("cannot read: " + path + " (" + e.getMessage() + ")", e);
    }
  }

  /**
   * The image files named by {@code paths}, in order: a file as given, a folder's image files recursively in name
   * order (hidden files and files that are not images are skipped).
   *
   * @param filesMustBeImages whether a file named directly must be an image ({@code send}: a node discards
   *                          anything else without telling the sender, PROTOCOLS.md P1)
   * @throws CliFailure ({@link Exit#LOCAL_FILE}) for a missing or unreadable path, an empty file, or a named file
   *     that is not an image when {@code filesMustBeImages}
   */
  static List<Path> collect(List<Path> paths, boolean filesMustBeImages) {
    List<Path> files = new ArrayList<>();
    for (Path path : paths) {
      if (Files.isDirectory(path)) {
        files.addAll(imagesIn(path));
      } else if (Files.isRegularFile(path)) {
        if (!Files.isReadable(path)) throw CliFailure.localFile("cannot read: " + path, null);
        if (size(path) == 0) throw CliFailure.localFile("empty file: " + path, null);
        if (filesMustBeImages && !isImage(path)) {
          throw CliFailure.localFile("not an image (JPEG, PNG, GIF, BMP, WebP or TIFF): " + path, null);
        }
        files.add(path);
      } else {
        throw CliFailure.localFile("no such file or folder: " + path, null);
      }
    }
    return files;
  }

  /** The image files below {@code folder}, recursively, in path order. */
  static List<Path> imagesIn(Path folder) {
    try (Stream<Path> walk = Files.walk(folder)) {
      return walk.filter(Files::isRegularFile)
          .filter(p -> !p.getFileName().toString().startsWith("."))
          .sorted()
          .filter(p -> Files.isReadable(p) && isImage(p))
          .toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      throw CliFailure.localFile("cannot read folder: " + folder + " (" + e.getMessage() + ")", e);
    }
  }

  /** The size of {@code path} in bytes. */
  static long size(Path path) {
    try {
      return Files.size(path);
    } catch (IOException e) {
      throw CliFailure.localFile("cannot read: " + path + " (" + e.getMessage() + ")", e);
    }
  }

  /** Lowercase hex MD5 of the file at {@code path}, read in a stream. */
  static String md5(Path path) {
    MessageDigest digest = newMd5();
    try (InputStream in = Files.newInputStream(path)) {
      byte[] buffer = new byte[64 * 1024];
      for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
    } catch (IOException e) {
      throw CliFailure.localFile("cannot read: " + path + " (" + e.getMessage() + ")", e);
    }
    return hex(digest);
  }

  /** A fresh MD5 digest. */
  static MessageDigest newMd5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has MD5", e);
    }
  }

  /** The 32 lowercase hex characters of {@code digest}'s result. */
  static String hex(MessageDigest digest) {
    return String.format("%032x", new BigInteger(1, digest.digest()));
  }

  private static boolean startsWith(byte[] head, int... prefix) {
    if (head.length < prefix.length) return false;
    byte[] expected = new byte[prefix.length];
    for (int i = 0; i < prefix.length; i++) expected[i] = (byte) prefix[i];
    return Arrays.equals(head, 0, prefix.length, expected, 0, prefix.length);
  }
}
