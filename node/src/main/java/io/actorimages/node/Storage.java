package io.actorimages.node;

import io.actorimages.storage.BlobStore;
import io.actorimages.storage.StagedBlob;
import io.actorimages.storage.StoredBlob;
import java.io.IOException;
import java.time.Instant;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * This node's disk (DESIGN.md "Storage"): starts {@link Upload}s, commits staged blobs into
 * {@code data/YYYY-MM-DD/HHMMSS.<ext>} (never overwriting), has each committed image's thumbnail made by its
 * {@link Thumbnails} child, and deletes files. It, its uploads and its thumbnails run on the
 * {@code actorimages.blocking-io} dispatcher, the only place where this node blocks on file I/O.
 */
public final class Storage {

  /** Messages of the Storage actor. */
  public sealed interface Command {}

  /**
   * Starts an upload and answers with its actor.
   *
   * @param expectedSize bytes the client announced, or -1 when unknown
   * @param outcomeTo    receives the upload's {@link Upload.Outcome}
   * @param replyTo      receives the new {@link Upload} actor
   */
  public record StartUpload(long expectedSize, ActorRef<Upload.Outcome> outcomeTo,
                            ActorRef<ActorRef<Upload.Command>> replyTo) implements Command {}

  /** Makes a staged blob visible under the data directory, stamped with {@code receivedAt}. */
  public record Commit(StagedBlob staged, Instant receivedAt, ActorRef<CommitResult> replyTo) implements Command {}

  /** Removes a committed file (an upload whose catalog write failed must leave no visible file). */
  public record Delete(String relativePath) implements Command {}

  /** Drops a staged blob that will never be committed. */
  public record Discard(StagedBlob staged) implements Command {}

  /** The gallery thumbnail of an image, answered by the {@link Thumbnails} child (see {@link Thumbnails.Get}). */
  public record GetThumbnail(Thumbnails.Get get) implements Command {}

  /** Result of {@link Commit}. */
  public sealed interface CommitResult {}

  /** The blob is committed at {@code stored.relativePath()}. */
  public record Committed(StoredBlob stored) implements CommitResult {}

  /** Nothing was committed; {@code reason} names the I/O failure. */
  public record CommitFailed(String reason) implements CommitResult {}

  /** The dispatcher for blocking file I/O, defined in reference.conf. */
  public static final DispatcherSelector BLOCKING_IO = DispatcherSelector.fromConfig("actorimages.blocking-io");

  /** The class of the answer to {@link StartUpload}, for {@code ActorContext.ask}. */
  @SuppressWarnings("unchecked")
  public static final Class<ActorRef<Upload.Command>> UPLOAD_REF =
      (Class<ActorRef<Upload.Command>>) (Class<?>) ActorRef.class;

  private Storage() {}

  /**
   * @param store the node's blob store; leftover temp files are removed before the first message
   */
  public static Behavior<Command> create(BlobStore store) {
    return Behaviors.setup(ctx -> {
      int removed = store.removeLeftoverTempFiles();
      if (removed > 0) ctx.getLog().info("Removed {} leftover temp files from an earlier run", removed);
      ActorRef<Thumbnails.Command> thumbnails = ctx.spawn(Thumbnails.create(store), "thumbnails", BLOCKING_IO);
      return Behaviors.receive(Command.class)
          .onMessage(StartUpload.class, m -> {
            m.replyTo().tell(ctx.spawnAnonymous(
                Upload.create(store.newWriter(), m.expectedSize(), m.outcomeTo()), BLOCKING_IO));
            return Behaviors.same();
          })
          .onMessage(Commit.class, m -> {
            try {
              StoredBlob stored = store.commit(m.staged(), m.receivedAt());
              m.replyTo().tell(new Committed(stored));
              // After the reply, and in another actor: a thumbnail never delays or fails a commit (issue 5).
              thumbnails.tell(new Thumbnails.Make(stored.md5(), stored.relativePath()));
            } catch (IOException | RuntimeException e) {
              ctx.getLog().error("Commit of {} failed", m.staged().tempFile(), e);
              deleteQuietly(m.staged());
              m.replyTo().tell(new CommitFailed("storage error: " + e.getMessage()));
            }
            return Behaviors.same();
          })
          .onMessage(Delete.class, m -> {
            try {
              store.delete(m.relativePath());
            } catch (IOException | RuntimeException e) {
              ctx.getLog().error("Could not delete {}", m.relativePath(), e);
            }
            return Behaviors.same();
          })
          .onMessage(GetThumbnail.class, m -> {
            thumbnails.tell(m.get());
            return Behaviors.same();
          })
          .onMessage(Discard.class, m -> {
            deleteQuietly(m.staged());
            return Behaviors.same();
          })
          .build();
    });
  }

  private static void deleteQuietly(StagedBlob staged) {
    try {
      java.nio.file.Files.deleteIfExists(staged.tempFile());
    } catch (IOException ignored) {
      // removed at the next start at the latest (removeLeftoverTempFiles)
    }
  }
}
