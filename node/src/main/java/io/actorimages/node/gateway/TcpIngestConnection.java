package io.actorimages.node.gateway;

import io.actorimages.messages.SourceProtocol;
import io.actorimages.node.Node;
import io.actorimages.node.Registry;
import io.actorimages.node.Storage;
import io.actorimages.node.Upload;
import io.actorimages.node.protocol.P1Event;
import io.actorimages.node.protocol.P1FrameDecoder;
import io.actorimages.node.protocol.P1FrameException;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.apache.pekko.util.ByteString;

/**
 * One P1 connection (PROTOCOLS.md P1): decodes length-prefixed frames with {@link P1FrameDecoder}, streams each
 * frame's bytes into its own {@link Upload} as they arrive (back-pressured chunk by chunk, so a 64 MiB image
 * never sits in memory), hands each staged frame to {@link Registry}, and closes the socket only after every
 * frame the connection carried is committed (issue 3, point 6: the legacy client waits for that close). It never
 * writes to the socket. Bad input (zero or oversized length, truncated frame, not an image, idle timeout) is
 * logged with the peer's address and nothing of that frame is stored; frames before it are kept.
 */
public final class TcpIngestConnection extends AbstractBehavior<TcpIngestConnection.Command> {

  /** Messages of a P1 connection actor; all private to the gateway. */
  public sealed interface Command {}

  private record Attached(UniqueKillSwitch input, CompletableFuture<Optional<ByteString>> output)
      implements Command {}

  private record StreamInit(ActorRef<Ack> ackTo) implements Command {}

  private record Received(ByteString bytes, ActorRef<Ack> ackTo) implements Command {}

  private enum InputDone implements Command { INSTANCE }

  private record InputFailed(Throwable cause) implements Command {}

  private record UploadStarted(ActorRef<Upload.Command> upload) implements Command {}

  private enum ChunkWritten implements Command { INSTANCE }

  private record UploadEnded(Upload.Outcome outcome) implements Command {}

  private record IngestDone(Registry.IngestResult result) implements Command {}

  private enum Ack { INSTANCE }

  private enum Waiting { NOTHING, UPLOAD, CHUNK }

  /** Spawns the actor for {@code connection} and wires the socket's bytes to it. */
  static void serve(ActorContext<?> parent, Node node, Tcp.IncomingConnection connection) {
    String peer = connection.remoteAddress().getAddress().getHostAddress();
    ActorRef<Command> actor = parent.spawnAnonymous(
        Behaviors.<Command>setup(ctx -> new TcpIngestConnection(ctx, node, peer, connection.remoteAddress()
            .toString())));
    var input = Flow.<ByteString>create()
        .idleTimeout(node.settings().p1IdleTimeout())
        .viaMat(KillSwitches.single(), Keep.right())
        .to(ActorSink.<ByteString, Command, Ack>actorRefWithBackpressure(actor,
            (ackTo, bytes) -> new Received(bytes, ackTo), StreamInit::new, Ack.INSTANCE,
            InputDone.INSTANCE, InputFailed::new));
    Pair<UniqueKillSwitch, CompletableFuture<Optional<ByteString>>> mat =
        connection.handleWith(Flow.fromSinkAndSourceMat(input, Source.<ByteString>maybe(), Keep.both()),
            node.system());
    actor.tell(new Attached(mat.first(), mat.second()));
  }

  private final Node node;
  private final String peerIp;
  private final String peer;
  private final P1FrameDecoder decoder;
  private final ArrayDeque<P1Event> events = new ArrayDeque<>();
  private final ActorRef<Upload.Ack> chunkAcks;
  private final ActorRef<Upload.Outcome> outcomes;
  private Attached socket;
  private ActorRef<Ack> pendingAck;
  private ActorRef<Upload.Command> upload;
  private Waiting waiting = Waiting.NOTHING;
  private int unfinished;
  private boolean inputEnded;
  private boolean socketClosed;
  private boolean badHeader;
  private String abortOnStart;

  private TcpIngestConnection(ActorContext<Command> ctx, Node node, String peerIp, String peer) {
    super(ctx);
    this.node = node;
    this.peerIp = peerIp;
    this.peer = peer;
    this.decoder = new P1FrameDecoder(node.settings().maxImageBytes());
    this.chunkAcks = ctx.messageAdapter(Upload.Ack.class, a -> ChunkWritten.INSTANCE);
    this.outcomes = ctx.messageAdapter(Upload.Outcome.class, UploadEnded::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Attached.class, m -> {
          socket = m;
          return closeIfDone();
        })
        .onMessage(StreamInit.class, m -> {
          m.ackTo().tell(Ack.INSTANCE);
          return this;
        })
        .onMessage(Received.class, this::onReceived)
        .onMessage(InputDone.class, m -> onInputEnded(null))
        .onMessage(InputFailed.class, m -> onInputEnded(m.cause()))
        .onMessage(UploadStarted.class, m -> {
          upload = m.upload();
          waiting = Waiting.NOTHING;
          if (abortOnStart != null || socketClosed) {
            upload.tell(new Upload.Abort(abortOnStart != null ? abortOnStart : "connection closed"));
            upload = null;
            abortOnStart = null;
          }
          return process();
        })
        .onMessage(ChunkWritten.class, m -> {
          waiting = Waiting.NOTHING;
          return process();
        })
        .onMessage(UploadEnded.class, this::onUploadEnded)
        .onMessage(IngestDone.class, m -> {
          if (m.result() instanceof Registry.IngestFailed f) {
            getContext().getLog().warn("P1 {}: frame not stored: {}", peer, f.reason());
          }
          unfinished--;
          return closeIfDone();
        })
        .build();
  }

