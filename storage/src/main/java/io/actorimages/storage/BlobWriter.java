package io.actorimages.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives one upload as a stream of chunks into a temp file under {@code dataDir/.tmp}, computing its MD5 and
 * SHA-256 as the bytes pass, so an image is never held whole in memory. Made by {@link BlobStore#newWriter()}.
 * Blocking file I/O: call it from a blocking-I/O dispatcher. Not thread-safe: one writer serves one upload.
 *
 * <p>Rules (PROTOCOLS.md P1 "Bad input"), each an {@link InvalidImageException} that leaves the writer aborted:
 * <ul>
 *   <li>more than {@code maxImageBytes} bytes: {@code image larger than N bytes}, thrown by the {@link #write}
 *       that would exceed the limit, before any of its bytes reach the disk;</li>
 *   <li>no known magic number in the first 12 bytes: {@code not an image (unknown format)}, as soon as 12 bytes
 *       arrived (at {@link #finish()} for a shorter upload); see {@link ImageFormat#sniff};</li>
 *   <li>no bytes at all: {@code empty image};</li>
 *   <li>a stream that stops before its format's end: {@code truncated <format> (...)}. A JPEG must end with
 *       the EOI marker {@code FF D9} (zero bytes after it allowed), a PNG with its IEND chunk, a GIF with the
 *       trailer {@code 3B}; a BMP or WebP must be as long as the size in its header. A TIFF has no such end:
 *       only its header parse catches a cut;</li>
 *   <li>a header that no ImageIO reader parses: {@code unreadable <format> header}.</li>
 * </ul>
 *
 * <p>Any exception from {@link #write} or {@link #finish()}, an {@link IOException} too, aborts the writer: its
 * temp file is deleted and later calls throw {@link IllegalStateException}.
 */
public final class BlobWriter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BlobWriter.class);

  private enum State { OPEN, FINISHED, ABORTED }

  private final Path tempDir;
  private final long maxImageBytes;
  private final MessageDigest md5 = digest("MD5");
  private final MessageDigest sha256 = digest("SHA-256");
  private final StreamEnds ends = new StreamEnds();
  private State state = State.OPEN;
  private Path tempFile;
  private FileChannel channel;
  private ImageFormat format;
  private long bytesWritten;

  BlobWriter(Path tempDir, long maxImageBytes) {
    this.tempDir = tempDir;
    this.maxImageBytes = maxImageBytes;
  }

  /**
   * Appends {@code bytes[position..limit)} to the upload and moves the buffer's position to its limit. The temp
   * file is created by the first call with at least one byte.
   *
   * @throws InvalidImageException the upload grew over {@code maxImageBytes} bytes, or its first 12 bytes are no
   *                               known image; the writer is aborted
   * @throws IOException           writing the temp file failed; the writer is aborted
   * @throws IllegalStateException the writer was already finished or aborted
   */
  public void write(ByteBuffer bytes) throws IOException, InvalidImageException {
    requireOpen();
    try {
      int length = bytes.remaining();
      if (length > maxImageBytes - bytesWritten) {
        throw new InvalidImageException("image larger than " + maxImageBytes + " bytes");
      }
      if (length == 0) {
        return;
      }
      ends.add(bytes);
      if (format == null && ends.headLength() >= ImageFormat.SNIFF_BYTES) {
        format = sniff();
      }
      md5.update(bytes.duplicate());
      sha256.update(bytes.duplicate());
      FileChannel file = channel();
      while (bytes.hasRemaining()) {
        file.write(bytes);
      }
      bytesWritten += length;
    } catch (IOException | InvalidImageException | RuntimeException e) {
      abort();
      throw e;
    }
  }

  /**
   * Ends the upload: checks that it is a whole image of a known format (see the class rules), reads its width
   * and height from the header without decoding the pixels, then fsyncs and closes the temp file. The returned
   * blob is not visible yet: pass it to {@link BlobStore#commit}, or call {@link #abort()} to drop it.
   *
   * @return the verified upload, still in its temp file
   * @throws InvalidImageException the bytes are empty, not an image, truncated or unreadable; the writer is
   *                               aborted
   * @throws IOException           reading or fsyncing the temp file failed; the writer is aborted
   * @throws IllegalStateException the writer was already finished or aborted
   */
  public StagedBlob finish() throws IOException, InvalidImageException {
    requireOpen();
    try {
      if (bytesWritten == 0) {
        throw new InvalidImageException("empty image");
      }
      ImageFormat sniffed = format != null ? format : sniff();
      ImageProbe.checkComplete(sniffed, ends);
      ImageProbe.Dimensions dimensions = ImageProbe.dimensions(tempFile, sniffed);
      // fsync last: a rejected upload is deleted anyway, so it need not cost a disk flush.
      channel.force(true);
      channel.close();
      state = State.FINISHED;
      return new StagedBlob(tempFile, bytesWritten, hex(md5), hex(sha256), sniffed, dimensions.width(),
          dimensions.height());
    } catch (IOException | InvalidImageException | RuntimeException e) {
      abort();
      throw e;
    }
  }

  /**
   * Drops the upload: closes and deletes the temp file, whether or not {@link #finish()} ran (after a
   * {@link BlobStore#commit} the temp file is already gone and this does nothing). Idempotent; never throws. A
   * temp file that cannot be deleted is logged and left for {@link BlobStore#removeLeftoverTempFiles()}.
   */
  public void abort() {
    if (state == State.ABORTED) {
      return;
    }
    state = State.ABORTED;
    try {
      if (channel != null) {
        channel.close();
      }
    } catch (IOException e) {
      log.warn("Closing temp file {} failed: {}", tempFile, e.toString());
    }
    try {
      if (tempFile != null) {
        Files.deleteIfExists(tempFile);
      }
    } catch (IOException e) {
      log.warn("Deleting temp file {} failed; it is removed at next start: {}", tempFile, e.toString());
    }
  }

  /**
   * Aborts the writer unless {@link #finish()} succeeded: after {@code finish()} the temp file belongs to the
   * {@link StagedBlob}, so closing the writer before {@link BlobStore#commit} keeps it.
   */
  @Override
  public void close() {
    if (state == State.OPEN) {
      abort();
    }
  }

  /** Bytes accepted so far by {@link #write}. */
  public long bytesWritten() {
    return bytesWritten;
  }

  private void requireOpen() {
    if (state != State.OPEN) {
      throw new IllegalStateException("writer already " + state.name().toLowerCase(Locale.ROOT));
    }
  }

  private ImageFormat sniff() throws InvalidImageException {
    return ImageFormat.sniff(ends.head(), ends.headLength())
        .orElseThrow(() -> new InvalidImageException("not an image (unknown format)"));
  }

  // Opened on the first byte, so a connection that sends nothing leaves no file behind.
  private FileChannel channel() throws IOException {
    if (channel == null) {
      tempFile = tempDir.resolve("upload-" + UUID.randomUUID() + ".part");
      channel = FileChannel.open(tempFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }
    return channel;
  }

  private static String hex(MessageDigest digest) {
    return HexFormat.of().formatHex(digest.digest());
  }

  private static MessageDigest digest(String algorithm) {
    try {
      return MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has " + algorithm, e);
    }
  }
}
