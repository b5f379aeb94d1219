package io.actorimages.node;

import io.actorimages.messages.CatalogEntry;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;

/**
 * How the catalog is split over Distributed Data keys: {@value #COUNT} {@code LWWMap}s named
 * {@code catalog-00} … {@code catalog-3f}, an entry in the one its md5 picks.
 *
 * <p>Why: Distributed Data digests, stores (LMDB) and gossips a key's whole value on every change, so with one
 * key every catalog write cost time proportional to the whole catalog (README "Benchmarks"). With {@value #COUNT}
 * keys a write touches 1/{@value #COUNT} of it, writes to different keys run side by side, and gossip ships
 * only the keys that changed. The md5 picks the key so that a lookup by md5 (P3, P4, repair) that misses this
 * node's replica reads one key from a majority; a lookup by filename reads all of them.
 *
 * <p>The count is part of the stored format: every node of a cluster and every durable store must agree on it.
 * Changing it needs a migration of {@code <data-dir>/ddata-lmdb}.
 */
public final class CatalogShards {
  private CatalogShards() {}

  /** Number of catalog keys. */
  public static final int COUNT = 64;

  /** Prefix of every catalog key's id; {@code catalog-*} is what the durable store keeps (reference.conf). */
  public static final String PREFIX = "catalog-";

  private static final List<Key<LWWMap<String, CatalogEntry>>> KEYS = IntStream.range(0, COUNT)
      .mapToObj(i -> (Key<LWWMap<String, CatalogEntry>>) LWWMapKey.<String, CatalogEntry>create(
          PREFIX + String.format("%02x", i)))
      .toList();

  /** Every catalog key, shard 0 first. */
  public static List<Key<LWWMap<String, CatalogEntry>>> keys() {
    return KEYS;
  }

  /**
   * The shard of an md5.
   *
   * @param md5 32 lowercase or uppercase hex characters (a {@link CatalogEntry#md5()})
   * @return 0 … {@value #COUNT} - 1, from the md5's first byte
   * @throws IllegalArgumentException if the first two characters are not hex
   */
  public static int shardOf(String md5) {
    int high = Character.digit(md5.charAt(0), 16);
    int low = Character.digit(md5.charAt(1), 16);
    if (high < 0 || low < 0) throw new IllegalArgumentException("not an md5: " + md5);
    return (high * 16 + low) % COUNT;
  }

  /** The key that holds entries with this md5. */
  public static Key<LWWMap<String, CatalogEntry>> keyOf(String md5) {
    return KEYS.get(shardOf(md5));
  }

  /** The shard of a catalog key, or -1 when {@code key} is not one of {@link #keys()}. */
  public static int shardOfKey(Key<?> key) {
    String id = key.id();
    if (!id.startsWith(PREFIX) || id.length() != PREFIX.length() + 2) return -1;
    try {
      int shard = Integer.parseInt(id.substring(PREFIX.length()), 16);
      return shard < COUNT ? shard : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
