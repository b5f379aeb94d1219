package io.actorimages.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actorimages.messages.PeerImage;
import io.actorimages.messages.PeerRegistration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tracker's rules (PROTOCOLS.md P3 reply table, DESIGN.md "Tracker") on a one-node cluster: each test spawns
 * its own {@link Tracker} (directly, not as a singleton) and registers its own identity, so the tests share the
 * replicated state without depending on each other. State is read back through the Replicator, as the
 * Registry of every node reads it.
 */
class TrackerTest {
  private static final String PEER_IP = "127.0.0.1";
  private static final String MD5_A = "0cc175b9c0f1b6a831c399e269772661";
  private static final String MD5_B = "92eb5ffee6ae2fec3ad71c777531578f";
  private static final String MD5_C = "4a8a08f09d37b73795649038408b5f33";
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  @TempDir
  static Path dir;

  private static ActorTestKit kit;
  private final List<ActorRef<Tracker.Command>> trackers = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    kit = OneNodeCluster.start(dir);
  }

  @AfterAll
  static void stopCluster() {
    if (kit != null) kit.shutdownTestKit();
  }

  @AfterEach
  void stopTrackers() {
    trackers.forEach(kit::stop);
  }

  /** PROTOCOLS.md P3: a second {@code REG} from the same identity replaces the first registration. */
  @Test
  void secondRegFromSameIdentityReplacesTheFirst() {
    ActorRef<Tracker.Command> tracker = spawnTracker();
    int port = 40_001;
    assertEquals(new Tracker.Registered(2),
        ask(tracker, r -> new Tracker.Register(PEER_IP, port, "first", images(MD5_A, "a.jpg", MD5_B, "b.png"), r)));
    assertEquals(new Tracker.Registered(1),
        ask(tracker, r -> new Tracker.Register(PEER_IP, port, "second", images(MD5_C, "c.gif"), r)));

    assertEquals(images(MD5_C, "c.gif"), registration(port).images(), "holdings of the second REG only");
    assertEquals(new Tracker.WrongPassword(identity(port)),
        ask(tracker, r -> new Tracker.Update(PEER_IP, port, "first", List.of(), r)), "the first password is gone");
    assertEquals(new Tracker.Updated(0), ask(tracker, r -> new Tracker.Update(PEER_IP, port, "second", List.of(), r)));
  }

  /** PROTOCOLS.md P3: {@code UPD} from an identity that never registered is refused and stores nothing. */
  @Test
  void updFromUnknownIdentityIsRefused() {
    ActorRef<Tracker.Command> tracker = spawnTracker();
    int port = 40_002;
    assertEquals(new Tracker.WrongPassword(identity(port)),
        ask(tracker, r -> new Tracker.Update(PEER_IP, port, "pw", images(MD5_A, "a.jpg"), r)));
    assertFalse(registrations().containsKey(identity(port)));
  }

  /** PROTOCOLS.md P3: {@code UPD} with the wrong password is refused and leaves the holdings as they were. */
  @Test
  void updWithWrongPasswordIsRefused() {
    ActorRef<Tracker.Command> tracker = spawnTracker();
    int port = 40_003;
    ask(tracker, r -> new Tracker.Register(PEER_IP, port, "right", images(MD5_A, "a.jpg"), r));
    assertEquals(new Tracker.WrongPassword(identity(port)),
        ask(tracker, r -> new Tracker.Update(PEER_IP, port, "wrong", images(MD5_B, "b.png"), r)));
    // The identity is (ip, port): the same port from another address is another, unknown identity.
    assertEquals(new Tracker.WrongPassword(identity(port).replace(PEER_IP, "127.0.0.2")),
        ask(tracker, r -> new Tracker.Update("127.0.0.2", port, "right", images(MD5_B, "b.png"), r)));
    assertEquals(images(MD5_A, "a.jpg"), registration(port).images());
  }

  /** PROTOCOLS.md P3: {@code END} removes the identity and all its holdings; it is then unknown. */
  @Test
  void endRemovesTheIdentityAndItsHoldings() {
    ActorRef<Tracker.Command> tracker = spawnTracker();
    int port = 40_004;
    ask(tracker, r -> new Tracker.Register(PEER_IP, port, "pw", images(MD5_A, "a.jpg", MD5_B, "b.png"), r));
    assertEquals(new Tracker.WrongPassword(identity(port)),
        ask(tracker, r -> new Tracker.End(PEER_IP, port, "not-pw", r)), "END needs the password too");
    assertEquals(new Tracker.Finished(identity(port)), ask(tracker, r -> new Tracker.End(PEER_IP, port, "pw", r)));

    assertFalse(registrations().containsKey(identity(port)));
    assertEquals(new Tracker.WrongPassword(identity(port)),
        ask(tracker, r -> new Tracker.Update(PEER_IP, port, "pw", List.of(), r)));
  }

  /**
   * The replicated state (and so every node's durable store) holds a salted hash, never the password: no field
   * of the registration equals it, and its serialized form does not contain it.
   */
  @Test
  void passwordIsNeverStoredInClear() {
    ActorRef<Tracker.Command> tracker = spawnTracker();
    int port = 40_005;
    // Punctuation as the seed-003 client's passwords have it (PROTOCOLS.md P3).
    String password = "Pw'\";,\\-tracker-test-secret";
    ask(tracker, r -> new Tracker.Register(PEER_IP, port, password, images(MD5_A, "a.jpg"), r));

    PeerRegistration reg = registration(port);
    for (String field : List.of(reg.ip(), String.valueOf(reg.port()), reg.passwordSalt(), reg.passwordHash())) {
      assertNotEquals(password, field);
    }
    assertTrue(reg.images().stream().noneMatch(i -> i.md5().equals(password) || i.name().equals(password)));
    assertEquals(64, reg.passwordHash().length(), "hex SHA-256");
    assertFalse(reg.toString().contains(password));

    // What the replicator gossips and the durable store keeps is this serialized form (inside a compressed map).
    byte[] serialized = SerializationExtension.get(kit.system().classicSystem()).serialize(reg).get();
    assertFalse(contains(serialized, password), "serialized registration holds the password");
    assertTrue(contains(serialized, reg.passwordHash()), "the serialized form is plain CBOR, so the check saw it");
  }

  /**
   * DESIGN.md "Tracker": a new incarnation (after a hand-over or a crash) reads the replicated state before it
   * serves, so every registration of the old one keeps its password and its holdings.
   */
  @Test
  void aNewIncarnationServesEveryRegistrationOfTheOldOne() {
    ActorRef<Tracker.Command> old = spawnTracker();
    int port = 40_006;
    int other = 40_016;
    ask(old, r -> new Tracker.Register(PEER_IP, port, "pw", images(MD5_A, "a.jpg"), r));
    ask(old, r -> new Tracker.Register(PEER_IP, other, "other-pw", images(MD5_B, "b.png"), r));
    TestProbe<Object> watcher = kit.createTestProbe();
    kit.stop(old);
    watcher.expectTerminated(old);

    ActorRef<Tracker.Command> next = spawnTracker();
    assertEquals(new Tracker.WrongPassword(identity(port)),
        ask(next, r -> new Tracker.Update(PEER_IP, port, "wrong", List.of(), r)));
    assertEquals(new Tracker.Updated(2),
        ask(next, r -> new Tracker.Update(PEER_IP, port, "pw", images(MD5_B, "b.png", MD5_C, "c.gif"), r)));
    assertEquals(images(MD5_B, "b.png", MD5_C, "c.gif"), registration(port).images());
    assertEquals(new Tracker.Finished(identity(other)), ask(next, r -> new Tracker.End(PEER_IP, other, "other-pw", r)));
    assertFalse(registrations().containsKey(identity(other)));
    assertTrue(registrations().containsKey(identity(port)));
  }

  /** {@code bin/cluster status} and {@code /api/cluster} learn the singleton's host from {@code WhereAreYou}. */
  @Test
  void whereAreYouNamesThisHost() {
    ActorRef<Tracker.Command> tracker = spawnTracker();
    TestProbe<Tracker.Location> probe = kit.createTestProbe();
    tracker.tell(new Tracker.WhereAreYou(probe.ref()));
    assertEquals(new Tracker.Location(OneNodeCluster.HOST), probe.receiveMessage());
  }

  private ActorRef<Tracker.Command> spawnTracker() {
    ActorRef<Tracker.Command> tracker = kit.spawn(Tracker.create(OneNodeCluster.HOST, TIMEOUT, TIMEOUT));
    trackers.add(tracker);
    return tracker;
  }

  private static Tracker.Reply ask(ActorRef<Tracker.Command> tracker,
                                   java.util.function.Function<ActorRef<Tracker.Reply>, Tracker.Command> request) {
    TestProbe<Tracker.Reply> probe = kit.createTestProbe();
    tracker.tell(request.apply(probe.ref()));
    return probe.receiveMessage();
  }

  /** This node's replica of the tracker state; a tracker answers only after its write reached it. */
  private static Map<String, PeerRegistration> registrations() {
    TestProbe<Replicator.GetResponse<LWWMap<String, PeerRegistration>>> probe = kit.createTestProbe();
    DistributedData.get(kit.system()).replicator()
        .tell(new Replicator.Get<>(Registry.TRACKER, Replicator.readLocal(), probe.ref()));
    var rsp = probe.receiveMessage();
    if (rsp instanceof Replicator.GetSuccess<LWWMap<String, PeerRegistration>> ok) {
      return ok.get(Registry.TRACKER).getEntries();
    }
    if (rsp instanceof Replicator.NotFound) return Map.of();
    throw new AssertionError("local read of the tracker state failed: " + rsp);
  }

  private static PeerRegistration registration(int port) {
    PeerRegistration reg = registrations().get(identity(port));
    if (reg == null) throw new AssertionError(identity(port) + " is not in the replicated state");
    return reg;
  }

  private static String identity(int port) {
    return PeerRegistration.identity(PEER_IP, port);
  }

  private static List<PeerImage> images(String... md5AndName) {
    List<PeerImage> images = new ArrayList<>();
    for (int i = 0; i < md5AndName.length; i += 2) images.add(new PeerImage(md5AndName[i], md5AndName[i + 1]));
    return List.copyOf(images);
  }

  private static boolean contains(byte[] haystack, String needle) {
    byte[] n = needle.getBytes(StandardCharsets.UTF_8);
    outer:
    for (int i = 0; i + n.length <= haystack.length; i++) {
      for (int j = 0; j < n.length; j++) if (haystack[i + j] != n[j]) continue outer;
      return true;
    }
    return false;
  }
}