  private Behavior<Command> onReceived(Received m) {
    if (socketClosed) return this;
    pendingAck = m.ackTo();
    try {
      events.addAll(decoder.feed(m.bytes()));
    } catch (P1FrameException e) {
      // Frames that arrived whole before the bad header are still stored; then the connection closes.
      getContext().getLog().warn("P1 {}: {}; closing the connection", peer, e.getMessage());
      events.addAll(e.eventsBefore());
      badHeader = true;
    }
    return process();
  }

  /** Works through the decoded events, one outstanding step at a time, then asks the socket for more. */
  private Behavior<Command> process() {
    while (waiting == Waiting.NOTHING && !events.isEmpty() && !socketClosed) {
      P1Event event = events.poll();
      if (event instanceof P1Event.FrameStart start) {
        unfinished++;
        waiting = Waiting.UPLOAD;
        getContext().ask(Storage.UPLOAD_REF, node.storage(), node.settings().askTimeout(),
            replyTo -> new Storage.StartUpload(start.length(), outcomes, replyTo),
            (ref, error) -> error == null ? new UploadStarted(ref)
                : new UploadEnded(new Upload.Rejected("storage did not answer")));
      } else if (event instanceof P1Event.FrameBytes bytes) {
        waiting = Waiting.CHUNK;
        upload.tell(new Upload.Chunk(bytes.bytes(), chunkAcks));
      } else if (event instanceof P1Event.FrameEnd) {
        upload.tell(Upload.Complete.INSTANCE);
        upload = null;
      }
    }
    if (waiting == Waiting.NOTHING && events.isEmpty() && badHeader) {
      closeSocket();
    } else if (waiting == Waiting.NOTHING && events.isEmpty() && pendingAck != null) {
      pendingAck.tell(Ack.INSTANCE);
      pendingAck = null;
    }
    return closeIfDone();
  }

  private Behavior<Command> onInputEnded(Throwable cause) {
    inputEnded = true;
    if (cause != null) {
      getContext().getLog().warn("P1 {}: connection ended: {}", peer, cause.toString());
      abortCurrent("connection ended: " + cause.getMessage());
    } else if (decoder.midFrame()) {
      getContext().getLog().warn("P1 {}: connection closed in the middle of a frame; frame discarded", peer);
      abortCurrent("truncated frame");
    }
    if (cause != null) closeSocket();
    return closeIfDone();
  }

  private Behavior<Command> onUploadEnded(UploadEnded m) {
    if (m.outcome() instanceof Upload.Staged staged) {
      getContext().ask(Registry.IngestResult.class, node.registry(), node.settings().ingestTimeout(),
          replyTo -> new Registry.Ingest(staged.blob(), Optional.empty(), "tcp:" + peerIp,
              SourceProtocol.P1_TCP, replyTo),
          (result, error) -> new IngestDone(error == null ? result
              : new Registry.IngestFailed("registry did not answer: " + error.getMessage())));
    } else {
      Upload.Rejected rejected = (Upload.Rejected) m.outcome();
      getContext().getLog().warn("P1 {}: frame discarded: {}", peer, rejected.reason());
      if (waiting == Waiting.UPLOAD) waiting = Waiting.NOTHING;
      unfinished--;
    }
    return closeIfDone();
  }

  private void abortCurrent(String reason) {
    events.clear();
    if (upload != null) {
      upload.tell(new Upload.Abort(reason));
      upload = null;
    } else if (waiting == Waiting.UPLOAD) {
      abortOnStart = reason; // the upload actor is still on its way; abort it when it arrives
    }
  }

  private void closeSocket() {
    if (socketClosed || socket == null) {
      socketClosed = true;
      return;
    }
    socketClosed = true;
    socket.input().shutdown();
    socket.output().complete(Optional.empty());
  }

  /** Closes once the client is done and every frame is committed or discarded; stops once nothing is open. */
  private Behavior<Command> closeIfDone() {
    boolean idle = waiting == Waiting.NOTHING && events.isEmpty() && unfinished == 0;
    if (idle && (inputEnded || socketClosed)) {
      if (socket == null) return this; // the socket's handles have not arrived yet
      if (!socket.output().isDone()) {
        socket.input().shutdown();
        socket.output().complete(Optional.empty());
      }
      return Behaviors.stopped();
    }
    return this;
  }
}
