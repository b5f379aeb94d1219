package io.actorimages.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code query images|image|cluster}: the node's HTTP registry API (README "HTTP API"). */
@Command(name = "query", mixinStandardHelpOptions = true,
    description = "HTTP API: the catalog, one image, or the cluster's members.",
    subcommands = {QueryImagesCommand.class, QueryImageCommand.class, QueryClusterCommand.class})
final class QueryCommand implements Callable<Integer> {

  @Spec
  private CommandSpec spec;

  /** Without a subcommand: a usage error. */
  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "missing subcommand: images, image or cluster");
  }

  /** {@code --http-port} and {@code --json}, shared by the query subcommands: a mixin. */
  static final class HttpOptions {
    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "8080",
        description = "The node's HTTP API port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--json", description = "Print the node's JSON answer as it came.")
    boolean json;

    /** A client for the HTTP API of {@code node}. */
    HttpQuery client(NodeOption node) {
      return new HttpQuery(node.at(port), node.timeout());
    }
  }
}
