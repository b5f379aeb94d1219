package io.actorimages.node;

import io.actorimages.messages.Replica;
import io.actorimages.storage.StagedBlob;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Places one staged image on its replicas (issue 4 point 1), as a short-lived child of {@link Registry}:
 * <ol>
 *   <li>choose the nodes with {@link Placement} (rendezvous hashing of the md5 over the Up members);</li>
 *   <li>push the staged file to every chosen node but this one through {@link Transfer}, in parallel; each
 *       confirms only after fsync and a SHA-256 check;</li>
 *   <li>once all confirmed, commit this node's copy if it is chosen (or drop the staged file if not).</li>
 * </ol>
 * Any failure undoes every copy made so far and reports {@link Failed}: no visible file stays behind for an
 * upload that was not acknowledged. The result goes to the Registry; the actor then stops.
 */
final class Ingestion {
  private Ingestion() {}

  /** How placement ended. */
  sealed interface Result {}

  /** Every chosen node holds a fsynced, verified copy. */
  record Placed(List<Replica> replicas) implements Result {}

  /** No copy remains; {@code reason} says what failed. */
  record Failed(String reason) implements Result {}

  /** What the actor hears: answers of Storage and Transfer; nothing else sends to it. */
  sealed interface Event {}

  private record Pushed(String node, Transfer.ReplicaResult result) implements Event {}

  private record LocalCommit(Storage.CommitResult result) implements Event {}

  /**
   * @param ingest     the upload to place; its staged file is the source of every copy
   * @param receivedAt the time of receipt, which names the local copy
   * @param registry   receives {@link Registry.PlacementDone} carrying {@code ingest} and the {@link Result}
   */
  static Behavior<Event> create(Registry.Ingest ingest, Instant receivedAt, NodeSettings settings,
                                ActorRef<Storage.Command> storage, ActorRef<Transfer.Command> transfer,
                                ActorRef<Registry.Command> registry) {
    StagedBlob staged = ingest.staged();
    return Behaviors.<Event>setup(ctx -> {
      String self = ctx.getSystem().address().toString();
      List<Placement.NodeRef> targets =
          Placement.choose(staged.md5(), ClusterView.upMembers(ctx.getSystem()), settings.replicationFactor());
      boolean local = targets.stream().anyMatch(t -> t.address().equals(self)) || targets.isEmpty();
      List<Placement.NodeRef> remotes = targets.stream().filter(t -> !t.address().equals(self)).toList();
      for (Placement.NodeRef target : remotes) {
        ctx.ask(Transfer.ReplicaResult.class, transfer, settings.replicationTimeout(staged.size()),
            r -> new Transfer.Push(staged.tempFile(), staged.sha256(), staged.size(), target.address(), r),
            (res, err) -> new Pushed(target.address(),
                err == null ? res : new Transfer.ReplicaFailed(target.host() + " did not confirm in time")));
      }
      var session = new Session(ctx, staged, receivedAt, settings, storage, transfer,
          result -> registry.tell(new Registry.PlacementDone(ingest, receivedAt, result)), local, remotes.size());
      return remotes.isEmpty() ? session.allPushed() : session.collecting();
    });
  }

  private static final class Session {
    private final ActorContext<Event> ctx;
    private final StagedBlob staged;
    private final Instant receivedAt;
    private final NodeSettings settings;
    private final ActorRef<Storage.Command> storage;
    private final ActorRef<Transfer.Command> transfer;
    private final java.util.function.Consumer<Result> replyTo;
    private final boolean local;
    private final List<Replica> copies = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private int outstanding;

    Session(ActorContext<Event> ctx, StagedBlob staged, Instant receivedAt, NodeSettings settings,
            ActorRef<Storage.Command> storage, ActorRef<Transfer.Command> transfer,
            java.util.function.Consumer<Result> replyTo,
            boolean local, int outstanding) {
      this.ctx = ctx;
      this.staged = staged;
      this.receivedAt = receivedAt;
      this.settings = settings;
      this.storage = storage;
      this.transfer = transfer;
      this.replyTo = replyTo;
      this.local = local;
      this.outstanding = outstanding;
    }

    Behavior<Event> collecting() {
      return Behaviors.receive(Event.class)
          .onMessage(Pushed.class, m -> {
            if (m.result() instanceof Transfer.ReplicaStored stored) copies.add(stored.replica());
            else failures.add(((Transfer.ReplicaFailed) m.result()).reason());
            return --outstanding == 0 ? allPushed() : Behaviors.same();
          })
          .build();
    }

    Behavior<Event> allPushed() {
      if (!failures.isEmpty()) return fail("replication failed: " + String.join("; ", failures));
      if (!local) {
        storage.tell(new Storage.Discard(staged));
        return done();
      }
      ctx.ask(Storage.CommitResult.class, storage, settings.askTimeout(),
          r -> new Storage.Commit(staged, receivedAt, r),
          (res, err) -> new LocalCommit(err == null ? res : new Storage.CommitFailed("storage did not answer")));
      return Behaviors.receive(Event.class)
          .onMessage(LocalCommit.class, m -> {
            if (m.result() instanceof Storage.CommitFailed f) return fail(f.reason());
            var stored = ((Storage.Committed) m.result()).stored();
            copies.add(0, new Replica(ctx.getSystem().address().toString(), settings.host(), stored.relativePath()));
            return done();
          })
          .build();
    }

    private Behavior<Event> done() {
      replyTo.accept(new Placed(List.copyOf(copies)));
      return Behaviors.stopped();
    }

    private Behavior<Event> fail(String reason) {
      for (Replica copy : copies) transfer.tell(new Transfer.Drop(copy.node(), copy.relativePath()));
      storage.tell(new Storage.Discard(staged));
      replyTo.accept(new Failed(reason));
      return Behaviors.stopped();
    }
  }
}
