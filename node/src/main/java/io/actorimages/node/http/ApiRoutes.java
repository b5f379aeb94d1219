package io.actorimages.node.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.PeerImage;
import io.actorimages.messages.PeerRegistration;
import io.actorimages.node.ClusterView;
import io.actorimages.node.Node;
import io.actorimages.node.NodeMetrics;
import io.actorimages.node.Registry;
import io.actorimages.node.Repair;
import io.actorimages.node.Tracker;
import io.actorimages.node.Transfer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.marshallers.jackson.Jackson;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.function.Function;

/**
 * The registry API (issue 3, point 7), JSON over HTTP:
 * <ul>
 *   <li>{@code GET /api/images?limit=N&after=ID}: catalog entries, newest first; {@code next} is the cursor of
 *       the following page or null. {@code limit} defaults to {@code http.default-page-size}, at most
 *       {@code http.max-page-size}.</li>
 *   <li>{@code GET /api/images/{md5}}: the catalog entry of those bytes (the oldest upload of them).</li>
 *   <li>{@code GET /api/images/{md5}/content}: the bytes, with the detected {@code Content-Type}.</li>
 *   <li>{@code GET /api/cluster}: members, their state, the leader and the tracker singleton's host.</li>
 *   <li>{@code GET /api/tracker/peers}: legacy peers and their holdings, never their passwords.</li>
 *   <li>{@code GET /metrics}: Prometheus text ({@link NodeMetrics}).</li>
 *   <li>{@code POST /api/cluster/stopping}: announces that every node is about to stop ({@code bin/cluster
 *       down}), so leaving nodes do not move their replicas to nodes that are going too; 202.</li>
 * </ul>
 * Every error is {@code {"status": <code>, "error": "<text>"}} with a fitting status code.
 */
public final class ApiRoutes extends AllDirectives {

  private static final Pattern MD5 = Pattern.compile("[0-9a-fA-F]{32}");
  private static final Duration WHERE_IS_TRACKER_TIMEOUT = Duration.ofSeconds(2);

  /** JSON of one catalog entry; {@code nodes} are the hosts holding a replica. */
  public record ImageJson(String id, String md5, String sha256, long size, String mediaType, int width, int height,
                          String filename, String uploader, String protocol, String receivedAt, List<String> nodes) {
    static ImageJson of(CatalogEntry e) {
      return new ImageJson(e.id(), e.md5(), e.sha256(), e.size(), e.mediaType(), e.width(), e.height(),
          e.filename(), e.uploader(), e.protocol().name(), Instant.ofEpochMilli(e.receivedAt()).toString(),
          e.replicas().stream().map(r -> r.host()).toList());
    }
  }

  /** One page of {@code GET /api/images}. */
  public record ImagePage(List<ImageJson> images, String next) {}

  /** {@code GET /api/cluster}. */
  public record ClusterJson(String self, List<ClusterView.MemberInfo> members, String leader, String trackerHost) {}

  /** One legacy peer of {@code GET /api/tracker/peers}. */
  public record PeerJson(String ip, int port, List<PeerImage> images, String registeredAt) {}

  /** An error body. */
  public record ErrorJson(int status, String error) {}

  private final Node node;
  private final ObjectMapper json = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  /** Routes over {@code node}'s actors. */
  public ApiRoutes(Node node) {
    this.node = node;
  }

  /** Every route of the API, with JSON errors for rejections and failures. */
  public Route routes() {
    return handleExceptions(exceptions(), () -> handleRejections(rejections(), () -> concat(
        pathPrefix("api", () -> concat(
            path("images", () -> get(() -> listImages())),
            path(PathMatchers.segment("images").slash(PathMatchers.segment()), md5 -> get(() -> image(md5))),
            path(PathMatchers.segment("images").slash(PathMatchers.segment()).slash("content"),
                md5 -> get(() -> content(md5))),
            path("cluster", () -> get(this::cluster)),
            path(PathMatchers.segment("cluster").slash("stopping"), () -> post(this::announceStop)),
            path(PathMatchers.segment("tracker").slash("peers"), () -> get(this::peers)))),
        path("metrics", () -> get(this::metrics)))));
  }

  private Route listImages() {
    return parameterOptional("limit", limitText -> parameterOptional("after", after -> {
      int limit;
      try {
        limit = limitText.map(Integer::parseInt).orElse(node.settings().defaultPageSize());
      } catch (NumberFormatException e) {
        return error(StatusCodes.BAD_REQUEST, "limit must be an integer");
      }
      if (limit < 1 || limit > node.settings().maxPageSize()) {
        return error(StatusCodes.BAD_REQUEST, "limit must be 1.." + node.settings().maxPageSize());
      }
      int pageSize = limit;
      return onSuccess(ask(node.registry(), (ActorRef<Registry.Entries> r) ->
          new Registry.ListImages(pageSize, after, r)), page -> {
            List<ImageJson> images = page.entries().stream().map(ImageJson::of).toList();
            String next = images.size() == pageSize ? images.get(images.size() - 1).id() : null;
            if (!images.isEmpty() || after.isEmpty()) return ok(new ImagePage(images, next));
            // An empty page after a cursor: the end of the catalog, or a cursor this catalog never had.
            return onSuccess(ask(node.registry(), (ActorRef<Registry.Found> r) -> new Registry.FindById(after.get(), r)),
                found -> found.entry().isPresent() ? ok(new ImagePage(images, null))
                    : error(StatusCodes.BAD_REQUEST, "unknown cursor: " + after.get()));
          });
    }));
  }

