package io.actorimages.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.PeerImage;
import io.actorimages.messages.PeerRegistration;
import io.actorimages.messages.Replica;
import io.actorimages.messages.SourceProtocol;
import io.actorimages.node.protocol.P3Reply.ListedImage;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The rules of P3 {@code LST}'s content (PROTOCOLS.md P3), one row each: newest first; holders that are up
 * first, a cluster node's P4 endpoint before a legacy peer, nodes that are down last; for an md5 known several
 * times the name registered first, and the md5 listed once.
 */
class LstListingTest {
  private static final String A = "0cc175b9c0f1b6a831c399e269772661";
  private static final String B = "92eb5ffee6ae2fec3ad71c777531578f";
  private static final String C = "4a8a08f09d37b73795649038408b5f33";
  private static final String NODE_1 = "127.0.0.1";
  private static final String NODE_2 = "127.0.0.2";
  private static final int P4 = 13378;

  /** One case: the catalog in upload order, the peers' registrations, the Up hosts, and the expected listing. */
  record Row(String rule, List<CatalogEntry> catalog, List<PeerRegistration> peers, Set<String> upHosts,
             List<ListedImage> expected) {
    @Override
    public String toString() {
      return rule;
    }
  }

  static Stream<Row> rows() {
    return Stream.of(
        new Row("nothing known: nothing listed", List.of(), List.of(), Set.of(NODE_1), List.of()),
        new Row("newest first, catalog entries and peers' images alike",
            List.of(entry(A, "a.png", 1_000, NODE_1), entry(B, "b.png", 3_000, NODE_1)),
            List.of(peer("10.0.0.9", 4000, 2_000, 1, image(C, "c.jpg"))),
            Set.of(NODE_1),
            List.of(listed(B, "b.png", node(NODE_1)), listed(C, "c.jpg", "10.0.0.9:4000"),
                listed(A, "a.png", node(NODE_1)))),
        new Row("up nodes, then peers, then nodes that are down",
            List.of(entry(A, "a.png", 1_000, NODE_2, NODE_1)),
            List.of(peer("10.0.0.9", 4000, 2_000, 1, image(A, "mine.png"))),
            Set.of(NODE_1),
            List.of(listed(A, "a.png", node(NODE_1), "10.0.0.9:4000", node(NODE_2)))),
        new Row("an image whose every node is down is still listed, with those nodes",
            List.of(entry(A, "a.png", 1_000, NODE_2)), List.of(), Set.of(NODE_1),
            List.of(listed(A, "a.png", node(NODE_2)))),
        new Row("the same bytes uploaded twice: the first name, both nodes, listed once",
            List.of(entry(A, "first.png", 1_000, NODE_1), entry(A, "second.png", 2_000, NODE_2)),
            List.of(), Set.of(NODE_1, NODE_2),
            List.of(listed(A, "first.png", node(NODE_1), node(NODE_2)))),
        new Row("two peers with one md5: the name of the first registration, peers in registration order",
            List.of(),
            List.of(peer("10.0.0.8", 4000, 20_000, 2, image(A, "later.jpg")),
                peer("10.0.0.9", 4000, 10_000, 1, image(A, "first.jpg"))),
            Set.of(NODE_1),
            List.of(listed(A, "first.jpg", "10.0.0.9:4000", "10.0.0.8:4000"))),
        new Row("in the catalog and registered later by a peer: listed once, the catalog's name",
            List.of(entry(A, "cluster.png", 1_000, NODE_1)),
            List.of(peer("10.0.0.9", 4000, 5_000, 1, image(A, "copy.jpg"))),
            Set.of(NODE_1),
            List.of(listed(A, "cluster.png", node(NODE_1), "10.0.0.9:4000"))),
        new Row("registered by a peer before it reached the catalog: listed once, the peer's name",
            List.of(entry(A, "cluster.png", 5_000, NODE_1)),
            List.of(peer("10.0.0.9", 4000, 1_000, 1, image(A, "legacy.jpg"))),
            Set.of(NODE_1),
            List.of(listed(A, "legacy.jpg", node(NODE_1), "10.0.0.9:4000"))),
        new Row("a peer that lists one md5 twice is one holder",
            List.of(),
            List.of(peer("10.0.0.9", 4000, 1_000, 1, image(A, "a.jpg"), image(A, "again.jpg"))),
            Set.of(NODE_1),
            List.of(listed(A, "a.jpg", "10.0.0.9:4000"))));
  }

  /** Each row's listing is exactly as PROTOCOLS.md P3 says. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void listingFollowsTheP3Rules(Row row) {
    assertEquals(row.expected(), LstListing.compose(row.catalog(), row.peers(), row.upHosts(), P4));
  }

  private static CatalogEntry entry(String md5, String filename, long receivedAt, String... hosts) {
    List<Replica> replicas = Stream.of(hosts)
        .map(h -> new Replica("pekko://ActorImages@" + h + ":25520", h, "2026-01-01/000000.png")).toList();
    return new CatalogEntry(md5 + "-" + receivedAt, md5, "0".repeat(64), 1, "image/png", 1, 1, filename, "alice",
        SourceProtocol.P2_WEBSOCKET, receivedAt, replicas);
  }

  private static PeerRegistration peer(String ip, int port, long registeredAt, long sequence, PeerImage... images) {
    return new PeerRegistration(ip, port, "00", "00", List.of(images), registeredAt, sequence);
  }

  private static PeerImage image(String md5, String name) {
    return new PeerImage(md5, name);
  }

  private static String node(String host) {
    return host + ":" + P4;
  }

  private static ListedImage listed(String md5, String name, String... holders) {
    return new ListedImage(md5, name, List.of(holders));
  }
}
