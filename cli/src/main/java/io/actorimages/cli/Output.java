package io.actorimages.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintStream;

/**
 * Where a command writes: results to {@code out} (tables, JSON, summaries: what a script reads), progress bars,
 * hints and errors to {@code err}. One per run of {@link Main#run}, so tests capture both.
 *
 * @param out      results
 * @param err      progress bars, hints, errors
 * @param verbose  {@code --verbose}: stack traces with errors, one line per file
 * @param progress whether to draw progress bars ({@code --progress}/{@code --no-progress}, else only when a
 *                 terminal is attached)
 */
record Output(PrintStream out, PrintStream err, boolean verbose, boolean progress) {

  /** Jackson, shared: thread-safe once configured. */
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Prints {@code value} as indented JSON on {@code out}. */
  void json(Object value) {
    try {
      out.println(JSON.writeValueAsString(value));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot render JSON", e);
    }
  }

  /** Prints a line on {@code err} when {@code --verbose}. */
  void detail(String line) {
    if (verbose) err.println(line);
  }

  /** {@code bytes} as megabytes (10^6 bytes) with one decimal, e.g. {@code 1.3 MB}. */
  static String megabytes(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1_000_000.0);
  }

  /** {@code n} and {@code noun}, with an {@code s} unless {@code n} is 1: {@code 1 image}, {@code 3 images}. */
  static String count(long n, String noun) {
    return n + " " + noun + (n == 1 ? "" : "s");
  }
}
