package io.actorimages.storage;

import java.util.Objects;

/**
 * An image committed under the node's data directory, durable (file and directory fsynced).
 *
 * @param relativePath path below the data directory with {@code /} separators, e.g.
 *                     {@code 2026-11-22/143005.jpg} or {@code 2026-11-22/143005-1.png}
 *                     (PROTOCOLS.md P1 "Storage"); {@link BlobStore#resolve} turns it back into a file
 * @param size         size in bytes
 * @param md5          lowercase hex MD5 of the bytes (32 characters): the legacy id of PROTOCOLS.md P3 and P4
 * @param sha256       lowercase hex SHA-256 of the bytes (64 characters)
 * @param format       the format sniffed from the magic number; decides the extension
 * @param width        width in pixels
 * @param height       height in pixels
 */
public record StoredBlob(String relativePath, long size, String md5, String sha256, ImageFormat format, int width,
    int height) {

  public StoredBlob {
    Objects.requireNonNull(relativePath, "relativePath");
    Objects.requireNonNull(md5, "md5");
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(format, "format");
  }
}
