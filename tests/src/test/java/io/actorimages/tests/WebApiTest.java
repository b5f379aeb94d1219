package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The web viewer's HTTP endpoints (issue 5) on a real one-node cluster on 127.0.0.86, over real sockets:
 * {@code POST /api/images}, {@code GET /api/images/{md5}/thumbnail}, {@code GET /api/stats},
 * {@code GET /api/events} and the page itself. {@code max-image-bytes} is 300,000 here so that a real photo
 * (coffee.png, 466,706 bytes) is too large.
 */
class WebApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static TestCluster cluster;

  @BeforeAll
  static void startNode() {
    cluster = TestCluster.start(85, 1, "actorimages.max-image-bytes = 300000");
  }

  @AfterAll
  static void stopNode() {
    if (cluster != null) cluster.close();
  }

  @Test
  void anUploadIsCreatedWithItsCatalogEntryAndGetsAThumbnailOfAtMost256Pixels() throws Exception {
    byte[] rocket = TestImages.bytes("rocket.jpg");

    HttpResponse<String> created = post("/api/images?filename=launch%20pad.jpg&uploader=ana",
        HttpRequest.BodyPublishers.ofByteArray(rocket));

    assertEquals(201, created.statusCode(), created.body());
    JsonNode image = JSON.readTree(created.body());
    String md5 = TestImages.md5(rocket);
    assertEquals(md5, image.path("md5").asText());
    assertEquals("launch pad.jpg", image.path("filename").asText());
    assertEquals("ana", image.path("uploader").asText());
    assertEquals("HTTP", image.path("protocol").asText());
    assertEquals(List.of(cluster.host(1)), List.of(image.path("nodes").get(0).asText()));
    assertEquals("/api/images/" + md5, created.headers().firstValue("Location").orElseThrow());

    HttpResponse<byte[]> thumbnail = HTTP.send(request("/api/images/" + md5 + "/thumbnail").build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, thumbnail.statusCode());
    assertEquals("image/jpeg", thumbnail.headers().firstValue("Content-Type").orElseThrow());
    BufferedImage thumb = ImageIO.read(new ByteArrayInputStream(thumbnail.body()));
    assertEquals(256, thumb.getWidth());
    assertEquals(171, thumb.getHeight());

    JsonNode stats = JSON.readTree(cluster.http(1, "/api/stats").body());
    assertTrue(stats.path("images").asLong() >= 1, stats.toString());
    assertTrue(stats.path("perHost").path(cluster.host(1)).asLong() >= 1, stats.toString());
  }

  @Test
  void withoutAnUploaderNameTheUploaderIsTheClientAddressAndAFolderInTheFilenameIsDropped() throws Exception {
    HttpResponse<String> created = post("/api/images?filename=C:%5Cphotos%5Cchelsea.png",
        HttpRequest.BodyPublishers.ofByteArray(TestImages.bytes("chelsea.png")));
    assertEquals(201, created.statusCode(), created.body());
    JsonNode image = JSON.readTree(created.body());
    assertEquals("chelsea.png", image.path("filename").asText());
    assertTrue(image.path("uploader").asText().matches("http:127\\.0\\.0\\.\\d+"), image.toString());
  }

  @ParameterizedTest(name = "{0} with length {1} -> {2}")
  @CsvSource({
      "not-an-image.txt, known, 400, not an image",
      "truncated.jpg,    known, 400, truncated jpeg",
      "coffee.png,       known, 413, image larger than 300000 bytes",
      "coffee.png,       chunked, 413, image larger than 300000 bytes"})
  void badUploadsAreJsonErrorsAndStoreNothing(String name, String length, int status, String reason)
      throws Exception {
    long before = JSON.readTree(cluster.http(1, "/api/stats").body()).path("images").asLong();
    byte[] bytes = TestImages.bytes(name);
    // A publisher without a known length makes the client send the body chunked.
    HttpRequest.BodyPublisher body = length.equals("known") ? HttpRequest.BodyPublishers.ofByteArray(bytes)
        : HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofByteArray(bytes));

    HttpResponse<String> response = post("/api/images?filename=" + name, body);

    assertEquals(status, response.statusCode(), response.body());
    JsonNode error = JSON.readTree(response.body());
    assertEquals(status, error.path("status").asInt());
    assertTrue(error.path("error").asText().startsWith(reason), error.toString());
    assertEquals(before, JSON.readTree(cluster.http(1, "/api/stats").body()).path("images").asLong());
  }

  @Test
  void aThumbnailOfAnUnknownImageIs404AndOfAMalformedMd5Is400() {
    assertEquals(404, cluster.http(1, "/api/images/" + "0".repeat(32) + "/thumbnail").statusCode());
    assertEquals(400, cluster.http(1, "/api/images/xyz/thumbnail").statusCode());
  }

  @Test
  void theEventStreamOpensWithTheClusterStateAndAnnouncesEachStoredImage() throws Exception {
    HttpResponse<InputStream> events = HTTP.send(request("/api/events").build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, events.statusCode());
    assertEquals("text/event-stream", events.headers().firstValue("Content-Type").orElseThrow());
    try (BufferedReader in = new BufferedReader(new InputStreamReader(events.body(), StandardCharsets.UTF_8))) {
      JsonNode cluster1 = JSON.readTree(dataOf(in, "cluster"));
      assertEquals(cluster.host(1), cluster1.path("self").asText());
      assertEquals("Up", cluster1.path("members").get(0).path("status").asText());
      assertTrue(cluster1.path("stats").has("perHost"), cluster1.toString());

      byte[] pages = TestImages.bytes("multipage_rgb.tif");
      assertEquals(201, post("/api/images?filename=pages.tif&uploader=sse",
          HttpRequest.BodyPublishers.ofByteArray(pages)).statusCode());
      JsonNode stored = JSON.readTree(dataOf(in, "image-stored"));
      assertEquals(TestImages.md5(pages), stored.path("md5").asText());
      assertEquals("sse", stored.path("uploader").asText());
    }
  }

  @Test
  void theNodeServesTheViewerPageAndItsModules() {
    HttpResponse<String> page = cluster.http(1, "/");
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("<script type=\"module\" src=\"/app.js\">"), page.body());
    for (String file : new String[] {"/app.js", "/style.css", "/gallery.js"}) {
      assertEquals(200, cluster.http(1, file).statusCode(), file);
    }
    assertTrue(cluster.http(1, "/app.js").headers().firstValue("Content-Type").orElseThrow()
        .startsWith("application/javascript"));
    assertEquals(404, cluster.http(1, "/no-such-file.js").statusCode());
  }

  /** The data line of the next event of {@code type}, skipping others and keep-alive comments. */
  private static String dataOf(BufferedReader in, String type) throws Exception {
    String data = null;
    String event = null;
    for (String line; (line = in.readLine()) != null; ) {
      if (line.startsWith("data:")) data = line.substring(5);
      else if (line.startsWith("event:")) event = line.substring(6);
      else if (line.isEmpty()) {
        if (type.equals(event)) return data;
        data = null;
        event = null;
      }
    }
    throw new AssertionError("the stream ended before a " + type + " event");
  }

  private static HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://" + cluster.host(1) + ":8080" + path))
        .timeout(Duration.ofSeconds(20));
  }

  private static HttpResponse<String> post(String path, HttpRequest.BodyPublisher body) throws Exception {
    return HTTP.send(request(path).POST(body).build(), HttpResponse.BodyHandlers.ofString());
  }
}
