package io.actorimages.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actorimages.node.protocol.P3Reply.ListedImage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class P3ReplyTest {

  private static final String NO_IMAGES = "ERR NO_IMAGES_AVAILABLE";

  static Stream<Arguments> fixedReplies() {
    return Stream.of(
        Arguments.of(P3Reply.registered(3), "OK 3_REGISTERED_IMAGES"),
        Arguments.of(P3Reply.registered(0), "OK 0_REGISTERED_IMAGES"),
        Arguments.of(P3Reply.updated(12), "OK 12_REGISTERED_FILES"),
        Arguments.of(P3Reply.finished(), "OK CLIENT_FINISHED"),
        Arguments.of(P3Reply.invalid(), "ERR INVALID_MESSAGE_FORMAT"),
        Arguments.of(P3Reply.wrongPassword(), "ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD"),
        Arguments.of(P3Reply.noImages(), NO_IMAGES));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("fixedReplies")
  void fixedRepliesAreTheSeedsTextWithoutTerminator(byte[] reply, String expected) {
    assertEquals(expected, text(reply));
  }

  @Test
  void lstListsEveryHolderInTheGivenOrder() {
    List<ListedImage> catalog = List.of(
        image(1, "new.jpg", "10.0.0.1:6000", "10.0.0.9:41234"),
        image(2, "old.png", "10.0.0.2:6000"));
    assertEquals(md5(1) + ",new.jpg,10.0.0.1:6000,10.0.0.9:41234;" + md5(2) + ",old.png,10.0.0.2:6000",
        text(P3Reply.list(catalog, 0)));
  }

  @Test
  void lstOfNothingIsNoImagesAvailable() {
    assertEquals(NO_IMAGES, text(P3Reply.list(List.of(), 0)));
    assertEquals(NO_IMAGES, text(P3Reply.list(List.of(image(1, "a.jpg")), 0)));
    assertEquals(NO_IMAGES, text(P3Reply.list(List.of(image(1, "a.jpg", "h:1")), 1)));
    assertEquals(NO_IMAGES, text(P3Reply.list(List.of(image(1, "a.jpg", "h:1")), Integer.MAX_VALUE)));
  }

  @Test
  void itemWithoutHolderIsSkippedAndDoesNotCountForTheOffset() {
    List<ListedImage> catalog = List.of(image(1, "gone.jpg"), image(2, "b.jpg", "h:2"), image(3, "c.jpg", "h:3"));
    assertEquals(md5(2) + ",b.jpg,h:2;" + md5(3) + ",c.jpg,h:3", text(P3Reply.list(catalog, 0)));
    assertEquals(md5(3) + ",c.jpg,h:3", text(P3Reply.list(catalog, 1)));
  }

  static Stream<Arguments> hostileNames() {
    return Stream.of(
        Arguments.of("a,b.jpg", "a_b.jpg"),
        Arguments.of("a;b.jpg", "a_b.jpg"),
        Arguments.of(",;,;", "____"),
        Arguments.of("", ""),
        Arguments.of("fotó 日本.jpg", "fotó 日本.jpg"),
        Arguments.of("it's \"q\".jpg", "it's \"q\".jpg"));
  }

  @ParameterizedTest(name = "{0} is listed as {1}")
  @MethodSource("hostileNames")
  void commaAndSemicolonInNamesAreListedAsUnderscore(String name, String listed) {
    assertEquals(md5(1) + "," + listed + ",h:1", text(P3Reply.list(List.of(image(1, name, "h:1")), 0)));
  }

  static Stream<Arguments> catalogs() {
    return Stream.of(
        Arguments.of("500 short items", catalog(500, i -> "img" + i + ".jpg", 2)),
        Arguments.of("200 items, 3-byte characters", catalog(200, i -> "日本".repeat(i % 40) + ".jpg", 1)),
        Arguments.of("100 items, names with , and ;", catalog(100, i -> "a,b;c".repeat(i % 30), 3)),
        Arguments.of("70 items, 4-byte characters", catalog(70, i -> "😀".repeat(i * 7 % 300), 2)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("catalogs")
  void lstReplyNeverExceeds4096BytesAndEndsOnAWholeItem(String description, List<ListedImage> catalog) {
    List<String> seen = new ArrayList<>();
    for (int offset = 0; ; ) {
      byte[] reply = P3Reply.list(catalog, offset);
      String text = text(reply);
      if (text.equals(NO_IMAGES)) {
        break;
      }
      assertTrue(reply.length <= P3Reply.MAX_LIST_BYTES, () -> reply.length + " bytes");
      assertFalse(text.endsWith(";"));
      List<String> items = splitLikeTheSeed002Client(text);
      seen.addAll(items);
      offset += items.size();
      // The page is full: the next item would not have fitted.
      if (offset < catalog.size()) {
        int next = utf8Length(renderedItem(catalog.get(offset)));
        assertTrue(reply.length + 1 + next > P3Reply.MAX_LIST_BYTES, "page closed early at " + offset);
      }
    }
    List<String> expected = catalog.stream().map(P3ReplyTest::renderedItem).toList();
    assertEquals(expected, seen, "paging by the count received walks the catalog once, in order");
  }

  @Test
  void itemsThatFillExactly4096BytesAreAllListed() {
    // Each item: 32 (md5) + 1 + name + 1 + 6 ("h:1234") bytes; 8 items and 7 separators make 4,096 bytes.
    int nameBytes = (4096 - 7) / 8 - 40; // 471, remainder 1 goes to the last name
    List<ListedImage> catalog = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      catalog.add(image(i, "n".repeat(nameBytes + (i == 7 ? 1 : 0)), "h:1234"));
    }
    catalog.add(image(8, "x", "h:1234"));
    byte[] reply = P3Reply.list(catalog, 0);
    assertEquals(4096, reply.length);
    assertEquals(8, text(reply).split(";").length);
    assertEquals(md5(8) + ",x,h:1234", text(P3Reply.list(catalog, 8)));
  }

  @Test
  void oneByteTooManyMovesTheLastItemToTheNextPage() {
    List<ListedImage> catalog = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      catalog.add(image(i, "n".repeat(471 + (i == 7 ? 2 : 0)), "h:1234"));
    }
    byte[] reply = P3Reply.list(catalog, 0);
    assertEquals(7 * 511 + 6, reply.length); // 4,097 bytes with the 8th item
    assertEquals(7, text(reply).split(";").length);
  }

  @Test
  void multibyteNamesAreCountedInBytesNotCharacters() {
    // 1,100 'é' are 1,100 chars but 2,200 bytes: two such items fit in 4,096 chars but not in 4,096 bytes.
    List<ListedImage> catalog = List.of(image(1, "é".repeat(1100), "h:1"), image(2, "é".repeat(1100), "h:2"),
        image(3, "é".repeat(1100), "h:3"));
    byte[] reply = P3Reply.list(catalog, 0);
    assertTrue(reply.length <= 4096);
    assertEquals(1, text(reply).split(";").length);
  }

  @Test
  void anItemTooLargeForAnyReplyIsSkippedNeverAnEmptyReply() {
    String huge = "x".repeat(5000);
    assertEquals(NO_IMAGES, text(P3Reply.list(List.of(image(1, huge, "h:1")), 0)));
    assertEquals(md5(2) + ",small.jpg,h:2",
        text(P3Reply.list(List.of(image(1, huge, "h:1"), image(2, "small.jpg", "h:2")), 0)));
    // The largest name that still fits with one holder: 4,096 - 32 - 1 - 1 - 3 bytes.
    String largest = "y".repeat(4096 - 37);
    assertEquals(4096, P3Reply.list(List.of(image(3, largest, "h:3", "h:4")), 0).length);
  }

  @Test
  void holdersBeyond4096BytesAreDroppedKeepingTheFirst() {
    List<String> holders = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      holders.add("10.0." + (i / 256) + "." + (i % 256) + ":" + (40000 + i));
    }
    byte[] reply = P3Reply.list(List.of(new ListedImage(md5(1), "popular.jpg", holders)), 0);
    String[] parts = text(reply).split(",");
    assertTrue(reply.length <= 4096);
    assertEquals("10.0.0.0:40000", parts[2]);
    assertEquals(holders.subList(0, parts.length - 2), List.of(parts).subList(2, parts.length));
  }

  /**
   * One rendered {@link P3Reply.Listing}, shared by every LST between two catalog changes, answers each offset
   * as a listing rendered for that datagram alone would, and hands out copies a caller may not spoil.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("catalogs")
  void aSharedListingAnswersEveryOffsetAsAFreshOne(String description, List<ListedImage> catalog) {
    P3Reply.Listing shared = new P3Reply.Listing(catalog);
    for (int offset = 0; offset <= shared.size() + 1; offset++) {
      assertEquals(text(new P3Reply.Listing(catalog).datagram(offset)), text(shared.datagram(offset)),
          "offset " + offset);
    }
    byte[] first = shared.datagram(0);
    java.util.Arrays.fill(first, (byte) 'x');
    assertFalse(text(shared.datagram(0)).startsWith("xxx"), "the cached first datagram is not handed out itself");
    assertThrows(IllegalArgumentException.class, () -> shared.datagram(-1));
  }

  @Test
  void badArgumentsAreCallerBugs() {
    assertThrows(IllegalArgumentException.class, () -> P3Reply.list(List.of(), -1));
    assertThrows(IllegalArgumentException.class, () -> new ListedImage("abc", "a", List.of("h:1")));
    assertThrows(IllegalArgumentException.class, () -> new ListedImage(md5(1), "a", List.of("h,1")));
    assertThrows(IllegalArgumentException.class, () -> new ListedImage(md5(1), "a", List.of("")));
  }

  // ---- helpers ----

  /** What the seed-002 client does with the reply: split on ';', then on ',', and index md5, name, holder. */
  private static List<String> splitLikeTheSeed002Client(String reply) {
    List<String> items = List.of(reply.split(";", -1));
    for (String item : items) {
      String[] parts = item.split(",", -1);
      assertTrue(parts.length >= 3, () -> "item too short: " + item);
      assertEquals(32, parts[0].length());
      assertTrue(parts[2].matches("[^:]+:\\d+"), () -> "first holder: " + parts[2]);
    }
    return items;
  }

  private static String renderedItem(ListedImage image) {
    String name = image.name().replace(',', '_').replace(';', '_');
    return image.md5() + "," + name + "," + String.join(",", image.holders());
  }

  private static List<ListedImage> catalog(int size, java.util.function.IntFunction<String> name, int holders) {
    List<ListedImage> catalog = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      List<String> endpoints = new ArrayList<>();
      for (int h = 0; h < holders; h++) {
        endpoints.add("192.168.1." + (h + 1) + ":" + (5000 + i));
      }
      catalog.add(new ListedImage(md5(i), name.apply(i), endpoints));
    }
    return Collections.unmodifiableList(catalog);
  }

  private static ListedImage image(int n, String name, String... holders) {
    return new ListedImage(md5(n), name, List.of(holders));
  }

  private static String md5(int n) {
    return String.format("%032x", n);
  }

  private static int utf8Length(String text) {
    return text.getBytes(StandardCharsets.UTF_8).length;
  }

  private static String text(byte[] reply) {
    return new String(reply, StandardCharsets.UTF_8);
  }
}
