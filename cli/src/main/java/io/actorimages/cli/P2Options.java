package io.actorimages.cli;

import picocli.CommandLine.Option;

/** The options of the P2 subcommands ({@code upload}, {@code list}, {@code download}, {@code view}): a mixin. */
final class P2Options {

  @Option(names = "--p2-port", paramLabel = "PORT", defaultValue = "8765",
      description = "The node's P2 WebSocket port (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--user", paramLabel = "NAME",
      description = "Name to AUTH as, shown as uploader (default: $USER).")
  String user;

  /** Connects to the node of {@code node} and authenticates as {@code --user}, $USER, or the JVM's user name. */
  P2Client connect(NodeOption node) {
    return P2Client.connect(node.at(port), user(), node.timeout());
  }

  private String user() {
    if (user != null) return user;
    String env = System.getenv("USER");
    if (env != null && !env.isBlank()) return env;
    String jvm = System.getProperty("user.name");
    return jvm != null && !jvm.isBlank() ? jvm : "anon";
  }
}
