package io.actorimages.node;

import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.CborSerializable;
import io.actorimages.messages.Replica;
import io.actorimages.storage.BlobStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.FileIO;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.apache.pekko.util.ByteString;

/**
 * Moves an image's bytes between nodes (DESIGN.md "Transfer"), always as Pekko StreamRefs: back-pressured, in
 * {@value #CHUNK_BYTES}-byte chunks, well under Artery's 256 KiB frame, never a whole image in one message.
 * <ul>
 *   <li>{@link Open}: a stream of an image for a gateway, from this node's copy when it holds a sound one,
 *       otherwise pulled from another holder;</li>
 *   <li>{@link Push} / {@link StoreReplica}: copy a file to another node, which stores it through its own
 *       Storage and confirms only after fsync and a SHA-256 check (issue 4 point 1);</li>
 *   <li>{@link Drop}: remove a replica again (an upload that failed as a whole).</li>
 * </ul>
 * A copy's SHA-256 is checked before it is served, so a corrupt replica falls back to another one before any
 * byte reaches a client (PROTOCOLS.md P2/P4 cannot take back bytes already sent). Runs on the blocking-io
 * dispatcher because it reads files.
 */
public final class Transfer {

  /** Messages of Transfer. */
  public sealed interface Command {}

  /** Local request: a stream of {@code entry}'s bytes, answered with {@link Opened} or {@link OpenFailed}. */
  public record Open(CatalogEntry entry, ActorRef<OpenResult> replyTo) implements Command {}

  /** From another node's Transfer: stream this node's copy at {@code relativePath} if its SHA-256 holds. */
  public record Fetch(String relativePath, String sha256, ActorRef<FetchResult> replyTo)
      implements Command, CborSerializable {}

  /**
   * Local request: copy {@code file} to the node at {@code targetNode}; answered with {@link ReplicaResult}.
   *
   * @param file       a fsynced file on this node (a staged temp file or a committed copy)
   * @param sha256     its SHA-256, which the target verifies
   * @param size       its size in bytes
   * @param targetNode the target's cluster address
   */
  public record Push(Path file, String sha256, long size, String targetNode, ActorRef<ReplicaResult> replyTo)
      implements Command {}

  /** From another node: pull {@code bytes} into a new replica here. */
  public record StoreReplica(String sha256, long size, SourceRef<ByteString> bytes,
                             ActorRef<ReplicaResult> replyTo) implements Command, CborSerializable {}

  /**
   * Local request: replace this node's copy of {@code entry} with a sound one from another holder (scrub);
   * answered with {@link ReplicaResult} naming the new copy.
   */
  public record Restore(CatalogEntry entry, ActorRef<ReplicaResult> replyTo) implements Command {}

  private record Restoring(Restore request, OpenResult opened) implements Command {}

  /** Local request: remove the replica at {@code relativePath} on {@code node} (this node included). */
  public record Drop(String node, String relativePath) implements Command {}

  /** From another node: remove this node's replica at {@code relativePath}. */
  public record DropReplica(String relativePath) implements Command, CborSerializable {}

  /** Answer to {@link Open}. */
  public sealed interface OpenResult {}

  /**
   * The image's bytes; materialize {@code bytes} once. They come from a copy whose SHA-256 was checked, and
   * when they come from another node, that node has already opened its file, so they will follow (PROTOCOLS.md
   * P2: never announce bytes not in hand).
   */
  public record Opened(Source<ByteString, NotUsed> bytes) implements OpenResult {}

  /** No node that holds the image could serve a sound copy. */
  public record OpenFailed(String reason) implements OpenResult {}

  /** Answer to {@link Fetch}. */
  public sealed interface FetchResult extends CborSerializable {}

  /** The copy's bytes as a stream reference. */
  public record Fetched(SourceRef<ByteString> bytes) implements FetchResult {}

  /** This node has no sound copy at that path. */
  public record FetchFailed(String reason) implements FetchResult {}

  /** Answer to {@link Push} and {@link StoreReplica}. */
  public sealed interface ReplicaResult extends CborSerializable {}

  /** The target holds a fsynced, verified copy. */
  public record ReplicaStored(Replica replica) implements ReplicaResult {}

  /** No copy was made; {@code reason} says why. */
  public record ReplicaFailed(String reason) implements ReplicaResult {}

  private record Listing(Receptionist.Listing listing) implements Command {}

  private record Pushed(ActorRef<ReplicaResult> replyTo, ReplicaResult result) implements Command {}

  private record RetryPush(Push push, long deadlineNanos) implements Command {}

  private record RetryOpen(Open open, List<Replica> remotes, long deadlineNanos) implements Command {}

