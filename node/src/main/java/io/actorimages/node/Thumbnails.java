package io.actorimages.node;

import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.Replica;
import io.actorimages.storage.BlobStore;
import io.actorimages.storage.InvalidImageException;
import io.actorimages.storage.Thumbnailer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.FileIO;

/**
 * The gallery's thumbnails on this node's disk, {@code data/thumbnails/<md5>.jpg} (issue 5): made once per
 * image right after {@link Storage} commits it, and on demand from the bytes of another node for an image this
 * node holds no copy of. A child of Storage on the {@code actorimages.blocking-io} dispatcher: decoding is CPU
 * and file work, and as one actor it takes one blocking-io thread at most, so a burst of P1 uploads queues
 * thumbnails instead of starving the uploads' own writes.
 */
public final class Thumbnails {

  /** Messages of Thumbnails. */
  public sealed interface Command {}

  /**
   * Makes the thumbnail of a just-committed image, unless there is one; failures are logged.
   *
   * @param md5          the image's md5
   * @param relativePath its file under the data directory
   */
  public record Make(String md5, String relativePath) implements Command {}

  /**
   * The thumbnail of {@code entry}, made first when missing (from this node's copy, else from the bytes
   * {@code transfer} streams from a node that holds one); answered with {@link Ready} or {@link Unavailable}.
   */
  public record Get(CatalogEntry entry, ActorRef<Transfer.Command> transfer, ActorRef<Result> replyTo)
      implements Command {}

  /** Answer to {@link Get}. */
  public sealed interface Result {}

  /** The thumbnail, a JPEG file at most {@value Thumbnailer#MAX_SIDE} px on its longest side. */
  public record Ready(Path file) implements Result {}

  /** No thumbnail: no node served the bytes, or they do not decode; {@code reason} says which. */
  public record Unavailable(String reason) implements Result {}

  private record Opened(CatalogEntry entry, Transfer.OpenResult result) implements Command {}

  private record Downloaded(String md5, Path source, Throwable error) implements Command {}

  /**
   * A safety net only: Transfer always answers, within its own ask-timeout when it asks another node, so this
   * is well above any sensible {@code ask-timeout}.
   */
  private static final Duration TRANSFER_TIMEOUT = Duration.ofSeconds(60);

  /** @param store this node's blob store */
  public static Behavior<Command> create(BlobStore store) {
    return Behaviors.setup(ctx -> new Thumbnails(ctx, store).behavior());
  }

  private final ActorContext<Command> ctx;
  private final BlobStore store;
  private final String selfAddress;
  /** md5 → requests waiting while its bytes come from another node, so each image is fetched once. */
  private final Map<String, List<ActorRef<Result>>> waiting = new HashMap<>();

  private Thumbnails(ActorContext<Command> ctx, BlobStore store) {
    this.ctx = ctx;
    this.store = store;
    this.selfAddress = ctx.getSystem().address().toString();
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(Make.class, m -> {
          if (!Files.exists(store.thumbnailPath(m.md5()))) {
            Result r = make(m.md5(), store.resolve(m.relativePath()));
            if (r instanceof Unavailable u) ctx.getLog().warn("No thumbnail for {}: {}", m.md5(), u.reason());
          }
          return Behaviors.same();
        })
        .onMessage(Get.class, this::onGet)
        .onMessage(Opened.class, this::onOpened)
        .onMessage(Downloaded.class, this::onDownloaded)
        .build();
  }

  private Behavior<Command> onGet(Get m) {
    String md5 = m.entry().md5();
    Path thumbnail = store.thumbnailPath(md5);
    if (Files.exists(thumbnail)) {
      m.replyTo().tell(new Ready(thumbnail));
    } else if (waiting.containsKey(md5)) {
      waiting.get(md5).add(m.replyTo());
    } else {
      Path local = localCopy(m.entry());
      if (local != null) {
        m.replyTo().tell(make(md5, local));
      } else {
        waiting.computeIfAbsent(md5, k -> new ArrayList<>()).add(m.replyTo());
        ctx.ask(Transfer.OpenResult.class, m.transfer(), TRANSFER_TIMEOUT, r -> new Transfer.Open(m.entry(), r),
            (result, error) -> new Opened(m.entry(),
                error == null ? result : new Transfer.OpenFailed("transfer did not answer")));
      }
    }
    return Behaviors.same();
  }

  private Behavior<Command> onOpened(Opened m) {
    String md5 = m.entry().md5();
    if (m.result() instanceof Transfer.Opened opened) {
      // The bytes go to a temp file first: reading EXIF and decoding subsampled both need to seek.
      Path source = store.newTempPath(".source");
      ctx.pipeToSelf(opened.bytes().runWith(FileIO.toPath(source), ctx.getSystem()),
          (io, error) -> new Downloaded(md5, source, error));
    } else {
      answerWaiting(md5, new Unavailable(((Transfer.OpenFailed) m.result()).reason()));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onDownloaded(Downloaded m) {
    Result result = m.error() == null ? make(m.md5(), m.source())
        : new Unavailable("fetching the image failed: " + m.error().getMessage());
    try {
      Files.deleteIfExists(m.source());
    } catch (IOException e) {
      ctx.getLog().warn("Could not delete {}; it goes at the next start: {}", m.source(), e.toString());
    }
    answerWaiting(m.md5(), result);
    return Behaviors.same();
  }

  private void answerWaiting(String md5, Result result) {
    List<ActorRef<Result>> replyTos = waiting.remove(md5);
    if (replyTos != null) replyTos.forEach(r -> r.tell(result));
  }

  /** This node's readable copy of {@code entry}, or null. */
  private Path localCopy(CatalogEntry entry) {
    for (Replica r : entry.replicas()) {
      if (r.node().equals(selfAddress)) {
        Path path = store.resolve(r.relativePath());
        if (Files.isReadable(path)) return path;
      }
    }
    return null;
  }

  /** Blocking: decodes {@code image} and writes the thumbnail of {@code md5}. */
  private Result make(String md5, Path image) {
    Path thumbnail = store.thumbnailPath(md5);
    try {
      Thumbnailer.write(image, thumbnail);
      return new Ready(thumbnail);
    } catch (InvalidImageException e) {
      return new Unavailable(e.getMessage());
    } catch (IOException | RuntimeException e) {
      ctx.getLog().error("Thumbnail of {} failed", md5, e);
      return new Unavailable("thumbnail failed: " + e);
    }
  }
}
