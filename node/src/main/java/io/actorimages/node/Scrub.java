package io.actorimages.node;

import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.Replica;
import io.actorimages.storage.BlobStore;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The background scrub (issue 4 point 2): at {@code scrub.pace}, one image at a time, compares this node's
 * copies with the catalog. A copy that is missing or whose SHA-256 differs is never served (Transfer checks
 * before it serves) and is replaced here from another holder: the sound bytes are stored as a new file, the
 * catalog's replica entry for this node is pointed at it, and the bad file is deleted. Runs on the blocking-io
 * dispatcher because it hashes files.
 */
public final class Scrub {

  /** Messages of the scrub. */
  public sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  private record Snapshot(List<CatalogEntry> entries) implements Command {}

  private record Restored(CatalogEntry entry, Replica bad, Transfer.ReplicaResult result) implements Command {}

  private enum Recorded implements Command { INSTANCE }

  /**
   * @param settings this node's settings ({@code scrub.pace})
   * @param store    this node's blob store
   * @param registry this node's Registry
   * @param storage  this node's Storage
   * @param transfer this node's Transfer
   */
  public static Behavior<Command> create(NodeSettings settings, BlobStore store, ActorRef<Registry.Command> registry,
                                         ActorRef<Storage.Command> storage, ActorRef<Transfer.Command> transfer) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.setLoggerName(Scrub.class);
      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.scrubPace());
      return new Scrub(ctx, settings, store, registry, storage, transfer).scanning();
    }));
  }

  private final ActorContext<Command> ctx;
  private final NodeSettings settings;
  private final BlobStore store;
  private final ActorRef<Registry.Command> registry;
  private final ActorRef<Storage.Command> storage;
  private final ActorRef<Transfer.Command> transfer;
  private final String self;
  private final Deque<CatalogEntry> todo = new ArrayDeque<>();
  private boolean snapshotAsked;

  private Scrub(ActorContext<Command> ctx, NodeSettings settings, BlobStore store, ActorRef<Registry.Command> registry,
                ActorRef<Storage.Command> storage, ActorRef<Transfer.Command> transfer) {
    this.ctx = ctx;
    this.settings = settings;
    this.store = store;
    this.registry = registry;
    this.storage = storage;
    this.transfer = transfer;
    this.self = ctx.getSystem().address().toString();
  }

  private Behavior<Command> scanning() {
    return Behaviors.receive(Command.class)
        .onMessage(Tick.class, m -> onTick())
        .onMessage(Snapshot.class, m -> {
          snapshotAsked = false;
          for (CatalogEntry e : m.entries()) {
            if (e.replicas().stream().anyMatch(r -> r.node().equals(self))) todo.add(e);
          }
          return Behaviors.same();
        })
        .onMessage(Restored.class, m -> Behaviors.same())
        .onMessage(Recorded.class, m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onTick() {
    CatalogEntry entry = todo.poll();
    if (entry == null) {
      if (!snapshotAsked) {
        snapshotAsked = true;
        ctx.ask(Registry.Entries.class, registry, settings.askTimeout(), Registry.ListUploads::new,
            (entries, err) -> new Snapshot(err == null ? entries.entries() : List.of()));
      }
      return Behaviors.same();
    }
    Replica mine = entry.replicas().stream().filter(r -> r.node().equals(self)).findFirst().orElse(null);
    if (mine == null || sound(mine, entry)) return Behaviors.same();
    NodeMetrics.get(ctx.getSystem()).error("bad_replica");
    ctx.ask(Transfer.ReplicaResult.class, transfer, settings.replicationTimeout(entry.size()),
        r -> new Transfer.Restore(entry, r),
        (res, err) -> new Restored(entry, mine, err == null ? res : new Transfer.ReplicaFailed("timeout")));
    return restoring();
  }

  /** While one copy is being restored, ticks are skipped: the scrub never runs two repairs at once. */
  private Behavior<Command> restoring() {
    return Behaviors.receive(Command.class)
        .onMessage(Tick.class, m -> Behaviors.same())
        .onMessage(Snapshot.class, m -> Behaviors.same())
        .onMessage(Restored.class, m -> {
          NodeMetrics.get(ctx.getSystem()).replicaCreated("scrub", m.result() instanceof Transfer.ReplicaStored);
          if (!(m.result() instanceof Transfer.ReplicaStored stored)) {
            ctx.getLog().error("Scrub could not restore {} ({}): {}", m.entry().md5(), m.bad().relativePath(),
                ((Transfer.ReplicaFailed) m.result()).reason());
            return scanning();
          }
          List<Replica> replicas = new ArrayList<>();
          for (Replica r : m.entry().replicas()) replicas.add(r.node().equals(self) ? stored.replica() : r);
          ctx.ask(Registry.ReplicasUpdated.class, registry, settings.askTimeout(),
              r -> new Registry.UpdateReplicas(m.entry(), replicas, r), (ok, err) -> Recorded.INSTANCE);
          storage.tell(new Storage.Delete(m.bad().relativePath()));
          ctx.getLog().info("Scrub restored {} from another replica as {}", m.entry().md5(),
              stored.replica().relativePath());
          return Behaviors.same();
        })
        .onMessage(Recorded.class, m -> {
          todo.clear(); // the rest was read before this change; the next tick takes a fresh snapshot
          return scanning();
        })
        .build();
  }

  private boolean sound(Replica mine, CatalogEntry entry) {
    try {
      String actual = store.sha256Of(store.resolve(mine.relativePath()));
      if (actual.equals(entry.sha256())) return true;
      ctx.getLog().error("Scrub: {} is corrupt (SHA-256 {}, catalog {})", mine.relativePath(), actual, entry.sha256());
    } catch (IOException e) {
      ctx.getLog().error("Scrub: {} of {} is missing or unreadable: {}", mine.relativePath(), entry.md5(), e.toString());
    }
    return false;
  }
}
