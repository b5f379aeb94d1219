package io.actorimages.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code query cluster}: the node's view of the membership ({@code GET /api/cluster}). */
@Command(name = "cluster", mixinStandardHelpOptions = true,
    description = "Members and their state, the leader and the tracker singleton's host (GET /api/cluster).")
final class QueryClusterCommand implements Callable<Integer> {

  @Mixin
  private NodeOption node;

  @Mixin
  private QueryCommand.HttpOptions http;

  /** Prints the members as a table under self, leader and tracker, or the node's JSON with {@code --json}. */
  @Override
  public Integer call() {
    Output output = node.output();
    HttpQuery client = http.client(node);
    if (http.json) {
      output.out().println(client.get("/api/cluster"));
      return Exit.OK;
    }
    JsonNode cluster = client.json("/api/cluster");
    output.out().println("self:    " + cluster.path("self").asText("-"));
    output.out().println("leader:  " + cluster.path("leader").asText("-"));
    output.out().println("tracker: " + cluster.path("trackerHost").asText("-"));
    output.out().println();
    Table table = new Table("HOST", "STATUS", "REACHABLE", "ROLES", "ADDRESS");
    for (JsonNode m : cluster.path("members")) {
      table.add(m.path("host").asText(), m.path("status").asText(), m.path("reachable").asBoolean() ? "yes" : "no",
          QueryImageCommand.joined(m.path("roles")), m.path("address").asText());
    }
    table.print(output.out());
    return Exit.OK;
  }
}