  /** How long {@link Open} waits for the receptionist to list a holder that is an Up member. */
  private static final java.time.Duration LISTING_WAIT = java.time.Duration.ofSeconds(3);

  private record FetchAnswered(Open open, List<Replica> remaining, FetchResult result) implements Command {}

  /** Every node's Transfer registers under this key, so others find it by address. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "transfer");

  /** Bytes per stream element between nodes. */
  public static final int CHUNK_BYTES = 64 * 1024;

  /**
   * @param store    this node's blob store
   * @param storage  this node's Storage, which stores incoming replicas
   * @param settings this node's settings
   */
  public static Behavior<Command> create(BlobStore store, ActorRef<Storage.Command> storage,
                                         NodeSettings settings) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(KEY,
          ctx.messageAdapter(Receptionist.Listing.class, Listing::new)));
      return new Transfer(ctx, store, storage, settings).running();
    });
  }

  private final ActorContext<Command> ctx;
  private final BlobStore store;
  private final ActorRef<Storage.Command> storage;
  private final NodeSettings settings;
  private final String selfAddress;
  private Map<String, ActorRef<Command>> byNode = Map.of();

  private Transfer(ActorContext<Command> ctx, BlobStore store, ActorRef<Storage.Command> storage,
                   NodeSettings settings) {
    this.ctx = ctx;
    this.store = store;
    this.storage = storage;
    this.settings = settings;
    this.selfAddress = ctx.getSystem().address().toString();
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(Listing.class, m -> {
          Map<String, ActorRef<Command>> next = new HashMap<>();
          for (ActorRef<Command> ref : m.listing().getServiceInstances(KEY)) {
            next.put(ref.path().address().hasGlobalScope() ? ref.path().address().toString() : selfAddress, ref);
          }
          byNode = next;
          return Behaviors.same();
        })
        .onMessage(Open.class, m -> {
          open(m);
          return Behaviors.same();
        })
        .onMessage(Fetch.class, m -> {
          m.replyTo().tell(fetch(m.relativePath(), m.sha256()));
          return Behaviors.same();
        })
        .onMessage(FetchAnswered.class, m -> {
          if (m.result() instanceof Fetched f) m.open().replyTo().tell(new Opened(f.bytes().getSource()));
          else tryRemote(m.open(), m.remaining());
          return Behaviors.same();
        })
        .onMessage(Push.class, m -> {
          // Half the caller's timeout: the rest is left for the copy itself.
          push(m, System.nanoTime() + settings.replicationTimeout(m.size()).dividedBy(2).toNanos());
          return Behaviors.same();
        })
        .onMessage(RetryOpen.class, m -> {
          tryRemote(m.open(), m.remotes(), m.deadlineNanos());
          return Behaviors.same();
        })
        .onMessage(RetryPush.class, m -> {
          push(m.push(), m.deadlineNanos());
          return Behaviors.same();
        })
        .onMessage(Pushed.class, m -> {
          m.replyTo().tell(m.result());
          return Behaviors.same();
        })
        .onMessage(StoreReplica.class, m -> {
          ctx.spawnAnonymous(ReplicaReceiver.create(m.bytes().getSource(), m.sha256(), m.size(), m.replyTo(), storage,
              settings, selfAddress), Storage.BLOCKING_IO);
          return Behaviors.same();
        })
        .onMessage(Restore.class, m -> {
          // Ask only the other holders: this node's own copy is the one being replaced. ctx.ask gives each
          // request its own reply reference, so concurrent restores cannot be confused.
          CatalogEntry others = m.entry().withReplicas(m.entry().replicas().stream()
              .filter(r -> !r.node().equals(selfAddress)).toList());
          ctx.ask(OpenResult.class, ctx.getSelf(), settings.askTimeout(), r -> new Open(others, r),
              (res, err) -> new Restoring(m, err == null ? res : new OpenFailed("timeout")));
          return Behaviors.same();
        })
        .onMessage(Restoring.class, m -> {
          if (m.opened() instanceof Opened o) {
            ctx.spawnAnonymous(ReplicaReceiver.create(o.bytes(), m.request().entry().sha256(),
                m.request().entry().size(), m.request().replyTo(), storage, settings, selfAddress), Storage.BLOCKING_IO);
          } else {
            m.request().replyTo().tell(new ReplicaFailed(((OpenFailed) m.opened()).reason()));
          }
          return Behaviors.same();
        })
        .onMessage(Drop.class, m -> {
          if (m.node().equals(selfAddress)) storage.tell(new Storage.Delete(m.relativePath()));
          else if (byNode.containsKey(m.node())) byNode.get(m.node()).tell(new DropReplica(m.relativePath()));
          return Behaviors.same();
        })
        .onMessage(DropReplica.class, m -> {
          storage.tell(new Storage.Delete(m.relativePath()));
          return Behaviors.same();
        })
        .build();
  }

  private void open(Open m) {
    List<Replica> remotes = new ArrayList<>();
    for (Replica r : m.entry().replicas()) {
      if (!r.node().equals(selfAddress)) {
        remotes.add(r);
      } else if (sound(r.relativePath(), m.entry().sha256())) {
        m.replyTo().tell(new Opened(FileIO.fromPath(store.resolve(r.relativePath()), CHUNK_BYTES)
            .mapMaterializedValue(x -> NotUsed.getInstance())));
        return;
      }
    }
    tryRemote(m, remotes);
  }

  private void tryRemote(Open m, List<Replica> remotes) {
    tryRemote(m, remotes, System.nanoTime() + LISTING_WAIT.toNanos());
  }

  private void tryRemote(Open m, List<Replica> remotes, long deadlineNanos) {
    List<Replica> reachable = remotes.stream().filter(r -> byNode.containsKey(r.node())).toList();
    if (reachable.isEmpty()) {
      // Right after this node (or a holder) started, the receptionist may not list the holder's Transfer yet,
      // though the holder is an Up member: wait for the listing a little before giving up.
      var up = ClusterView.upMembers(ctx.getSystem()).stream().map(Placement.NodeRef::address).toList();
      boolean holderUp = remotes.stream().anyMatch(r -> up.contains(r.node()));
      if (holderUp && System.nanoTime() < deadlineNanos) {
        ctx.scheduleOnce(java.time.Duration.ofMillis(100), ctx.getSelf(), new RetryOpen(m, remotes, deadlineNanos));
      } else {
        m.replyTo().tell(new OpenFailed("no reachable node holds a sound copy of " + m.entry().md5()));
      }
      return;
    }
    Replica next = reachable.get(0);
    List<Replica> rest = List.copyOf(reachable.subList(1, reachable.size()));
    ctx.ask(FetchResult.class, byNode.get(next.node()), settings.askTimeout(),
        r -> new Fetch(next.relativePath(), m.entry().sha256(), r),
        (res, err) -> new FetchAnswered(m, rest, err == null ? res : new FetchFailed(err.getMessage())));
  }

  private FetchResult fetch(String relativePath, String sha256) {
    if (!sound(relativePath, sha256)) return new FetchFailed("no sound copy at " + relativePath);
    SourceRef<ByteString> ref = FileIO.fromPath(store.resolve(relativePath), CHUNK_BYTES)
        .runWith(StreamRefs.sourceRef(), ctx.getSystem());
    return new Fetched(ref);
  }

  private void push(Push m, long deadlineNanos) {
    ActorRef<Command> target = byNode.get(m.targetNode());
    if (target == null && System.nanoTime() < deadlineNanos) {
      // Placement picks Up members, but a member's Transfer reaches this node's receptionist only with a later
      // receptionist gossip round (1–2 s after Up, measured). Right after a start or a join, wait for it
      // instead of failing the upload: a P1 client cannot even be told that it failed.
      ctx.scheduleOnce(java.time.Duration.ofMillis(100), ctx.getSelf(), new RetryPush(m, deadlineNanos));
      return;
    }
    if (target == null) {
      m.replyTo().tell(new ReplicaFailed("no Transfer known on " + m.targetNode()));
      return;
    }
    SourceRef<ByteString> bytes = FileIO.fromPath(m.file(), CHUNK_BYTES)
        .runWith(StreamRefs.sourceRef(), ctx.getSystem());
    ctx.ask(ReplicaResult.class, target, settings.replicationTimeout(m.size()),
        r -> new StoreReplica(m.sha256(), m.size(), bytes, r),
        (res, err) -> new Pushed(m.replyTo(),
            err == null ? res : new ReplicaFailed(m.targetNode() + " did not answer in time")));
  }

  /** Whether this node's file at {@code relativePath} exists and has the catalog's SHA-256 (blocking read). */
  private boolean sound(String relativePath, String sha256) {
    try {
      Path path = store.resolve(relativePath);
      String actual = store.sha256Of(path);
      if (actual.equals(sha256)) return true;
      ctx.getLog().error("Replica {} is corrupt: SHA-256 {} instead of {}", relativePath, actual, sha256);
      return false;
    } catch (IOException | IllegalArgumentException e) {
      ctx.getLog().warn("Replica {} unreadable: {}", relativePath, e.toString());
      return false;
    }
  }
}