  private Route image(String md5) {
    return withEntry(md5, entry -> ok(ImageJson.of(entry)));
  }

  private Route content(String md5) {
    return withEntry(md5, entry -> onSuccess(ask(node.transfer(),
        (ActorRef<Transfer.OpenResult> r) -> new Transfer.Open(entry, r)), result -> {
          if (result instanceof Transfer.Opened opened) {
            ContentType type = ContentTypes.parse(entry.mediaType());
            return complete(HttpResponse.create().withEntity(
                HttpEntities.create(type, entry.size(), opened.bytes())));
          }
          return error(StatusCodes.SERVICE_UNAVAILABLE, ((Transfer.OpenFailed) result).reason());
        }));
  }

  private Route withEntry(String md5, java.util.function.Function<CatalogEntry, Route> inner) {
    if (!MD5.matcher(md5).matches()) return error(StatusCodes.BAD_REQUEST, "not an md5: " + md5);
    return onSuccess(ask(node.registry(), (ActorRef<Registry.Found> r) ->
        new Registry.FindByMd5(md5.toLowerCase(java.util.Locale.ROOT), r)), found -> found.entry()
        .map(inner)
        .orElseGet(() -> error(StatusCodes.NOT_FOUND, "no image with md5 " + md5)));
  }

  private Route cluster() {
    CompletionStage<Optional<String>> trackerHost = AskPattern.<Tracker.Command, Tracker.Location>ask(
            node.tracker(), Tracker.WhereAreYou::new, WHERE_IS_TRACKER_TIMEOUT, node.system().scheduler())
        .thenApply(l -> Optional.of(l.host()))
        .exceptionally(e -> Optional.empty());
    return onSuccess(trackerHost, host -> {
      var cluster = org.apache.pekko.cluster.typed.Cluster.get(node.system());
      String leader = Optional.ofNullable(cluster.state().getLeader()).flatMap(a -> a.getHost()).orElse(null);
      return ok(new ClusterJson(node.settings().host(), ClusterView.members(node.system()), leader,
          host.orElse(null)));
    });
  }

  private Route metrics() {
    return complete(HttpResponse.create().withEntity(HttpEntities.create(
        ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8"),
        NodeMetrics.get(node.system()).scrape().getBytes(java.nio.charset.StandardCharsets.UTF_8))));
  }

  private Route announceStop() {
    return onSuccess(ask(node.repair(), Repair.AnnounceStop::new),
        done -> complete(StatusCodes.ACCEPTED, new ErrorJson(202, "stop announced"), Jackson.marshaller(json)));
  }

  private Route peers() {
    return onSuccess(ask(node.registry(), Registry.ListPeers::new), peers -> ok(peers.registrations().stream()
        .sorted(java.util.Comparator.comparingLong(PeerRegistration::sequence))
        .map(p -> new PeerJson(p.ip(), p.port(), p.images(), Instant.ofEpochMilli(p.registeredAt()).toString()))
        .toList()));
  }

  private <Q, A> CompletionStage<A> ask(ActorRef<Q> target, Function<ActorRef<A>, Q> message) {
    return AskPattern.ask(target, message, node.settings().askTimeout(), node.system().scheduler());
  }

  private Route ok(Object body) {
    return complete(StatusCodes.OK, body, Jackson.marshaller(json));
  }

  private Route error(StatusCode status, String message) {
    return complete(status, new ErrorJson(status.intValue(), message), Jackson.marshaller(json));
  }

  private ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .match(java.util.concurrent.TimeoutException.class,
            e -> error(StatusCodes.SERVICE_UNAVAILABLE, "the cluster did not answer in time"))
        .matchAny(e -> error(StatusCodes.INTERNAL_SERVER_ERROR, e.toString()))
        .build();
  }

  private RejectionHandler rejections() {
    return RejectionHandler.defaultHandler().mapRejectionResponse(response -> {
      if (response.entity().getContentType().equals(ContentTypes.TEXT_PLAIN_UTF8)
          && response.entity() instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict strict) {
        String text = strict.getData().utf8String();
        try {
          return response.withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
              json.writeValueAsBytes(new ErrorJson(response.status().intValue(), text))));
        } catch (Exception e) {
          return response;
        }
      }
      return response;
    });
  }
}
