package io.actorimages.node.http;

import io.actorimages.messages.SourceProtocol;
import io.actorimages.node.Node;
import io.actorimages.node.Registry;
import io.actorimages.node.Storage;
import io.actorimages.node.Upload;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;
import org.apache.pekko.util.ByteString;

/**
 * {@code POST /api/images?filename=NAME&uploader=NAME} with the raw image bytes as the body: the web viewer's
 * upload (one XHR per file, so the browser reports progress) and any script's. The body streams into an
 * {@link Upload} (temp file, hashes, verification) and the staged image goes through {@link Registry.Ingest}
 * like every protocol's, with protocol {@code HTTP}.
 *
 * <p>Answers: 201 with the image's JSON ({@link ApiRoutes.ImageJson}) and a {@code Location}; 400 for bytes
 * that are no whole image; 413 for more than {@code max-image-bytes}; 503 when storage or the catalog failed.
 * {@code uploader} defaults to {@code http:<client ip>} (CatalogEntry), {@code filename} to the stored file's
 * name.
 */
final class UploadRoute extends JsonDirectives {

  /**
   * Replaces Pekko's 20 s request timeout for uploads: the answer comes only after the last byte, and a large
   * image over a slow link takes minutes. A stalled client is cut off here at the latest.
   */
  static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(10);

  /** Longest kept filename; browsers send the bare name, scripts may send anything. */
  static final int MAX_FILENAME_CHARS = 255;

  UploadRoute(Node node) {
    super(node);
  }

  /** The route; rejects every request but {@code POST /api/images}. */
  Route route() {
    return path(PathMatchers.segment("api").slash("images"), () -> post(() ->
        withRequestTimeout(UPLOAD_TIMEOUT, () -> withJsonErrors(() ->
            parameterOptional("filename", filename -> parameterOptional("uploader", uploader ->
                extractClientIP(ip -> extractRequestEntity(entity -> {
                  String clientIp = ip.getAddress().map(a -> a.getHostAddress()).orElse("unknown");
                  String who = uploader.map(String::strip).filter(u -> !u.isEmpty()).orElse("http:" + clientIp);
                  return upload(entity, cleanName(filename), who);
                }))))))));
  }

  private Route upload(RequestEntity entity, Optional<String> filename, String uploader) {
    long max = node.settings().maxImageBytes();
    OptionalLong length = entity.getContentLengthOption();
    if (length.isPresent() && length.getAsLong() > max) {
      // Read and drop the body, so the browser gets this answer rather than a connection reset mid-send.
      entity.discardBytes(node.system());
      return error(StatusCodes.PAYLOAD_TOO_LARGE, "image larger than " + max + " bytes");
    }
    AtomicLong received = new AtomicLong();
    // max-image-bytes, not Pekko's max-content-length, bounds an upload: the Upload rejects past it.
    Source<ByteString, ?> bytes = entity.withoutSizeLimit().getDataBytes()
        .map(chunk -> {
          received.addAndGet(chunk.size());
          return chunk;
        });
    return onSuccess(stage(bytes, length.orElse(-1)), outcome -> {
      if (outcome instanceof Upload.Rejected rejected) {
        return received.get() > max ? error(StatusCodes.PAYLOAD_TOO_LARGE, rejected.reason())
            : error(StatusCodes.BAD_REQUEST, rejected.reason());
      }
      var staged = ((Upload.Staged) outcome).blob();
      return onSuccess(ask(node.registry(), (ActorRef<Registry.IngestResult> r) ->
          new Registry.Ingest(staged, filename, uploader, SourceProtocol.HTTP, r)), result -> {
            if (result instanceof Registry.Ingested ingested) {
              var image = ApiRoutes.ImageJson.of(ingested.entry());
              return respondWithHeader(Location.create("/api/images/" + image.md5()),
                  () -> json(StatusCodes.CREATED, image));
            }
            return error(StatusCodes.SERVICE_UNAVAILABLE, ((Registry.IngestFailed) result).reason());
          });
    });
  }

  /**
   * Streams {@code bytes} into a new {@link Upload} and completes with its outcome. The outcome arrives at an
   * {@link ActorSource}, the stream-side stand-in for the reply actor an actor-based gateway would have.
   */
  private CompletionStage<Upload.Outcome> stage(Source<ByteString, ?> bytes, long expectedSize) {
    Pair<ActorRef<Upload.Outcome>, CompletionStage<Upload.Outcome>> outcome =
        ActorSource.<Upload.Outcome>actorRef(o -> false, o -> Optional.empty(), 1, OverflowStrategy.dropNew())
            .toMat(Sink.head(), Keep.both())
            .run(node.system());
    return ask(node.storage(), (ActorRef<ActorRef<Upload.Command>> r) ->
            new Storage.StartUpload(expectedSize, outcome.first(), r))
        .whenComplete((upload, error) -> {
          if (error == null) {
            bytes.runWith(Upload.sink(upload), node.system());
          } else {
            // No upload to feed: drop the body and end the outcome's source; the ask's failure answers (503).
            bytes.runWith(Sink.ignore(), node.system());
            outcome.first().tell(new Upload.Rejected("storage did not answer"));
          }
        })
        .thenCompose(upload -> outcome.second());
  }

  /** The name a browser or script gave, without any folder part; empty when there is none. */
  static Optional<String> cleanName(Optional<String> filename) {
    return filename.map(name -> name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1))
        .map(String::strip)
        .filter(name -> !name.isEmpty())
        .map(name -> name.length() > MAX_FILENAME_CHARS ? name.substring(0, MAX_FILENAME_CHARS) : name);
  }
}
