package io.actorimages.tests;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waiting for an eventually consistent condition in tests, with a deadline and a clear failure. */
public final class Poll {
  private Poll() {}

  /** Polls {@code condition} every 100 ms until it holds; fails with {@code what} after {@code timeout}. */
  public static void until(Duration timeout, String what, BooleanSupplier condition) {
    value(timeout, what, () -> condition.getAsBoolean() ? Boolean.TRUE : null);
  }

  /** Polls {@code supplier} every 100 ms until it gives a non-null value; returns it. */
  public static <T> T value(Duration timeout, String what, Supplier<T> supplier) {
    long deadline = System.nanoTime() + timeout.toNanos();
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try {
        T v = supplier.get();
        if (v != null) return v;
      } catch (RuntimeException e) {
        last = e;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what);
      }
    }
    throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what, last);
  }

  /** The TCP ports every node listens on (P1, P2, P4, HTTP), as {@link #listening} probes them. */
  private static final int[] NODE_PORTS = {5001, 8765, 13378, 8080};

  /** Waits until {@code host} accepts connections on every TCP listener of a node; fails after {@code timeout}. */
  public static void listening(String host, Duration timeout) {
    for (int port : NODE_PORTS) {
      until(timeout, host + ":" + port + " listening", () -> {
        try (java.net.Socket probe = new java.net.Socket()) {
          probe.connect(new java.net.InetSocketAddress(host, port), 500);
          return true;
        } catch (java.io.IOException e) {
          return false;
        }
      });
    }
  }
}
