package io.actorimages.node.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Renders the IDP2PI tracker's replies (PROTOCOLS.md P3), each the payload of one UDP datagram. Every method
 * returns the UTF-8 bytes to send, without a line terminator (the legacy clients read one {@code recvfrom} and
 * use it as is); returning bytes rather than text keeps the 4,096-byte limit of {@code LST} a count of bytes.
 */
public final class P3Reply {

  /** The most bytes an {@code LST} reply may hold: the seed-002 client reads it with {@code recvfrom(4096)}. */
  public static final int MAX_LIST_BYTES = 4096;

  private static final byte[] NO_IMAGES = ascii("ERR NO_IMAGES_AVAILABLE");
  private static final byte[] UNAVAILABLE = ascii("ERR TRACKER_UNAVAILABLE");

  /**
   * One image for the {@code LST} reply.
   *
   * @param md5     32 hex characters in either case; listed in lowercase, as the legacy peers (hexdigest) write it
   * @param name    the name registered first (or the catalog's filename); {@code ,} and {@code ;} are rendered as
   *                {@code _}
   * @param holders {@code ip:port} endpoints in the order to list them (up first, cluster P4 endpoints before
   *                legacy peers): the seed-002 client downloads from the first one only
   */
  public record ListedImage(String md5, String name, List<String> holders) {
    /**
     * @throws IllegalArgumentException if {@code md5} is not 32 hex characters or a holder is empty or holds
     *     {@code ,} or {@code ;} (either would break the legacy client's split; a caller bug)
     */
    public ListedImage {
      String lowercase = Ascii.md5OrNull(Objects.requireNonNull(md5, "md5"));
      if (lowercase == null) {
        throw new IllegalArgumentException("md5 must be 32 hex characters: " + md5);
      }
      md5 = lowercase;
      Objects.requireNonNull(name, "name");
      holders = List.copyOf(holders);
      for (String holder : holders) {
        if (holder.isEmpty() || holder.indexOf(',') >= 0 || holder.indexOf(';') >= 0) {
          throw new IllegalArgumentException("holder must be a non-empty ip:port: " + holder);
        }
      }
    }
  }

  private P3Reply() {}

  /** {@code OK <n>_REGISTERED_IMAGES}, the reply to {@code REG}. */
  public static byte[] registered(int count) {
    return ascii("OK " + count + "_REGISTERED_IMAGES");
  }

  /** {@code OK <n>_REGISTERED_FILES}, the reply to {@code UPD} (the seeds' word differs from REG's). */
  public static byte[] updated(int count) {
    return ascii("OK " + count + "_REGISTERED_FILES");
  }

  /** {@code OK CLIENT_FINISHED}, the reply to {@code END}. */
  public static byte[] finished() {
    return ascii("OK CLIENT_FINISHED");
  }

  /** {@code ERR INVALID_MESSAGE_FORMAT}, the reply to a {@link P3Request.Invalid}. */
  public static byte[] invalid() {
    return ascii("ERR INVALID_MESSAGE_FORMAT");
  }

  /** {@code ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD}: UPD/END from an unknown identity or with a wrong password. */
  public static byte[] wrongPassword() {
    return ascii("ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD");
  }

  /** {@code ERR NO_IMAGES_AVAILABLE}: LST when nothing is listable (or nothing remains past the offset). */
  public static byte[] noImages() {
    return NO_IMAGES.clone();
  }

  /**
   * {@code ERR TRACKER_UNAVAILABLE}: the tracker could not confirm a change on a majority of nodes in time, so
   * nothing is promised. Not in the seeds (their tracker was one process); an {@code ERR} the legacy clients
   * print like any other.
   */
  public static byte[] unavailable() {
    return UNAVAILABLE.clone();
  }

