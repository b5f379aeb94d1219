package io.actorimages.node;

import io.actorimages.messages.CatalogEntry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.TreeSet;

/**
 * This node's read view of the catalog: the entries of its Distributed Data replica, indexed for the queries
 * the protocols make (by md5, by filename, in upload order). Not thread-safe; owned by {@link Registry}.
 *
 * <p>Order is upload order: {@code receivedAt}, then {@code id} so that two entries of one millisecond keep a
 * stable order on every node. Entries are also grouped by their {@link CatalogShards shard}, so that a change
 * of one Distributed Data key is applied in time proportional to that key, not to the whole catalog.
 */
public final class CatalogView {

  /** Upload order, oldest first. */
  public static final Comparator<CatalogEntry> UPLOAD_ORDER =
      Comparator.comparingLong(CatalogEntry::receivedAt).thenComparing(CatalogEntry::id);

  private final Map<String, CatalogEntry> byId = new HashMap<>();
  private final NavigableSet<CatalogEntry> ordered = new TreeSet<>(UPLOAD_ORDER);
  private final Map<String, List<CatalogEntry>> byMd5 = new HashMap<>();
  private final Map<String, NavigableSet<CatalogEntry>> byFilename = new HashMap<>();
  private final List<Map<String, CatalogEntry>> byShard = new ArrayList<>(CatalogShards.COUNT);

  /** An empty view. */
  public CatalogView() {
    for (int i = 0; i < CatalogShards.COUNT; i++) byShard.add(new HashMap<>());
  }

  /**
   * Replaces the entries of one shard with {@code entries} (id → entry: the value of that shard's key),
   * applying only the differences; entries of other shards stay as they are.
   *
   * @param shard   0 … {@link CatalogShards#COUNT} - 1
   * @param entries the shard's entries; each one's md5 must belong to {@code shard}
   * @return whether anything changed
   * @throws IllegalArgumentException if an entry belongs to another shard
   */
  public boolean replaceShard(int shard, Map<String, CatalogEntry> entries) {
    boolean changed = false;
    for (CatalogEntry old : List.copyOf(byShard.get(shard).values())) {
      if (!old.equals(entries.get(old.id()))) {
        remove(old.id());
        changed = true;
      }
    }
    for (CatalogEntry e : entries.values()) {
      if (CatalogShards.shardOf(e.md5()) != shard) {
        throw new IllegalArgumentException("entry " + e.id() + " belongs to shard " + CatalogShards.shardOf(e.md5())
            + ", not " + shard);
      }
      if (!byId.containsKey(e.id())) {
        put(e);
        changed = true;
      }
    }
    return changed;
  }

  /** Adds or replaces one entry. */
  public void put(CatalogEntry entry) {
    remove(entry.id());
    byId.put(entry.id(), entry);
    byShard.get(CatalogShards.shardOf(entry.md5())).put(entry.id(), entry);
    ordered.add(entry);
    byMd5.computeIfAbsent(entry.md5(), k -> new ArrayList<>()).add(entry);
    byFilename.computeIfAbsent(entry.filename(), k -> new TreeSet<>(UPLOAD_ORDER)).add(entry);
  }

  /** Removes one entry; no effect when absent. */
  public void remove(String id) {
    CatalogEntry old = byId.remove(id);
    if (old == null) return;
    byShard.get(CatalogShards.shardOf(old.md5())).remove(id);
    ordered.remove(old);
    List<CatalogEntry> sameMd5 = byMd5.get(old.md5());
    sameMd5.remove(old);
    if (sameMd5.isEmpty()) byMd5.remove(old.md5());
    NavigableSet<CatalogEntry> sameName = byFilename.get(old.filename());
    sameName.remove(old);
    if (sameName.isEmpty()) byFilename.remove(old.filename());
  }

  /** Number of entries. */
  public int size() {
    return byId.size();
  }

  /** The oldest entry with these bytes, if any. */
  public Optional<CatalogEntry> byMd5(String md5) {
    return Optional.ofNullable(byMd5.get(md5)).map(l -> Collections.min(l, UPLOAD_ORDER));
  }

  /** The entry with this catalog id, if any. */
  public Optional<CatalogEntry> byId(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  /** Every entry with these bytes, oldest first. */
  public List<CatalogEntry> allByMd5(String md5) {
    List<CatalogEntry> l = new ArrayList<>(byMd5.getOrDefault(md5, List.of()));
    l.sort(UPLOAD_ORDER);
    return l;
  }

  /** The oldest entry with this filename: what P2 DOWNLOAD/VIEW serve when names repeat (PROTOCOLS.md P2). */
  public Optional<CatalogEntry> byFilename(String filename) {
    NavigableSet<CatalogEntry> s = byFilename.get(filename);
    return s == null ? Optional.empty() : Optional.of(s.first());
  }

  /** Every entry, oldest first (P2 LIST order). */
  public List<CatalogEntry> uploadOrder() {
    return List.copyOf(ordered);
  }

  /** The newest {@code count} entries, oldest of them first (P2 HISTORY order). */
  public List<CatalogEntry> latest(int count) {
    List<CatalogEntry> out = new ArrayList<>(count);
    for (CatalogEntry e : ordered.descendingSet()) {
      if (out.size() == count) break;
      out.add(e);
    }
    Collections.reverse(out);
    return out;
  }

  /**
   * One page of entries, newest first.
   *
   * @param limit   page size, at least 1
   * @param afterId the id of the last entry of the previous page, or empty for the first page; an unknown id
   *                gives an empty page
   */
  public List<CatalogEntry> newestFirst(int limit, Optional<String> afterId) {
    NavigableSet<CatalogEntry> desc = ordered.descendingSet();
    if (afterId.isPresent()) {
      CatalogEntry after = byId.get(afterId.get());
      if (after == null) return List.of();
      desc = desc.tailSet(after, false);
    }
    List<CatalogEntry> out = new ArrayList<>(Math.min(limit, desc.size()));
    for (CatalogEntry e : desc) {
      if (out.size() == limit) break;
      out.add(e);
    }
    return out;
  }
}
