package io.actorimages.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code query image MD5}: the catalog entry of those bytes ({@code GET /api/images/{md5}}). */
@Command(name = "image", mixinStandardHelpOptions = true,
    description = "One image's catalog entry and the nodes holding it (GET /api/images/{md5}).")
final class QueryImageCommand implements Callable<Integer> {

  @Mixin
  private NodeOption node;

  @Mixin
  private QueryCommand.HttpOptions http;

  @Parameters(paramLabel = "MD5", description = "The image's md5.")
  private String md5;

  /** Prints one {@code field  value} line per field, or the node's JSON with {@code --json}. */
  @Override
  public Integer call() {
    Output output = node.output();
    String path = "/api/images/" + node.md5(md5);
    HttpQuery client = http.client(node);
    if (http.json) {
      output.out().println(client.get(path));
      return Exit.OK;
    }
    Table table = new Table("FIELD", "VALUE");
    for (Map.Entry<String, JsonNode> field : (Iterable<Map.Entry<String, JsonNode>>) client.json(path)::fields) {
      JsonNode value = field.getValue();
      table.add(field.getKey(), value.isArray() ? joined(value) : value.isNull() ? null : value.asText());
    }
    table.print(output.out());
    return Exit.OK;
  }

  /** The elements of a JSON array of strings, joined with a space. */
  static String joined(JsonNode array) {
    List<String> items = new ArrayList<>();
    array.forEach(item -> items.add(item.asText()));
    return String.join(" ", items);
  }
}
