package io.actorimages.cli;

/**
 * A failure the CLI reports as one line on stderr with its {@link Exit} code, never as a stack trace (unless
 * {@code --verbose}). The message names what failed, e.g. {@code connection refused: 127.0.0.2:8765}.
 */
final class CliFailure extends RuntimeException {
  private final int exitCode;

  private CliFailure(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** The {@link Exit} code this failure ends the command with. */
  int exitCode() {
    return exitCode;
  }

  /** The node or a peer answered with an error ({@link Exit#NODE_ERROR}). */
  static CliFailure node(String message) {
    return new CliFailure(Exit.NODE_ERROR, message, null);
  }

  /** No usable connection ({@link Exit#CONNECTION}). */
  static CliFailure connection(String message, Throwable cause) {
    return new CliFailure(Exit.CONNECTION, message, cause);
  }

  /** A local file problem ({@link Exit#LOCAL_FILE}). */
  static CliFailure localFile(String message, Throwable cause) {
    return new CliFailure(Exit.LOCAL_FILE, message, cause);
  }

  /** Received bytes that are not what was promised ({@link Exit#INTEGRITY}). */
  static CliFailure integrity(String message) {
    return new CliFailure(Exit.INTEGRITY, message, null);
  }
}
