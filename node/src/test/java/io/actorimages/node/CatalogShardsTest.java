package io.actorimages.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.junit.jupiter.api.Test;

/** The catalog's split over Distributed Data keys: stable names, every md5 in exactly one key. */
class CatalogShardsTest {

  @Test
  void keysAreNamedByShardAndMapBack() {
    assertEquals(CatalogShards.COUNT, CatalogShards.keys().size());
    assertEquals("catalog-00", CatalogShards.keys().get(0).id());
    assertEquals("catalog-3f", CatalogShards.keys().get(63).id());
    for (int i = 0; i < CatalogShards.COUNT; i++) {
      assertEquals(i, CatalogShards.shardOfKey(CatalogShards.keys().get(i)));
    }
    assertEquals(-1, CatalogShards.shardOfKey(Registry.TRACKER));
    assertEquals(-1, CatalogShards.shardOfKey(LWWMapKey.create("catalog")), "the single key of 0.1 is not a shard");
    assertEquals(-1, CatalogShards.shardOfKey(LWWMapKey.create("catalog-zz")));
    assertEquals(-1, CatalogShards.shardOfKey(LWWMapKey.create("catalog-40")));
  }

  /** The first byte picks the key, in either case; every key gets used. */
  @Test
  void theMd5sFirstBytePicksTheKey() {
    assertEquals(0x0c, CatalogShards.shardOf("0cc175b9c0f1b6a831c399e269772661"));
    assertEquals(0x92 % 64, CatalogShards.shardOf("92EB5FFEE6AE2FEC3AD71C777531578F"));
    assertEquals(CatalogShards.keys().get(0x12), CatalogShards.keyOf("d2" + "0".repeat(30)));
    Set<Integer> used = new HashSet<>();
    for (int b = 0; b < 256; b++) used.add(CatalogShards.shardOf(String.format("%02x", b) + "0".repeat(30)));
    assertEquals(CatalogShards.COUNT, used.size());
    assertThrows(IllegalArgumentException.class, () -> CatalogShards.shardOf("zz" + "0".repeat(30)));
  }
}
