package io.actorimages.messages;

import java.util.Objects;

/**
 * One copy of an image on one node's disk.
 *
 * @param node         the holding node's cluster address, e.g. {@code pekko://ActorImages@127.0.0.2:25520}
 * @param host         that node's advertised host (the address legacy clients reach its listeners on)
 * @param relativePath the file under that node's data directory, '/'-separated, e.g. {@code 2026-11-22/131501.jpg}
 */
public record Replica(String node, String host, String relativePath) implements CborSerializable {
  public Replica {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(relativePath, "relativePath");
  }
}
