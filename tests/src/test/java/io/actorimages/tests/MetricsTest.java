package io.actorimages.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 5 point 4 on a real node (127.0.0.36): {@code /metrics} is Prometheus text whose counters move with
 * real traffic, and Pekko Management answers {@code /alive} and {@code /ready} on port 8558.
 */
class MetricsTest {
  private static TestCluster cluster;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(35, 1, "");
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  @Test
  void uploadAndTrackerCountersMoveWithTraffic() throws Exception {
    double uploadsBefore = value(metrics(), "actorimages_uploads_total", "outcome=\"acknowledged\",protocol=\"P1_TCP\"");
    double lstBefore = value(metrics(), "actorimages_tracker_requests_total", "command=\"LST\"");
    LegacyP1.send(cluster.host(1), TestImages.bytes("rocket.jpg"));
    LegacyP3.request(cluster.host(1), "127.0.0.1", "LST");
    String after = metrics();
    assertEquals(uploadsBefore + 1, value(after, "actorimages_uploads_total",
        "outcome=\"acknowledged\",protocol=\"P1_TCP\""), after);
    assertEquals(lstBefore + 1, value(after, "actorimages_tracker_requests_total", "command=\"LST\""));
    assertTrue(value(after, "actorimages_upload_latency_seconds_count", "protocol=\"P1_TCP\"") >= 1);
    assertTrue(after.contains("jvm_memory_used_bytes"), "JVM metrics");
    Poll.until(java.time.Duration.ofSeconds(5), "images stored gauge", () ->
        value(metrics(), "actorimages_images_stored", "") >= 1);
  }

  @Test
  void managementAnswersAliveAndReady() throws Exception {
    var client = java.net.http.HttpClient.newHttpClient();
    for (String path : new String[] {"/alive", "/ready"}) {
      var response = client.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create("http://" + cluster.host(1) + ":8558" + path)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(200, response.statusCode(), path + ": " + response.body());
    }
  }

  private static String metrics() {
    var response = cluster.http(1, "/metrics");
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    return response.body();
  }

  /** The value of the sample {@code name{...labels...}} whose labels contain {@code labels}; 0 when absent. */
  private static double value(String scrape, String name, String labels) {
    Matcher m = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE).matcher(scrape);
    while (m.find()) if (m.group(1).contains(labels)) return Double.parseDouble(m.group(2));
    return 0;
  }
}
