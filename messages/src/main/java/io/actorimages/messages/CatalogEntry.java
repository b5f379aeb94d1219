package io.actorimages.messages;

import java.util.List;
import java.util.Objects;

/**
 * One stored upload in the cluster-wide catalog (DESIGN.md "The catalog"). Several entries may share an md5 when
 * the same bytes were uploaded twice; each keeps its own filename and uploader, as the seed-001 repository did.
 *
 * @param id           catalog id, unique cluster-wide; shown to P2 clients as {@code ID: <id>}
 * @param md5          lowercase hex MD5 of the bytes: the legacy id used by P3 and P4
 * @param sha256       lowercase hex SHA-256 of the bytes, checked whenever bytes move
 * @param size         size in bytes
 * @param mediaType    detected media type, e.g. {@code image/jpeg}
 * @param width        width in pixels
 * @param height       height in pixels
 * @param filename     the name the client gave (P2, HTTP) or the stored file's name (P1)
 * @param uploader     P2 user name, {@code tcp:<peer-ip>} for P1, {@code http:<peer-ip>} for HTTP
 * @param protocol     how the image entered
 * @param receivedAt   time of receipt, epoch milliseconds (UTC)
 * @param replicas     the nodes holding a committed, fsynced copy
 */
public record CatalogEntry(
    String id,
    String md5,
    String sha256,
    long size,
    String mediaType,
    int width,
    int height,
    String filename,
    String uploader,
    SourceProtocol protocol,
    long receivedAt,
    List<Replica> replicas)
    implements CborSerializable {

  public CatalogEntry {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(md5, "md5");
    Objects.requireNonNull(filename, "filename");
    replicas = List.copyOf(replicas);
  }

  /** This entry with {@code replicas} in place of its own. */
  public CatalogEntry withReplicas(List<Replica> newReplicas) {
    return new CatalogEntry(id, md5, sha256, size, mediaType, width, height, filename, uploader, protocol,
        receivedAt, newReplicas);
  }
}
