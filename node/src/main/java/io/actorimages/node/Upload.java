package io.actorimages.node;

import io.actorimages.storage.BlobWriter;
import io.actorimages.storage.InvalidImageException;
import io.actorimages.storage.StagedBlob;
import java.io.IOException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.apache.pekko.util.ByteString;

/**
 * One image arriving on this node, written to a temp file as its bytes arrive (never held whole in memory).
 * Runs on the {@code actorimages.blocking-io} dispatcher because every message is a blocking file write.
 *
 * <p>The protocol is Pekko's ActorSink back-pressure protocol, so a gateway either sends {@link Chunk}s itself
 * and waits for each {@link Ack} (P1), or attaches any {@code Source<ByteString>} through {@link #sink} (P2,
 * HTTP). At the end the actor tells its {@code outcomeTo} {@link Staged} (fsynced temp file, hashes, format)
 * or {@link Rejected} with a short reason, and stops. A rejected upload keeps acknowledging and discarding the
 * rest of its bytes, so the connection that carries it can go on (PROTOCOLS.md P1 "discard").
 */
public final class Upload extends AbstractBehavior<Upload.Command> {

  /** Messages of an upload; every one but {@link Abort} is what an ActorSink sends. */
  public sealed interface Command {}

  /** The stream of bytes starts; answered with {@link Ack}. */
  public record Init(ActorRef<Ack> ackTo) implements Command {}

  /** The next bytes of the image; answered with {@link Ack} once written. */
  public record Chunk(ByteString bytes, ActorRef<Ack> ackTo) implements Command {}

  /** All bytes arrived: verify, fsync and report {@link Staged} or {@link Rejected}. */
  public enum Complete implements Command { INSTANCE }

  /** The stream carrying the bytes failed (connection lost, timeout): nothing is kept. */
  public record Failed(Throwable cause) implements Command {}

  /** The gateway gives the upload up (for example a truncated P1 frame): nothing is kept. */
  public record Abort(String reason) implements Command {}

  /** Acknowledges one message; the sender may send the next. */
  public enum Ack { INSTANCE }

  /** How an upload ended. */
  public sealed interface Outcome {}

  /** The bytes are in an fsynced temp file, ready for {@code Storage.Commit}. */
  public record Staged(StagedBlob blob) implements Outcome {}

  /** Nothing was kept; {@code reason} is a short English explanation (shown to P2 after "Falha no upload: "). */
  public record Rejected(String reason) implements Outcome {}

  /**
   * @param writer        the temp-file writer of this upload (from {@code BlobStore.newWriter()})
   * @param expectedSize  the size the client announced, bytes, or -1 when the frame length already bounds it
   * @param outcomeTo     receives exactly one {@link Outcome}
   */
  public static Behavior<Command> create(BlobWriter writer, long expectedSize, ActorRef<Outcome> outcomeTo) {
    return Behaviors.setup(ctx -> new Upload(ctx, writer, expectedSize, outcomeTo));
  }

  /**
   * A sink that feeds a stream of bytes into {@code upload} with back-pressure; the outcome still goes to the
   * upload's {@code outcomeTo}.
   */
  public static Sink<ByteString, org.apache.pekko.NotUsed> sink(ActorRef<Command> upload) {
    return ActorSink.<ByteString, Command, Ack>actorRefWithBackpressure(upload,
        (ackTo, bytes) -> new Chunk(bytes, ackTo), Init::new, Ack.INSTANCE, Complete.INSTANCE, Failed::new);
  }

  private final BlobWriter writer;
  private final long expectedSize;
  private final ActorRef<Outcome> outcomeTo;
  private boolean decided;

  private Upload(ActorContext<Command> ctx, BlobWriter writer, long expectedSize, ActorRef<Outcome> outcomeTo) {
    super(ctx);
    this.writer = writer;
    this.expectedSize = expectedSize;
    this.outcomeTo = outcomeTo;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Init.class, m -> ack(m.ackTo()))
        .onMessage(Chunk.class, this::onChunk)
        .onMessage(Complete.class, m -> onComplete())
        .onMessage(Failed.class, m -> reject("transfer interrupted: " + m.cause().getMessage()))
        .onMessage(Abort.class, m -> reject(m.reason()))
        .onSignal(org.apache.pekko.actor.typed.PostStop.class, s -> {
          writer.close(); // removes the temp file unless finish() staged it for Storage.Commit
          return this;
        })
        .build();
  }

  private Behavior<Command> ack(ActorRef<Ack> ackTo) {
    ackTo.tell(Ack.INSTANCE);
    return this;
  }

  private Behavior<Command> onChunk(Chunk chunk) {
    if (!decided) {
      try {
        if (expectedSize >= 0 && writer.bytesWritten() + chunk.bytes().size() > expectedSize) {
          throw new InvalidImageException("received more than the announced " + expectedSize + " bytes");
        }
        writer.write(chunk.bytes().asByteBuffer());
      } catch (InvalidImageException | IOException e) {
        rejectNow(e.getMessage());
      } catch (RuntimeException e) {
        rejectNow("internal error: " + e);
      }
    }
    return ack(chunk.ackTo());
  }

  private Behavior<Command> onComplete() {
    if (decided) return Behaviors.stopped();
    try {
      if (expectedSize >= 0 && writer.bytesWritten() != expectedSize) {
        throw new InvalidImageException(
            "received " + writer.bytesWritten() + " bytes, announced " + expectedSize);
      }
      StagedBlob staged = writer.finish();
      decided = true;
      outcomeTo.tell(new Staged(staged));
    } catch (InvalidImageException | IOException e) {
      rejectNow(e.getMessage());
    } catch (RuntimeException e) {
      rejectNow("internal error: " + e);
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> reject(String reason) {
    rejectNow(reason);
    return Behaviors.stopped();
  }

  private void rejectNow(String reason) {
    writer.abort();
    if (!decided) {
      decided = true;
      outcomeTo.tell(new Rejected(reason));
    }
  }
}
