package io.actorimages.cli;

import picocli.CommandLine.Option;

/** {@code --p3-port}, the node's tracker port, for {@code peers}, {@code get} and {@code register}: a mixin. */
final class P3Options {

  @Option(names = "--p3-port", paramLabel = "PORT", defaultValue = "13377",
      description = "The node's P3 tracker UDP port (default: ${DEFAULT-VALUE}).")
  int port;
}
