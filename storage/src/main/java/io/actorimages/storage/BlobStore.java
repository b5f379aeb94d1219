package io.actorimages.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The images of one node on its local disk, laid out as the seed promised (PROTOCOLS.md P1 "Storage"):
 * <pre>
 * dataDir/
 *   .tmp/upload-&lt;uuid&gt;.part     uploads in progress, never visible to readers
 *   YYYY-MM-DD/HHMMSS.ext          committed images, UTC date and time of receipt;
 *   YYYY-MM-DD/HHMMSS-1.ext        the second image of the same second, then -2, ... (never overwritten)
 * </pre>
 * With the default data directory {@code data}, that is the seed's {@code data/YYYY-MM-DD/HHMMSS.ext}.
 * <pre>
 * </pre>
 * An upload goes {@link #newWriter()} → {@link BlobWriter#write} → {@link BlobWriter#finish()} →
 * {@link #commit}; only a committed image is visible under the data directory, so a truncated or rejected upload
 * never is. Every method does blocking file I/O: call them from a blocking-I/O dispatcher. Thread-safe.
 */
public final class BlobStore {

  private static final Logger log = LoggerFactory.getLogger(BlobStore.class);

  static final String TEMP_DIR = ".tmp";
  /** Folder of the gallery's thumbnails, one {@code <md5>.jpg} per image (see {@link Thumbnailer}). */
  static final String THUMBNAIL_DIR = "thumbnails";
  private static final Pattern MD5 = Pattern.compile("[0-9a-f]{32}");
  /** A bound on the suffix search, so a broken directory cannot loop a commit forever. */
  static final int MAX_IMAGES_PER_SECOND = 100_000;

  private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("uuuu-MM-dd").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter SECOND = DateTimeFormatter.ofPattern("HHmmss").withZone(ZoneOffset.UTC);

  private final Path dataDir;
  private final Path tempDir;
  private final Path imagesDir;
  private final long maxImageBytes;
  private final boolean hardLinks;
  private final AtomicBoolean copyFallbackLogged = new AtomicBoolean();

  /**
   * Opens (and creates when missing) the store under {@code dataDir}, with its {@code .tmp} folder.
   *
   * @param dataDir       the node's data directory
   * @param maxImageBytes the largest accepted image in bytes (PROTOCOLS.md P1 {@code max-image-bytes}, 64 MiB by
   *                      default), at least 1
   * @throws IllegalArgumentException if {@code maxImageBytes} is below 1
   * @throws UncheckedIOException     if a folder cannot be created
   */
  public BlobStore(Path dataDir, long maxImageBytes) {
    this(dataDir, maxImageBytes, true);
  }

  /** As {@link #BlobStore(Path, long)}; {@code hardLinks = false} commits by copy, as on a file system without
   * hard links. */
  BlobStore(Path dataDir, long maxImageBytes, boolean hardLinks) {
    if (maxImageBytes < 1) {
      throw new IllegalArgumentException("maxImageBytes must be at least 1, got " + maxImageBytes);
    }
    this.dataDir = dataDir.toAbsolutePath().normalize();
    this.tempDir = this.dataDir.resolve(TEMP_DIR);
    // The seed's own layout: data/YYYY-MM-DD/ with "data" being the node's data directory (PROTOCOLS.md P1).
    this.imagesDir = this.dataDir;
    this.maxImageBytes = maxImageBytes;
    this.hardLinks = hardLinks;
    try {
      Files.createDirectories(tempDir);
      Files.createDirectories(imagesDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the data directory " + this.dataDir, e);
    }
  }

  /**
   * Deletes everything under {@code dataDir/.tmp}: uploads that a crash or a kill interrupted. Call it at start,
   * before the first {@link #newWriter()}, since it would delete the temp files of running uploads too.
   *
   * @return how many entries of {@code .tmp} were removed (a folder counts once)
   * @throws IOException if listing or deleting fails
   */
  public int removeLeftoverTempFiles() throws IOException {
    int removed = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(tempDir)) {
      for (Path entry : entries) {
        deleteTree(entry);
        removed++;
      }
    }
    return removed;
  }

  private static void deleteTree(Path root) throws IOException {
    List<Path> deepestFirst;
    try (Stream<Path> tree = Files.walk(root)) {
      deepestFirst = tree.sorted(Comparator.reverseOrder()).toList();
    }
    for (Path path : deepestFirst) {
      Files.deleteIfExists(path);
    }
  }

  /**
   * A writer for one upload, limited to {@code maxImageBytes} bytes. Its temp file under {@code .tmp} is only
   * created by its first byte.
   */
  public BlobWriter newWriter() {
    return new BlobWriter(tempDir, maxImageBytes);
  }

  /**
   * Makes a staged upload visible as {@code data/YYYY-MM-DD/HHMMSS.<ext>} (UTC date and time of
   * {@code receivedAt}), or {@code HHMMSS-1.<ext>}, {@code -2}, ... when that name is taken (PROTOCOLS.md P1: the
   * seed overwrote, we never do). The temp file is hard-linked to the name, which fails atomically when the name
   * exists, even against a concurrent commit of the same second; on a file system without hard links it is
   * copied, the copy refusing an existing name too. The file and its directory are fsynced before this returns,
   * then the temp file is deleted.
   *
   * @param staged     a blob from {@link BlobWriter#finish()}, committed at most once
   * @param receivedAt the moment of receipt, which names the file
   * @return the stored image, with its path relative to {@link #dataDir()}
   * @throws IOException if linking, copying or fsyncing fails, or {@value #MAX_IMAGES_PER_SECOND} names of that
   *                     second are taken; then nothing is stored and the temp file is deleted too
   */
  public StoredBlob commit(StagedBlob staged, Instant receivedAt) throws IOException {
    Objects.requireNonNull(staged, "staged");
    Objects.requireNonNull(receivedAt, "receivedAt");
    Path temp = staged.tempFile();
    Path stored = null;
    try {
      String day = DAY.format(receivedAt);
      Path dir = imagesDir.resolve(day);
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir);
        fsyncDirectory(imagesDir);
      }
      stored = placeUnderFreeName(temp, dir, SECOND.format(receivedAt), staged.format().extension());
      fsyncDirectory(dir);
    } catch (IOException | RuntimeException e) {
      deleteAfterFailure(stored, e);
      deleteAfterFailure(temp, e);
      throw e;
    }
    try {
      Files.delete(temp);
    } catch (IOException e) {
      // The image is stored and durable; a leftover temp file only costs space until the next start.
      log.warn("Deleting committed temp file {} failed: {}", temp, e.toString());
    }
    String separator = stored.getFileSystem().getSeparator();
    String relativePath = dataDir.relativize(stored).toString().replace(separator, "/");
    return new StoredBlob(relativePath, staged.size(), staged.md5(), staged.sha256(), staged.format(),
        staged.width(), staged.height());
  }

  private static void deleteAfterFailure(Path file, Exception failure) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      failure.addSuppressed(e);
    }
  }

  private Path placeUnderFreeName(Path temp, Path dir, String second, String extension) throws IOException {
    for (int suffix = 0; suffix < MAX_IMAGES_PER_SECOND; suffix++) {
      Path target = dir.resolve(suffix == 0 ? second + "." + extension : second + "-" + suffix + "." + extension);
      try {
        if (!hardLinks || !tryLink(target, temp)) {
          copyDurably(temp, target);
        }
        return target;
      } catch (FileAlreadyExistsException taken) {
        // Another image of the same second holds this name: try the next suffix.
      }
    }
    throw new IOException("more than " + MAX_IMAGES_PER_SECOND + " images in " + dir + " at " + second);
  }

  /** Links {@code target} to {@code temp}; false when the file system refuses hard links there. */
  private boolean tryLink(Path target, Path temp) throws IOException {
    try {
      Files.createLink(target, temp);
      return true;
    } catch (FileAlreadyExistsException | NoSuchFileException e) {
      throw e;
    } catch (UnsupportedOperationException | FileSystemException e) {
      // EPERM on file systems without links (FAT, some network shares), EXDEV when data/ is another mount.
      if (copyFallbackLogged.compareAndSet(false, true)) {
        log.warn("Hard links refused under {} ({}); committing by copy instead", dataDir, e.toString());
      }
      return false;
    }
  }

  // Not atomic like a link: a crash mid-copy can leave a partial file under its final name. It is in no
  // catalog entry, so no client is ever pointed at it.
  private static void copyDurably(Path temp, Path target) throws IOException {
    Files.copy(temp, target);
    try (FileChannel file = FileChannel.open(target, StandardOpenOption.WRITE)) {
      file.force(true);
    }
  }

  private static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /**
   * Reads {@code file} whole and returns its SHA-256 as lowercase hex: how a replica is checked before it is
   * served or copied (issue 4 point 2). Blocking.
   *
   * @throws IOException when the file cannot be read (missing included)
   */
  public String sha256Of(Path file) throws IOException {
    try (var in = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ)) {
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(64 * 1024);
      while (in.read(buffer) >= 0) {
        buffer.flip();
        sha.update(buffer);
        buffer.clear();
      }
      return java.util.HexFormat.of().formatHex(sha.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }

  /**
   * The file of a stored image.
   *
   * @param relativePath a path relative to {@link #dataDir()}, such as {@link StoredBlob#relativePath()}
   * @return the absolute, normalised file; it may not exist
   * @throws IllegalArgumentException if the path is empty, absolute, contains a {@code ..} segment, or does not
   *                                  name something strictly inside {@link #dataDir()}
   */
  public Path resolve(String relativePath) {
    if (relativePath == null || relativePath.isBlank()) {
      throw new IllegalArgumentException("empty relative path");
    }
    if (relativePath.startsWith("/") || relativePath.startsWith("\\")) {
      throw new IllegalArgumentException("absolute path: " + relativePath);
    }
    Path relative = dataDir.getFileSystem().getPath(relativePath);
    if (relative.isAbsolute() || relative.getRoot() != null) {
      throw new IllegalArgumentException("absolute path: " + relativePath);
    }
    for (Path segment : relative) {
      if (segment.toString().equals("..")) {
        throw new IllegalArgumentException("path with '..': " + relativePath);
      }
    }
    Path resolved = dataDir.resolve(relative).normalize();
    if (!resolved.startsWith(dataDir) || resolved.equals(dataDir)) {
      throw new IllegalArgumentException("path outside the data directory: " + relativePath);
    }
    return resolved;
  }

  /**
   * Deletes a stored image.
   *
   * @param relativePath a path relative to {@link #dataDir()}
   * @return true if a file was deleted, false if there was none
   * @throws IllegalArgumentException as {@link #resolve}
   * @throws IOException              if deleting fails
   */
  public boolean delete(String relativePath) throws IOException {
    return Files.deleteIfExists(resolve(relativePath));
  }

  /**
   * Where the thumbnail of the image with {@code md5} lives: {@code dataDir/thumbnails/<md5>.jpg}. One per
   * md5, since the thumbnail depends on the bytes only. The file may not exist; {@link Thumbnailer#write}
   * makes it (and the folder).
   *
   * @param md5 lowercase hex MD5, 32 characters
   * @throws IllegalArgumentException if {@code md5} is not 32 lowercase hex characters (so no name can leave
   *                                  the folder)
   */
  public Path thumbnailPath(String md5) {
    if (md5 == null || !MD5.matcher(md5).matches()) {
      throw new IllegalArgumentException("not a lowercase hex md5: " + md5);
    }
    return dataDir.resolve(THUMBNAIL_DIR).resolve(md5 + ".jpg");
  }

  /**
   * A fresh, not yet existing file name under {@code dataDir/.tmp}, for a file the node builds and then moves
   * or deletes (e.g. the bytes of an image fetched from another node to make its thumbnail). Whatever a crash
   * leaves there goes at the next {@link #removeLeftoverTempFiles()}.
   *
   * @param suffix the end of the name, e.g. {@code ".source"}
   */
  public Path newTempPath(String suffix) {
    return tempDir.resolve("work-" + UUID.randomUUID() + suffix);
  }

  /** The data directory, absolute and normalised. */
  public Path dataDir() {
    return dataDir;
  }
}
