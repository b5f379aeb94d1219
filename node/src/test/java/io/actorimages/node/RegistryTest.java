package io.actorimages.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.ImageStored;
import io.actorimages.messages.Replica;
import io.actorimages.messages.SourceProtocol;
import io.actorimages.node.protocol.P3Reply.ListedImage;
import io.actorimages.storage.BlobStore;
import io.actorimages.storage.StagedBlob;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Registry's rules (DESIGN.md "Registry", PROTOCOLS.md P1–P3 lookups) on a one-node cluster with a real
 * Storage and Transfer on a temp data directory and the real test photographs: each image is staged through an
 * {@link Upload} actor and ingested as a gateway would. Each test gets a fresh node, so the catalog holds only
 * what the test put there.
 */
class RegistryTest {
  private static final Path IMAGES = Path.of(System.getProperty("testdata.dir", "../testdata")).resolve("images");
  private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("uuuu-MM-dd").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter SECOND = DateTimeFormatter.ofPattern("HHmmss").withZone(ZoneOffset.UTC);

  @TempDir
  Path dir;

  private ActorTestKit kit;
  private NodeSettings settings;
  private ActorRef<Storage.Command> storage;
  private ActorRef<Topic.Command<ImageStored>> topic;
  private ActorRef<Registry.Command> registry;
  private long lastReceivedAt;

  @BeforeEach
  void startNode() {
    kit = OneNodeCluster.start(dir);
    settings = OneNodeCluster.settings(kit.system());
    BlobStore store = new BlobStore(settings.dataDir(), settings.maxImageBytes());
    storage = kit.spawn(Storage.create(store), "storage", Storage.BLOCKING_IO);
    // One node: placement chooses it alone, so Transfer pushes nothing; Registry needs it all the same.
    ActorRef<Transfer.Command> transfer =
        kit.spawn(Transfer.create(store, storage, settings), "transfer", Storage.BLOCKING_IO);
    topic = kit.spawn(Topic.create(ImageStored.class, "image-stored"), "image-stored-topic");
    registry = kit.spawn(Registry.create(settings, storage, transfer, topic), "registry");
  }

  @AfterEach
  void stopNode() {
    if (kit != null) kit.shutdownTestKit();
  }

