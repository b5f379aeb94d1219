package io.actorimages.cli;

/**
 * The exit codes of {@code bin/actorimages}, the contract scripts rely on. The same list is printed at the end of
 * every {@code --help} ({@link #HELP}) and in the README's "Command line" section.
 */
public final class Exit {
  /** Everything asked for was done. */
  public static final int OK = 0;
  /** The node (or peer) answered with an error, e.g. P2 {@code Arquivo nao encontrado.} or HTTP 404. */
  public static final int NODE_ERROR = 1;
  /** The command line was wrong: unknown option, missing argument, malformed md5 (picocli's own code). */
  public static final int USAGE = 2;
  /** No usable connection: refused, timed out, unknown host, or the connection broke mid-transfer. */
  public static final int CONNECTION = 3;
  /** A local file or folder could not be read or written, is missing, or is not an image where one is needed. */
  public static final int LOCAL_FILE = 4;
  /** The bytes received do not match what was promised: MD5 mismatch or a size other than announced. */
  public static final int INTEGRITY = 5;
  /** A bug in the CLI itself ({@code --verbose} shows the stack trace). */
  public static final int BUG = 70;

  /** The footer of every {@code --help}: one line per code. */
  static final String[] HELP = {
      "",
      "Exit codes:",
      "  0   ok",
      "  1   the node answered with an error (e.g. \"Arquivo nao encontrado.\", HTTP 404)",
      "  2   usage error",
      "  3   connection problem (refused, timeout, connection lost)",
      "  4   local file problem (missing, unreadable, not an image, exists)",
      "  5   integrity failure (MD5 mismatch, size other than announced)",
      "  70  a bug in the CLI (--verbose shows the stack trace)",
  };

  private Exit() {}
}
