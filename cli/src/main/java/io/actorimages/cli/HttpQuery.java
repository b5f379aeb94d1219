package io.actorimages.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The node's HTTP registry API (README "HTTP API"): {@code GET} a path on port 8080 and return the JSON body. A
 * non-200 answer is the node's error, {@code {"status":…,"error":"…"}}, reported with its text.
 */
final class HttpQuery {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private final Endpoint node;
  private final Duration timeout;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();

  /**
   * @param node    the node's HTTP endpoint
   * @param timeout longest wait for the whole answer
   */
  HttpQuery(Endpoint node, Duration timeout) {
    this.node = node;
    this.timeout = timeout;
  }

  /**
   * {@code GET path} (with its query string, already encoded).
   *
   * @return the body of a 200 answer, as sent
   * @throws CliFailure {@link Exit#NODE_ERROR} for any other status, naming it and the node's error text;
   *     {@link Exit#CONNECTION} if the node cannot be reached or does not answer in time
   */
  String get(String path) {
    HttpResponse<String> response;
    try {
      response = client.send(HttpRequest.newBuilder(URI.create("http://" + node + path)).timeout(timeout)
          .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliFailure.connection("interrupted while waiting for " + node, e);
    } catch (IOException e) {
      throw node.failure(e);
    }
    if (response.statusCode() == 200) return response.body();
    String error = response.body();
    try {
      error = Output.JSON.readTree(response.body()).path("error").asText(response.body());
    } catch (IOException notJson) {
      // keep the body as it is
    }
    throw CliFailure.node(node + " GET " + path + ": " + response.statusCode() + " " + error);
  }

  /** {@link #get} parsed as JSON. */
  JsonNode json(String path) {
    String body = get(path);
    try {
      return Output.JSON.readTree(body);
    } catch (IOException e) {
      throw CliFailure.node(node + " GET " + path + ": the answer is not JSON");
    }
  }
}