  /**
   * Issue 3, point 6: {@code Ingested} comes with the right hashes, size, dimensions and media type, and the
   * file is then under {@code data-dir/YYYY-MM-DD/HHMMSS.<ext>} (UTC day and second of receipt) with the
   * client's bytes. Hashes and dimensions are computed here by the JDK, not by our code.
   */
  @Test
  void ingestedRepliesWithTheEntryAndTheFileIsUnderItsDay() throws IOException {
    for (String[] row : new String[][] {
        {"astronaut.png", "image/png", "png"},
        {"rocket.jpg", "image/jpeg", "jpg"},
        {"multipage_rgb.tif", "image/tiff", "tif"}}) {
      byte[] bytes = image(row[0]);
      CatalogEntry entry = ingest(bytes, Optional.of(row[0]), "alice", SourceProtocol.P2_WEBSOCKET);

      BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(bytes));
      assertEquals(digest("MD5", bytes), entry.md5(), row[0]);
      assertEquals(digest("SHA-256", bytes), entry.sha256(), row[0]);
      assertEquals(bytes.length, entry.size(), row[0]);
      assertEquals(decoded.getWidth(), entry.width(), row[0]);
      assertEquals(decoded.getHeight(), entry.height(), row[0]);
      assertEquals(row[1], entry.mediaType(), row[0]);
      assertEquals(row[0], entry.filename());
      assertEquals("alice", entry.uploader());
      assertEquals(SourceProtocol.P2_WEBSOCKET, entry.protocol());

      Replica replica = entry.replicas().get(0);
      assertEquals(List.of(new Replica(kit.system().address().toString(), OneNodeCluster.HOST,
          replica.relativePath())), entry.replicas(), "one replica, on this node");
      Instant receivedAt = Instant.ofEpochMilli(entry.receivedAt());
      assertTrue(replica.relativePath().matches(DAY.format(receivedAt) + "/\\d{6}(-\\d+)?\\." + row[2]),
          replica.relativePath());
      assertArrayEquals(bytes, Files.readAllBytes(settings.dataDir().resolve(replica.relativePath())));
    }
  }

  /** DESIGN.md "The path of one image": the committed entry is published as {@code ImageStored}. */
  @Test
  void ingestedImageIsPublishedOnTheTopic() {
    TestProbe<ImageStored> subscriber = kit.createTestProbe();
    topic.tell(Topic.subscribe(subscriber.ref()));
    CatalogEntry entry = ingest(image("coffee.png"), Optional.of("coffee.png"), "bob", SourceProtocol.HTTP);
    assertEquals(new ImageStored(entry), subscriber.receiveMessage());
  }

  /** PROTOCOLS.md P3/P4: an md5 names the oldest entry of those bytes; an unknown md5 names none. */
  @Test
  void findByMd5AnswersWithTheOldestEntryOfThoseBytes() {
    byte[] coffee = image("coffee.png");
    CatalogEntry first = ingest(coffee, Optional.of("first.png"), "alice", SourceProtocol.P2_WEBSOCKET);
    ingest(coffee, Optional.of("second.png"), "bob", SourceProtocol.P2_WEBSOCKET);
    ingest(image("chelsea.png"), Optional.of("cat.png"), "bob", SourceProtocol.P2_WEBSOCKET);

    assertEquals(Optional.of(first), find(r -> new Registry.FindByMd5(digest("MD5", coffee), r)));
    assertEquals(Optional.empty(), find(r -> new Registry.FindByMd5("0".repeat(32), r)));
  }

  /** PROTOCOLS.md P2 DOWNLOAD/VIEW: a filename names its oldest entry when several share it, as in the seed. */
  @Test
  void findByFilenameAnswersWithTheOldestEntryOfThatName() {
    CatalogEntry first = ingest(image("coffee.png"), Optional.of("same.png"), "alice", SourceProtocol.P2_WEBSOCKET);
    ingest(image("chelsea.png"), Optional.of("same.png"), "bob", SourceProtocol.P2_WEBSOCKET);

    assertEquals(Optional.of(first), find(r -> new Registry.FindByFilename("same.png", r)));
    assertEquals(Optional.empty(), find(r -> new Registry.FindByFilename("other.png", r)));
  }

  /** HTTP {@code GET /api/images}: pages run newest first, each continuing after the last id of the one before. */
  @Test
  void listImagesPagesNewestFirstAfterAnId() {
    List<CatalogEntry> oldestFirst = ingestThree();
    CatalogEntry a = oldestFirst.get(0);
    CatalogEntry b = oldestFirst.get(1);
    CatalogEntry c = oldestFirst.get(2);

    assertEquals(List.of(c, b), entries(r -> new Registry.ListImages(2, Optional.empty(), r)));
    assertEquals(List.of(a), entries(r -> new Registry.ListImages(2, Optional.of(b.id()), r)));
    assertEquals(List.of(), entries(r -> new Registry.ListImages(2, Optional.of(a.id()), r)));
    assertEquals(List.of(), entries(r -> new Registry.ListImages(2, Optional.of("no-such-id"), r)));
  }

  /** P2 {@code HISTORY} and {@code LIST}: {@code Latest(n)} is the newest n, oldest first; LIST is upload order. */
  @Test
  void latestIsTheNewestNOldestFirst() {
    List<CatalogEntry> oldestFirst = ingestThree();

    assertEquals(oldestFirst.subList(1, 3), entries(r -> new Registry.Latest(2, r)));
    assertEquals(oldestFirst, entries(r -> new Registry.Latest(10, r)));
    assertEquals(oldestFirst, entries(Registry.ListUploads::new));
  }

  /** PROTOCOLS.md P3 {@code LST}: an image stored in the cluster is held by this node's P4 endpoint. */
  @Test
  void listHoldersNamesThisNodesP4Endpoint() {
    CatalogEntry entry = ingest(image("astronaut.png"), Optional.empty(), "tcp:127.0.0.1", SourceProtocol.P1_TCP);

    TestProbe<Registry.Holders> probe = kit.createTestProbe();
    registry.tell(new Registry.ListHolders(probe.ref()));
    assertEquals(List.of(new ListedImage(entry.md5(), entry.filename(), List.of(OneNodeCluster.HOST + ":13378"))),
        probe.receiveMessage().images());
  }

  /**
   * Issue 3, point 6: ingests in flight together (eight P1 cameras on one node) are each answered, to their
   * own client, with their own entry: bytes, name and uploader are never swapped between them.
   */
  @Test
  void concurrentIngestsAreEachAnsweredWithTheirOwnEntry() {
    List<String> names = List.of("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg");
    List<StagedBlob> staged = names.stream().map(n -> stage(image(n))).toList();
    List<TestProbe<Registry.IngestResult>> replies = names.stream()
        .map(n -> kit.<Registry.IngestResult>createTestProbe()).toList();
    for (int i = 0; i < names.size(); i++) {
      registry.tell(new Registry.Ingest(staged.get(i), Optional.of(names.get(i)), "camera-" + i,
          SourceProtocol.P1_TCP, replies.get(i).ref()));
    }
    for (int i = 0; i < names.size(); i++) {
      CatalogEntry entry = ingested(replies.get(i));
      assertEquals(names.get(i), entry.filename());
      assertEquals("camera-" + i, entry.uploader());
      assertEquals(digest("MD5", image(names.get(i))), entry.md5(), names.get(i));
      replies.get(i).expectNoMessage(java.time.Duration.ofMillis(200));
    }
    assertEquals(names.size(), entries(Registry.ListUploads::new).size());
  }

  /** PROTOCOLS.md P1: the seed overwrote an image of the same second; the second one becomes {@code HHMMSS-1}. */
  @Test
  void secondUploadOfTheSameSecondGetsMinusOne() throws InterruptedException {
    StagedBlob first = stage(image("rocket.jpg"));
    StagedBlob second = stage(image("rocket.jpg"));
    // Both Ingests must reach the Registry within one second of the clock: start early in a second.
    long intoSecond = System.currentTimeMillis() % 1000;
    if (intoSecond > 300) Thread.sleep(1000 - intoSecond);
    TestProbe<Registry.IngestResult> firstReply = kit.createTestProbe();
    TestProbe<Registry.IngestResult> secondReply = kit.createTestProbe();
    registry.tell(new Registry.Ingest(first, Optional.empty(), "tcp:127.0.0.1", SourceProtocol.P1_TCP,
        firstReply.ref()));
    registry.tell(new Registry.Ingest(second, Optional.empty(), "tcp:127.0.0.1", SourceProtocol.P1_TCP,
        secondReply.ref()));
    CatalogEntry a = ingested(firstReply);
    CatalogEntry b = ingested(secondReply);

    String hhmmss = SECOND.format(Instant.ofEpochMilli(a.receivedAt()));
    assertEquals(hhmmss, SECOND.format(Instant.ofEpochMilli(b.receivedAt())), "precondition: one second");
    assertEquals(hhmmss + ".jpg", a.filename(), "P1 entries are named after the stored file");
    assertEquals(hhmmss + "-1.jpg", b.filename());
    assertTrue(b.replicas().get(0).relativePath().endsWith("/" + hhmmss + "-1.jpg"));
    assertTrue(Files.isRegularFile(settings.dataDir().resolve(a.replicas().get(0).relativePath())));
    assertTrue(Files.isRegularFile(settings.dataDir().resolve(b.replicas().get(0).relativePath())));
  }

  private List<CatalogEntry> ingestThree() {
    return List.of(
        ingest(image("astronaut.png"), Optional.of("a.png"), "alice", SourceProtocol.P2_WEBSOCKET),
        ingest(image("rocket.jpg"), Optional.empty(), "tcp:127.0.0.1", SourceProtocol.P1_TCP),
        ingest(image("chelsea.png"), Optional.of("c.png"), "http:127.0.0.1", SourceProtocol.HTTP));
  }

  /** Stages {@code bytes} as a gateway does: an Upload actor from Storage, fed by a stream. */
  private StagedBlob stage(byte[] bytes) {
    TestProbe<ActorRef<Upload.Command>> uploadRef = kit.createTestProbe();
    TestProbe<Upload.Outcome> outcome = kit.createTestProbe();
    storage.tell(new Storage.StartUpload(bytes.length, outcome.ref(), uploadRef.ref()));
    Source.single(ByteString.fromArray(bytes)).runWith(Upload.sink(uploadRef.receiveMessage()), kit.system());
    Upload.Outcome result = outcome.receiveMessage();
    if (result instanceof Upload.Staged staged) return staged.blob();
    throw new AssertionError("upload not staged: " + result);
  }

  /**
   * Stages and ingests {@code bytes}, one clock millisecond after the previous ingest: entries of one
   * millisecond are ordered by their random id (CatalogView), and the tests that check order need upload order.
   */
  private CatalogEntry ingest(byte[] bytes, Optional<String> filename, String uploader, SourceProtocol protocol) {
    StagedBlob staged = stage(bytes);
    while (System.currentTimeMillis() <= lastReceivedAt) Thread.onSpinWait(); // at most one millisecond
    TestProbe<Registry.IngestResult> reply = kit.createTestProbe();
    registry.tell(new Registry.Ingest(staged, filename, uploader, protocol, reply.ref()));
    CatalogEntry entry = ingested(reply);
    lastReceivedAt = entry.receivedAt();
    return entry;
  }

  private static CatalogEntry ingested(TestProbe<Registry.IngestResult> reply) {
    Registry.IngestResult result = reply.receiveMessage();
    if (result instanceof Registry.Ingested ok) return ok.entry();
    throw new AssertionError("not ingested: " + result);
  }

  private Optional<CatalogEntry> find(
      java.util.function.Function<ActorRef<Registry.Found>, Registry.Command> request) {
    TestProbe<Registry.Found> probe = kit.createTestProbe();
    registry.tell(request.apply(probe.ref()));
    return probe.receiveMessage().entry();
  }

  private List<CatalogEntry> entries(
      java.util.function.Function<ActorRef<Registry.Entries>, Registry.Command> request) {
    TestProbe<Registry.Entries> probe = kit.createTestProbe();
    registry.tell(request.apply(probe.ref()));
    return probe.receiveMessage().entries();
  }

  private static byte[] image(String name) {
    try {
      return Files.readAllBytes(IMAGES.resolve(name));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String digest(String algorithm, byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
