package io.actorimages.node;

import io.actorimages.messages.CborSerializable;
import io.actorimages.messages.PeerImage;
import io.actorimages.messages.PeerRegistration;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * The IDP2PI tracker of seeds 002/003 as a cluster singleton (DESIGN.md "Tracker", PROTOCOLS.md P3): peer
 * identities, passwords and holdings. Writes go through this one actor; each is written to a majority of nodes
 * in Distributed Data (key {@link Registry#TRACKER}) before it is answered, so a hand-over or a crash of its
 * node loses no acknowledged registration. A new incarnation reads the state from a majority before it serves.
 * Reads ({@code LST}) never come here: every node's {@link Registry} answers them from its local replica.
 */
public final class Tracker {

  /** Messages of the tracker; they reach it from any node through the singleton proxy. */
  public sealed interface Command extends CborSerializable {}

  /** P3 {@code REG}: replaces any registration of the identity (ip, port). */
  public record Register(String ip, int port, String password, List<PeerImage> images, ActorRef<Reply> replyTo)
      implements Command {}

  /** P3 {@code UPD}: replaces the identity's holdings, if the password matches. */
  public record Update(String ip, int port, String password, List<PeerImage> images, ActorRef<Reply> replyTo)
      implements Command {}

  /** P3 {@code END}: removes the identity and its holdings, if the password matches. */
  public record End(String ip, int port, String password, ActorRef<Reply> replyTo) implements Command {}

  /** Asks where the singleton runs; answered with {@link Location}. */
  public record WhereAreYou(ActorRef<Location> replyTo) implements Command {}

  /** The host of the node running the singleton. */
  public record Location(String host) implements CborSerializable {}

  /** Answers to {@link Register}, {@link Update} and {@link End}. */
  public sealed interface Reply extends CborSerializable {}

  /** {@code count} images registered ({@code REG}). */
  public record Registered(int count) implements Reply {}

  /** {@code count} images now held ({@code UPD}). */
  public record Updated(int count) implements Reply {}

  /** The identity is gone ({@code END}). */
  public record Finished(String identity) implements Reply {}

  /** Unknown identity or wrong password (P3 {@code ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD}). */
  public record WrongPassword(String identity) implements Reply {}

  /** The change could not be written to a majority of nodes; nothing is promised. */
  public record Unavailable(String reason) implements Reply {}

  private record Loaded(Map<String, PeerRegistration> registrations) implements Command {}

  private enum LoadFailed implements Command { INSTANCE }

  private enum RolledBack implements Command { INSTANCE }

  private record Written(String identity, PeerRegistration previous, Reply reply, ActorRef<Reply> replyTo,
                         boolean ok) implements Command {}

  /** Singleton name, also used by the proxy on every node. */
  public static final String NAME = "tracker";

  /**
   * @param host        this node's advertised host, reported by {@link WhereAreYou}
   * @param readTimeout majority-read timeout when taking over
   * @param writeTimeout majority-write timeout of each change
   */
  public static Behavior<Command> create(String host, Duration readTimeout, Duration writeTimeout) {
    return Behaviors.withStash(10_000, stash -> Behaviors.setup(ctx ->
        DistributedData.withReplicatorMessageAdapter(
            (ReplicatorMessageAdapter<Command, LWWMap<String, PeerRegistration>> replicator) ->
                new Tracker(ctx, stash, replicator, host, writeTimeout).loading(readTimeout))));
  }

  private final ActorContext<Command> ctx;
  private final StashBuffer<Command> stash;
  private final ReplicatorMessageAdapter<Command, LWWMap<String, PeerRegistration>> replicator;
  private final SelfUniqueAddress self;
  private final String host;
  private final Duration writeTimeout;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, PeerRegistration> registrations = new HashMap<>();
  private long sequence;

  private Tracker(ActorContext<Command> ctx, StashBuffer<Command> stash,
                  ReplicatorMessageAdapter<Command, LWWMap<String, PeerRegistration>> replicator, String host,
                  Duration writeTimeout) {
    this.ctx = ctx;
    this.stash = stash;
    this.replicator = replicator;
    this.self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    this.host = host;
    this.writeTimeout = writeTimeout;
  }

  private Behavior<Command> loading(Duration readTimeout) {
    load(new Replicator.ReadMajority(readTimeout));
    return Behaviors.receive(Command.class)
        .onMessage(LoadFailed.class, m -> {
          // No majority answered (we may be the only survivor so far): this node's replica is the best we have.
          ctx.getLog().warn("Majority read of the tracker state failed; using this node's replica");
          load(Replicator.readLocal());
          return Behaviors.same();
        })
        .onMessage(Loaded.class, m -> {
          registrations.putAll(m.registrations());
          sequence = registrations.values().stream().mapToLong(PeerRegistration::sequence).max().orElse(0);
          ctx.getLog().info("Tracker singleton serving on {} with {} registrations", host, registrations.size());
          return stash.unstashAll(serving());
        })
        .onMessage(Command.class, m -> {
          stash.stash(m);
          return Behaviors.same();
        })
        .build();
  }

  private void load(Replicator.ReadConsistency consistency) {
    replicator.askGet(
        r -> new Replicator.Get<>(Registry.TRACKER, consistency, r),
        rsp -> {
          if (rsp instanceof Replicator.GetSuccess<LWWMap<String, PeerRegistration>> ok) {
            return new Loaded(ok.get(Registry.TRACKER).getEntries());
          }
          if (rsp instanceof Replicator.NotFound) return new Loaded(Map.of());
          return LoadFailed.INSTANCE;
        });
  }

  private Behavior<Command> serving() {
    return Behaviors.receive(Command.class)
        .onMessage(Register.class, this::onRegister)
        .onMessage(Update.class, this::onUpdate)
        .onMessage(End.class, this::onEnd)
        .onMessage(WhereAreYou.class, m -> {
          m.replyTo().tell(new Location(host));
          return Behaviors.same();
        })
        .onMessage(Written.class, this::onWritten)
        .onMessage(Loaded.class, m -> Behaviors.same())
        .onMessage(LoadFailed.class, m -> Behaviors.same())
        .onMessage(RolledBack.class, m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onRegister(Register m) {
    byte[] salt = new byte[16];
    random.nextBytes(salt);
    PeerRegistration reg = new PeerRegistration(m.ip(), m.port(), HexFormat.of().formatHex(salt),
        hash(salt, m.password()), m.images(), System.currentTimeMillis(), ++sequence);
    write(reg.identity(), reg, new Registered(m.images().size()), m.replyTo());
    return Behaviors.same();
  }

  private Behavior<Command> onUpdate(Update m) {
    String identity = PeerRegistration.identity(m.ip(), m.port());
    PeerRegistration current = registrations.get(identity);
    if (!passwordMatches(current, m.password())) {
      m.replyTo().tell(new WrongPassword(identity));
    } else {
      write(identity, current.withImages(m.images()), new Updated(m.images().size()), m.replyTo());
    }
    return Behaviors.same();
  }

  private Behavior<Command> onEnd(End m) {
    String identity = PeerRegistration.identity(m.ip(), m.port());
    if (!passwordMatches(registrations.get(identity), m.password())) {
      m.replyTo().tell(new WrongPassword(identity));
    } else {
      write(identity, null, new Finished(identity), m.replyTo());
    }
    return Behaviors.same();
  }

  /**
   * Applies the change here at once (the next request sees it) and answers once a majority has it. A change no
   * majority confirmed is rolled back, here and in this node's replica, so what the client was told
   * ("unavailable") is what the tracker serves.
   */
  private void write(String identity, PeerRegistration reg, Reply reply, ActorRef<Reply> replyTo) {
    PeerRegistration previous = registrations.get(identity);
    apply(identity, reg);
    replicator.askUpdate(
        r -> new Replicator.Update<>(Registry.TRACKER, LWWMap.create(), new Replicator.WriteMajority(writeTimeout),
            r, map -> reg == null ? map.remove(self, identity) : map.put(self, identity, reg)),
        rsp -> new Written(identity, previous, reply, replyTo, rsp instanceof Replicator.UpdateSuccess));
  }

  private Behavior<Command> onWritten(Written m) {
    if (m.ok()) {
      m.replyTo().tell(m.reply());
      return Behaviors.same();
    }
    ctx.getLog().warn("Tracker change of {} not confirmed by a majority; rolled back", m.identity());
    apply(m.identity(), m.previous());
    PeerRegistration previous = m.previous();
    replicator.askUpdate(
        r -> new Replicator.Update<>(Registry.TRACKER, LWWMap.create(), Replicator.writeLocal(), r,
            map -> previous == null ? map.remove(self, m.identity()) : map.put(self, m.identity(), previous)),
        rsp -> RolledBack.INSTANCE);
    m.replyTo().tell(new Unavailable("tracker state not confirmed by a majority"));
    return Behaviors.same();
  }

  private void apply(String identity, PeerRegistration reg) {
    if (reg == null) registrations.remove(identity);
    else registrations.put(identity, reg);
  }

  private static boolean passwordMatches(PeerRegistration reg, String password) {
    if (reg == null) return false;
    byte[] salt = HexFormat.of().parseHex(reg.passwordSalt());
    return MessageDigest.isEqual(hash(salt, password).getBytes(StandardCharsets.US_ASCII),
        reg.passwordHash().getBytes(StandardCharsets.US_ASCII));
  }

  private static String hash(byte[] salt, String password) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(salt);
      return HexFormat.of().formatHex(sha.digest(password.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
