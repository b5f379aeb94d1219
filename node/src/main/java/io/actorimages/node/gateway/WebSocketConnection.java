package io.actorimages.node.gateway;

import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.ImageStored;
import io.actorimages.messages.SourceProtocol;
import io.actorimages.node.Node;
import io.actorimages.node.Registry;
import io.actorimages.node.Storage;
import io.actorimages.node.Transfer;
import io.actorimages.node.Upload;
import io.actorimages.node.protocol.P2Reply;
import io.actorimages.node.protocol.P2Request;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * One P2 WebSocket connection (PROTOCOLS.md P2): parses each text frame with {@link P2Request}, asks Registry,
 * Storage or Transfer, and renders the answer with {@link P2Reply}. Frames are taken one at a time (the next
 * is pulled only once the reply to the previous is out), which is the order the legacy client works in.
 * Every {@link ImageStored} of the cluster reaches the client as a {@code NEW_UPLOAD} event.
 */
public final class WebSocketConnection extends AbstractBehavior<WebSocketConnection.Command> {

  /** Messages of a P2 connection actor; all private to the gateway. */
  public sealed interface Command {}

  private record Attached(ActorRef<Message> out) implements Command {}

  private record StreamInit(ActorRef<Ack> ackTo) implements Command {}

  private record Incoming(Message message, ActorRef<Ack> ackTo) implements Command {}

  private enum InputDone implements Command { INSTANCE }

  private record InputFailed(Throwable cause) implements Command {}

  private record TextArrived(String text) implements Command {}

  private record NewImage(ImageStored event) implements Command {}

  private record Answer(List<Message> replies) implements Command {}

  private record UploadStarted(ActorRef<Upload.Command> upload, BinaryMessage data) implements Command {}

  private record UploadEnded(Upload.Outcome outcome) implements Command {}

  private record Found(Optional<CatalogEntry> entry, P2Request.Download request) implements Command {}

  private record Opened(Transfer.OpenResult result, CatalogEntry entry, P2Request.Download request)
      implements Command {}

  private enum Ack { INSTANCE }

  /** Sent to the outgoing source to close the WebSocket after everything before it. */
  private static final Message CLOSE = TextMessage.create("");

  private static final int OUTGOING_BUFFER = 1024;

  /** Spawns the actor for one connection and returns the flow Pekko HTTP runs the WebSocket with. */
  static Flow<Message, Message, NotUsed> spawn(ActorContext<?> parent, Node node, String clientIp) {
    ActorRef<Command> actor = parent.spawnAnonymous(
        Behaviors.<Command>setup(ctx -> new WebSocketConnection(ctx, node, clientIp)));
    var in = ActorSink.<Message, Command, Ack>actorRefWithBackpressure(actor,
        (ackTo, message) -> new Incoming(message, ackTo), StreamInit::new,
        Ack.INSTANCE, InputDone.INSTANCE, InputFailed::new);
    var out = ActorSource.<Message>actorRef(m -> m == CLOSE, m -> Optional.empty(), OUTGOING_BUFFER,
        OverflowStrategy.fail());
    return Flow.fromSinkAndSourceCoupledMat(in, out, Keep.right()).mapMaterializedValue(ref -> {
      actor.tell(new Attached(ref));
      return NotUsed.getInstance();
    });
  }

  private final Node node;
  private final String clientIp;
  private final ActorRef<ImageStored> events;
  private final ActorRef<Upload.Outcome> uploadOutcomes;
  private final List<Message> unsent = new ArrayList<>();
  private ActorRef<Message> out;
  private ActorRef<Ack> pendingAck;
  private String username = "anon";
  private P2Request.Upload announced;
  private P2Request.Upload pendingUpload;

