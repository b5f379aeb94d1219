package io.actorimages.node;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Where an image's replicas live (DESIGN.md "Registry", issue 4 point 1): rendezvous (highest-random-weight)
 * hashing of its md5 over the Up members. Every node computes the same answer from the same membership, so no
 * coordination is needed, and a member joining or leaving moves only the images whose top nodes changed.
 * Pure function.
 */
public final class Placement {
  private Placement() {}

  /**
   * A cluster member that can hold replicas.
   *
   * @param address its cluster address, e.g. {@code pekko://ActorImages@127.0.0.2:25520}
   * @param host    its advertised host
   */
  public record NodeRef(String address, String host) {}

  /**
   * The nodes that should hold {@code md5}, best first.
   *
   * @param md5               the image's lowercase hex md5
   * @param upMembers         the members that are Up and reachable
   * @param replicationFactor wanted copies; fewer are returned while fewer members are Up
   * @return at most {@code replicationFactor} members, in rendezvous order
   */
  public static List<NodeRef> choose(String md5, List<NodeRef> upMembers, int replicationFactor) {
    return rank(md5, upMembers).subList(0, Math.min(replicationFactor, upMembers.size()));
  }

  /** Every member in rendezvous order for {@code md5}: the order in which they should hold it. */
  public static List<NodeRef> rank(String md5, List<NodeRef> members) {
    List<NodeRef> ranked = new ArrayList<>(members);
    ranked.sort(Comparator.comparingLong((NodeRef n) -> weight(md5, n.address())).reversed()
        .thenComparing(NodeRef::address));
    return ranked;
  }

  private static long weight(String md5, String address) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest((md5 + "|" + address).getBytes(StandardCharsets.UTF_8));
      long w = 0;
      for (int i = 0; i < 8; i++) w = (w << 8) | (digest[i] & 0xff);
      return w;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
