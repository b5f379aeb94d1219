package io.actorimages.tests.bench;

import java.util.Arrays;

/**
 * Latency samples in nanoseconds, kept whole (a run records at most a few million) so percentiles are exact.
 * Not thread-safe: each load thread keeps its own and they are merged after the run.
 */
public final class Latencies {
  private long[] samples = new long[1024];
  private int count;

  /** Records one sample. */
  public void add(long nanos) {
    if (count == samples.length) samples = Arrays.copyOf(samples, count * 2);
    samples[count++] = nanos;
  }

  /** Adds every sample of {@code other}. */
  public void addAll(Latencies other) {
    for (int i = 0; i < other.count; i++) add(other.samples[i]);
  }

  /** Number of samples. */
  public int count() {
    return count;
  }

  /** The {@code p}-th percentile (0–100) in milliseconds, or NaN without samples. */
  public double percentileMillis(double p) {
    if (count == 0) return Double.NaN;
    long[] sorted = Arrays.copyOf(samples, count);
    Arrays.sort(sorted);
    int index = (int) Math.ceil(p / 100.0 * count) - 1;
    return sorted[Math.max(0, Math.min(count - 1, index))] / 1e6;
  }
}