  /**
   * The {@code LST} reply: {@code md5,name,holder,holder;md5,name,holder;…}, at most {@link #MAX_LIST_BYTES} UTF-8
   * bytes, whole items only, never an empty item nor a trailing {@code ;} (each crashes the seed-002 client).
   *
   * <p>An item is <em>listable</em> when it has a holder and {@code md5,name,firstHolder} alone fits in 4,096
   * bytes. An item without a holder is skipped (nobody could serve it); so is an item whose name alone is too long
   * (no legacy client could save such a name anyway, and truncating it would list a name that exists nowhere).
   * Holders that would push a lone item past 4,096 bytes are left out, keeping the first ones. Items are packed
   * in the given order until the next one does not fit; it then opens the next page.
   *
   * @param newestFirst the catalog, newest image first (PROTOCOLS.md P3)
   * @param offset      how many <em>listable</em> items to skip ({@code LST <offset>}): a client that asks again
   *                    with the count of items received so far walks the catalog without gaps or repeats
   * @return the reply bytes, or {@code ERR NO_IMAGES_AVAILABLE} when no listable item remains past {@code offset}
   * @throws IllegalArgumentException if {@code offset < 0}
   */
  public static byte[] list(List<ListedImage> newestFirst, int offset) {
    return new Listing(newestFirst).datagram(offset);
  }

  /**
   * A listing rendered once for many {@code LST} datagrams: each listable item's bytes are made when it is
   * built, and the first datagram too, so answering {@code LST} costs a copy, not a walk over the catalog
   * (README "Benchmarks"). Immutable and safe to share between threads. The packing rules are those of
   * {@link P3Reply#list}.
   */
  public static final class Listing {
    private final List<byte[]> items;
    private final byte[] first;

    /**
     * @param newestFirst the catalog, newest image first (PROTOCOLS.md P3)
     */
    public Listing(List<ListedImage> newestFirst) {
      List<byte[]> listable = new ArrayList<>(newestFirst.size());
      for (ListedImage image : newestFirst) {
        byte[] item = item(image);
        if (item != null) listable.add(item);
      }
      this.items = List.copyOf(listable);
      this.first = pack(0);
    }

    /** Number of listable items (what {@code LST <offset>} counts). */
    public int size() {
      return items.size();
    }

    /**
     * The reply to {@code LST <offset>}.
     *
     * @param offset how many listable items to skip
     * @return a fresh array with the reply bytes, or {@code ERR NO_IMAGES_AVAILABLE}
     * @throws IllegalArgumentException if {@code offset < 0}
     */
    public byte[] datagram(int offset) {
      if (offset < 0) {
        throw new IllegalArgumentException("offset must not be negative: " + offset);
      }
      return offset == 0 ? first.clone() : pack(offset);
    }

    private byte[] pack(int offset) {
      ByteArrayOutputStream reply = new ByteArrayOutputStream(MAX_LIST_BYTES);
      for (int i = offset; i < items.size(); i++) {
        byte[] item = items.get(i);
        int separator = reply.size() == 0 ? 0 : 1;
        if (reply.size() + separator + item.length > MAX_LIST_BYTES) {
          break;
        }
        if (separator == 1) {
          reply.write(';');
        }
        reply.writeBytes(item);
      }
      return reply.size() == 0 ? noImages() : reply.toByteArray();
    }
  }

  /** The UTF-8 bytes of one item with as many holders as fit alone in a reply, or {@code null} if not listable. */
  private static byte[] item(ListedImage image) {
    if (image.holders().isEmpty()) {
      return null;
    }
    ByteArrayOutputStream item = new ByteArrayOutputStream(128);
    item.writeBytes(utf8(image.md5() + ',' + image.name().replace(',', '_').replace(';', '_')));
    int holdersWritten = 0;
    for (String holder : image.holders()) {
      byte[] bytes = utf8("," + holder);
      if (item.size() + bytes.length > MAX_LIST_BYTES) {
        break;
      }
      item.writeBytes(bytes);
      holdersWritten++;
    }
    return holdersWritten == 0 ? null : item.toByteArray();
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }
}