  private WebSocketConnection(ActorContext<Command> ctx, Node node, String clientIp) {
    super(ctx);
    this.node = node;
    this.clientIp = clientIp;
    this.events = ctx.messageAdapter(ImageStored.class, NewImage::new);
    this.uploadOutcomes = ctx.messageAdapter(Upload.Outcome.class, UploadEnded::new);
    // No unsubscribe on stop: the Topic watches its subscribers and drops this one when the actor stops; an
    // explicit unsubscribe racing that can make the cluster receptionist fail ("never been registered").
    node.imageStored().tell(Topic.subscribe(events));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Attached.class, m -> {
          out = m.out();
          unsent.forEach(out::tell);
          unsent.clear();
          return this;
        })
        .onMessage(StreamInit.class, m -> {
          m.ackTo().tell(Ack.INSTANCE);
          return this;
        })
        .onMessage(Incoming.class, this::onIncoming)
        .onMessage(TextArrived.class, m -> onRequest(P2Request.parse(m.text())))
        .onMessage(Answer.class, m -> answer(m.replies()))
        .onMessage(UploadStarted.class, m -> {
          m.data().getStreamedData().runWith(Upload.sink(m.upload()), node.system());
          return this;
        })
        .onMessage(UploadEnded.class, this::onUploadEnded)
        .onMessage(Found.class, this::onFound)
        .onMessage(Opened.class, this::onOpened)
        .onMessage(NewImage.class, m -> {
          send(text(P2Reply.newUpload(m.event().entry().filename(), m.event().entry().uploader())));
          return this;
        })
        .onMessage(InputDone.class, m -> Behaviors.stopped())
        .onMessage(InputFailed.class, m -> {
          getContext().getLog().debug("P2 {}: connection failed: {}", clientIp, m.cause().toString());
          return Behaviors.stopped();
        })
        .build();
  }

  private Behavior<Command> onIncoming(Incoming m) {
    pendingAck = m.ackTo();
    if (m.message() instanceof TextMessage textMessage) {
      getContext().pipeToSelf(
          textMessage.getStreamedText().limitWeighted(node.settings().maxImageBytes(), s -> (long) s.length())
              .runFold(new StringBuilder(), StringBuilder::append, node.system()),
          (text, error) -> error == null ? new TextArrived(text.toString())
              : new Answer(List.of(text(P2Reply.error(P2Reply.NOT_JSON)))));
    } else {
      BinaryMessage binary = (BinaryMessage) m.message();
      P2Request.Upload upload = announced;
      announced = null;
      if (upload == null) {
        // PROTOCOLS.md P2: a binary frame outside an upload is ignored (and logged).
        getContext().getLog().info("P2 {}: binary frame outside an upload ignored", clientIp);
        binary.getStreamedData().runWith(Sink.ignore(), node.system());
        return answer(List.of());
      }
      getContext().ask(Storage.UPLOAD_REF, node.storage(), node.settings().askTimeout(),
          replyTo -> new Storage.StartUpload(upload.size(), uploadOutcomes, replyTo),
          (ref, error) -> {
            if (error == null) return new UploadStarted(ref, binary);
            binary.getStreamedData().runWith(Sink.ignore(), node.system());
            return new Answer(List.of(text(P2Reply.uploadFailed("storage did not answer"))));
          });
      pendingUpload = upload;
    }
    return this;
  }

  private Behavior<Command> onRequest(P2Request request) {
    if (request instanceof P2Request.Auth auth) {
      username = auth.username();
      getContext().ask(Registry.Entries.class, node.registry(), node.settings().askTimeout(),
          replyTo -> new Registry.Latest(node.settings().p2HistorySize(), replyTo),
          (latest, error) -> {
            List<Message> replies = new ArrayList<>();
            replies.add(text(P2Reply.authenticated(username)));
            if (error == null && !latest.entries().isEmpty()) {
              replies.add(text(P2Reply.history(newUploadEvents(latest.entries()))));
            }
            return new Answer(replies);
          });
      return this;
    }
    if (request instanceof P2Request.ListFiles) {
      getContext().ask(Registry.Entries.class, node.registry(), node.settings().askTimeout(),
          replyTo -> new Registry.ListUploads(replyTo),
          (all, error) -> new Answer(List.of(text(error != null ? P2Reply.error(P2Reply.FILE_UNAVAILABLE)
              : P2Reply.list(listed(all.entries()))))));
      return this;
    }
    if (request instanceof P2Request.Upload upload) {
      announced = upload;
      return answer(List.of(text(P2Reply.ready())));
    }
    if (request instanceof P2Request.Download download) {
      getContext().ask(Registry.Found.class, node.registry(), node.settings().askTimeout(),
          replyTo -> new Registry.FindByFilename(download.filename(), replyTo),
          (found, error) -> new Found(error == null ? found.entry() : Optional.empty(), download));
      return this;
    }
    if (request instanceof P2Request.Disconnect) {
      send(text(P2Reply.bye(username)));
      send(CLOSE);
      return answer(List.of());
    }
    return answer(List.of(text(P2Reply.error(((P2Request.Invalid) request).message()))));
  }

  private Behavior<Command> onUploadEnded(UploadEnded m) {
    P2Request.Upload upload = pendingUpload;
    pendingUpload = null;
    if (m.outcome() instanceof Upload.Rejected rejected) {
      return answer(List.of(text(P2Reply.uploadFailed(rejected.reason()))));
    }
    var staged = ((Upload.Staged) m.outcome()).blob();
    getContext().ask(Registry.IngestResult.class, node.registry(), node.settings().ingestTimeout(),
        replyTo -> new Registry.Ingest(staged, Optional.of(upload.filename()), username,
            SourceProtocol.P2_WEBSOCKET, replyTo),
        (result, error) -> new Answer(List.of(text(
            result instanceof Registry.Ingested ok ? P2Reply.uploaded(upload.filename(), ok.entry().id())
                : P2Reply.uploadFailed(error != null ? "registry did not answer"
                    : ((Registry.IngestFailed) result).reason())))));
    return this;
  }

  private Behavior<Command> onFound(Found m) {
    if (m.entry().isEmpty()) return answer(List.of(text(P2Reply.error(P2Reply.FILE_NOT_FOUND))));
    CatalogEntry entry = m.entry().get();
    getContext().ask(Transfer.OpenResult.class, node.transfer(), node.settings().askTimeout(),
        replyTo -> new Transfer.Open(entry, replyTo),
        (result, error) -> new Opened(error == null ? result : new Transfer.OpenFailed(error.getMessage()),
            entry, m.request()));
    return this;
  }

  private Behavior<Command> onOpened(Opened m) {
    if (m.result() instanceof Transfer.Opened opened) {
      // The bytes are in hand (or a holder has opened its file), so SIZE_INFO may go out (PROTOCOLS.md P2).
      return answer(List.of(
          text(P2Reply.sizeInfo(m.entry().size(), m.request().filename(), m.request().mode())),
          BinaryMessage.create(opened.bytes()),
          text(P2Reply.transferred(m.request().filename()))));
    }
    getContext().getLog().warn("P2 {}: {} not available: {}", clientIp, m.entry().md5(),
        ((Transfer.OpenFailed) m.result()).reason());
    return answer(List.of(text(P2Reply.error(P2Reply.FILE_UNAVAILABLE))));
  }

  /** Sends the replies to the current request and lets the next frame in. */
  private Behavior<Command> answer(List<Message> replies) {
    replies.forEach(this::send);
    if (pendingAck != null) {
      pendingAck.tell(Ack.INSTANCE);
      pendingAck = null;
    }
    return this;
  }

  private void send(Message message) {
    if (out == null) unsent.add(message);
    else out.tell(message);
  }

  private static Message text(String json) {
    return TextMessage.create(json);
  }

  private static List<String> newUploadEvents(List<CatalogEntry> entries) {
    return entries.stream().map(e -> P2Reply.newUploadMessage(e.filename(), e.uploader())).toList();
  }

  private static List<P2Reply.ListedFile> listed(List<CatalogEntry> entries) {
    return entries.stream().map(e -> new P2Reply.ListedFile(e.filename(), e.uploader())).toList();
  }
}
