package io.actorimages.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.Replica;
import io.actorimages.messages.SourceProtocol;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The catalog's read view: upload order ({@code receivedAt}, then id), the oldest entry for an md5 or a
 * filename (PROTOCOLS.md P2, P3), {@code latest} for P2 HISTORY, {@code newestFirst} pages for the HTTP API, and
 * {@code replaceAll} applying a new replica of the catalog. The catalog of every row is the same five entries,
 * put in a shuffled order.
 */
class CatalogViewTest {
  private static final String MD5_X = "0cc175b9c0f1b6a831c399e269772661";
  private static final String MD5_Y = "92eb5ffee6ae2fec3ad71c777531578f";

  // Upload order: e1 < e2 < e3a < e3b (one millisecond, ordered by id) < e4.
  private static final CatalogEntry E1 = entry("e1", MD5_X, "cat.png", 1_000);
  private static final CatalogEntry E2 = entry("e2", MD5_Y, "dog.png", 2_000);
  private static final CatalogEntry E3A = entry("e3a", MD5_X, "cat.png", 3_000);
  private static final CatalogEntry E3B = entry("e3b", MD5_Y, "bird.png", 3_000);
  private static final CatalogEntry E4 = entry("e4", MD5_X, "dog.png", 4_000);

  private static CatalogView view() {
    CatalogView view = new CatalogView();
    for (CatalogEntry e : List.of(E3B, E1, E4, E3A, E2)) view.put(e);
    return view;
  }

  static Stream<Arguments> queries() {
    return Stream.of(
        query("uploadOrder", v -> v.uploadOrder(), List.of(E1, E2, E3A, E3B, E4)),
        query("byMd5 names the oldest of those bytes", v -> v.byMd5(MD5_Y), Optional.of(E2)),
        query("byMd5 of unknown bytes", v -> v.byMd5("f".repeat(32)), Optional.empty()),
        query("allByMd5 oldest first", v -> v.allByMd5(MD5_X), List.of(E1, E3A, E4)),
        query("byFilename names the oldest of that name", v -> v.byFilename("dog.png"), Optional.of(E2)),
        query("byFilename of an unknown name", v -> v.byFilename("fish.png"), Optional.empty()),
        query("latest(2): the newest two, oldest first", v -> v.latest(2), List.of(E3B, E4)),
        query("latest(0)", v -> v.latest(0), List.of()),
        query("latest(9) of five", v -> v.latest(9), List.of(E1, E2, E3A, E3B, E4)),
        query("first page newest first", v -> v.newestFirst(2, Optional.empty()), List.of(E4, E3B)),
        query("page after e3b, across one millisecond", v -> v.newestFirst(2, Optional.of("e3b")),
            List.of(E3A, E2)),
        query("last page is short", v -> v.newestFirst(2, Optional.of("e2")), List.of(E1)),
        query("after the oldest: empty", v -> v.newestFirst(2, Optional.of("e1")), List.of()),
        query("after an unknown id: empty, not the first page", v -> v.newestFirst(2, Optional.of("gone")),
            List.of()),
        query("one page holds all", v -> v.newestFirst(50, Optional.empty()), List.of(E4, E3B, E3A, E2, E1)),
        query("size", CatalogView::size, 5));
  }

  private static Arguments query(String rule, Function<CatalogView, Object> query, Object expected) {
    return Arguments.of(rule, query, expected);
  }

  /** Each query of a row answers as its rule says. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("queries")
  void queriesFollowUploadOrder(String rule, Function<CatalogView, Object> query, Object expected) {
    assertEquals(expected, query.apply(view()), rule);
  }

  /**
   * A new value of one catalog key (Registry's {@code CatalogChanged}) replaces that shard of the view: its
   * removed entries leave every index, a changed entry is replaced, new ones appear; other shards stay.
   */
  @Test
  void replaceShardAppliesOneKeyOfTheCatalog() {
    CatalogView view = view();
    int shardX = CatalogShards.shardOf(MD5_X);
    int shardY = CatalogShards.shardOf(MD5_Y);
    assertNotEquals(shardX, shardY, "the two md5s of this test live in different keys");
    CatalogEntry e2Moved = E2.withReplicas(List.of(new Replica("pekko://ActorImages@127.0.0.2:25520",
        "127.0.0.2", "2026-01-01/000002.png")));
    CatalogEntry e5 = entry("e5", MD5_Y, "fish.png", 5_000);
    assertTrue(view.replaceShard(shardY, Stream.of(e2Moved, e5).collect(Collectors.toMap(CatalogEntry::id, e -> e))));

    assertEquals(List.of(E1, e2Moved, E3A, E4, e5), view.uploadOrder());
    assertEquals(Optional.of(e2Moved), view.byMd5(MD5_Y));
    assertEquals(List.of(E1, E3A, E4), view.allByMd5(MD5_X), "shard X untouched");
    assertEquals(Optional.empty(), view.byFilename("bird.png"), "e3b is gone from the filename index");
    assertEquals(Optional.empty(), view.byId("e3b"));
    assertEquals(5, view.size());
    assertFalse(view.replaceShard(shardY, Stream.of(e2Moved, e5).collect(Collectors.toMap(CatalogEntry::id, e -> e))),
        "the same value again changes nothing");

    assertTrue(view.replaceShard(shardX, Map.of()));
    assertEquals(List.of(e2Moved, e5), view.uploadOrder());
    assertEquals(Optional.empty(), view.byMd5(MD5_X));
    assertThrows(IllegalArgumentException.class, () -> view.replaceShard(shardX, Map.of(e5.id(), e5)),
        "an entry of another key is a caller bug");
  }

  /** Removing an entry takes it out of every index; removing an unknown id changes nothing. */
  @Test
  void removeTakesAnEntryOutOfEveryIndex() {
    CatalogView view = view();
    view.remove("e2");
    view.remove("never-there");

    assertEquals(List.of(E1, E3A, E3B, E4), view.uploadOrder());
    assertEquals(Optional.of(E3B), view.byMd5(MD5_Y));
    assertEquals(Optional.of(E4), view.byFilename("dog.png"));
    assertEquals(4, view.size());
  }

  private static CatalogEntry entry(String id, String md5, String filename, long receivedAt) {
    return new CatalogEntry(id, md5, "0".repeat(64), 10, "image/png", 1, 1, filename, "alice",
        SourceProtocol.P2_WEBSOCKET, receivedAt,
        List.of(new Replica("pekko://ActorImages@127.0.0.1:25520", "127.0.0.1", "2026-01-01/" + id + ".png")));
  }
}
