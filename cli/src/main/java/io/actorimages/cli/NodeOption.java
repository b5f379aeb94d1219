package io.actorimages.cli;

import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The options every subcommand shares ({@code --node}, {@code --timeout}) and the way to the run's
 * {@link Output}: a picocli mixin.
 */
final class NodeOption {

  @Spec(Spec.Target.MIXEE)
  private CommandSpec spec;

  @Option(names = "--node", paramLabel = "HOST", defaultValue = "${ACTORIMAGES_NODE:-127.0.0.1}",
      description = "Node to talk to (default: $ACTORIMAGES_NODE or ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "30",
      description = "Longest wait for an answer or for the next bytes (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  /** {@code --node} with {@code port}. */
  Endpoint at(int port) {
    return new Endpoint(host, port);
  }

  /** {@code --timeout}. */
  Duration timeout() {
    return Duration.ofSeconds(Math.max(1, timeoutSeconds));
  }

  /** A usage error of the command this mixin is in ({@link Exit#USAGE}), e.g. a malformed md5. */
  picocli.CommandLine.ParameterException usage(String message) {
    return new picocli.CommandLine.ParameterException(spec.commandLine(), message);
  }

  /** {@code md5} in lowercase if it is 32 hex characters, else a usage error naming it. */
  String md5(String md5) {
    if (!md5.matches("[0-9a-fA-F]{32}")) throw usage("not an md5 (32 hex characters): " + md5);
    return md5.toLowerCase(java.util.Locale.ROOT);
  }

  /** The run's output streams and flags. */
  Output output() {
    return ((Main) spec.root().userObject()).output();
  }
}
