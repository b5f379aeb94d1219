package io.actorimages.node;

import io.actorimages.messages.Replica;
import java.time.Instant;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Stores one replica on this node from a stream of its bytes: pushed by another node
 * ({@link Transfer.StoreReplica}) or fetched by {@link Scrub} to replace a bad copy. The bytes stream through an
 * {@link Upload} into an fsynced temp file, their SHA-256 must equal the catalog's, then Storage commits them.
 * Answers {@link Transfer.ReplicaStored} only after all of that, so the sender may count the copy (issue 4
 * point 1), and stops.
 */
final class ReplicaReceiver {
  private ReplicaReceiver() {}

  /** What the actor hears: answers of Storage and Transfer; nothing else sends to it. */
  sealed interface Event {}

  private record Started(ActorRef<Upload.Command> upload) implements Event {}

  private record Ended(Upload.Outcome outcome) implements Event {}

  private record Committed(Storage.CommitResult result) implements Event {}

  private record Failed(String reason) implements Event {}

  /**
   * @param bytes   the image's bytes, materialized once
   * @param sha256  the SHA-256 they must have
   * @param size    their size in bytes
   * @param replyTo receives {@link Transfer.ReplicaStored} or {@link Transfer.ReplicaFailed}
   */
  static Behavior<Event> create(Source<ByteString, ?> bytes, String sha256, long size,
                                ActorRef<Transfer.ReplicaResult> replyTo, ActorRef<Storage.Command> storage,
                                NodeSettings settings, String selfAddress) {
    return Behaviors.<Event>setup(ctx -> {
      ActorRef<Upload.Outcome> outcomes = ctx.messageAdapter(Upload.Outcome.class, Ended::new);
      ctx.ask(Storage.UPLOAD_REF, storage, settings.askTimeout(),
          r -> new Storage.StartUpload(size, outcomes, r),
          (ref, err) -> err == null ? new Started(ref) : new Failed("storage did not answer"));
      return Behaviors.receive(Event.class)
          .onMessage(Started.class, m -> {
            bytes.runWith(Upload.sink(m.upload()), ctx.getSystem());
            return Behaviors.same();
          })
          .onMessage(Ended.class, m -> {
            if (m.outcome() instanceof Upload.Rejected rejected) return fail(replyTo, rejected.reason());
            var staged = ((Upload.Staged) m.outcome()).blob();
            if (!staged.sha256().equals(sha256)) {
              storage.tell(new Storage.Discard(staged));
              return fail(replyTo, "SHA-256 mismatch: received " + staged.sha256());
            }
            ctx.ask(Storage.CommitResult.class, storage, settings.askTimeout(),
                r -> new Storage.Commit(staged, Instant.now(), r),
                (res, err) -> err == null ? new Committed(res) : new Failed("storage did not answer"));
            return Behaviors.same();
          })
          .onMessage(Committed.class, m -> {
            if (m.result() instanceof Storage.Committed ok) {
              replyTo.tell(new Transfer.ReplicaStored(
                  new Replica(selfAddress, settings.host(), ok.stored().relativePath())));
              return Behaviors.stopped();
            }
            return fail(replyTo, ((Storage.CommitFailed) m.result()).reason());
          })
          .onMessage(Failed.class, m -> fail(replyTo, m.reason()))
          .build();
    });
  }

  private static Behavior<Event> fail(ActorRef<Transfer.ReplicaResult> replyTo, String reason) {
    replyTo.tell(new Transfer.ReplicaFailed(reason));
    return Behaviors.stopped();
  }
}
