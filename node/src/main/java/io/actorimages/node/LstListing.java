package io.actorimages.node;

import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.PeerImage;
import io.actorimages.messages.PeerRegistration;
import io.actorimages.messages.Replica;
import io.actorimages.node.protocol.P3Reply.ListedImage;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tracker's view of the whole network for P3 {@code LST} (PROTOCOLS.md P3): every image known to the
 * cluster catalog or registered by a legacy peer, newest first, each with its holders in the order a legacy
 * client should try them. Pure function; {@link Registry} calls it on its local replicas.
 *
 * <p>Rules, all from PROTOCOLS.md P3: an image stored in the cluster is held by the P4 endpoint of each node
 * with a replica; holders that are up come first, a cluster node before a legacy peer (the seed-002 client only
 * tries the first); for an md5 known several times the name that was registered first is listed.
 */
public final class LstListing {
  private LstListing() {}

  private record Item(String md5, String name, long firstSeen, long sortKey, Set<String> upNodes,
                      Set<String> peers, Set<String> downNodes) {}

  /**
   * @param catalogInUploadOrder every catalog entry, oldest first
   * @param peers                every legacy peer registration
   * @param upHosts              hosts of the cluster members that are Up and reachable
   * @param p4Port               the P4 port every cluster node serves on
   * @return the images, newest first, each with at least one holder
   */
  public static List<ListedImage> compose(List<CatalogEntry> catalogInUploadOrder,
                                          Collection<PeerRegistration> peers, Set<String> upHosts, int p4Port) {
    Map<String, Item> items = new LinkedHashMap<>();
    for (CatalogEntry e : catalogInUploadOrder) {
      Item item = items.computeIfAbsent(e.md5(), md5 -> new Item(md5, e.filename(), e.receivedAt(),
          e.receivedAt(), new LinkedHashSet<>(), new LinkedHashSet<>(), new LinkedHashSet<>()));
      for (Replica r : e.replicas()) {
        String endpoint = r.host() + ":" + p4Port;
        (upHosts.contains(r.host()) ? item.upNodes() : item.downNodes()).add(endpoint);
      }
    }
    List<PeerRegistration> bySequence = new ArrayList<>(peers);
    bySequence.sort(Comparator.comparingLong(PeerRegistration::sequence));
    for (PeerRegistration p : bySequence) {
      for (PeerImage image : p.images()) {
        Item existing = items.get(image.md5());
        Item item = existing;
        if (existing == null) {
          item = new Item(image.md5(), image.name(), p.registeredAt(), p.registeredAt(), new LinkedHashSet<>(),
              new LinkedHashSet<>(), new LinkedHashSet<>());
          items.put(image.md5(), item);
        } else if (p.registeredAt() < existing.firstSeen()) {
          item = new Item(existing.md5(), image.name(), p.registeredAt(), existing.sortKey(),
              existing.upNodes(), existing.peers(), existing.downNodes());
          items.put(image.md5(), item);
        }
        item.peers().add(p.ip() + ":" + p.port());
      }
    }
    List<Item> newestFirst = new ArrayList<>(items.values());
    newestFirst.sort(Comparator.comparingLong(Item::sortKey).reversed().thenComparing(Item::md5));
    List<ListedImage> out = new ArrayList<>(newestFirst.size());
    for (Item i : newestFirst) {
      List<String> holders = new ArrayList<>(i.upNodes());
      holders.addAll(i.peers());
      holders.addAll(i.downNodes());
      if (!holders.isEmpty()) out.add(new ListedImage(i.md5(), i.name(), holders));
    }
    return out;
  }
}
