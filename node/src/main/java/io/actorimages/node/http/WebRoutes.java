package io.actorimages.node.http;

import io.actorimages.node.Node;
import io.actorimages.node.Registry;
import io.actorimages.node.Storage;
import io.actorimages.node.Thumbnails;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.javadsl.marshalling.sse.EventStreamMarshalling;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.CacheControl;
import org.apache.pekko.http.javadsl.model.headers.CacheDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The web viewer of issue 5, served on {@code http.port} before the registry API ({@link ApiRoutes}):
 * <ul>
 *   <li>{@code GET /} and the static page under the classpath folder {@code web/} (plain HTML, CSS and
 *       JavaScript modules: no CDN, no build step, works offline);</li>
 *   <li>{@code GET /api/images/{md5}/thumbnail}: the JPEG thumbnail (longest side at most 256 px), made on this
 *       node from another node's bytes when it has no copy of the image;</li>
 *   <li>{@code POST /api/images}: an upload, see {@link UploadRoute};</li>
 *   <li>{@code GET /api/events}: the live feed, see {@link LiveFeed};</li>
 *   <li>{@code GET /api/stats}: images and bytes in all and per host ({@link Registry.Stats}).</li>
 * </ul>
 * Errors are the API's JSON errors; a request none of these match passes on to the API's routes.
 */
public final class WebRoutes extends JsonDirectives {

  private static final Pattern MD5 = Pattern.compile("[0-9a-fA-F]{32}");
  /** A thumbnail depends on the bytes alone, and its URL names their md5: it never changes. */
  private static final CacheControl FOREVER =
      CacheControl.create(CacheDirectives.PUBLIC, CacheDirectives.MAX_AGE(365L * 24 * 3600), CacheDirectives.IMMUTABLE);
  /** The page's files change with each build of the node: revalidate (cheap, Last-Modified) on every load. */
  private static final CacheControl REVALIDATE = CacheControl.create(CacheDirectives.NO_CACHE);

  private final UploadRoute upload;
  private final LiveFeed feed;

  /** Routes over {@code node}'s actors; subscribes the node's live feed to the {@code image-stored} topic. */
  public WebRoutes(Node node) {
    super(node);
    this.upload = new UploadRoute(node);
    this.feed = new LiveFeed(node);
  }

  /** Every route of the viewer; unmatched requests are rejected, for the routes after these. */
  public Route routes() {
    return concat(
        upload.route(),
        withJsonErrors(() -> pathPrefix("api", () -> concat(
            path(PathMatchers.segment("images").slash(PathMatchers.segment()).slash("thumbnail"),
                md5 -> get(() -> thumbnail(md5))),
            path("events", () -> get(() ->
                completeOK(feed.events(), EventStreamMarshalling.toEventStream()))),
            path("stats", () -> get(() ->
                onSuccess(ask(node.registry(), Registry.GetStats::new), stats -> json(StatusCodes.OK, stats))))))),
        get(() -> respondWithHeader(REVALIDATE, () -> concat(
            pathSingleSlash(() -> getFromResource("web/index.html", ContentTypes.TEXT_HTML_UTF8)),
            getFromResourceDirectory("web")))));
  }

  private Route thumbnail(String md5) {
    if (!MD5.matcher(md5).matches()) return error(StatusCodes.BAD_REQUEST, "not an md5: " + md5);
    String lower = md5.toLowerCase(Locale.ROOT);
    return onSuccess(ask(node.registry(), (ActorRef<Registry.Found> r) -> new Registry.FindByMd5(lower, r)),
        found -> found.entry().<Route>map(entry -> onSuccess(ask(node.storage(), (ActorRef<Thumbnails.Result> r) ->
                new Storage.GetThumbnail(new Thumbnails.Get(entry, node.transfer(), r))), result -> {
                  if (result instanceof Thumbnails.Ready ready) {
                    return respondWithHeader(FOREVER, () -> getFromFile(ready.file().toFile(),
                        ContentTypes.create(MediaTypes.IMAGE_JPEG)));
                  }
                  return error(StatusCodes.SERVICE_UNAVAILABLE,
                      "no thumbnail: " + ((Thumbnails.Unavailable) result).reason());
                }))
            .orElseGet(() -> error(StatusCodes.NOT_FOUND, "no image with md5 " + md5)));
  }
}
