package io.actorimages.storage;

import java.nio.file.Path;
import java.util.Objects;

/**
 * An upload received whole, verified and fsynced, still in its temp file under {@code dataDir/.tmp}: not yet
 * visible under {@code data/}. Hand it to {@link BlobStore#commit} to store it, or to
 * {@link BlobWriter#abort()} on the writer that made it to drop it.
 *
 * @param tempFile the temp file holding the bytes
 * @param size     size in bytes, at least 1
 * @param md5      lowercase hex MD5 of the bytes (32 characters): the legacy id of PROTOCOLS.md P3 and P4
 * @param sha256   lowercase hex SHA-256 of the bytes (64 characters)
 * @param format   the format sniffed from the magic number
 * @param width    width in pixels, read from the file's header
 * @param height   height in pixels, read from the file's header
 */
public record StagedBlob(Path tempFile, long size, String md5, String sha256, ImageFormat format, int width,
    int height) {

  public StagedBlob {
    Objects.requireNonNull(tempFile, "tempFile");
    Objects.requireNonNull(md5, "md5");
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(format, "format");
  }
}
