package io.actorimages.node.gateway;

import io.actorimages.node.Node;
import io.actorimages.node.Registry;
import io.actorimages.node.Transfer;
import io.actorimages.node.protocol.P4Request;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;

/**
 * The P4 listener (PROTOCOLS.md P4): every cluster node answers a legacy peer's {@code GET <md5>} on
 * {@code p4.port} for every image in the cluster, from its own disk or streamed from a node that holds it
 * (through {@link Transfer}). Each connection is one short stream: read until {@code GET } and 32 hex
 * characters arrived (the request has no terminator and may come in several segments) or
 * {@code p4.request-timeout} passed, send the file's bytes, close. Unknown md5 or junk: close without data.
 * A connection is a stream rather than an actor because it holds no state beyond the request being read.
 */
public final class PeerGet {


  private PeerGet() {}

  /** Binds the P4 port of {@code node} and serves it until the node stops. */
  public static Behavior<Void> create(Node node) {
    return Behaviors.setup(ctx -> {
      var s = node.settings();
      var binding = Tcp.get(ctx.getSystem()).bind(s.host(), s.p4Port())
          .to(Sink.foreach(c -> c.handleWith(connectionFlow(node), node.system())))
          .run(ctx.getSystem());
      Listeners.watch(ctx.getSystem(), "P4 peer GET", s.host() + ":" + s.p4Port(), binding,
          Tcp.ServerBinding::unbind);
      return Behaviors.empty();
    });
  }

  /**
   * Request bytes in, the image's bytes (or nothing) out; completing the output closes the connection. The
   * read side is consumed to the end rather than cancelled: cancelling it would make Pekko close the socket
   * before the bytes are out.
   */
  static Flow<ByteString, ByteString, NotUsed> connectionFlow(Node node) {
    CompletableFuture<P4Request> request = new CompletableFuture<P4Request>()
        .completeOnTimeout(new P4Request.Invalid(), node.settings().p4RequestTimeout().toMillis(),
            TimeUnit.MILLISECONDS);
    Sink<ByteString, NotUsed> requestReader = Flow.of(ByteString.class)
        .scan(ByteString.emptyByteString(), (received, chunk) -> request.isDone() ? received
            : received.concat(chunk))
        .map(P4Request::parse)
        .to(Sink.foreach(parsed -> {
          if (!(parsed instanceof P4Request.NeedMore)) request.complete(parsed);
        }))
        .mapMaterializedValue(x -> NotUsed.getInstance());
    Source<ByteString, NotUsed> reply = Source.completionStage(request)
        .flatMapConcat(parsed -> parsed instanceof P4Request.Get get ? bytesOf(node, get.md5())
            : Source.<ByteString>empty());
    return Flow.fromSinkAndSourceMat(
        requestReader.mapMaterializedValue(x -> NotUsed.getInstance()), reply, (a, b) -> NotUsed.getInstance());
  }

  private static Source<ByteString, NotUsed> bytesOf(Node node, String md5) {
    var s = node.settings();
    var scheduler = node.system().scheduler();
    CompletionStage<Source<ByteString, NotUsed>> bytes =
        AskPattern.<Registry.Command, Registry.Found>ask(node.registry(),
                r -> new Registry.FindByMd5(md5, r), s.askTimeout(), scheduler)
            .thenCompose(found -> found.entry()
                .map(entry -> AskPattern.<Transfer.Command, Transfer.OpenResult>ask(node.transfer(),
                        r -> new Transfer.Open(entry, r), s.askTimeout(), scheduler)
                    .thenApply(result -> result instanceof Transfer.Opened opened ? opened.bytes()
                        : Source.<ByteString>empty()))
                .orElse(CompletableFuture.completedFuture(Source.empty())))
            .exceptionally(error -> Source.empty());
    return Source.completionStageSource(bytes).mapMaterializedValue(x -> NotUsed.getInstance());
  }
}
