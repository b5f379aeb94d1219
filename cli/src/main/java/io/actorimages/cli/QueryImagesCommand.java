package io.actorimages.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code query images [--limit N --after ID]}: one page of {@code GET /api/images}, newest first. The cursor of the
 * next page, if any, goes to stderr as a hint.
 */
@Command(name = "images", mixinStandardHelpOptions = true,
    description = "The catalog, newest first, one page at a time (GET /api/images).")
final class QueryImagesCommand implements Callable<Integer> {

  @Mixin
  private NodeOption node;

  @Mixin
  private QueryCommand.HttpOptions http;

  @Option(names = "--limit", paramLabel = "N", description = "Page size (node default 50, at most 500).")
  private Integer limit;

  @Option(names = "--after", paramLabel = "ID", description = "The cursor of the previous page (its `next`).")
  private String after;

  /** Prints the page as a table, or the node's JSON with {@code --json}. */
  @Override
  public Integer call() {
    Output output = node.output();
    StringBuilder path = new StringBuilder("/api/images");
    String separator = "?";
    if (limit != null) {
      if (limit < 1) throw node.usage("--limit must be at least 1");
      path.append(separator).append("limit=").append(limit);
      separator = "&";
    }
    if (after != null) path.append(separator).append("after=").append(URLEncoder.encode(after, StandardCharsets.UTF_8));
    HttpQuery client = http.client(node);
    if (http.json) {
      output.out().println(client.get(path.toString()));
      return Exit.OK;
    }
    JsonNode page = client.json(path.toString());
    Table table = new Table("RECEIVED", "MD5", "SIZE", "FILENAME", "UPLOADER", "PROTOCOL", "NODES");
    for (JsonNode image : page.path("images")) {
      table.add(image.path("receivedAt").asText(), image.path("md5").asText(), image.path("size").asLong(),
          image.path("filename").asText(), image.path("uploader").asText(), image.path("protocol").asText(),
          QueryImageCommand.joined(image.path("nodes")));
    }
    table.print(output.out());
    JsonNode next = page.path("next");
    if (next.isTextual()) output.err().println("next page: --after " + next.asText());
    return Exit.OK;
  }
}
