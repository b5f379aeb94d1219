package io.actorimages.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on stderr ({@code me.tongfei:progressbar}), or nothing: bars are drawn over files when a command
 * moves several files, over bytes when it moves one large file (at least {@link #LARGE} bytes, or of unknown
 * size), and only when {@link Output#progress()} allows.
 */
final class Progress implements AutoCloseable {

  /** A single file at least this large (bytes) gets a bar over its bytes. */
  static final long LARGE = 1 << 20;

  private static final Progress NONE = new Progress(null);
  private static final int WIDTH_WITHOUT_TERMINAL = 80;

  private final ProgressBar bar;

  private Progress(ProgressBar bar) {
    this.bar = bar;
  }

  /** A bar over {@code count} files, drawn if {@code count > 1}. */
  static Progress files(Output output, String task, int count) {
    if (!output.progress() || count <= 1) return NONE;
    return new Progress(builder(output, task).setInitialMax(count).setUnit(" files", 1).build());
  }

  /** A bar over {@code size} bytes (shown in MiB), drawn if the file is large; {@code size < 0}: unknown. */
  static Progress bytes(Output output, String task, long size) {
    if (!output.progress() || (size >= 0 && size < LARGE)) return NONE;
    return new Progress(builder(output, task).setInitialMax(size).setUnit(" MiB", 1 << 20).showSpeed().build());
  }

  private static ProgressBarBuilder builder(Output output, String task) {
    // A fixed width without a terminal: the default consumer would make JLine probe for one.
    var consumer = System.console() != null ? new ConsoleProgressBarConsumer(output.err())
        : new ConsoleProgressBarConsumer(output.err(), WIDTH_WITHOUT_TERMINAL);
    return new ProgressBarBuilder().setTaskName(task).setStyle(ProgressBarStyle.ASCII).setConsumer(consumer)
        .setUpdateIntervalMillis(200);
  }

  /** Advances by one (a file). */
  void step() {
    if (bar != null) bar.step();
  }

  /** Moves to {@code current} (bytes so far). */
  void to(long current) {
    if (bar != null) bar.stepTo(current);
  }

  /** A bar that draws nothing, for callers that pick one of several. */
  static Progress none() {
    return NONE;
  }

  /** Shows {@code message} after the bar, e.g. the current file's name. */
  void message(String message) {
    if (bar != null) bar.setExtraMessage(message);
  }

  /** Draws the bar's last state and ends its line. */
  @Override
  public void close() {
    if (bar != null) bar.close();
  }
}
